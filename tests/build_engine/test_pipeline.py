"""The pipeline graph computes exactly the bare network on manually preprocessed frames.

Wrapping a network from the command line (``export --onnx``) is tested in cli/test_export.py.
"""

from __future__ import annotations

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from build_engine.fcn import build_fcn, random_fcn_weights
from build_engine.graph import GraphBuilder, make_model
from build_engine.pipeline import NetworkSpec, decode_nv12_nodes, export_fcn_pipeline, wrap_network
from fcn_trt.errors import ConfigError, ModelFormatError
from fcn_trt.metadata import METADATA_KEY, PipelineMetadata
from tests.build_engine._helpers import PRESETS, manual_preprocess


def session(model: onnx.ModelProto) -> ort.InferenceSession:
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def meta(n: int, **kw) -> PipelineMetadata:
    return PipelineMetadata(class_names=tuple(f"c{i}" for i in range(n)), palette=tuple((i, i, i) for i in range(n)), **kw)


@pytest.fixture(scope="module")
def network():
    return build_fcn("fcn8s", 4, 16, random_fcn_weights("fcn8s", 4, 16, seed=3))


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("input_format", ["bgr", "rgb"])
def test_labels_equal_bare_argmax(network, preset, input_format):
    order, mean, std = PRESETS[preset]
    pipe = session(wrap_network(network, meta(4, input_format=input_format, channel_order=order, mean=mean,
                                              std=std, outputs=("labels", "logits"))))
    bare = session(network)
    rng = np.random.default_rng(0)
    bgr = rng.integers(0, 256, (2, 37, 53, 3), dtype=np.uint8)
    frame = bgr if input_format == "bgr" else np.ascontiguousarray(bgr[..., ::-1])
    labels, logits = pipe.run(["labels", "logits"], {"frame": frame})
    ref_logits = bare.run(None, {"input": manual_preprocess(bgr, order, mean, std)})[0]
    assert labels.dtype == np.uint8 and labels.shape == (2, 37, 53)
    np.testing.assert_allclose(logits, ref_logits, rtol=1e-5, atol=1e-4 * np.abs(ref_logits).max())
    np.testing.assert_array_equal(labels, ref_logits.argmax(1))


def test_inference_size_resizes_like_opencv(network):
    order, mean, std = PRESETS["caffe"]
    pipe = session(wrap_network(network, meta(4, inference_size=(48, 64), outputs=("labels", "logits")), NetworkSpec(input_size=(48, 64))))
    bare = session(network)
    bgr = np.random.default_rng(1).integers(0, 256, (1, 75, 101, 3), dtype=np.uint8)
    labels, logits = pipe.run(["labels", "logits"], {"frame": bgr})
    small = cv2.resize(bgr[0].astype(np.float32), (64, 48), interpolation=cv2.INTER_LINEAR)[None]
    ref_logits = bare.run(None, {"input": manual_preprocess(small, order, mean, std)})[0]
    np.testing.assert_allclose(logits, ref_logits, rtol=1e-4, atol=1e-3 * np.abs(ref_logits).max())
    up = np.stack([cv2.resize(c, (101, 75), interpolation=cv2.INTER_LINEAR) for c in ref_logits[0]])
    assert labels.shape == (1, 75, 101)
    assert (labels[0] == up.argmax(0)).mean() >= 0.995


def test_no_resize_back_gives_inference_size_labels(network):
    pipe = session(wrap_network(network, meta(4, inference_size=(32, 40), resize_back=False), NetworkSpec(input_size=(32, 40))))
    labels = pipe.run(None, {"frame": np.zeros((1, 90, 70, 3), np.uint8)})[0]
    assert labels.shape == (1, 32, 40)


def to_nv12(bgr: np.ndarray) -> np.ndarray:
    """BGR -> NV12 (Y plane, then interleaved U,V) through OpenCV's I420 conversion."""
    h, w = bgr.shape[:2]
    i420 = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420)
    y = i420[:h]
    u = i420[h:h + h // 4].reshape(h // 2, w // 2)
    v = i420[h + h // 4:].reshape(h // 2, w // 2)
    uv = np.stack([u, v], axis=-1).reshape(h // 2, w)
    return np.concatenate([y, uv], axis=0)


def test_nv12_decode_matches_opencv():
    g = GraphBuilder("t/")
    rgb, _ = decode_nv12_nodes(g, "frame")
    g.nodes.append(helper.make_node("Identity", [rgb], ["rgb"]))
    model = make_model(g.nodes, g.initializers, [helper.make_tensor_value_info("frame", TensorProto.UINT8, ["N", "R", "W"])],
                       [helper.make_tensor_value_info("rgb", TensorProto.FLOAT, ["N", 3, "H", "W"])], "nv12")
    onnx.checker.check_model(model)
    rng = np.random.default_rng(2)
    bgr = cv2.GaussianBlur(rng.integers(0, 256, (48, 62, 3), dtype=np.uint8), (5, 5), 0)
    nv12 = to_nv12(bgr)
    rng_frames = np.stack([nv12, rng.integers(0, 256, nv12.shape, dtype=np.uint8)])
    out = session(model).run(None, {"frame": rng_frames})[0]
    for got, src in zip(out.transpose(0, 2, 3, 1), rng_frames):
        ref = cv2.cvtColor(src, cv2.COLOR_YUV2BGR_NV12)[..., ::-1].astype(np.float32)
        assert got.shape == ref.shape
        assert np.abs(got - ref).max() <= 1.0  # fixed-point vs float rounding
        assert (got == ref).mean() >= 0.99


def test_nv12_pipeline_matches_bgr_pipeline(network):
    bgr = cv2.GaussianBlur(np.random.default_rng(4).integers(0, 256, (64, 80, 3), dtype=np.uint8), (7, 7), 0)
    nv12 = to_nv12(bgr)
    p_nv12 = session(wrap_network(network, meta(4, input_format="nv12", outputs=("labels", "logits"))))
    p_bgr = session(wrap_network(network, meta(4, outputs=("labels", "logits"))))
    decoded = cv2.cvtColor(nv12, cv2.COLOR_YUV2BGR_NV12)
    l1, g1 = p_nv12.run(None, {"frame": nv12[None]})
    l2, g2 = p_bgr.run(None, {"frame": decoded[None]})
    assert l1.shape == (1, 64, 80)
    assert (l1 == l2).mean() >= 0.99


def test_confidence_is_max_softmax(network):
    pipe = session(wrap_network(network, meta(4, outputs=("labels", "confidence", "logits"))))
    labels, conf, logits = pipe.run(None, {"frame": np.random.default_rng(5).integers(0, 256, (1, 40, 40, 3), dtype=np.uint8)})
    e = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(conf, (e / e.sum(1, keepdims=True)).max(1), rtol=1e-5)
    assert conf.dtype == np.float32


def test_metadata_round_trip(tmp_path):
    path = export_fcn_pipeline(tmp_path / "m.onnx", "fcn16s", num_classes=3, width_divisor=32, input_format="rgb",
                               channel_order="rgb", mean=(1, 2, 3), std=(4, 5, 6), inference_size=(64, 96))
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    assert model.opset_import[0].version == 17
    props = {p.key: p.value for p in model.metadata_props}
    m = PipelineMetadata.from_json(props[METADATA_KEY])
    assert (m.variant, m.width_divisor, m.num_classes, m.input_format, m.mean, m.std, m.inference_size) == \
        ("fcn16s", 32, 3, "rgb", (1.0, 2.0, 3.0), (4.0, 5.0, 6.0), (64, 96))
    frame = model.graph.input[0]
    assert frame.name == "frame" and frame.type.tensor_type.elem_type == TensorProto.UINT8


def test_weights_file_sha_in_metadata(tmp_path):
    w = random_fcn_weights("fcn32s", 3, 32, seed=1)
    np.savez(tmp_path / "w.npz", **w)
    path = export_fcn_pipeline(tmp_path / "m.onnx", "fcn32s", weights=tmp_path / "w.npz")
    m = PipelineMetadata.from_json({p.key: p.value for p in onnx.load(str(path)).metadata_props}[METADATA_KEY])
    import hashlib

    assert m.weights_sha256 == hashlib.sha256((tmp_path / "w.npz").read_bytes()).hexdigest()
    assert (m.num_classes, m.width_divisor) == (3, 32)


# --- user networks ------------------------------------------------------------------------------
def nhwc_sigmoid_net(size=(32, 32), kind="probability") -> onnx.ModelProto:
    rng = np.random.default_rng(7)
    w = rng.standard_normal((1, 3, 3, 3))
    w = numpy_helper.from_array((w - w.mean()).astype(np.float32), "w")
    b = numpy_helper.from_array(np.array([0.05], np.float32), "b")
    nodes = [
        helper.make_node("Transpose", ["image"], ["nchw"], perm=[0, 3, 1, 2]),
        helper.make_node("Conv", ["nchw", "w", "b"], ["score"], pads=[1, 1, 1, 1]),
    ]
    if kind == "probability":
        nodes.append(helper.make_node("Sigmoid", ["score"], ["prob"]))
        last = "prob"
    else:
        last = "score"
    nodes.append(helper.make_node("Transpose", [last], ["mask"], perm=[0, 2, 3, 1]))
    graph = helper.make_graph(nodes, "user", [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, *size, 3])],
                              [helper.make_tensor_value_info("mask", TensorProto.FLOAT, [1, *size, 1])], [w, b])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


@pytest.mark.parametrize("kind", ["probability", "sigmoid_logits"])
def test_nhwc_single_channel_network(kind):
    net = nhwc_sigmoid_net(kind=kind)
    m = meta(2, input_format="rgb", channel_order="rgb", mean=(0, 0, 0), std=(255, 255, 255), outputs=("labels", "confidence"))
    pipe = session(wrap_network(net, m, NetworkSpec(output_kind=kind)))
    rgb = np.random.default_rng(8).integers(0, 256, (1, 32, 32, 3), dtype=np.uint8)
    labels, conf = pipe.run(None, {"frame": rgb})
    bare = session(net).run(None, {"image": rgb.astype(np.float32) / 255.0})[0][..., 0]
    prob = bare if kind == "probability" else 1 / (1 + np.exp(-bare))
    np.testing.assert_array_equal(labels, (prob > 0.5).astype(np.uint8))
    np.testing.assert_allclose(conf, np.maximum(prob, 1 - prob), rtol=1e-5)
    assert 0.05 < labels.mean() < 0.95  # the test frame really exercises both classes
    # a frame of another size is resized to the network's fixed 32x32 and back
    labels2 = pipe.run(None, {"frame": np.zeros((1, 50, 70, 3), np.uint8)})[0]
    assert labels2.shape == (1, 50, 70)


def test_bad_option_combinations_are_clear():
    net = nhwc_sigmoid_net()
    m2 = meta(2)
    with pytest.raises(ConfigError, match="output kind 'logits'"):
        wrap_network(net, m2, NetworkSpec(output_kind="logits"))
    with pytest.raises(ConfigError, match="3 channels"):
        wrap_network(net, m2, NetworkSpec(input_layout="nchw", output_kind="probability"))
    with pytest.raises(ConfigError, match="2 classes"):
        wrap_network(net, meta(3), NetworkSpec(output_kind="probability"))
    with pytest.raises(ConfigError, match="fixed input size"):
        wrap_network(net, m2, NetworkSpec(output_kind="probability", input_size=(64, 64)))
    with pytest.raises(ModelFormatError, match="network input"):
        wrap_network(net, m2, NetworkSpec(input_name="nope", output_kind="probability"))


def test_name_clash_with_pipeline_names_is_renamed():
    # a user network whose tensors are called 'frame' and 'logits' must still wrap
    w = numpy_helper.from_array(np.ones((2, 3, 1, 1), np.float32), "labels")
    graph = helper.make_graph([helper.make_node("Conv", ["frame", "labels"], ["logits"])], "clash",
                              [helper.make_tensor_value_info("frame", TensorProto.FLOAT, ["N", 3, "H", "W"])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 2, "H", "W"])], [w])
    net = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    pipe = session(wrap_network(net, meta(2, outputs=("labels", "logits"))))
    labels, logits = pipe.run(None, {"frame": np.full((1, 5, 6, 3), 200, np.uint8)})
    assert labels.shape == (1, 5, 6) and logits.shape == (1, 2, 5, 6)


def test_fp16_network_wraps_and_agrees(network):
    w = random_fcn_weights("fcn8s", 4, 16, seed=3)
    p32 = session(wrap_network(network, meta(4)))
    p16 = session(wrap_network(build_fcn("fcn8s", 4, 16, w, dtype="float16"), meta(4, precision="fp16")))
    f = np.random.default_rng(9).integers(0, 256, (1, 64, 64, 3), dtype=np.uint8)
    assert (p32.run(None, {"frame": f})[0] == p16.run(None, {"frame": f})[0]).mean() >= 0.99


def test_one_metadata_writer_keeps_other_entries_in_order():
    import build_engine.pipeline
    import build_engine.precision
    from fcn_trt.metadata import read_model_metadata, write_model_metadata

    assert build_engine.pipeline.set_pipeline_metadata is write_model_metadata
    assert build_engine.precision.set_pipeline_metadata is write_model_metadata
    model = helper.make_model(helper.make_graph([], "g", [], []))
    helper.set_model_props(model, {"author": "a", METADATA_KEY: "{}", "zz": "z"})
    meta = PipelineMetadata(class_names=("bg", "fg"), palette=((0, 0, 0), (255, 255, 255)))
    assert write_model_metadata(model, meta) is model
    assert [p.key for p in model.metadata_props] == ["author", "zz", METADATA_KEY]
    assert read_model_metadata(model) == meta
