"""fcn_trt.tools.check.selfcheck on the strict TensorRT + CUDA fakes (and without cuda-python)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from fcn_trt.cli.selfcheck import build_with_build_engine
from fcn_trt.errors import BackendUnavailableError, ConfigError
from fcn_trt.tools import check
from fcn_trt.tools.check import LatencyStats, installed_builder, latency_stats, selfcheck
from tests.fakes.fixtures_cuda import fake_cuda  # noqa: F401  (fixture)
from tests.fcn_trt.backends.test_tensorrt_backend import make_engine, tiny_pipeline


def test_latency_stats():
    s = latency_stats([float(v) for v in range(1, 101)])
    assert s == LatencyStats(count=100, p50_ms=50.5, p99_ms=pytest.approx(99.01), mean_ms=50.5, min_ms=1.0, max_ms=100.0)


def test_selfcheck_engine_agrees_with_onnxruntime(tmp_path, fake_trt, fake_cuda):
    engine = make_engine(tmp_path, fake_trt)  # m.engine + m.engine.json next to m.onnx
    report = selfcheck(engine, frames=5, size=(24, 40), warmup=2)
    assert report.agreement == 1.0 and report.worst_frame_agreement == 1.0 and report.passed
    assert report.frames == 5 and report.frame_shape == (1, 24, 40, 3)
    assert report.tensorrt.count == 5 and report.onnxruntime.count == 5
    assert report.tensorrt.p99_ms >= report.tensorrt.p50_ms > 0
    assert report.backend["version"] == fake_trt.__version__
    assert report.onnx.endswith("m.onnx") and not report.built
    text = report.summary()
    assert text.splitlines()[-1] == "PASS" and "label agreement: 100.000%" in text
    # timed frames + warm-up ran through TensorRT
    assert len(fake_trt._fake.executions) == 7
    assert fake_cuda.DEVICE_MEMORY.live_allocations() == {}


def test_selfcheck_without_cuda_python(tmp_path, monkeypatch):
    onnx_path = tiny_pipeline(tmp_path / "m.onnx")
    for name in ("cuda", "cuda.bindings", "cuda.bindings.runtime", "cuda.cudart"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(BackendUnavailableError) as exc:
        selfcheck(onnx_path, frames=1)
    assert 'pip install "fcn-trt[tensorrt]"' in str(exc.value)


def test_selfcheck_engine_needs_a_reference(tmp_path, fake_trt, fake_cuda):
    engine = make_engine(tmp_path, fake_trt)
    (tmp_path / "m.onnx").unlink()
    with pytest.raises(ConfigError) as exc:
        selfcheck(engine, frames=1)
    assert "--onnx" in str(exc.value)


@pytest.mark.parametrize("bad", [{"frames": 0}, {"budget": 1.5}])
def test_selfcheck_bad_options(tmp_path, bad):
    with pytest.raises(ConfigError):
        selfcheck(tiny_pipeline(tmp_path / "m.onnx"), **bad)


@pytest.mark.parametrize("build", [None, build_with_build_engine], ids=["installed-builder", "explicit-builder"])
def test_selfcheck_builds_from_onnx(tmp_path, fake_trt, fake_cuda, build):
    onnx_path = tiny_pipeline(tmp_path / "m.onnx")
    out = tmp_path / "built.engine"
    report = selfcheck(onnx_path, frames=2, size=(100, 2000), engine_out=out, warmup=0, build=build)
    assert report.built and report.passed and out.is_file() and (tmp_path / "built.engine.json").is_file()


def test_the_installed_builder_is_build_engines_through_its_entry_point():
    from build_engine.trt_builder import build_for_selfcheck

    assert installed_builder() is build_for_selfcheck


def test_selfcheck_of_an_onnx_without_any_builder_is_a_config_error(tmp_path, fake_trt, fake_cuda, monkeypatch):
    monkeypatch.setattr(check, "installed_builder", lambda: None)  # fcn-trt installed without its build tools
    onnx_path = tiny_pipeline(tmp_path / "m.onnx")
    with pytest.raises(ConfigError, match="fcn_trt.engine_builders") as exc:
        selfcheck(onnx_path, frames=1)
    assert "python -m build_engine build m.onnx" in str(exc.value)
    assert "Runtime" not in fake_trt._fake.created  # nothing was built or deserialised


@pytest.mark.gpu
def test_selfcheck_real_gpu(tmp_path):
    report = selfcheck(tiny_pipeline(tmp_path / "m.onnx"), frames=8, size=(480, 640), build=build_with_build_engine)
    assert report.passed, report.summary()
    assert np.isfinite(report.tensorrt.p99_ms)
