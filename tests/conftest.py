"""Shared test fixtures.

* ``fake_trt``: a strict fake ``tensorrt`` module (tests/fakes/fake_tensorrt.py) for each supported
  TensorRT release, installed as ``sys.modules["tensorrt"]`` for the duration of one test.
* ``fake_cuda``: the strict cuda-python fake (tests/fakes/fixtures_cuda.py), one fake device.
* Tests marked ``gpu`` are skipped unless a CUDA device AND the real ``tensorrt`` package are present.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import sys

import pytest

pytest.register_assert_rewrite("tests._helpers")  # its asserts report values like a test's

from tests.fakes.trt_api import SUPPORTED_VERSIONS, dump_dir  # noqa: E402

from tests.fakes.fixtures_cuda import fake_cuda  # noqa: E402,F401  (the strict cuda-python fake, for every test)


@pytest.fixture(params=SUPPORTED_VERSIONS, ids=lambda v: "trt" + v)
def fake_trt(request, monkeypatch):
    """A strict fake of TensorRT ``request.param`` installed as ``sys.modules["tensorrt"]``."""
    if dump_dir() is None:
        pytest.skip("TensorRT API dumps (trt_api_<version>.json) not found; set FCN_TRT_API_DUMPS")
    from tests.fakes.fake_tensorrt import make_fake_tensorrt

    module = make_fake_tensorrt(request.param)
    monkeypatch.setitem(sys.modules, "tensorrt", module)
    return module


@functools.lru_cache(maxsize=None)
def gpu_unavailable_reason() -> str | None:
    """None when a CUDA device and the real TensorRT bindings are usable, else why not."""
    if importlib.util.find_spec("tensorrt") is None:
        return "the tensorrt package is not installed"
    try:
        try:
            from cuda.bindings import runtime as cudart
        except ImportError:
            from cuda import cudart  # cuda-python 12.x
    except ImportError:
        return "cuda-python is not installed"
    try:
        err, count = cudart.cudaGetDeviceCount()
    except Exception as exc:  # noqa: BLE001 - a broken driver install raises anything
        return "cudaGetDeviceCount failed: %s" % exc
    if int(err) != 0:
        return "no CUDA driver/device (cudaGetDeviceCount returned error %d)" % int(err)
    if count < 1:
        return "no CUDA device"
    try:
        importlib.import_module("tensorrt")
    except Exception as exc:  # noqa: BLE001 - missing libnvinfer raises ImportError/OSError
        return "tensorrt does not import: %s" % exc
    return None


def pytest_collection_modifyitems(config, items):
    gpu_items = [item for item in items if item.get_closest_marker("gpu") is not None]
    if not gpu_items:
        return
    reason = gpu_unavailable_reason()
    if reason is None:
        return
    skip = pytest.mark.skip(reason="gpu test: " + reason)
    for item in gpu_items:
        item.add_marker(skip)

from tests._triton import triton_pipeline, triton_server  # noqa: E402,F401  (real Triton server fixtures)
