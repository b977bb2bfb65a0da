"""build_engine.trt_builder.build_pipeline_engine: the one-step fp32 -> fp16 -> engine flow as a library call (strict fakes)."""

from __future__ import annotations

import dataclasses

import pytest

from build_engine.trt_builder import BuildConfig, build_pipeline_engine, prepare_graph
from fcn_trt.errors import ConfigError
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
