"""The one object users need: ``Segmenter(model).run(frame)``.

Example:
    >>> import fcn_trt, numpy as np
    >>> with fcn_trt.Segmenter("demo") as seg:                       # doctest: +SKIP
    ...     result = seg.run(np.zeros((240, 320, 3), np.uint8))
    ...     result.labels.shape
    (240, 320)
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Union

import numpy as np

from .backends.base import Backend
from .errors import ClosedError, ConfigError, FrameShapeError
from .metadata import PipelineMetadata
from .models import resolve_model
from .preflight import check_frame_memory
from .result import SegmentationResult
from .validation import check_options, frame_hw, validate_batch, validate_frame

__all__ = ["Segmenter", "BACKENDS", "backend_for_path", "results_from_outputs", "add_model_arguments"]

log = logging.getLogger(__name__)

BACKENDS = ("onnxruntime", "tensorrt")
_ENGINE_SUFFIXES = (".engine", ".plan", ".trt")


def backend_for_path(path: Union[str, Path]) -> str:
    """``"tensorrt"`` for .engine/.plan/.trt files, ``"onnxruntime"`` for .onnx."""
    suffix = Path(path).suffix.lower()
    if suffix in _ENGINE_SUFFIXES:
        return "tensorrt"
    if suffix == ".onnx":
        return "onnxruntime"
    raise ConfigError(
        f"model file {Path(path).name}", expected="a .onnx pipeline graph or a .engine/.plan/.trt TensorRT engine",
        found=f"suffix {suffix or '(none)'}", hint="pass backend='onnxruntime' or 'tensorrt' to choose explicitly",
    )


def add_model_arguments(parser: Any, default: Optional[str] = "demo") -> None:
    """Add ``--model`` and ``--backend`` (what :class:`Segmenter` takes) to an argparse parser.

    Example:
        >>> import argparse
        >>> p = argparse.ArgumentParser(); add_model_arguments(p)
        >>> vars(p.parse_args(["--model", "m.onnx"]))
        {'model': 'm.onnx', 'backend': None}
    """
    parser.add_argument("--model", default=default,
                        help="pipeline .onnx, TensorRT .engine, or built-in name (default: %s)" % default)
    parser.add_argument("--backend", choices=list(BACKENDS), help="default: from the model's suffix")


def _open_backend(path: Path, backend: str, options: Dict[str, Any]) -> Backend:
    if backend == "onnxruntime":
        from .backends.onnxruntime import OnnxRuntimeBackend

        check_options(OnnxRuntimeBackend.__init__, options, "onnxruntime backend")
        return OnnxRuntimeBackend(path, **options)
    if backend == "tensorrt":
        from .backends.tensorrt import TensorRTBackend

        check_options(TensorRTBackend.__init__, options, "tensorrt backend")
        return TensorRTBackend(path, **options)
    raise ConfigError("backend", expected=" or ".join(BACKENDS), found=repr(backend))


def _nearest_resize(a: np.ndarray, h: int, w: int) -> np.ndarray:
    rows = (np.arange(h) * a.shape[-2] // h).astype(np.intp)
    cols = (np.arange(w) * a.shape[-1] // w).astype(np.intp)
    return a[..., rows[:, None], cols[None, :]]


def results_from_outputs(
    outs: Dict[str, np.ndarray], meta: PipelineMetadata, h: int, w: int, timings: Dict[str, float]
) -> List[SegmentationResult]:
    """One :class:`SegmentationResult` per batch item of a backend's outputs, at frame size (H, W)."""
    labels = outs["labels"]
    confidence = outs.get("confidence")
    if labels.shape[-2:] != (h, w):  # graph without resize-back: labels at inference size
        labels = _nearest_resize(labels, h, w)
        confidence = _nearest_resize(confidence, h, w) if confidence is not None else None
    logits = outs.get("logits")
    return [
        SegmentationResult(
            labels=labels[i],
            confidence=None if confidence is None else confidence[i],
            logits=None if logits is None else logits[i],
            class_names=meta.class_names,
            palette=meta.palette,
            timings=dict(timings),
        )
        for i in range(len(labels))
    ]


class Segmenter:
    """Segments BGR (or the model's declared format) uint8 frames with a pipeline graph or engine.

    One Segmenter owns one backend (one ONNX Runtime session, or one TensorRT execution context +
    CUDA stream). Calls are serialised by a lock; for parallel inference open one Segmenter per
    thread (TensorRT engines are shared between them).

    Args:
        model: a pipeline ``.onnx``, a TensorRT ``.engine``, or a built-in name (``"demo"``).
        backend: ``"onnxruntime"`` or ``"tensorrt"``; default from the file suffix.
        **backend_options: passed to the backend (e.g. ``providers=``, ``threads=`` for ONNX Runtime).

    Example:
        >>> seg = Segmenter("fcn8s.onnx")                           # doctest: +SKIP
        >>> seg.run(frame).overlay(frame)                           # doctest: +SKIP
    """

    def __init__(self, model: Union[str, Path], backend: Optional[str] = None, **backend_options: Any) -> None:
        self._backend: Optional[Backend] = None
        path = resolve_model(model)
        if backend is not None and backend not in BACKENDS:
            raise ConfigError("backend", expected=" or ".join(repr(b) for b in BACKENDS), found=repr(backend),
                              hint="leave it out to choose from the model's suffix")
        name = backend or backend_for_path(path)
        self._backend = _open_backend(path, name, backend_options)
        self.model_path = path
        self._lock = threading.Lock()
        log.info("opened %s with %s", path, name)

    # --- lifetime -----------------------------------------------------------------------------
    def close(self) -> None:
        """Release the backend. Idempotent."""
        backend, self._backend = self._backend, None
        if backend is not None:
            backend.close()

    @property
    def closed(self) -> bool:
        return self._backend is None

    def __enter__(self) -> "Segmenter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_backend", None) is not None:
            warnings.warn(
                "Segmenter was not closed: call close() or use `with Segmenter(...)`", ResourceWarning, stacklevel=2
            )

    def _open(self) -> Backend:
        if self._backend is None:
            raise ClosedError("Segmenter", expected="an open Segmenter", found="it was closed", hint="create a new Segmenter")
        return self._backend

    # --- properties ---------------------------------------------------------------------------
    @property
    def backend(self) -> Backend:
        return self._open()

    @property
    def metadata(self) -> PipelineMetadata:
        return self._open().metadata

    @property
    def class_names(self):
        return self.metadata.class_names

    # --- inference ----------------------------------------------------------------------------
    def _check_size(self, backend: Backend, h: int, w: int, n: int = 1) -> None:
        max_h, max_w = backend.max_frame_hw
        min_h, min_w = backend.min_frame_hw
        if (max_h and h > max_h) or (max_w and w > max_w) or h < min_h or w < min_w:
            raise FrameShapeError(
                "frame size", expected=f"between {min_h}x{min_w} and {max_h}x{max_w} (the engine's optimization profile)",
                found=f"{h}x{w}", hint="resize the frame, use fcn_trt.tiling.segment_tiled for large images, or "
                                       "rebuild the engine with --max",
            )
        if not max_h or not max_w:  # no profile bounds the frame: check it fits in memory first
            check_frame_memory(backend.metadata, n, h, w, backend.name or type(backend).__name__)

    def _infer(self, batch: np.ndarray, validate_ms: float, t_start: float) -> List[SegmentationResult]:
        backend = self._open()
        meta = backend.metadata
        h, w = frame_hw(batch, meta.input_format)
        self._check_size(backend, h, w, len(batch))
        limit = backend.max_batch or len(batch)
        t0 = time.perf_counter()
        with self._lock:
            chunks = [backend.infer(batch[i:i + limit]) for i in range(0, len(batch), limit)]
        t1 = time.perf_counter()
        outs = {k: np.concatenate([c[k] for c in chunks]) if len(chunks) > 1 else chunks[0][k] for k in chunks[0]}
        n = len(batch)
        timings = {
            "validate": validate_ms / n,
            "infer": (t1 - t0) * 1e3 / n,
            "postprocess": 0.0,
            "total": 0.0,
        }
        results = results_from_outputs(outs, meta, h, w, timings)
        post_ms = (time.perf_counter() - t1) * 1e3 / n
        total_ms = (time.perf_counter() - t_start) * 1e3 / n
        for r in results:
            r.timings.update(postprocess=post_ms, total=total_ms)  # type: ignore[attr-defined]
        return results

    def run(self, frame: np.ndarray) -> SegmentationResult:
        """Segment one frame (uint8 HxWx3 in the model's input format, default BGR)."""
        t0 = time.perf_counter()
        fmt = self.metadata.input_format
        arr = validate_frame(frame, fmt)
        validate_ms = (time.perf_counter() - t0) * 1e3
        return self._infer(arr[None], validate_ms, t0)[0]

    def run_batch(self, frames: Union[np.ndarray, List[np.ndarray]]) -> List[SegmentationResult]:
        """Segment a batch (a list of same-sized frames or an [N,H,W,3] array); one result per frame.

        Batches larger than the backend's maximum are split.
        """
        t0 = time.perf_counter()
        batch = validate_batch(frames, self.metadata.input_format)
        validate_ms = (time.perf_counter() - t0) * 1e3
        return self._infer(batch, validate_ms, t0)

    def stream(self, source: Any, **options: Any) -> Iterator[Any]:
        """Segment a camera, video, folder or any ``read() -> (ok, frame)`` object; see :mod:`fcn_trt.stream`."""
        from .stream import stream

        return stream(self, source, **options)

    def __repr__(self) -> str:
        if self._backend is None:
            return "Segmenter(closed)"
        return f"Segmenter({str(self.model_path)!r}, backend={self._backend.name!r})"
