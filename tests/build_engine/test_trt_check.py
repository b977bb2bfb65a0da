"""The TensorRT ONNX-parser rules (build_engine.trt_check) and the fake OnnxParser.

Every rule of ``RULES`` has a tiny graph that breaks it (``NEGATIVE``): the test asserts the rule id,
the TensorRT majors whose parser rejects it and the parser's message. Compliant twins pass.
The ``check`` command line is tested in cli/test_check.py.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Callable, NamedTuple, Tuple

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from build_engine.trt_builder import BuildConfig, build_engine
from build_engine.trt_check import (
    RULES, TARGETS, CompatReport, Violation, check_model, ensure_compatible, parse_targets, target_for_version,
)
from fcn_trt.errors import (
    BuildError, ConfigError, ModelFormatError, ModelNotFoundError, TensorRTCompatibilityError,
)
from fcn_trt.metadata import METADATA_KEY, PipelineMetadata
from tests.build_engine._helpers import B, F, F16, I8, I32, I64, U8, compliant_pipeline, const, model, uint8_identity, vi
from tests.build_engine._helpers import save as _save


def unary(op: str, dtype: int = F, out_dtype: int = None, opset: int = 17, **attrs) -> onnx.ModelProto:
    return model([helper.make_node(op, ["x"], ["y"], name="n", **attrs)], [vi("x", dtype, [1, 3, 4, 4])],
                 [vi("y", out_dtype or dtype, None)], opset=opset)


def resize(opset: int = 17, scales=None, **attrs) -> onnx.ModelProto:
    inits = [const("roi", [], np.float32)]
    if scales is not None:
        inits.append(const("scales", scales, np.float32))
        ins = ["x", "roi", "scales"]
    else:
        inits.append(const("sizes", [1, 3, 8, 8], np.int64))
        ins = ["x", "roi", "", "sizes"]
    return model([helper.make_node("Resize", ins, ["y"], name="n", **attrs)], [vi("x", F, [1, 3, 4, 4])],
                 [vi("y", F, None)], inits, opset=opset)


def qdq_weights(op: str, axis: int, zp_dtype=np.int8, scale=0.1, zp=0) -> onnx.ModelProto:
    """x -> Q/DQ (per-tensor) -> op(., DQ(int8 weights, per-channel on ``axis``))."""
    shape = (4, 2, 3, 3)
    n = shape[axis]
    inits = [const("wq", np.ones(shape), np.int8), const("ws", np.full(n, 0.05), np.float32),
             const("wz", np.zeros(n), np.int8), const("xs", scale, np.float32), const("xz", zp, zp_dtype)]
    nodes = [helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"], name="q_x"),
             helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"], name="dq_x"),
             helper.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["w"], axis=axis, name="dq_w"),
             helper.make_node(op, ["xd", "w"], ["y"], name="layer")]
    channels_in = shape[0] if op == "ConvTranspose" else shape[1]
    return model(nodes, [vi("x", F, [1, channels_in, 8, 8])], [vi("y", F, None)], inits)


def qdq_param_input(param: str) -> onnx.ModelProto:
    """Q -> DQ (node "n") whose scale ``"s"`` or zero point ``"z"`` is a graph input; the other is an initializer."""
    params = {"s": (F, const("s", 0.1, np.float32)), "z": (I8, const("z", 0, np.int8))}
    inits = [init for name, (_, init) in params.items() if name != param]
    return model([helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], name="n"),
                  helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"], name="dq")],
                 [vi("x", F, [1, 3]), vi(param, params[param][0], [])], [vi("y", F, None)], inits)


class Case(NamedTuple):
    rule: str
    build: Callable[[], onnx.ModelProto]
    expected: Tuple[Tuple[Tuple[str, ...], str], ...]  # ((targets, message fragment), ...)
    node: str = "n"


NEGATIVE = [
    Case("opset-range", lambda: unary("Relu", opset=18),
         ((("8.6",), "from opset 7 to 17; the model imports opset 18"),), "opset_import"),
    Case("opset-range", lambda: unary("Relu", opset=21),
         ((("8.6",), "from opset 7 to 17"), (("10",), "from opset 9 to 20")), "opset_import"),
    Case("opset-range", lambda: unary("Relu", opset=8),
         ((("10",), "from opset 9 to 20"), (("11",), "from opset 9 to 24")), "opset_import"),
    Case("unsupported-op", lambda: unary("Unique", out_dtype=F),
         ((TARGETS, "No importer registered for op: Unique"),)),
    Case("unsupported-op", lambda: unary("Hardmax"),  # 'N' in the 8.6 table, 'Y' from 10.0
         ((("8.6",), "Plugin not found, are the plugin name, version, and namespace correct?"),)),
    Case("unsupported-dtype", lambda: unary("Cast", out_dtype=TensorProto.UINT16, to=TensorProto.UINT16),
         ((TARGETS, "Unsupported data type for the Cast operator! (to UINT16)"),)),
    Case("unsupported-dtype", lambda: model([helper.make_node("Cast", ["x"], ["y"], to=F, name="n")],
                                            [vi("x", TensorProto.INT16, [2])], [vi("y", F, [2])]),
         ((TARGETS, "Failed to convert ONNX date type to TensorRT data type. (INT16)"),), "x"),
    Case("double-tensor", lambda: model([helper.make_node("Cast", ["x"], ["d"], to=TensorProto.DOUBLE, name="n"),
                                         helper.make_node("Cast", ["d"], ["y"], to=F, name="back")],
                                        [vi("x", F, [2])], [vi("y", F, [2])]),
         ((TARGETS, "TensorRT will attempt to cast DOUBLE down to FLOAT"),)),
    Case("int64-io", lambda: unary("Shape", out_dtype=I64),
         ((("8.6",), "the tensor is imported as INT32"),), "y"),
    Case("int64-clamped", lambda: model([helper.make_node("Add", ["x", "big"], ["y"], name="n")],
                                        [vi("x", I32, [1])], [vi("y", I32, [1])],
                                        [const("big", [2 ** 40], np.int64)]),
         ((("8.6",), "One or more weights outside the range of INT32 was clamped"),), "big"),
    Case("uint8-intermediate", uint8_identity,
         ((("8.6",), 'Assertion failed: legalUINT8 && "TensorRT does not support UINT8 types for intermediate '
                     'tensors!"'),
          (("10",), "Assertion failed: legalUINT8: TensorRT does not support UINT8 types for intermediate tensors!"),
          (("11",), "For UINT8 quantization, the kIMPORT_UINT8_QUANTIZATION flag must be set."))),
    Case("uint8-input-consumer", lambda: model([helper.make_node("Shape", ["frame"], ["y"], name="n")],
                                               [vi("frame", U8, [1, 2, 2, 3])], [vi("y", I64, [4])]),
         ((TARGETS, "UINT8 network input 'frame' feeds Shape: TensorRT allows a UINT8 input only into a cast"),)),
    Case("uint8-input-consumer", lambda: model(
        [helper.make_node("Slice", ["frame", "s", "e"], ["y"], name="n")],
        [vi("frame", U8, [4])], [vi("y", U8, [2])], [const("s", [0], np.int64), const("e", [2], np.int64)]),
         ((("8.6",), "Found invalid input type of UINT8"), (("10", "11"), "Found unsupported input type of UINT8"))),
    Case("uint8-initializer", lambda: model([helper.make_node("Cast", ["c"], ["y"], to=F, name="n")], [],
                                            [vi("y", F, [2])], [const("c", [1, 2], np.uint8)]),
         ((TARGETS, "UINT8 data c is being converted to INT32."),), "c"),
    Case("cast-uint8-type", lambda: model([helper.make_node("ArgMax", ["x"], ["i"], axis=1, keepdims=0, name="am"),
                                           helper.make_node("Cast", ["i"], ["labels"], to=U8, name="n")],
                                          [vi("x", F, [1, 3, 2, 2])], [vi("labels", U8, [1, 2, 2])]),
         ((TARGETS, "kUINT8 conversions are only supported for {kFLOAT, kHALF}"),)),
    Case("op-input-dtype", lambda: unary("Sigmoid", dtype=I32),
         ((("8.6",), "Sigmoid does not take INT32 inputs in TensorRT 8.6 (supported: FP32, FP16, INT8)"),
          (("10",), "(supported: FP32, FP16, BF16)"), (("11",), "(supported: FP32, FP16, BF16)"))),
    Case("op-input-dtype", lambda: unary("ArgMax", dtype=B, out_dtype=I64, axis=1),  # BOOL placement
         tuple(((t,), "ArgMax does not take BOOL inputs in TensorRT %s" % t) for t in TARGETS)),
    Case("shape-start-end", lambda: model([helper.make_node("Shape", ["x"], ["y"], start=2, name="n")],
                                          [vi("x", F, [1, 3, 4, 4])], [vi("y", I64, [2])]),
         ((("8.6",), "ignores start=2/end=None and returns the whole shape"),)),
    Case("resize-mode", lambda: resize(mode="bicubic"),
         ((TARGETS, "Invalid Resize mode"),)),
    Case("resize-coordinate-mode", lambda: resize(mode="linear", coordinate_transformation_mode="tf_crop_and_resize"),
         ((TARGETS, "TensorRT only supports half_pixel, pytorch_half_pixel, tf_half_pixel_for_nn, asymmetric "
                    "and align_corners transformation modes!"),)),
    Case("resize-tf-nearest-mode", lambda: resize(coordinate_transformation_mode="tf_half_pixel_for_nn",
                                                  nearest_mode="floor"),
         ((TARGETS, "only support round_prefer_floor nearest mode in tf_half_pixel_for_nn!"),)),
    Case("resize-antialias", lambda: resize(opset=18, mode="linear", antialias=1),
         ((("8.6",), "no parser error: antialias is ignored"),
          (("10", "11"), "Antialiasing is not supported currently."))),
    Case("resize-aspect-ratio", lambda: resize(opset=18, keep_aspect_ratio_policy="not_larger"),
         ((("8.6",), "keep_aspect_ratio_policy is ignored"),
          (("10", "11"), "Only `stretch` is supported currently as `keep_aspect_ratio_policy`."))),
    Case("resize-axes", lambda: resize(opset=18, scales=[2.0, 2.0], mode="linear", axes=[3, 3]),
         ((("8.6",), "the 8.x importer ignores axes"), (("10", "11"), "The input axes must have unique elements."))),
    Case("resize-axes", lambda: model(
        [helper.make_node("Resize", ["x", "", "s"], ["y"], mode="linear", axes=[2, 3], name="n")],
        [vi("x", F, [1, 3, 4, 4]), vi("s", F, [2])], [vi("y", F, None)], opset=18),
         ((("8.6",), "the 8.x importer ignores axes"),
          (("10", "11"), "`axes` attribute is supported with `scales` tensor only when it's trivial"))),
    Case("resize-scales-dims", lambda: resize(scales=[2.0, 1.0, 2.0, 2.0], mode="linear"),
         ((TARGETS, "only supports linear resizing on the outermost 3 dimensions."),)),
    Case("argmax-select-last-index", lambda: unary("ArgMax", out_dtype=I64, opset=11, axis=1, select_last_index=1),
         ((TARGETS, "Per-opset 12 ONNX does not support the select_last_index attribute."),)),
    Case("slice-axes-constant", lambda: model([helper.make_node("Slice", ["x", "s", "e", "axes"], ["y"], name="n")],
                                              [vi("x", F, [4, 4]), vi("axes", I64, [1])], [vi("y", F, None)],
                                              [const("s", [0], np.int64), const("e", [2], np.int64)]),
         ((("8.6",), "This version of TensorRT does not support dynamic axes."),)),  # tensor axes from 10.3
    Case("axes-input-constant", lambda: model([helper.make_node("Squeeze", ["x", "axes"], ["y"], name="n")],
                                              [vi("x", F, [1, 4]), vi("axes", I64, [1])], [vi("y", F, None)]),
         ((("8.6", "10"), "Squeeze axes input must be an initializer!"),)),
    Case("axes-input-constant", lambda: model([helper.make_node("ReduceMax", ["x", "axes"], ["y"], name="n")],
                                              [vi("x", F, [1, 4]), vi("axes", I64, [1])], [vi("y", F, None)],
                                              opset=18),
         ((TARGETS, "Axis input must be an initializer!"),)),
    Case("pooling-attributes", lambda: model(
        [helper.make_node("MaxPool", ["x"], ["y", "idx"], kernel_shape=[2, 2], name="n")],
        [vi("x", F, [1, 3, 4, 4])], [vi("y", F, None), vi("idx", I64, None)]),
         ((("8.6", "10"), "TensorRT does not support the indices output in MaxPool!"),
          (("11",), "This version of TensorRT doesn't support mode than 1 outputs for MaxPool nodes!"))),
    Case("pooling-attributes", lambda: unary("MaxPool", kernel_shape=[2, 2], dilations=[2, 2]),
         ((TARGETS, "This version of TensorRT does not support dilations other than 1."),)),
    Case("qdq-zero-point", lambda: qdq_weights("Conv", 0, zp=3),
         ((TARGETS, "TensorRT only supports symmetric quantization. The zero point for the "
                    "QuantizeLinear/DequantizeLinear operator must be all zeros."),), "q_x"),
    Case("qdq-uint8", lambda: qdq_weights("Conv", 0, zp_dtype=np.uint8),
         ((("8.6",), "Found invalid input type of UINT8"),
          (("10", "11"), "TensorRT doesn't support QuantizeLinear/DequantizeLinear with UINT8 zero_point.")), "q_x"),
    Case("qdq-scale-positive", lambda: qdq_weights("Conv", 0, scale=0.0),
         ((TARGETS, "Scale coefficients must all be positive"),), "q_x"),
    Case("qdq-constant-params", lambda: qdq_param_input("s"),
         ((("8.6", "10"), "The subgraph which terminates with the scale tensor must be a build-time constant"),)),
    Case("qdq-constant-params", lambda: qdq_param_input("z"),
         ((TARGETS, "The subgraph which terminates with the zero point tensor must be a build-time constant"),)),
    Case("qdq-scale-fp32", lambda: model(
        [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], name="n"),
         helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"], name="dq")],
        [vi("x", F16, [1, 3])], [vi("y", F16, None)], [const("s", 0.1, np.float16), const("z", 0, np.int8)]),
         ((("8.6",), "the 8.x importer reads the FLOAT16 scale as float32"),)),
    Case("qdq-per-tensor-activation", lambda: model(
        [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], axis=1, name="n"),
         helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"], axis=1, name="dq")],
        [vi("x", F, [1, 3, 2, 2])], [vi("y", F, None)],
        [const("s", [0.1, 0.2, 0.3], np.float32), const("z", [0, 0, 0], np.int8)]),
         ((TARGETS, "Activations-quantization does not support per-axis quantization"),)),
    Case("qdq-conv-weight-axis", lambda: qdq_weights("Conv", 1),
         ((TARGETS, "per-channel Conv weight scales on axis 1"),), "dq_w"),
    Case("qdq-deconv-weight-axis", lambda: qdq_weights("ConvTranspose", 1),
         ((("8.6",), "TensorRT 8.x deconvolution kernels take them on axis 0"),), "dq_w"),
    Case("qdq-deconv-weight-axis", lambda: qdq_weights("ConvTranspose", 0),
         ((("10", "11"), "TensorRT 10+ deconvolution kernels take them on axis 1"),), "dq_w"),
]


def test_the_module_examples_hold():
    import doctest

    import build_engine.trt_check as module

    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 10 and result.failed == 0


def test_every_rule_has_a_negative_case():
    assert {c.rule for c in NEGATIVE} == set(RULES)


@pytest.mark.parametrize("case", NEGATIVE, ids=lambda c: c.rule)
def test_rule_catches_its_violation(case):
    report = check_model(case.build())
    mine = [v for v in report.violations if v.rule == case.rule]
    assert not report.ok
    for targets, fragment in case.expected:
        hits = [v for v in mine if v.targets == targets and fragment in v.message]
        assert hits, "no %s violation for %s containing %r in %s" % (case.rule, targets, fragment, mine)
        assert hits[0].node == case.node
        assert hits[0].source and hits[0].fix
    # no other major is blamed for this rule
    blamed = {t for v in mine for t in v.targets}
    assert blamed == {t for targets, _ in case.expected for t in targets}


@pytest.mark.parametrize("case", NEGATIVE, ids=lambda c: c.rule)
def test_rule_respects_the_requested_targets(case):
    blamed = {t for targets, _ in case.expected for t in targets}
    spared = [t for t in TARGETS if t not in blamed]
    if spared:
        assert not [v for v in check_model(case.build(), spared).violations if v.rule == case.rule]
    only = sorted(blamed)[0]
    got = [v for v in check_model(case.build(), only).violations if v.rule == case.rule]
    assert got and all(v.targets == (only,) for v in got)


def test_every_rule_cites_a_source_per_major():
    for rule in RULES.values():
        assert rule.targets and set(rule.targets) <= set(TARGETS)
        assert rule.summary
        for fragment in ("onnx/onnx-tensorrt@", "include/", "NVIDIA/TensorRT"):
            if fragment in rule.source:
                break
        else:
            pytest.fail("rule %s has no primary source: %r" % (rule.id, rule.source))


def test_rules_page_lists_every_rule_with_its_majors():
    page = (Path(__file__).resolve().parents[2] / "docs" / "TENSORRT_RULES.md").read_text()
    rows = {line.split("|")[1].strip().strip("`"): line.split("|")[2].strip()
            for line in page.splitlines() if line.startswith("| `")}
    assert {rid: ", ".join(rule.targets) for rid, rule in RULES.items()} == rows


# --- compliant graphs ---------------------------------------------------------------------------
def test_compliant_pipeline_passes_every_major():
    report = check_model(compliant_pipeline())
    assert report.ok, report.format()
    assert report.targets == TARGETS
    assert report.summary() == "compatible with the TensorRT 8.6, 10, 11 ONNX parsers"


@pytest.mark.parametrize("axis,ok_for", [(0, ("8.6",)), (1, ("10", "11"))])
def test_int8_deconv_axis_passes_where_it_is_right(axis, ok_for):
    report = check_model(qdq_weights("ConvTranspose", axis), ok_for)
    assert report.ok, report.format()


def test_conv_weights_on_axis_0_and_symmetric_int8_pass():
    assert check_model(qdq_weights("Conv", 0)).ok


def test_silent_violations_are_marked_as_such():
    report = check_model(model([helper.make_node("Shape", ["x"], ["y"], start=2, name="n")],
                               [vi("x", F, [1, 3, 4, 4])], [vi("y", I64, [2])]), "8.6")
    shape = [v for v in report.violations if v.rule == "shape-start-end"][0]
    assert shape.parser_error is False and "silent:" in report.format()
    uint8 = [v for v in check_model(uint8_identity()).violations if v.rule == "uint8-intermediate"][0]
    assert uint8.parser_error is True and uint8.code == "UNSUPPORTED_NODE" and uint8.node_index == 0


def test_shape_without_attributes_or_with_full_range_passes_on_8x():
    full = model([helper.make_node("Shape", ["x"], ["y"], start=0, end=4, name="n")],
                 [vi("x", F, [1, 3, 4, 4])], [vi("y", I32, [4])])
    assert not [v for v in check_model(full, "8.6").violations if v.rule == "shape-start-end"]


def test_int64_slice_ends_beyond_int32_are_fine_on_8x():
    m = model([helper.make_node("Slice", ["x", "s", "e"], ["y"], name="n")], [vi("x", F, [4])], [vi("y", F, None)],
              [const("s", [1], np.int64), const("e", [2 ** 62], np.int64)])
    assert check_model(m).ok


def test_uint8_constant_node_output_is_legal_only_from_11():
    m = model([helper.make_node("Constant", [], ["c"], value=const("v", [1, 2], np.uint8), name="n"),
               helper.make_node("Cast", ["c"], ["y"], to=F, name="cast")], [], [vi("y", F, [2])])
    inter = [v for v in check_model(m).violations if v.rule == "uint8-intermediate"]
    assert [v.targets for v in inter] == [("8.6",), ("10",)]


# --- report, targets, ensure_compatible -----------------------------------------------------------
def test_report_format_and_for_target():
    report = check_model(uint8_identity())  # uint8-intermediate
    text = report.format()
    assert "[1] uint8-intermediate  node n (Cast)  TensorRT 8.6\n" in text
    assert "fix:" in text and "source: onnx/onnx-tensorrt@6ba67d3 ModelImporter.cpp:241-253" in text
    assert text.splitlines()[-1] == report.summary() == "3 violations (TensorRT 8.6: 1, TensorRT 10: 1, TensorRT 11: 1)"
    assert [v.rule for v in report.for_target("10.3.0")] == ["uint8-intermediate"]
    assert isinstance(report, CompatReport) and isinstance(report.violations[0], Violation)


@pytest.mark.parametrize("text,expected", [
    ("8.6,10,11", ("8.6", "10", "11")), ("10", ("10",)), ("8.5", ("8.6",)), ("11, 8.6.1", ("8.6", "11")),
    ("10.16.1.11", ("10",)), ("10,10.3", ("10",)),
])
def test_parse_targets(text, expected):
    assert parse_targets(text) == expected


@pytest.mark.parametrize("text", ["", "9", "8.4", "12", "ten", "10,,11", "7.1"])
def test_parse_targets_rejects_with_a_hint(text):
    with pytest.raises(ConfigError) as info:
        parse_targets(text)
    assert "expected comma-separated TensorRT majors out of 8.6, 10, 11" in str(info.value)


def test_target_for_version_of_every_supported_release():
    assert [target_for_version(v) for v in ("8.5.3", "8.6.1", "10.3.0", "10.16.1.11", "11.4.0.106")] == [
        "8.6", "8.6", "10", "10", "11"]
    with pytest.raises(ConfigError):
        target_for_version("9.3.0")


def test_ensure_compatible_raises_a_typed_error_with_expected_found_hint():
    with pytest.raises(TensorRTCompatibilityError) as info:
        ensure_compatible(uint8_identity(), "8.6", what="export")
    msg = str(info.value)
    assert isinstance(info.value, ModelFormatError)
    assert msg.startswith("export: expected a graph that the TensorRT 8.6 ONNX parser accepts, found 1 violation: "
                          "uint8-intermediate at n (Cast)")
    assert "Hint: run `python -m build_engine check MODEL.onnx --trt 8.6`" in msg
    assert ensure_compatible(compliant_pipeline()).ok


def test_ensure_compatible_override_warns_loudly_per_violation(caplog):
    with caplog.at_level(logging.WARNING, logger="build_engine.trt_check"):
        report = ensure_compatible(uint8_identity(), allow_incompatible=True, what="export")
    assert not report.ok
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == len(report.violations) == 3
    assert all(w.startswith("export is NOT compatible with TensorRT") for w in warnings)


def test_weights_are_not_needed_for_the_types(tmp_path):
    """Large initializers are typed without their data (a canonical FCN-8s carries 0.5 GB)."""
    w = const("w", np.zeros((8, 3, 32, 32)), np.float32)
    m = model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv"),
               helper.make_node("Cast", ["y"], ["labels"], to=U8, name="labels")],
              [vi("x", F, [1, 3, 32, 32])], [vi("labels", U8, None)], [w])
    report = check_model(m)
    assert report.ok, report.format()
    assert len(m.graph.initializer[0].raw_data) == 8 * 3 * 32 * 32 * 4  # the caller's model is untouched


def test_a_graph_onnx_cannot_type_is_still_checked_with_declared_types():
    m = model([helper.make_node("Add", ["frame", "y"], ["z"], name="n")],  # uint8 + float: inference fails
              [vi("frame", U8, [2]), vi("y", F, [2])], [vi("z", F, [2])])
    with pytest.raises(onnx.shape_inference.InferenceError):
        onnx.shape_inference.infer_shapes(m, strict_mode=True)
    report = check_model(m)
    assert [(v.rule, v.node) for v in report.violations] == [("uint8-input-consumer", "n")]


def test_check_model_reads_paths_and_rejects_non_models(tmp_path):
    path = tmp_path / "ok.onnx"
    path.write_bytes(compliant_pipeline().SerializeToString())
    assert check_model(path).ok and check_model(str(path), ["10"]).targets == ("10",)
    with pytest.raises(ModelNotFoundError):
        check_model(tmp_path / "missing.onnx")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a protobuf at all \xff\xfe")
    with pytest.raises(ModelFormatError):
        check_model(bad)


# --- the fake OnnxParser fails where TensorRT fails ------------------------------------------------
def _pipeline_file(m: onnx.ModelProto, path: Path) -> Path:
    if not any(p.key == METADATA_KEY for p in m.metadata_props):
        meta = PipelineMetadata(class_names=("a", "b", "c"), palette=((0, 0, 0), (255, 0, 0), (0, 255, 0)))
        helper.set_model_props(m, {METADATA_KEY: meta.to_json()})
    return _save(m, path)


def _uint8_identity_pipeline() -> onnx.ModelProto:
    """The compliant pipeline with today's bug: Cast(uint8) -> Identity("labels")."""
    m = compliant_pipeline()
    last = m.graph.node[-1]
    last.output[0] = "labels_u8"
    last.name = "post/cast_u8"
    m.graph.node.append(helper.make_node("Identity", ["labels_u8"], ["labels"], name="labels"))
    return m


CONFIG = BuildConfig(min_shape=(1, 8, 8), opt_shape=(1, 8, 8), max_shape=(1, 16, 16), progress=False)
# build_engine checks the rules itself before parsing; overridden, the graph reaches the fake parser.
TO_PARSER = dataclasses.replace(CONFIG, allow_trt_incompatible=True)


def test_fake_parser_rejects_with_the_real_parser_text(fake_trt, fake_cuda, tmp_path):
    from build_engine.trt_check import target_for_version

    path = _pipeline_file(_uint8_identity_pipeline(), tmp_path / "bad.onnx")
    with pytest.raises(TensorRTCompatibilityError, match="uint8-intermediate"):
        build_engine(path, tmp_path / "bad.engine", CONFIG, trt_module=fake_trt)
    with pytest.raises(BuildError) as info:
        build_engine(path, tmp_path / "bad.engine", TO_PARSER, trt_module=fake_trt)
    expected = check_model(path, target_for_version(fake_trt.__version__)).violations
    assert [v.rule for v in expected] == ["uint8-intermediate"]
    msg = str(info.value)
    assert "1 parser error" in msg and expected[0].message in msg
    assert "python -m build_engine check bad.onnx --trt %s" % fake_trt.__version__ in msg
    assert not (tmp_path / "bad.engine").exists()

    parser = fake_trt._fake.last("OnnxParser")
    assert parser.num_errors == 1
    error = parser.get_error(0)
    assert error.desc() == expected[0].message
    assert error.code() == fake_trt.ErrorCode.UNSUPPORTED_NODE
    assert error.node() == len(_uint8_identity_pipeline().graph.node) - 2  # the Cast, not the Identity
    if int(fake_trt.__version__.split(".")[0]) >= 10:
        assert (error.node_name(), error.node_operator()) == ("post/cast_u8", "Cast")


def test_fake_parser_version_decides_what_fails(fake_trt, fake_cuda, tmp_path):
    """Shape(start, end) is silent on 10/11 but wrong on 8.x: only the 8.6 fake refuses it."""
    m = compliant_pipeline()
    shape = m.graph.node[1]
    shape.attribute.extend([helper.make_attribute("start", 1), helper.make_attribute("end", 3)])
    m.graph.node[2].input[0:] = ["fshape", "s0", "s2", "ax0"]  # slice of the already sliced shape
    path = _pipeline_file(m, tmp_path / "shape.onnx")
    if fake_trt.__version__.startswith("8."):
        with pytest.raises(TensorRTCompatibilityError, match="shape-start-end"):
            build_engine(path, tmp_path / "shape.engine", CONFIG, trt_module=fake_trt)
        with pytest.raises(BuildError, match="Shape importer ignores start=1/end=3"):
            build_engine(path, tmp_path / "shape.engine", TO_PARSER, trt_module=fake_trt)
    else:
        assert build_engine(path, tmp_path / "shape.engine", CONFIG, trt_module=fake_trt).exists()


def test_fake_parser_imports_model_local_functions_from_10_on(fake_trt, fake_cuda, tmp_path):
    """A node calling a function defined in the model: 10.0+ import it (LocalFunctionImporter), 8.6 does not."""
    m = compliant_pipeline()
    conv = next(n for n in m.graph.node if n.name == "net/conv")
    conv.output[0] = "conv_out"
    m.graph.node.insert(list(m.graph.node).index(conv) + 1,
                        helper.make_node("MyRelu", ["conv_out"], ["scores"], domain="local.fn", name="net/fn"))
    m.functions.append(helper.make_function("local.fn", "MyRelu", ["x"], ["y"], [helper.make_node("Relu", ["x"], ["y"])],
                                            [helper.make_opsetid("", 17)]))
    m.opset_import.append(helper.make_opsetid("local.fn", 1))
    path = _pipeline_file(m, tmp_path / "fn.onnx")
    if fake_trt.__version__.startswith("8."):
        with pytest.raises(BuildError, match="No importer registered for op: MyRelu. Attempting to import as plugin"):
            build_engine(path, tmp_path / "fn.engine", TO_PARSER, trt_module=fake_trt)
    else:
        assert build_engine(path, tmp_path / "fn.engine", CONFIG, trt_module=fake_trt).exists()


def test_fake_build_of_a_compliant_pipeline_succeeds(fake_trt, fake_cuda, tmp_path):
    path = _pipeline_file(compliant_pipeline(), tmp_path / "ok.onnx")
    out = build_engine(path, tmp_path / "ok.engine", CONFIG, trt_module=fake_trt)
    assert out.exists() and fake_trt._fake.last("OnnxParser").num_errors == 0
