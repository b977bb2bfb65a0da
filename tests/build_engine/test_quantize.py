"""INT8 Q/DQ pipelines: TensorRT's rules (zero points 0, per-channel weights, pre/post untouched),
calibration from folders, videos and VOC roots through the in-graph preprocessing, and the cache.
The ``quantize`` command line is tested in cli/test_quantize.py."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import numpy_helper

from build_engine.calibration import load_calibration_frames, load_eval_data, parse_size, source_kind
from build_engine.pipeline import export_fcn_pipeline
from build_engine.precision import pipeline_metadata, to_fp16_pipeline
from build_engine.quantize import QuantizeConfig, make_reader, qdq_summary, quantize_pipeline
from fcn_trt.errors import ConfigError, SourceOpenError
from tests._helpers import write_video


def _labels(path, frames):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(["labels"], {"frame": frames})[0]


@pytest.fixture(scope="module")
def fcn(tmp_path_factory):
    return export_fcn_pipeline(tmp_path_factory.mktemp("q") / "fcn.onnx", "fcn8s", 5, 16)


@pytest.fixture(scope="module")
def int8(fcn, calib_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("q8") / "fcn.int8.onnx"
    cfg = QuantizeConfig(method="minmax", num_frames=4, size=(64, 64), cache_dir=str(out.parent / "cache"))
    quantize_pipeline(fcn, out, calib_dir, cfg, show_progress=False)
    return out


def test_qdq_graph_follows_tensorrt_rules(int8, fcn):
    model = onnx.load(str(int8))
    onnx.checker.check_model(model)
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    qdq = [n for n in model.graph.node if n.op_type in ("QuantizeLinear", "DequantizeLinear")]
    assert qdq
    for n in qdq:  # symmetric int8: every zero point is an int8 zero
        assert len(n.input) == 3 and inits[n.input[2]].dtype == np.int8 and not inits[n.input[2]].any()
    summary = qdq_summary(model)
    convs = [n for n in model.graph.node if n.op_type in ("Conv", "ConvTranspose")]
    assert summary["quantized_nodes"] == len(convs) == 21
    for n in convs:  # per-channel weight scales; ConvTranspose on axis 1 (its output channels)
        assert summary["weight_axes"][n.name] == (1 if n.op_type == "ConvTranspose" else 0), n.name
        dq = next(d for d in qdq if d.output[0] == n.input[1])
        scale = inits[dq.input[1]]
        w = inits[dq.input[0]]
        assert scale.ndim == 1 and scale.shape[0] == w.shape[summary["weight_axes"][n.name]] > 1
    assert summary["nonzero_zero_points"] == 0 and summary["quantized_pipeline_nodes"] == []


def test_pre_and_post_nodes_are_not_quantized(int8, fcn):
    src, q = onnx.load(str(fcn)), onnx.load(str(int8))

    def pipeline_nodes(m):  # the quantizer may re-sort independent nodes: compare as a sorted list
        return sorted((n.op_type, list(n.input), list(n.output)) for n in m.graph.node if n.name.startswith(("pre/", "post/")))

    assert pipeline_nodes(q) == pipeline_nodes(src)  # same nodes, same (float) tensors
    dq_out = {n.output[0] for n in q.graph.node if n.op_type == "DequantizeLinear"}
    q_in = {n.input[0] for n in q.graph.node if n.op_type == "QuantizeLinear"}
    pre_out = {o for n in q.graph.node if n.name.startswith("pre/") for o in n.output}
    post_in = {i for n in q.graph.node if n.name.startswith("post/") for i in n.input}
    assert not post_in & dq_out  # the argmax reads float scores, never a dequantized tensor
    assert len(q_in & pre_out) == 1  # one Q/DQ pair: the network's input (first conv's activation)


def test_int8_metadata_and_runs_on_onnxruntime(int8, fcn, scenes):
    meta = pipeline_metadata(onnx.load(str(int8)))
    assert meta.precision == "int8"
    cal = meta.extra["calibration"]
    assert cal["method"] == "minmax" and cal["frames"] == 4 and cal["size"] == [64, 64]
    assert meta.class_names == pipeline_metadata(onnx.load(str(fcn))).class_names
    held_out = np.stack([s.image for s in scenes[4:]])
    l32, l8 = _labels(fcn, held_out), _labels(int8, held_out)
    assert l8.shape == l32.shape and l8.dtype == np.uint8
    assert (l8 == l32).mean() >= 0.9


@pytest.mark.parametrize("method", ["entropy", "percentile"])
def test_other_calibration_methods(fcn, scenes, tmp_path, method):
    frames = np.stack([s.image for s in scenes[:2]])
    out = quantize_pipeline(fcn, tmp_path / f"{method}.onnx", frames, QuantizeConfig(method=method),
                            show_progress=False)
    model = onnx.load(str(out))
    assert qdq_summary(model)["nonzero_zero_points"] == 0
    assert pipeline_metadata(model).extra["calibration"]["method"] == method
    assert _labels(out, frames).shape == (2, 64, 64)


def test_reader_feeds_uint8_frames_through_the_pipeline_input():
    frames = np.arange(2 * 4 * 4 * 3, dtype=np.uint8).reshape(2, 4, 4, 3)
    reader = make_reader(frames, show_progress=False)
    first = reader.get_next()
    assert list(first) == ["frame"] and first["frame"].dtype == np.uint8 and first["frame"].shape == (1, 4, 4, 3)
    assert reader.get_next() is not None and reader.get_next() is None
    reader.set_range(1, 2)
    assert (reader.get_next()["frame"][0] == frames[1]).all() and reader.get_next() is None


def test_calibration_cache(calib_dir, tmp_path, scenes):
    cache = tmp_path / "cache"
    a = load_calibration_frames(calib_dir, (32, 48), num_frames=3, cache_dir=cache, show_progress=False)
    assert a.shape == (3, 32, 48, 3) and a.dtype == np.uint8
    files = list(cache.glob("calib-*.npz"))
    assert len(files) == 1
    # a cache hit returns the cached array (prove it by tampering with the cache)
    with np.load(files[0]) as d:
        frames, key = d["frames"], d["key"]
    np.savez(files[0], frames=np.zeros_like(frames), key=key)
    b = load_calibration_frames(calib_dir, (32, 48), num_frames=3, cache_dir=cache, show_progress=False)
    assert not b.any()
    # another size or frame count is another key
    c = load_calibration_frames(calib_dir, (32, 32), num_frames=3, cache_dir=cache, show_progress=False)
    assert c.shape == (3, 32, 32, 3) and c.any() and len(list(cache.glob("calib-*.npz"))) == 2


def test_calibration_from_video_and_voc(tmp_path, scenes):
    from fcn_trt.eval.voc import write_split, write_voc_sample

    video = write_video(tmp_path / "clip.avi", [s.image for s in scenes], fps=10)
    assert source_kind(video) == "video"
    v = load_calibration_frames(video, None, num_frames=3, use_cache=False, show_progress=False)
    assert v.shape == (3, 64, 64, 3)

    voc = tmp_path / "voc"
    for i, s in enumerate(scenes):
        write_voc_sample(voc, f"img_{i}", s.image, s.labels)
    write_split(voc, "train", ["img_0", "img_1", "img_2"])
    write_split(voc, "val", ["img_3", "img_4", "img_5"])
    assert source_kind(voc) == "voc"
    t = load_calibration_frames(voc, None, num_frames=10, split="train", use_cache=False, show_progress=False)
    assert len(t) == 3
    ev = load_eval_data(voc, split="val", show_progress=False)
    assert len(ev) == 3 and ev.labels is not None and (ev.labels[0] == scenes[3].labels).all()


def test_quantize_errors(fcn, tmp_path, calib_dir):
    with pytest.raises(ConfigError):
        QuantizeConfig(method="kl")
    fp16 = tmp_path / "fp16.onnx"
    to_fp16_pipeline(fcn, fp16)
    with pytest.raises(ConfigError):
        quantize_pipeline(fp16, tmp_path / "x.onnx", calib_dir, show_progress=False)
    with pytest.raises(SourceOpenError):
        quantize_pipeline(fcn, tmp_path / "x.onnx", tmp_path / "nowhere", show_progress=False)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SourceOpenError):
        load_calibration_frames(empty, (8, 8), use_cache=False, show_progress=False)
    with pytest.raises(ConfigError, match="or S for SxS"):
        parse_size("big")
    assert parse_size("96") == (96, 96) and parse_size("96x128") == (96, 128)  # a calibration size may be square


def test_keep_float_leaves_named_layers_unquantized(fcn, scenes, tmp_path):
    frames = np.stack([s.image for s in scenes[:2]])
    out = quantize_pipeline(fcn, tmp_path / "k.onnx", frames,
                            QuantizeConfig(method="minmax", keep_float=("score_*", "upscore8")), show_progress=False)
    model = onnx.load(str(out))
    s = qdq_summary(model)
    kept = {"net/score_fr", "net/score_pool4", "net/score_pool3", "net/upscore8"}
    assert kept.isdisjoint(s["weight_axes"]) and s["quantized_nodes"] == 21 - 4
    assert sorted(pipeline_metadata(model).extra["calibration"]["kept_float"]) == sorted(kept)
    with pytest.raises(ConfigError):
        quantize_pipeline(fcn, tmp_path / "x.onnx", frames, QuantizeConfig(keep_float=("nope*",)), show_progress=False)


def test_fp16_stored_weights_still_get_per_channel_scales(fcn, scenes, tmp_path):
    """Weights stored as fp16 + Cast (the demo model's storage) are folded before quantization."""
    from build_engine.training.train_demo import store_weights_fp16

    stored = store_weights_fp16(onnx.load(str(fcn)), min_elements=1)
    assert any(n.op_type == "Cast" and n.input[0].endswith("/fp16") for n in stored.graph.node)
    frames = np.stack([s.image for s in scenes])
    out = quantize_pipeline(stored, tmp_path / "q.onnx", frames, QuantizeConfig(method="minmax", size=(64, 64)), show_progress=False)
    s = qdq_summary(onnx.load(str(out)))
    assert s["quantized_nodes"] > 0
    assert all(axis is not None for axis in s["weight_axes"].values())  # every weight per-channel


def test_tensorrt_8_target_puts_deconvolution_weight_scales_on_axis_0(fcn, calib_dir, int8, scenes, tmp_path):
    cfg = QuantizeConfig(method="minmax", num_frames=4, size=(64, 64), cache_dir=str(tmp_path / "cache"),
                         trt_target="8.6")
    out = quantize_pipeline(fcn, tmp_path / "fcn.int8.trt8.onnx", calib_dir, cfg, show_progress=False)
    model = onnx.load(str(out))
    onnx.checker.check_model(model)
    summary = qdq_summary(model)
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    float_w = {n.name: numpy_helper.to_array(next(t for t in onnx.load(str(fcn)).graph.initializer if t.name == n.input[1]))
               for n in onnx.load(str(fcn)).graph.node if n.op_type == "ConvTranspose"}
    dqs = {n.output[0]: n for n in model.graph.node if n.op_type == "DequantizeLinear"}
    deconvs = [n for n in model.graph.node if n.op_type == "ConvTranspose"]
    assert len(deconvs) == 3
    for n in deconvs:
        assert summary["weight_axes"][n.name] == 0, n.name
        dq = dqs[n.input[1]]
        q, scale = inits[dq.input[0]], inits[dq.input[1]]
        assert q.dtype == np.int8 and scale.shape == (q.shape[0],) and (scale > 0).all()
        assert np.abs(q).max() <= 127 and not inits[dq.input[2]].any()
        # dequantized weights reproduce the float weights to half a quantization step per input channel
        err = np.abs(q.astype(np.float32) * scale[:, None, None, None] - float_w[n.name])
        assert (err <= scale[:, None, None, None] / 2 + 1e-7).all()
    assert {n.name: a for n, a in ((c, summary["weight_axes"][c.name]) for c in model.graph.node
                                   if c.op_type == "Conv")} == {c.name: 0 for c in model.graph.node if c.op_type == "Conv"}
    meta = pipeline_metadata(model)
    assert meta.extra["tensorrt_targets"] == ["8.6"] and meta.extra["calibration"]["deconv_weight_axis"] == 0
    assert pipeline_metadata(onnx.load(str(int8))).extra["tensorrt_targets"] == ["10"]
    held_out = np.stack([s.image for s in scenes[4:]])
    assert (_labels(out, held_out) == _labels(int8, held_out)).mean() >= 0.95


def test_unknown_tensorrt_target_is_a_config_error():
    with pytest.raises(ConfigError, match="TensorRT target"):
        QuantizeConfig(trt_target="9")
