"""Inference backends: the only code that touches ONNX Runtime, TensorRT or CUDA.

:func:`open_backend` picks a backend from the model file's suffix (or an explicit name) and imports
it lazily, so ``import fcn_trt`` needs numpy alone. A new backend is one row of :data:`BACKEND_SPECS`
plus a :class:`~fcn_trt.backends.base.Backend` subclass; callers discover what it can do through
the capability Protocols of :mod:`fcn_trt.backends.base`.

Example:
    >>> backend_for_path("fcn8s.engine"), backend_for_path("fcn8s.onnx")
    ('tensorrt', 'onnxruntime')
"""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path
from typing import Any, Tuple, Union

from .._frames import check_options
from ..errors import ConfigError
from .base import AsyncBackend, Backend, DeviceBacked, LayerProfiled, StageTimed

__all__ = [
    "Backend", "AsyncBackend", "StageTimed", "LayerProfiled", "DeviceBacked",
    "BackendSpec", "BACKEND_SPECS", "BACKENDS", "backend_for_path", "backend_spec", "open_backend",
]


@dataclasses.dataclass(frozen=True)
class BackendSpec:
    """How to find and open one backend.

    Attributes:
        name: what ``Segmenter(..., backend=name)`` takes.
        suffixes: model file suffixes that select it.
        module, cls: where the :class:`Backend` subclass lives (imported on first use).
        on_device: whether it runs on a CUDA device (so device memory can be measured before it opens).
    """

    name: str
    suffixes: Tuple[str, ...]
    module: str
    cls: str
    on_device: bool


BACKEND_SPECS: Tuple[BackendSpec, ...] = (
    BackendSpec("onnxruntime", (".onnx",), "fcn_trt.backends.onnxruntime", "OnnxRuntimeBackend", on_device=False),
    BackendSpec("tensorrt", (".engine", ".plan", ".trt"), "fcn_trt.backends.tensorrt", "TensorRTBackend", on_device=True),
)

#: backend names, in the order :data:`BACKEND_SPECS` lists them.
BACKENDS: Tuple[str, ...] = tuple(s.name for s in BACKEND_SPECS)


def backend_for_path(path: Union[str, Path]) -> str:
    """The backend name for a model file's suffix (``.engine``/``.plan``/``.trt`` -> ``"tensorrt"``, ``.onnx`` -> ``"onnxruntime"``)."""
    suffix = Path(path).suffix.lower()
    for spec in BACKEND_SPECS:
        if suffix in spec.suffixes:
            return spec.name
    raise ConfigError(
        f"model file {Path(path).name}",
        expected="a .onnx pipeline graph or a .engine/.plan/.trt TensorRT engine",
        found=f"suffix {suffix or '(none)'}", hint="pass backend='onnxruntime' or 'tensorrt' to choose explicitly",
    )


def backend_spec(path: Union[str, Path], backend: Union[str, None] = None) -> BackendSpec:
    """The :class:`BackendSpec` named ``backend``, or the one ``path``'s suffix selects."""
    name = backend or backend_for_path(path)
    for spec in BACKEND_SPECS:
        if spec.name == name:
            return spec
    raise ConfigError("backend", expected=" or ".join(repr(n) for n in BACKENDS), found=repr(name))


def open_backend(path: Union[str, Path], backend: Union[str, None] = None, **options: Any) -> Backend:
    """Open ``path`` with the backend named ``backend`` (default: from the suffix); ``options`` go to it.

    Example:
        >>> with open_backend("fcn8s.onnx", threads=2) as be:          # doctest: +SKIP
        ...     be.infer(frames)["labels"].shape
        (1, 480, 640)
    """
    spec = backend_spec(path, backend)
    cls = getattr(importlib.import_module(spec.module), spec.cls)
    check_options(cls.__init__, options, "%s backend" % spec.name)
    return cls(Path(path), **options)  # type: ignore[no-any-return]
