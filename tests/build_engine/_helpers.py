"""Helpers shared by build_engine's library tests and the tests of its command lines (tests/build_engine/cli/).

Fixtures live in tests/build_engine/conftest.py; models and frames of the precision / quantize / compare
tests in _precision_helpers.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from build_engine.pipeline import save_model, wrap_network
from fcn_trt.metadata import CAFFE_BGR_MEAN, IMAGENET_RGB_MEAN, IMAGENET_RGB_STD, METADATA_KEY, PipelineMetadata

# --- preprocessing presets and their numpy reference (the pipeline tests) --------------------------
PRESETS = {
    "caffe": ("bgr", CAFFE_BGR_MEAN, (1.0, 1.0, 1.0)),
    "imagenet": ("rgb", IMAGENET_RGB_MEAN, IMAGENET_RGB_STD),
    "odd": ("bgr", (10.0, 200.0, 50.0), (2.0, 30.0, 0.5)),
}


def manual_preprocess(bgr: np.ndarray, order: str, mean, std) -> np.ndarray:
    """The pipeline's preprocessing in numpy: uint8 NHWC BGR frames -> float32 NCHW in ``order``, (x - mean) / std."""
    x = bgr.astype(np.float32)
    if order == "rgb":
        x = x[..., ::-1]
    x = (x - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


# --- tiny graphs of the TensorRT rule checks (build_engine.trt_check) ------------------------------
F, F16, I8, U8, I32, I64, B = (TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.INT8, TensorProto.UINT8,
                               TensorProto.INT32, TensorProto.INT64, TensorProto.BOOL)


def vi(name: str, dtype: int, shape) -> onnx.ValueInfoProto:
    """A graph input or output: ``name``, element type ``dtype`` (a TensorProto type), ``shape``."""
    return helper.make_tensor_value_info(name, dtype, shape)


def const(name: str, value, dtype) -> onnx.TensorProto:
    """An initializer ``name`` holding ``value`` as the numpy ``dtype``."""
    return numpy_helper.from_array(np.asarray(value, dtype=dtype), name)


def model(nodes, inputs, outputs, inits=(), opset: int = 17) -> onnx.ModelProto:
    """A model of one graph ``t`` importing the default domain at ``opset``."""
    graph = helper.make_graph(nodes, "t", inputs, outputs, list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def compliant_pipeline(deconv_axis=None) -> onnx.ModelProto:
    """uint8 frame -> Cast -> shapes from the cast -> Transpose -> Conv -> Resize back -> ArgMax ->
    Cast(float) -> Cast(uint8) writing ``labels`` itself: what every parser accepts."""
    rng = np.random.default_rng(0)
    nodes = [
        helper.make_node("Cast", ["frame"], ["f"], to=F, name="pre/cast"),
        helper.make_node("Shape", ["f"], ["fshape"], name="pre/shape"),
        helper.make_node("Slice", ["fshape", "s1", "s3", "ax0"], ["hw"], name="pre/hw"),
        helper.make_node("Transpose", ["f"], ["x"], perm=[0, 3, 1, 2], name="pre/nchw"),
        helper.make_node("Conv", ["x", "w"], ["scores"], name="net/conv"),
        helper.make_node("Shape", ["scores"], ["sshape"], name="post/shape"),
        helper.make_node("Slice", ["sshape", "s0", "s2", "ax0"], ["nc"], name="post/nc"),
        helper.make_node("Concat", ["nc", "hw"], ["sizes"], axis=0, name="post/sizes"),
        helper.make_node("Resize", ["scores", "", "", "sizes"], ["up"], mode="linear",
                         coordinate_transformation_mode="half_pixel", name="post/resize"),
        helper.make_node("ArgMax", ["up"], ["idx"], axis=1, keepdims=0, name="post/argmax"),
        helper.make_node("Cast", ["idx"], ["idxf"], to=F, name="post/tofloat"),
        helper.make_node("Cast", ["idxf"], ["labels"], to=U8, name="labels"),
    ]
    inits = [const("w", rng.standard_normal((3, 3, 1, 1)), np.float32), const("s0", [0], np.int64),
             const("s1", [1], np.int64), const("s2", [2], np.int64), const("s3", [3], np.int64),
             const("ax0", [0], np.int64)]
    m = model(nodes, [vi("frame", U8, ["N", "H", "W", 3])], [vi("labels", U8, ["N", "H", "W"])], inits)
    meta = PipelineMetadata(class_names=("a", "b", "c"), palette=((0, 0, 0), (255, 0, 0), (0, 255, 0)))
    helper.set_model_props(m, {METADATA_KEY: meta.to_json()})
    return m


def uint8_identity() -> onnx.ModelProto:
    """Cast(uint8) -> Identity -> graph output: the Cast's UINT8 output is an intermediate tensor."""
    return model([helper.make_node("Cast", ["x"], ["u"], to=U8, name="n"),
                  helper.make_node("Identity", ["u"], ["y"], name="id")], [vi("x", F, [2])], [vi("y", U8, [2])])


def save(m: onnx.ModelProto, path: Path) -> Path:
    """Write ``m`` to ``path`` as is (no checks, no metadata added); return ``path``."""
    path.write_bytes(m.SerializeToString())
    return path


# --- the engine builder against the TensorRT fakes (build_engine.trt_builder) ------------------------
def trt_major(trt) -> int:
    """The major version of the (fake) ``tensorrt`` module ``trt``."""
    return int(trt.__version__.split(".")[0])


def tiny_network(num_classes: int = 3) -> onnx.ModelProto:
    """A 1x1 conv "segmentation network": input [N,3,H,W] float -> logits [N,C,H,W]."""
    rng = np.random.default_rng(0)
    w = helper.make_tensor("w", TensorProto.FLOAT, [num_classes, 3, 1, 1], rng.standard_normal(num_classes * 3).tolist())
    graph = helper.make_graph(
        [helper.make_node("Conv", ["input", "w"], ["logits"])],
        "tiny",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", num_classes, "H", "W"])],
        [w],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def tiny_pipeline(path: Path, input_format: str = "bgr", precision: str = "fp32") -> Path:
    """A real pipeline graph (build_engine.pipeline.wrap_network) around :func:`tiny_network`.

    ``precision="int8"`` only relabels the metadata: the fakes check flags, not Q/DQ numerics.
    """
    meta = PipelineMetadata(
        class_names=("a", "b", "c"), palette=((0, 0, 0), (255, 0, 0), (0, 255, 0)), input_format=input_format,
    )
    model = wrap_network(tiny_network(), meta)
    if precision != "fp32":
        for prop in model.metadata_props:
            if prop.key == METADATA_KEY:
                prop.value = meta.replace(precision=precision).to_json()
    return save_model(model, path)


def fake_engine_header(engine: Path) -> dict:
    """The JSON header of the fake engine file ``engine``; checks that the embedded ONNX loads."""
    from tests.fakes.fake_tensorrt import parse_fake_engine

    header, onnx_bytes = parse_fake_engine(engine.read_bytes())
    onnx.load_from_string(onnx_bytes)  # the embedded graph is the ONNX we built from
    return header
