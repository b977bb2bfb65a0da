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
from typing import TYPE_CHECKING, Any, Iterator, List, Optional, Tuple, Union, cast

import numpy as np

from ._deprecated import moved_names
from ._frames import check_options, frame_hw, validate_batch, validate_frame
from ._outputs import build_results, merge_outputs, resize_outputs, results_from_outputs
from ._util import Closeable
from .backends import BACKENDS, backend_for_path, open_backend
from .backends.base import AsyncBackend, Backend
from .errors import ClosedError, ConfigError, FrameShapeError, InputError
from .metadata import PipelineMetadata
from .models import resolve_model
from .preflight import check_frame_memory
from .result import SegmentationResult

__all__ = ["Segmenter", "FrameTicket", "BACKENDS", "backend_for_path", "results_from_outputs"]

log = logging.getLogger(__name__)


class FrameTicket:
    """Frames submitted to a :class:`Segmenter`: pass it to :meth:`Segmenter.collect` once.

    Opaque; it carries what the results need (frame size, batch length) and the stage clocks.
    """

    __slots__ = ("_owner", "_parts", "_hw", "_n", "_t_start", "_validate_ms", "_t_submit", "_collected")

    def __init__(self, owner: "Segmenter", parts: List[Tuple[bool, Any]], hw: Tuple[int, int], n: int,
                 t_start: float, validate_ms: float, t_submit: float) -> None:
        self._owner = owner
        self._parts = parts  # per sub-batch: (True, outputs) when done, (False, backend ticket) in flight
        self._hw = hw
        self._n = n
        self._t_start = t_start
        self._validate_ms = validate_ms
        self._t_submit = t_submit
        self._collected = False

    def __repr__(self) -> str:
        return f"FrameTicket(frames={self._n}, size={self._hw[0]}x{self._hw[1]}, collected={self._collected})"


def _is_served(model: object, backend: Optional[str]) -> bool:
    from .backends.triton import is_triton_url

    if not is_triton_url(model):
        return False
    if backend not in (None, "triton"):
        raise ConfigError("backend", expected="none (or 'triton') with a grpc:// or http:// model URL", found=repr(backend))
    return True


class Segmenter(Closeable):
    """Segments BGR (or the model's declared format) uint8 frames with a pipeline graph or engine.

    One Segmenter owns one backend (one ONNX Runtime session, or one TensorRT execution context +
    CUDA stream). Calls are serialised by a lock; for parallel inference open one Segmenter per
    thread (TensorRT engines are shared between them).

    Every frame takes one path: :meth:`submit` (validate, size check, hand to the backend) then
    :meth:`collect` (outputs -> results with their timings); :meth:`run` is ``collect(submit())``.

    Args:
        model: a pipeline ``.onnx``, a TensorRT ``.engine``, a built-in name (``"demo"``), or an
            opened :class:`~fcn_trt.backends.base.Backend` (the Segmenter then owns and closes it:
            the seam for custom backends and tests), or a model served by Triton:
            ``"grpc://HOST:PORT/NAME"`` or ``"http://HOST:PORT/NAME"`` (:mod:`fcn_trt.backends.triton`;
            options ``timeout=``, ``shared_memory=``, ``max_in_flight=``).
        backend: ``"onnxruntime"`` or ``"tensorrt"``; default from the file suffix.
        **backend_options: passed to the backend (e.g. ``providers=``, ``threads=`` for ONNX Runtime).

    Example:
        >>> seg = Segmenter("fcn8s.onnx")                           # doctest: +SKIP
        >>> seg.run(frame).overlay(frame)                           # doctest: +SKIP
        >>> from fcn_trt.backends.onnxruntime import OnnxRuntimeBackend
        >>> seg = Segmenter(OnnxRuntimeBackend("fcn8s.onnx", threads=2))   # doctest: +SKIP
    """

    def __init__(self, model: Union[str, Path, Backend], backend: Optional[str] = None, **backend_options: Any) -> None:
        self._backend: Optional[Backend] = None
        if _is_served(model, backend):  # grpc://HOST:PORT/NAME, http://HOST:PORT/NAME: a Triton server
            from .backends.triton import TritonBackend

            check_options(TritonBackend.__init__, backend_options, "triton backend")  # a typo: one line, not a TypeError
            model, backend, backend_options = TritonBackend(str(model), **backend_options), None, {}
        if isinstance(model, Backend):
            if backend is not None or backend_options:
                raise InputError(
                    "Segmenter(backend instance, ...)", expected="no backend name or options with an opened backend",
                    found=f"backend={backend!r}, options {sorted(backend_options)}",
                    hint="pass the options when you open the backend",
                )
            self._backend = model
            path = getattr(model, "path", None)
            self.model_path: Optional[Path] = Path(path) if path is not None else None
            name = model.name or type(model).__name__
        else:
            path = resolve_model(model)
            name = backend or backend_for_path(path)
            self._backend = open_backend(path, name, **backend_options)
            self.model_path = path
        self._lock = threading.Lock()
        self._memory_checked: Optional[Tuple[int, int, int]] = None  # the last (n, h, w) the pre-flight passed
        log.info("opened %s with %s", self.model_path or "a backend instance", name)

    # --- lifetime -----------------------------------------------------------------------------
    def close(self) -> None:
        """Release the backend. Idempotent."""
        backend, self._backend = self._backend, None
        if backend is not None:
            backend.close()

    @property
    def closed(self) -> bool:
        return self._backend is None

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

    @property
    def asynchronous(self) -> bool:
        """Whether frames can be in flight: :meth:`submit` returns before the backend finished.

        On a synchronous backend :meth:`submit` runs the frame at once and :meth:`collect` only
        builds the result; :func:`fcn_trt.stream.stream` then overlaps inference with a thread.
        """
        return isinstance(self._open(), AsyncBackend)

    # --- inference: the one frame path ----------------------------------------------------------
    def _check_size(self, backend: Backend, h: int, w: int, n: int = 1) -> None:
        max_h, max_w = backend.max_frame_hw
        min_h, min_w = backend.min_frame_hw
        if (max_h and h > max_h) or (max_w and w > max_w) or h < min_h or w < min_w:
            raise FrameShapeError(
                "frame size", expected=f"between {min_h}x{min_w} and {max_h}x{max_w} (the engine's optimization profile)",
                found=f"{h}x{w}", hint="resize the frame, use fcn_trt.tiling.segment_tiled for large images, or "
                                       "rebuild the engine with --max",
            )
        # no profile bounds the frame: check it fits in memory first (once per size, not per frame of a stream)
        if (not max_h or not max_w) and backend.computes_locally and self._memory_checked != (n, h, w):
            check_frame_memory(backend.metadata, n, h, w, backend.name or type(backend).__name__)
            self._memory_checked = (n, h, w)

    def _submit(self, batch: np.ndarray, t_start: float) -> FrameTicket:
        validate_ms = (time.perf_counter() - t_start) * 1e3
        backend = self._open()
        h, w = frame_hw(batch, backend.metadata.input_format)
        self._check_size(backend, h, w, len(batch))
        limit = backend.max_batch or len(batch)
        chunks = [batch[i:i + limit] for i in range(0, len(batch), limit)]
        t_submit = time.perf_counter()
        with self._lock:
            if isinstance(backend, AsyncBackend):
                parts = [(False, backend.submit(c)) for c in chunks]
            else:
                parts = [(True, backend.infer(c)) for c in chunks]
        return FrameTicket(self, parts, (h, w), len(batch), t_start, validate_ms, t_submit)

    def _collect(self, ticket: FrameTicket) -> List[SegmentationResult]:
        if not isinstance(ticket, FrameTicket) or ticket._owner is not self or ticket._collected:
            raise InputError(
                "ticket", expected="a FrameTicket from this Segmenter's submit(), not yet collected",
                found=repr(ticket), hint="call collect() once per submit(), on the same Segmenter",
            )
        backend = self._open()
        ticket._collected = True
        if any(not done for done, _ in ticket._parts):
            with self._lock:
                async_backend = cast(AsyncBackend, backend)
                outputs = [part if done else async_backend.result(part) for done, part in ticket._parts]
        else:
            outputs = [part for _, part in ticket._parts]
        t_outputs = time.perf_counter()
        h, w = ticket._hw
        outs = resize_outputs(merge_outputs(outputs), h, w)
        t_done = time.perf_counter()
        n = ticket._n
        timings = {  # per frame; "infer": submit -> outputs on the host (queueing behind other frames included)
            "validate": ticket._validate_ms / n,
            "infer": (t_outputs - ticket._t_submit) * 1e3 / n,
            "postprocess": (t_done - t_outputs) * 1e3 / n,
            "total": (t_done - ticket._t_start) * 1e3 / n,
        }
        return build_results(outs, backend.metadata, timings)

    def submit(self, frame: np.ndarray) -> FrameTicket:
        """Start segmenting one frame; :meth:`collect` returns its result.

        On an :class:`~fcn_trt.backends.base.AsyncBackend` (TensorRT) this returns while the GPU
        works, so the caller can prepare the next frame; elsewhere the frame is run at once.

        Example:
            >>> t0 = seg.submit(frame0); t1 = seg.submit(frame1)       # doctest: +SKIP
            >>> r0, r1 = seg.collect(t0), seg.collect(t1)               # doctest: +SKIP
        """
        t0 = time.perf_counter()
        arr = validate_frame(frame, self.metadata.input_format)
        return self._submit(arr[None], t0)

    def submit_batch(self, frames: Union[np.ndarray, List[np.ndarray]]) -> FrameTicket:
        """:meth:`submit` for a batch; :meth:`collect_batch` returns one result per frame."""
        t0 = time.perf_counter()
        batch = validate_batch(frames, self.metadata.input_format)
        return self._submit(batch, t0)

    def collect(self, ticket: FrameTicket) -> SegmentationResult:
        """Wait for a :meth:`submit`'s frame and return its result (once per ticket)."""
        results = self._collect(ticket)
        if len(results) != 1:
            raise InputError("ticket", expected="a ticket of one frame (from submit())",
                             found=f"a batch of {len(results)}", hint="use collect_batch() for submit_batch() tickets")
        return results[0]

    def collect_batch(self, ticket: FrameTicket) -> List[SegmentationResult]:
        """Wait for a :meth:`submit_batch`'s frames and return one result per frame."""
        return self._collect(ticket)

    def run(self, frame: np.ndarray) -> SegmentationResult:
        """Segment one frame (uint8 HxWx3 in the model's input format, default BGR)."""
        return self.collect(self.submit(frame))

    def run_batch(self, frames: Union[np.ndarray, List[np.ndarray]]) -> List[SegmentationResult]:
        """Segment a batch (a list of same-sized frames or an [N,H,W,3] array); one result per frame.

        Batches larger than the backend's maximum are split.
        """
        return self.collect_batch(self.submit_batch(frames))

    def stream(self, source: Any, **options: Any) -> Iterator[Any]:
        """Segment a camera, video, folder or any ``read() -> (ok, frame)`` object; see :mod:`fcn_trt.stream`."""
        from .streaming.stream import stream

        return stream(self, source, **options)

    @property
    def model_source(self) -> str:
        """Where the model comes from, for reports: its file, a served model's URL, or the backend class."""
        if self.model_path is not None:
            return str(self.model_path)
        return str(getattr(self._backend, "url", "")) or type(self._backend).__name__

    def __repr__(self) -> str:
        if self._backend is None:
            return "Segmenter(closed)"
        return f"Segmenter({self.model_source!r}, backend={self._backend.name!r})"


if not TYPE_CHECKING:  # names that moved to the command line (_deprecated.MOVED_NAMES), one release
    __getattr__ = moved_names(__name__)
