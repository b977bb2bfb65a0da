"""FP16 pipeline graphs: network-only conversion, validity, ONNX Runtime parity with fp32.

The ``fp16`` command line is tested in cli/test_fp16.py.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto

from build_engine.pipeline import export_fcn_pipeline
from build_engine.precision import (
    network_to_fp16,
    pipeline_metadata,
    split_pipeline,
    to_fp16_pipeline,
    wrap_network_fp16,
)
from fcn_trt.errors import ConfigError, MetadataError, ModelNotFoundError
from fcn_trt.metadata import PipelineMetadata
from tests.build_engine._precision_helpers import channel_argmax_network, scene_frames, toy_pipeline


def _run(path, frames, output="labels"):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(None, {"frame": frames})))[output]


@pytest.fixture(scope="module")
def fcn_fp32(tmp_path_factory):
    d = tmp_path_factory.mktemp("fp16")
    return export_fcn_pipeline(
        d / "fcn.onnx", "fcn8s", 5, 16, inference_size=(48, 64), resize_back=True,
        outputs=("labels", "confidence", "logits"),
    )


@pytest.fixture(scope="module")
def frames():
    return np.stack([f.image for f in scene_frames(3, (60, 80))])


def test_fp16_pipeline_is_valid_and_keeps_pre_post_fp32(fcn_fp32, tmp_path):
    out = tmp_path / "fcn.fp16.onnx"
    model = to_fp16_pipeline(fcn_fp32, out)
    assert out.is_file()
    onnx.checker.check_model(onnx.load(str(out)), full_check=True)
    src = onnx.load(str(fcn_fp32))
    # pre/ and post/ nodes are exactly those of the fp32 graph
    def pipeline_nodes(m):
        return [n.SerializeToString() for n in m.graph.node if n.name.startswith(("pre/", "post/"))]
    assert pipeline_nodes(model) == pipeline_nodes(src)
    # every network weight is fp16 now; every pre/post constant is untouched
    net_inits = {t.name for t in split_pipeline(src)[1].graph.initializer}
    types = {t.name: t.data_type for t in model.graph.initializer}
    float_weights = [n for n in net_inits if types.get(n) not in (TensorProto.INT64,)]
    assert float_weights and all(types[n] == TensorProto.FLOAT16 for n in float_weights)
    assert all(t.data_type != TensorProto.FLOAT16 for t in model.graph.initializer if t.name.startswith(("pre/", "post/")))
    # graph boundaries are unchanged: uint8 frame in, uint8 labels + fp32 confidence/logits out
    assert [(i.name, i.type.tensor_type.elem_type) for i in model.graph.input] == [("frame", TensorProto.UINT8)]
    assert [(o.name, o.type.tensor_type.elem_type) for o in model.graph.output] == [
        ("labels", TensorProto.UINT8), ("confidence", TensorProto.FLOAT), ("logits", TensorProto.FLOAT)]
    meta = pipeline_metadata(model)
    assert meta.precision == "fp16"
    assert meta.inference_size == (48, 64) and meta.class_names == pipeline_metadata(src).class_names


def test_fp16_pipeline_matches_fp32_on_onnxruntime(fcn_fp32, tmp_path, frames):
    out = tmp_path / "fcn.fp16.onnx"
    to_fp16_pipeline(fcn_fp32, out)
    l32, l16 = _run(fcn_fp32, frames), _run(out, frames)
    assert l16.shape == l32.shape == frames.shape[:3] and l16.dtype == np.uint8
    assert (l16 == l32).mean() >= 0.995
    lg32, lg16 = _run(fcn_fp32, frames, "logits"), _run(out, frames, "logits")
    assert lg16.dtype == np.float32
    np.testing.assert_allclose(lg16, lg32, atol=2e-2 * max(1.0, float(np.abs(lg32).max())))


def test_converted_fcn_equals_fcn_built_in_fp16(tmp_path, frames):
    """Both routes to an fp16 FCN (build_fcn(dtype=float16) and converting the fp32 pipeline) agree."""
    p32 = export_fcn_pipeline(tmp_path / "a.onnx", "fcn16s", 5, 16)
    direct = export_fcn_pipeline(tmp_path / "b.onnx", "fcn16s", 5, 16, precision="fp16")
    converted = tmp_path / "c.onnx"
    to_fp16_pipeline(p32, converted)
    assert pipeline_metadata(onnx.load(str(direct))).precision == "fp16"
    lb, lc = _run(direct, frames), _run(converted, frames)
    assert (lb == lc).mean() >= 0.999


def test_wrapped_user_network_fp16(tmp_path):
    """A user network is converted bare, then wrapped (DESIGN §6); the result runs on ORT."""
    w = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], np.float32)
    meta = PipelineMetadata(class_names=("b", "g", "r"), palette=((0, 0, 0),) * 3, mean=(0, 0, 0), std=(1, 1, 1))
    model = wrap_network_fp16(channel_argmax_network(w), meta)
    onnx.checker.check_model(model, full_check=True)
    assert pipeline_metadata(model).precision == "fp16"
    assert any(t.data_type == TensorProto.FLOAT16 for t in model.graph.initializer)
    path = tmp_path / "user16.onnx"
    onnx.save(model, str(path))
    frame = np.zeros((1, 4, 4, 3), np.uint8)
    frame[0, :2, :, 0] = 200  # blue wins on the top half
    frame[0, 2:, :, 2] = 200  # red wins on the bottom half
    labels = _run(path, frame)[0]
    assert (labels[:2] == 0).all() and (labels[2:] == 2).all()
    # and the pipeline route gives the same network result
    p32 = toy_pipeline(tmp_path / "user32.onnx", w)
    p16 = tmp_path / "user16b.onnx"
    to_fp16_pipeline(p32, p16)
    assert (_run(p16, frame) == labels).all()


def test_converter_boundary_casts_are_not_named_like_pipeline_nodes():
    w = np.eye(3, dtype=np.float32)
    net = network_to_fp16(channel_argmax_network(w))
    assert not any(n.name.startswith(("pre/", "post/")) for n in net.graph.node)
    assert [i.type.tensor_type.elem_type for i in net.graph.input] == [TensorProto.FLOAT]


def test_fp16_errors(tmp_path):
    with pytest.raises(ModelNotFoundError):
        to_fp16_pipeline(tmp_path / "missing.onnx")
    bare = tmp_path / "bare.onnx"
    onnx.save(channel_argmax_network(np.eye(3, dtype=np.float32)), str(bare))
    with pytest.raises(MetadataError):
        to_fp16_pipeline(bare)
    int8 = toy_pipeline(tmp_path / "int8.onnx", np.eye(3, dtype=np.float32), precision="int8")
    with pytest.raises(ConfigError):
        to_fp16_pipeline(int8)


def test_fp16_storage_is_not_mistaken_for_fp16_compute(fcn_fp32, tmp_path):
    """fp16 weights behind a Cast to fp32 (the demo model's storage) still get converted to fp16 compute."""
    from build_engine.training.train_demo import store_weights_fp16

    stored = store_weights_fp16(onnx.load(str(fcn_fp32)), min_elements=1)
    m = to_fp16_pipeline(stored, tmp_path / "m16.onnx")
    inits = {t.name: t.data_type for t in m.graph.initializer}
    conv_weights = [n.input[1] for n in m.graph.node if n.op_type == "Conv"]
    assert conv_weights and all(inits.get(w) == TensorProto.FLOAT16 for w in conv_weights)
