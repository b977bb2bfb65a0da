"""The contract every inference backend implements, and the optional capabilities it may declare.

A backend runs the *whole pipeline graph*: uint8 frames in, uint8 labels (+ optional confidence
and logits) out. It does no validation of its own: :class:`fcn_trt.Segmenter` validates frames
before they reach it.

:class:`Backend` is the lifecycle every backend has (open in ``__init__``, :meth:`Backend.infer`,
:meth:`Backend.close`). What only some backends can do is declared by the capability Protocols
below; callers ask ``isinstance(backend, AsyncBackend)``, never the backend's name:

* :class:`AsyncBackend`: ``submit(frames) -> ticket`` returns at once, ``result(ticket)`` waits
  (frames in flight while the host does other work);
* :class:`StageTimed`: ``last_stage_timings`` gives device stage times of the last batch;
* :class:`LayerProfiled`: ``profile_layers(frames, runs)`` gives per-layer times;
* :class:`DeviceBacked`: ``device_info`` names the accelerator the backend runs on.

Example:
    >>> class Echo(Backend):
    ...     name = "echo"
    ...     def __init__(self, meta): self._metadata = meta
    ...     def infer(self, frames): return {"labels": frames[..., 0].copy()}
    ...     def close(self): pass
    >>> isinstance(Echo(None), AsyncBackend), isinstance(Echo(None), Backend)
    (False, True)
"""

from __future__ import annotations

import abc
from typing import Any, Dict, List, Mapping, Protocol, Tuple, runtime_checkable

import numpy as np

from .._util import Closeable
from ..errors import ClosedError
from ..metadata import PipelineMetadata

__all__ = ["Backend", "AsyncBackend", "StageTimed", "LayerProfiled", "DeviceBacked", "LayerTimes"]


class Backend(Closeable, abc.ABC):
    """A loaded pipeline graph that can segment batches of frames.

    Subclasses acquire everything in ``__init__`` and release it in :meth:`close`, which must be
    idempotent. A backend is a context manager.

    ``__init__`` sets ``self._metadata`` (what :attr:`metadata` returns) and, where the graph
    bounds them, ``self._max_batch``, ``self._max_frame_hw``, ``self._min_frame_hw`` (what the
    properties of those names return); a subclass may override the properties instead.
    """

    #: short backend name, e.g. ``"onnxruntime"`` or ``"tensorrt"`` (for reports only).
    name: str = ""
    #: what people call it, for sentences in reports (``"ONNX Runtime"``); defaults to :attr:`name`.
    title: str = ""
    #: whether the network runs in this process's memory (so a frame no profile bounds is checked
    #: against this machine's free memory first); False for a served model, whose server does the work
    computes_locally: bool = True

    _metadata: PipelineMetadata
    _max_batch: int = 0
    _max_frame_hw: Tuple[int, int] = (0, 0)
    _min_frame_hw: Tuple[int, int] = (1, 1)
    _closed: bool  # set by subclasses that call _check_open()

    @property
    def metadata(self) -> PipelineMetadata:
        """The pipeline metadata of the loaded graph."""
        return self._metadata

    @property
    def max_batch(self) -> int:
        """Largest batch one :meth:`infer` call accepts (0 = unbounded)."""
        return self._max_batch

    @property
    def max_frame_hw(self) -> Tuple[int, int]:
        """Largest (H, W) of a frame one :meth:`infer` accepts ((0, 0) = unbounded)."""
        return self._max_frame_hw

    @property
    def min_frame_hw(self) -> Tuple[int, int]:
        """Smallest (H, W) of a frame one :meth:`infer` accepts."""
        return self._min_frame_hw

    @abc.abstractmethod
    def infer(self, frames: np.ndarray) -> Dict[str, np.ndarray]:
        """Run the pipeline on a C-contiguous uint8 batch (``[N,H,W,3]`` or nv12 ``[N,H*3/2,W]``).

        Returns the graph outputs by name (``"labels"`` always), as arrays owned by the caller.
        """

    def describe(self) -> Dict[str, str]:
        """Backend name, version and device, for reports."""
        return {"backend": self.name}

    @abc.abstractmethod
    def close(self) -> None:
        """Release every resource. Idempotent."""

    def _check_open(self) -> None:
        """Raise :class:`ClosedError` once ``self._closed`` is set (by :meth:`close`)."""
        if self._closed:
            raise ClosedError(type(self).__name__, expected="an open backend", found="closed", hint="create a new Segmenter")


#: per-layer times: (layer name -> one time in ms per run, layer name -> op type, how they were measured)
LayerTimes = Tuple[Dict[str, List[float]], Dict[str, str], str]


@runtime_checkable
class AsyncBackend(Protocol):
    """A backend with frames in flight: :meth:`submit` queues a batch and returns at once."""

    def submit(self, frames: np.ndarray) -> Any:
        """Queue one validated batch; returns a ticket for :meth:`result`."""

    def result(self, ticket: Any) -> Dict[str, np.ndarray]:
        """Wait for the ticket's batch and return its outputs (arrays owned by the caller)."""


@runtime_checkable
class StageTimed(Protocol):
    """A backend that times the device stages of each batch (e.g. with CUDA events)."""

    @property
    def last_stage_timings(self) -> Mapping[str, float]:
        """Milliseconds per stage (``h2d``, ``compute``, ``d2h``) of the batch returned last; may be empty."""


@runtime_checkable
class LayerProfiled(Protocol):
    """A backend that can time each layer of its graph."""

    def profile_layers(self, frames: np.ndarray, runs: int, show_progress: bool = False) -> LayerTimes:
        """Run ``frames`` ``runs`` times (after one warm-up) and return per-layer times."""


@runtime_checkable
class DeviceBacked(Protocol):
    """A backend whose graph runs on a CUDA device (device memory is worth reporting)."""

    @property
    def device_info(self) -> Any:
        """The device (:class:`fcn_trt.backends._cuda.DeviceInfo`)."""

