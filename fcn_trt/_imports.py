"""Optional third-party packages, imported lazily: one place says how to install each.

``fcn_trt`` imports with neither OpenCV, ONNX Runtime, TensorRT nor matplotlib installed; the code
that needs one calls ``require_<name>(purpose)`` at the point of use. A missing package raises
:class:`~fcn_trt.errors.BackendUnavailableError` naming what needed it and the ``pip install``
that fixes it (the ``fcn-trt`` extra that carries the package).

Example:
    >>> from fcn_trt._imports import require_cv2
    >>> cv2 = require_cv2("writing video")          # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import BackendUnavailableError

__all__ = ["require", "require_cv2", "require_onnxruntime", "require_tensorrt", "require_pyplot",
           "CV_HINT", "ONNXRUNTIME_HINT", "TENSORRT_HINT", "PLOT_HINT"]

CV_HINT = 'pip install "fcn-trt[cv]"'
ONNXRUNTIME_HINT = 'pip install "fcn-trt[onnx]" (or onnxruntime-gpu for the CUDA execution provider)'
TENSORRT_HINT = ('pip install "fcn-trt[tensorrt]" (installs TensorRT and cuda-python for CUDA 12; '
                 '"fcn-trt[tensorrt-cu13]" on a driver >= 580); on Jetson TensorRT comes with JetPack '
                 '(python3-libnvinfer): pip install "fcn-trt[cuda12]"')
PLOT_HINT = 'pip install "fcn-trt[plot]"'


def require(module: str, purpose: str, package: str, hint: str) -> Any:
    """Import ``module`` or raise :class:`BackendUnavailableError` (``purpose`` needs ``package``).

    A package that is present but fails to import (a missing native library, say) is reported
    with the import error's own text.
    """
    try:
        return importlib.import_module(module)
    except ImportError as e:
        missing = isinstance(e, ModuleNotFoundError) and (e.name or "").split(".")[0] == module.split(".")[0]
        raise BackendUnavailableError(
            purpose, expected="the %s package" % package,
            found="it is not installed" if missing else "it does not import (%s)" % e, hint=hint,
        ) from None


def require_cv2(purpose: str = "OpenCV") -> Any:
    """The ``cv2`` module (OpenCV)."""
    return require("cv2", purpose, "opencv-python", CV_HINT)


def require_onnxruntime(purpose: str = "ONNX Runtime backend") -> Any:
    """The ``onnxruntime`` module."""
    return require("onnxruntime", purpose, "onnxruntime", ONNXRUNTIME_HINT)


def require_tensorrt(purpose: str = "TensorRT backend") -> Any:
    """The ``tensorrt`` module (TensorRT's Python bindings)."""
    return require("tensorrt", purpose, "tensorrt Python", TENSORRT_HINT)


def require_pyplot(purpose: str = "plots") -> Any:
    """``matplotlib.pyplot`` on the non-interactive Agg backend."""
    matplotlib = require("matplotlib", purpose, "matplotlib", PLOT_HINT)
    matplotlib.use("Agg")
    return require("matplotlib.pyplot", purpose, "matplotlib", PLOT_HINT)
