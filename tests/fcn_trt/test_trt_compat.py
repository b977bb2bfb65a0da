"""fcn_trt._trt_compat: version-dependent TensorRT behaviour, on the strict fakes of every release."""

from __future__ import annotations

import pytest

from fcn_trt import _trt_compat as compat
from fcn_trt.errors import TensorRTError
from tests.fakes.fake_tensorrt import make_fake_tensorrt


def test_engine_host_code_is_allowed_on_every_supported_release(fake_trt):
    runtime = fake_trt.Runtime(fake_trt.Logger())
    assert runtime.engine_host_code_allowed is False  # TensorRT's default
    compat.allow_engine_host_code(fake_trt, runtime)
    assert runtime.engine_host_code_allowed is True


def test_engine_host_code_needs_tensorrt_8_6(fake_trt, monkeypatch):
    monkeypatch.setattr(fake_trt, "__version__", "8.5.3")  # version-compatible engines arrived in 8.6
    runtime = fake_trt.Runtime(fake_trt.Logger())
    with pytest.raises(TensorRTError) as exc:
        compat.allow_engine_host_code(fake_trt, runtime)
    assert ">= 8.6" in str(exc.value) and "8.5.3" in str(exc.value)


@pytest.mark.parametrize("version, platform, available", [
    ("8.6.1", "linux", True), ("10.3.0", "linux", True), ("10.16.1.11", "linux", True),
    ("11.0.0", "linux", False), ("11.3.0", "linux", False), ("11.4.0.106", "linux", False),
    ("11.4.0.106", "win32", True),  # 11.4.0: DLA only on Windows on ARM
    ("11.4.1", "linux", True),  # restored on Jetson AGX Orin with JetPack >= 7.2.2
])
def test_dla_availability_per_release(version, platform, available):
    trt = make_fake_tensorrt("10.3.0")
    trt.__version__ = version  # only the release number is judged
    reason = compat.dla_unavailable_reason(trt, platform=platform)
    assert (reason == "") is available
    if not available:
        assert "11.4.1" in reason and "JetPack 6" in reason
