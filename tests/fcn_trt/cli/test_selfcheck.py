"""`fcn-trt selfcheck` (fcn_trt/cli/selfcheck.py) on the strict TensorRT and CUDA fakes: PASS, FAIL below
the agreement budget, and no GPU in one line."""

from __future__ import annotations

import pytest

from fcn_trt.cli import main
from fcn_trt.errors import NoCudaDeviceError
from fcn_trt.tools.check import selfcheck
from tests._helpers import with_argmin_labels
from tests.fcn_trt.backends.test_tensorrt_backend import make_engine, tiny_pipeline


def _argmin_pipeline(path):
    """Same IO as the tiny pipeline, different labels (ArgMin): a reference that disagrees."""
    return with_argmin_labels(tiny_pipeline(path), path)


def test_selfcheck_cli_fails_below_budget(tmp_path, fake_trt, fake_cuda, capsys):
    engine = make_engine(tmp_path, fake_trt)
    other = _argmin_pipeline(tmp_path / "argmin.onnx")
    code = main(["selfcheck", str(engine), "--onnx", str(other), "--frames", "3", "--size", "16x16", "--warmup", "0"])
    out = capsys.readouterr().out
    assert code == 1
    assert out.strip().splitlines()[-1].startswith("FAIL")
    report = selfcheck(engine, onnx=other, frames=3, size=(16, 16))
    assert report.agreement < 0.5 and not report.passed


def test_selfcheck_cli_passes(tmp_path, fake_trt, fake_cuda, capsys):
    engine = make_engine(tmp_path, fake_trt)
    code = main(["selfcheck", str(engine), "--frames", "2", "--size", "16x24", "--no-cuda-graph"])
    out = capsys.readouterr().out
    assert code == 0 and "PASS" in out and "CUDA graph off" in out


def test_selfcheck_without_gpu_is_one_line(tmp_path, fake_trt, fake_cuda, capsys):
    engine = make_engine(tmp_path, fake_trt)
    fake_cuda.STATE.driver_error = fake_cuda.cudaError_t.cudaErrorInsufficientDriver
    with pytest.raises(NoCudaDeviceError):
        selfcheck(engine, frames=1)
    code = main(["selfcheck", str(engine)])
    err = capsys.readouterr().err.strip()
    assert code == NoCudaDeviceError.exit_code != 0
    assert len(err.splitlines()) == 1 and "no usable CUDA device" in err and "cudaErrorInsufficientDriver" in err
    assert "Runtime" not in fake_trt._fake.created
