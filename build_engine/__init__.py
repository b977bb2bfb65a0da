"""Offline tools: FCN graph construction, weight import, pipeline wrapping, fp16/int8 graphs and
TensorRT engine building. The runtime package :mod:`fcn_trt` never imports this package (only its
command line does, to build an engine for ``fcn-trt selfcheck MODEL.onnx``).

The core (this package's top-level modules) needs onnx, never torch or TensorFlow; those live in
:mod:`build_engine.training` (torch) and :mod:`build_engine.recipes` (TensorFlow). The names
below are imported on first use, so ``import build_engine`` is cheap.

Example:
    >>> import build_engine
    >>> build_engine.export_fcn_pipeline("fcn8s.onnx", "fcn8s", num_classes=21)       # doctest: +SKIP
    >>> build_engine.build_pipeline_engine("fcn8s.onnx", "fcn8s.engine",              # doctest: +SKIP
    ...                                    build_engine.BuildConfig(precision="fp16"))
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "export_fcn_pipeline", "wrap_network", "NetworkSpec", "save_model",
    "to_fp16_pipeline",
    "quantize_pipeline", "QuantizeConfig",
    "compare_models", "ComparisonReport", "AccuracyBudget",
    "BuildConfig", "build_engine", "build_pipeline_engine", "EngineBuildReport",
]

_WHERE = {
    "export_fcn_pipeline": "pipeline", "wrap_network": "pipeline", "NetworkSpec": "pipeline", "save_model": "pipeline",
    "to_fp16_pipeline": "precision",
    "quantize_pipeline": "quantize", "QuantizeConfig": "quantize",
    "compare_models": "compare", "ComparisonReport": "compare", "AccuracyBudget": "compare",
    "BuildConfig": "trt_builder", "build_engine": "trt_builder", "build_pipeline_engine": "trt_builder",
    "EngineBuildReport": "trt_builder",
}


def __getattr__(name: str) -> Any:  # PEP 562: heavy modules (onnx, onnxruntime) load on first use
    if name in _WHERE:
        return getattr(importlib.import_module("build_engine." + _WHERE[name]), name)
    raise AttributeError(f"module 'build_engine' has no attribute {name!r}")


def __dir__() -> list:
    return sorted(list(globals()) + __all__)
