"""Tests of the MediaPipe selfie converter. The graph surgery is tested on small synthetic graphs with
onnx + ONNX Runtime only; the real conversion needs tensorflow + tf2onnx (an interpreter named by
$FCN_TRT_TF_PYTHON, or this one) and skips without them. The ``convert-selfie`` command line is tested in
tests/build_engine/cli/test_convert_selfie.py."""

from __future__ import annotations

import base64
import hashlib
import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from build_engine.recipes import mediapipe_selfie as ms
from fcn_trt.errors import BackendUnavailableError, BuildError, ModelFormatError, SourceOpenError

REPO = Path(__file__).resolve().parents[3]
SHIPPED = REPO / "fcn_trt" / "models" / "selfie_segmentation.onnx"


# --- helpers -------------------------------------------------------------------------------------
def _model(graph: onnx.GraphProto) -> onnx.ModelProto:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="test")
    model.ir_version = 8  # what onnxruntime >= 1.10 reads
    return model


def _run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})[0]


def _transpose_conv_reference(x, w_ohwi, b, stride, padding_same=True):
    """TFLite TRANSPOSE_CONV semantics in NumPy: x NHWC, kernel OHWI, bias, SAME or VALID."""
    n, h, w, _ = x.shape
    c_out, kh, kw, _ = w_ohwi.shape
    sh, sw = stride
    full = np.zeros((n, (h - 1) * sh + kh, (w - 1) * sw + kw, c_out), np.float64)
    for y in range(h):
        for xx in range(w):
            contrib = np.einsum("ni,okli->nklo", x[:, y, xx, :].astype(np.float64), w_ohwi.astype(np.float64))
            full[:, y * sh:y * sh + kh, xx * sw:xx * sw + kw, :] += contrib
    if padding_same:
        top, left = (kh - sh) // 2, (kw - sw) // 2
        full = full[:, top:top + h * sh, left:left + w * sw, :]
    return (full + b).astype(np.float32)


def _assert_relu_transpose_conv(model, x, w, b, out_shape, padding_same=True):
    """``model`` gives Relu(TFLite TRANSPOSE_CONV(x, w, b), stride 2), of ``out_shape``, on ``x``."""
    got = _run(model, x)
    assert got.shape == out_shape
    expected = np.maximum(_transpose_conv_reference(x, w, b, (2, 2), padding_same=padding_same), 0)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def _custom_model(x_shape, w, b, op_type="TFL_Convolution2DTransposeBias", attrs=None, out_shape=None,
                  wrap_transposes=False):
    """input NHWC -> [custom op] -> Relu -> output; optionally the NCHW<->NHWC transposes tf2onnx leaves."""
    nodes, x = [], "x"
    if wrap_transposes:  # x -> NCHW -> back to NHWC, as tf2onnx does around NHWC-only ops
        nodes.append(helper.make_node("Transpose", ["x"], ["x_nchw"], name="t1", perm=[0, 3, 1, 2]))
        nodes.append(helper.make_node("Transpose", ["x_nchw"], ["x_nhwc"], name="t2", perm=[0, 2, 3, 1]))
        x = "x_nhwc"
    node = helper.make_node(op_type, [x, "kernel", "bias"], ["segment"], name="segment")
    for k, v in (attrs or {}).items():
        node.attribute.append(helper.make_attribute(k, v))
    nodes.append(node)
    nodes.append(helper.make_node("Relu", ["segment"], ["y"], name="act"))
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape or ["N", "H", "W", "C"])],
        [numpy_helper.from_array(w, "kernel"), numpy_helper.from_array(b, "bias")],
    )
    return _model(graph)


def _rng_case(seed, c_in=3, c_out=2, k=2, h=4, w=5):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, h, w, c_in)).astype(np.float32)
    wt = rng.standard_normal((c_out, k, k, c_in)).astype(np.float32)
    b = rng.standard_normal(c_out).astype(np.float32)
    return x, wt, b


# --- custom-op repair ----------------------------------------------------------------------------
@pytest.mark.parametrize("op_type", ms.CUSTOM_OP_NAMES)
def test_repair_matches_numpy_transpose_conv_2x2_s2(op_type):
    x, w, b = _rng_case(0)
    model = _custom_model(x.shape, w, b, op_type=op_type)
    assert ms.repair_transpose_conv_bias(model) == 1  # no options: stride = kernel (2x2 s2)
    assert [n.op_type for n in model.graph.node] == ["Transpose", "ConvTranspose", "Transpose", "Relu"]
    onnx.checker.check_model(model, full_check=True)
    _assert_relu_transpose_conv(model, x, w, b, (1, 8, 10, 2))


def test_repair_uses_options_for_stride_and_same_padding():
    x, w, b = _rng_case(1, k=3)
    model = _custom_model(x.shape, w, b)
    opts = {"segment": ms.TransposeConvOptions(padding=1, stride_w=2, stride_h=2)}
    assert ms.repair_transpose_conv_bias(model, opts) == 1
    conv = [n for n in model.graph.node if n.op_type == "ConvTranspose"][0]
    attrs = {a.name: list(helper.get_attribute_value(a)) for a in conv.attribute}
    assert attrs["strides"] == [2, 2] and attrs["kernel_shape"] == [3, 3] and attrs["pads"] == [0, 0, 1, 1]
    _assert_relu_transpose_conv(model, x, w, b, (1, 8, 10, 2), padding_same=True)


def test_repair_reads_custom_options_attribute_and_valid_padding():
    x, w, b = _rng_case(2, k=3)
    raw = struct.pack("<3i", 2, 2, 2)  # VALID, stride_w 2, stride_h 2
    model = _custom_model(x.shape, w, b, attrs={"custom_options": raw})
    assert ms.repair_transpose_conv_bias(model) == 1
    _assert_relu_transpose_conv(model, x, w, b, (1, 9, 11, 2), padding_same=False)


def test_repair_infers_stride_from_static_shapes():
    x, w, b = _rng_case(3, k=2, h=3, w=3)
    # kernel 2 but the shapes say stride 1 would not fit: input 3 -> output 6 means stride 2
    model = _custom_model(x.shape, w, b, out_shape=[1, 6, 6, 2])
    model.graph.value_info.append(helper.make_tensor_value_info("segment", TensorProto.FLOAT, [1, 6, 6, 2]))
    assert ms.repair_transpose_conv_bias(model) == 1
    _assert_relu_transpose_conv(model, x, w, b, (1, 6, 6, 2))


def test_repair_rejects_bad_weights():
    x, w, b = _rng_case(4)
    model = _custom_model(x.shape, w, np.zeros(5, np.float32))
    with pytest.raises(ModelFormatError, match="kernel OHWI"):
        ms.repair_transpose_conv_bias(model)


def test_transpose_conv_options_from_bytes():
    assert ms.TransposeConvOptions.from_bytes(bytes.fromhex("010000000200000002000000")) == ms.TransposeConvOptions(1, 2, 2)
    with pytest.raises(ModelFormatError, match="12 bytes"):
        ms.TransposeConvOptions.from_bytes(b"\x01\x00")
    with pytest.raises(ModelFormatError, match="padding 1|2"):
        ms.TransposeConvOptions.from_bytes(struct.pack("<3i", 7, 2, 2))


# --- simplification and canonical output ---------------------------------------------------------
def _messy_model(seed: int, prefix: str, swap_inits: bool) -> onnx.ModelProto:
    """Same computation, different tensor names / initializer order, an identity Reshape and an
    inverse Transpose pair: what two tf2onnx runs give."""
    x, w, b = _rng_case(seed)
    model = _custom_model(x.shape, w, b, wrap_transposes=True)
    shape = numpy_helper.from_array(np.array([1, 8, 10, 2], np.int64), prefix + "shape")
    model.graph.initializer.append(shape)
    relu = model.graph.node[-1]
    reshape = helper.make_node("Reshape", ["segment", prefix + "shape"], [prefix + "reshaped"], name=prefix + "r")
    relu.input[0] = prefix + "reshaped"
    model.graph.node.insert(len(model.graph.node) - 1, reshape)
    rename = {"x_nchw": prefix + "a", "x_nhwc": prefix + "b", "segment": "segment", "kernel": prefix + "k",
              "bias": prefix + "bb"}
    for n in model.graph.node:
        n.name = prefix + n.name
        for i, name in enumerate(n.input):
            n.input[i] = rename.get(name, name)
        for i, name in enumerate(n.output):
            n.output[i] = rename.get(name, name)
    for t in model.graph.initializer:
        t.name = rename.get(t.name, t.name)
    if swap_inits:
        inits = list(model.graph.initializer)[::-1]
        del model.graph.initializer[:]
        model.graph.initializer.extend(inits)
    model.graph.name = prefix + "graph"
    model.producer_version = prefix
    return model


def test_finish_conversion_is_canonical_and_preserves_numerics():
    a = _messy_model(5, "run1_", swap_inits=False)
    b = _messy_model(5, "run2__", swap_inits=True)
    x, w, bias = _rng_case(5)
    expected = np.maximum(_transpose_conv_reference(x, w, bias, (2, 2)), 0)
    assert ms.repair_transpose_conv_bias(a) == 1
    np.testing.assert_allclose(_run(a, x), expected, rtol=1e-5, atol=1e-5)  # before simplification
    a = _messy_model(5, "run1_", swap_inits=False)
    meta = {"source_sha256": "ab" * 32, "license": "Apache-2.0"}
    out_a = ms.finish_conversion(a, None, meta, "selfie_segmentation")
    out_b = ms.finish_conversion(b, None, meta, "selfie_segmentation")
    assert out_a.SerializeToString() == out_b.SerializeToString()
    ops = [n.op_type for n in out_a.graph.node]
    # three Transposes in a row (to NCHW, back, to NCHW again) leave one; the identity Reshape goes
    assert ops == ["Transpose", "ConvTranspose", "Transpose", "Relu"], ops
    assert [n.name for n in out_a.graph.node] == ["0_Transpose", "1_ConvTranspose", "2_Transpose", "3_Relu"]
    assert out_a.graph.input[0].name == "input" and out_a.graph.output[0].name == "probability"
    assert {p.key: p.value for p in out_a.metadata_props} == meta
    assert out_a.producer_name == "fcn_trt.build_engine.mediapipe_selfie" and out_a.doc_string == ""
    np.testing.assert_allclose(_run(out_a, x), expected, rtol=1e-5, atol=1e-5)


def test_finish_conversion_rejects_unknown_custom_ops():
    x, w, b = _rng_case(6)
    model = _custom_model(x.shape, w, b, op_type="TFL_MaxPoolingWithArgmax2D")
    with pytest.raises(BuildError, match="TFL_MaxPoolingWithArgmax2D"):
        ms.finish_conversion(model, None, {}, "g")


def test_cancel_inverse_transposes_keeps_non_inverse_pairs():
    nodes = [
        helper.make_node("Transpose", ["x"], ["a"], perm=[0, 3, 1, 2]),
        helper.make_node("Transpose", ["a"], ["y"], perm=[0, 3, 1, 2]),  # not the inverse
    ]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 3, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = _model(graph)
    assert ms.cancel_inverse_transposes(model) == 0
    assert len(model.graph.node) == 2


# --- resize -------------------------------------------------------------------------------------
@pytest.mark.parametrize("src,dst", [((512, 512), (256, 256)), ((256, 256), (512, 512)), ((300, 451), (256, 256)),
                                     ((256, 256), (144, 700))])
def test_resize_linear_matches_onnx_resize(src, dst):
    rng = np.random.default_rng(7)
    img = rng.random(src + (3,), dtype=np.float32)
    node = helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode="linear",
                            coordinate_transformation_mode="half_pixel")
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, *src])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.array([1, 3, *dst], np.int64), "sizes")],
    )
    model = _model(graph)
    ref = _run(model, img.transpose(2, 0, 1)[None].copy())[0].transpose(1, 2, 0)
    np.testing.assert_allclose(ms.resize_linear(img, dst), ref, atol=2e-5)  # ORT computes weights in float32


def test_selfie_input_scales_and_rejects_gray():
    img = np.full((512, 512, 3), 255, np.uint8)
    x = ms.selfie_input(img)
    assert x.shape == (1, 256, 256, 3) and x.dtype == np.float32 and np.allclose(x, 1.0)
    with pytest.raises(Exception, match="RGB array"):
        ms.selfie_input(np.zeros((10, 10), np.uint8))


# --- fetching -----------------------------------------------------------------------------------
def _fake_wheel(path: Path, payload: bytes, record_hash: bytes | None = None, member=ms.SELFIE_MEMBERS[False]) -> Path:
    digest = base64.urlsafe_b64encode(record_hash or hashlib.sha256(payload).digest()).rstrip(b"=").decode()
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(member, payload)
        zf.writestr("mediapipe-9.9.9.dist-info/RECORD", f"{member},sha256={digest},{len(payload)}\n")
    return path


def test_extract_from_wheel_checks_record(tmp_path):
    wheel = _fake_wheel(tmp_path / "mediapipe-9.9.9-py3-none-any.whl", b"TFL3 model bytes")
    out = ms.extract_selfie_tflite(wheel, tmp_path / "out")
    assert out.name == "selfie_segmentation.tflite" and out.read_bytes() == b"TFL3 model bytes"
    assert ms.fetch_selfie_tflite(tmp_path / "out2", wheel=wheel).read_bytes() == b"TFL3 model bytes"

    bad = _fake_wheel(tmp_path / "mediapipe-9.9.8-py3-none-any.whl", b"payload", record_hash=b"\0" * 32)
    with pytest.raises(SourceOpenError, match="corrupt"):
        ms.extract_selfie_tflite(bad, tmp_path / "out3")
    with pytest.raises(SourceOpenError, match="selfie_segmentation_landscape.tflite"):
        ms.extract_selfie_tflite(wheel, tmp_path / "out4", landscape=True)
    not_zip = tmp_path / "x.whl"
    not_zip.write_bytes(b"not a zip")
    with pytest.raises(SourceOpenError, match="readable .whl"):
        ms.extract_selfie_tflite(not_zip, tmp_path)


def test_extract_checks_known_release_hash(tmp_path):
    name = f"mediapipe-{ms.MEDIAPIPE_VERSION}-cp311-cp311-manylinux_2_28_x86_64.whl"
    wheel = _fake_wheel(tmp_path / name, b"not the published model")
    with pytest.raises(SourceOpenError, match="not the published mediapipe"):
        ms.extract_selfie_tflite(wheel, tmp_path / "out")


def test_fetch_reports_pip_failure(tmp_path):
    fake_python = tmp_path / "python"
    fake_python.write_text("#!/bin/sh\necho 'ERROR: Could not find a version (no network)' >&2\nexit 1\n")
    fake_python.chmod(0o755)
    with pytest.raises(SourceOpenError, match="no network") as info:
        ms.fetch_selfie_tflite(tmp_path, python=str(fake_python))
    assert "--wheel" in str(info.value)
    with pytest.raises(SourceOpenError, match="pip to run"):
        ms.fetch_selfie_tflite(tmp_path, python=str(tmp_path / "missing-python"))


def _has_tf(python: str) -> bool:
    try:
        return subprocess.run([python, "-c", "import tensorflow, tf2onnx"], capture_output=True, timeout=300).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


TF_PYTHON = os.environ.get("FCN_TRT_TF_PYTHON") or sys.executable
HAS_TF = _has_tf(TF_PYTHON)


@pytest.mark.skipif(TF_PYTHON == sys.executable and HAS_TF, reason="this interpreter has tensorflow")
def test_missing_tensorflow_is_a_clear_error(tmp_path):
    if _has_tf(sys.executable):
        pytest.skip("this interpreter has tensorflow")
    with pytest.raises(BackendUnavailableError, match="tf-python"):
        ms.converter_versions(sys.executable)


def test_convert_missing_tflite_is_a_clear_error(tmp_path):
    with pytest.raises(SourceOpenError, match="existing file"):
        ms.convert_selfie(tmp_path / "nope.tflite", tmp_path / "out.onnx")


# --- the real conversion (tensorflow + tf2onnx) ---------------------------------------------------
@pytest.fixture(scope="module")
def real_tflite(tmp_path_factory):
    if not HAS_TF:
        pytest.skip(f"tensorflow + tf2onnx not importable by {TF_PYTHON} (set FCN_TRT_TF_PYTHON)")
    dest = tmp_path_factory.mktemp("mp")
    wheel = os.environ.get("FCN_TRT_MEDIAPIPE_WHEEL")
    try:
        return ms.fetch_selfie_tflite(dest, wheel=wheel)
    except SourceOpenError as e:
        pytest.skip(f"mediapipe wheel unavailable: {e}")


def _astronaut_rgb():
    skdata = pytest.importorskip("skimage.data")
    return np.ascontiguousarray(skdata.astronaut())


def test_real_conversion_is_reproducible_verified_and_matches_shipped(real_tflite, tmp_path):
    image = _astronaut_rgb()
    a = ms.convert_selfie(real_tflite, tmp_path / "a.onnx", tf_python=TF_PYTHON, verify_image=image)
    ms.convert_selfie(real_tflite, tmp_path / "b.onnx", tf_python=TF_PYTHON)
    assert (tmp_path / "a.onnx").read_bytes() == (tmp_path / "b.onnx").read_bytes()
    assert a.source_sha256 == ms.SELFIE_SHA256[False]
    v = a.verification
    assert v.max_abs_error < 1e-3 and v.mask_agreement >= 0.999 and v.iou >= 0.99, v
    model = onnx.load(str(tmp_path / "a.onnx"))
    assert all(n.domain == "" and onnx.defs.has(n.op_type) for n in model.graph.node)
    assert "ConvTranspose" in {n.op_type for n in model.graph.node}
    props = {p.key: p.value for p in model.metadata_props}
    assert props["license"] == "Apache-2.0" and props["source_sha256"] == ms.SELFIE_SHA256[False]
    ms.export_selfie_pipeline(tmp_path / "a.onnx", tmp_path / "pipe.onnx")
    if a.converter == {"tensorflow": "2.21.0", "tf2onnx": "1.17.0"}:  # the versions the shipped file used
        assert (tmp_path / "pipe.onnx").read_bytes() == SHIPPED.read_bytes()
