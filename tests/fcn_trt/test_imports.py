"""fcn_trt._imports: one lazy import helper per optional package, one clear error when it is missing."""

from __future__ import annotations

import sys
import types

import pytest

from fcn_trt import _imports
from fcn_trt.errors import BackendUnavailableError


def test_present_packages_are_returned():
    import cv2
    import onnxruntime

    assert _imports.require_cv2("x") is cv2
    assert _imports.require_onnxruntime() is onnxruntime


@pytest.mark.parametrize("module,require,hint", [
    ("cv2", _imports.require_cv2, 'pip install "fcn-trt[cv]"'),
    ("onnxruntime", _imports.require_onnxruntime, 'pip install "fcn-trt[onnx]"'),
    ("tensorrt", _imports.require_tensorrt, 'pip install "fcn-trt[tensorrt]"'),
    ("matplotlib", _imports.require_pyplot, 'pip install "fcn-trt[plot]"'),
])
def test_missing_package_names_the_purpose_and_the_extra(monkeypatch, module, require, hint):
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(BackendUnavailableError) as exc:
        require("segmenting things")
    msg = str(exc.value)
    assert msg.startswith("segmenting things: expected the ") and "found it is not installed" in msg and hint in msg


def test_package_that_fails_to_import_reports_why(monkeypatch):
    class BrokenFinder:
        def find_spec(self, name, path=None, target=None):
            if name == "tensorrt":
                raise ImportError("libnvinfer.so.10: cannot open shared object file")
            return None

    monkeypatch.delitem(sys.modules, "tensorrt", raising=False)
    monkeypatch.setattr(sys, "meta_path", [BrokenFinder()] + sys.meta_path)
    with pytest.raises(BackendUnavailableError) as exc:
        _imports.require_tensorrt("TensorRT backend")
    assert "does not import (libnvinfer.so.10: cannot open shared object file)" in str(exc.value)


def test_call_sites_use_the_shared_helper(monkeypatch):
    from fcn_trt.backends.tensorrt import import_tensorrt
    from fcn_trt.streaming import drawing as render
    from fcn_trt.streaming import sources

    monkeypatch.setitem(sys.modules, "cv2", None)
    monkeypatch.setitem(sys.modules, "tensorrt", None)
    for call, what in ((render._cv2, "drawing text and writing video"), (sources._cv2, "video sources"),
                       (import_tensorrt, "TensorRT backend")):
        with pytest.raises(BackendUnavailableError, match="^" + what):
            call()
    fake = types.ModuleType("tensorrt")
    monkeypatch.setitem(sys.modules, "tensorrt", fake)
    assert import_tensorrt() is fake
