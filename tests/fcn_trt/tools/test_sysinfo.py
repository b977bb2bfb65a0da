"""fcn_trt.tools.sysinfo.gpu_info: the GPU facts a report carries (strict CUDA fake)."""

from __future__ import annotations

from fcn_trt.tools.sysinfo import gpu_info
from tests.fakes.fixtures_cuda import fake_cuda  # noqa: F401  (fixture)


def test_gpu_info_reports_driver_and_runtime_versions(fake_cuda):  # noqa: F811
    fake_cuda.STATE.driver_version = 12060
    info = gpu_info(0)
    assert info is not None and info["driver_version"] == "12.6" and info["cuda_runtime_version"] == "13.0"
    assert info["gpu_name"] and info["compute_capability"]


def test_a_failing_version_probe_leaves_that_field_empty(fake_cuda, monkeypatch):  # noqa: F811
    monkeypatch.setattr(fake_cuda, "cudaDriverGetVersion",
                        lambda: (fake_cuda.cudaError_t.cudaErrorInsufficientDriver, 0))
    info = gpu_info(0)
    assert info is not None and info["driver_version"] is None and info["cuda_runtime_version"] == "13.0"
