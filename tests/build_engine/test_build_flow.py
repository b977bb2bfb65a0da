"""build_engine.trt_builder.build_pipeline_engine: the one-step fp32 -> fp16 -> engine flow as a library call (strict fakes)."""

from __future__ import annotations

import dataclasses

import pytest

from build_engine.trt_builder import BuildConfig, build_pipeline_engine, prepare_graph
from fcn_trt.errors import BuildError, ConfigError, TensorRTCompatibilityError
from fcn_trt.sidecar import read_sidecar
from tests.build_engine._helpers import tiny_pipeline
from tests.fakes.fixtures_cuda import fake_cuda  # noqa: F401  (fixture)

SHAPES = dict(min_shape=(1, 64, 64), opt_shape=(1, 128, 128), max_shape=(1, 256, 256), progress=False)


def test_one_call_converts_to_fp16_and_builds(fake_trt, fake_cuda, tmp_path, capsys):
    model = tiny_pipeline(tmp_path / "tiny.onnx")
    report = build_pipeline_engine(model, tmp_path / "m.engine", BuildConfig(precision="fp16", **SHAPES))
    assert report.conversion == "fp16" and report.graph == tmp_path / "m.fp16.onnx" and report.graph.is_file()
    assert report.engine.is_file() and report.sidecar.is_file() and report.calibration is None
    assert read_sidecar(report.engine).engine.precision == "fp16"
    assert report.lines()[-1] == "wrote %s and m.engine.json" % report.engine
    assert capsys.readouterr().out == ""  # a library call prints nothing
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.engine = None


def test_no_conversion_when_the_graph_already_has_the_precision(tmp_path):
    model = tiny_pipeline(tmp_path / "tiny.onnx")
    assert prepare_graph(model, tmp_path / "m.engine", None) == (model, "")
    assert prepare_graph(model, tmp_path / "m.engine", "fp32") == (model, "")
    with pytest.raises(ConfigError, match="--calib"):
        prepare_graph(model, tmp_path / "m.engine", "int8")


def test_allow_trt_incompatible_reaches_the_fp16_conversion(fake_trt, fake_cuda, tmp_path, caplog):
    """--allow-trt-incompatible covers the whole one-step flow, not only the final engine build."""
    import onnx

    from build_engine.pipeline import save_model

    model = onnx.load(str(tiny_pipeline(tmp_path / "tiny.onnx")))
    next(o for o in model.opset_import if o.domain in ("", "ai.onnx")).version = 25  # past every parser's range
    src = save_model(model, tmp_path / "opset25.onnx", allow_incompatible=True)
    strict = BuildConfig(precision="fp16", **SHAPES)
    with pytest.raises(TensorRTCompatibilityError, match="opset"):
        build_pipeline_engine(src, tmp_path / "strict.engine", strict)
    assert not (tmp_path / "strict.fp16.onnx").exists()
    # with the override the fp16 graph is written (each violation a warning) and goes on to the parser,
    # which refuses it (the fake refuses every rule violation, the silent ones included)
    with pytest.raises(BuildError, match="could not parse m.fp16.onnx"):
        build_pipeline_engine(src, tmp_path / "m.engine", dataclasses.replace(strict, allow_trt_incompatible=True))
    assert (tmp_path / "m.fp16.onnx").is_file() and "m.fp16.onnx is NOT compatible" in caplog.text
