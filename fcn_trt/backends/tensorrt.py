"""TensorRT backend: runs a pipeline engine (uint8 frame in, uint8 labels out) on an NVIDIA GPU.

What happens when one is opened, in this order:

1. tensorrt and cuda-python are imported (missing -> :class:`BackendUnavailableError`);
2. a CUDA device is looked up (none -> :class:`NoCudaDeviceError`) *before* any TensorRT runtime
   exists: without a driver TensorRT hands back objects whose next call crashes;
3. the sidecar ``<engine>.json`` is read and checked against this machine (TensorRT version, GPU
   compute capability, precision, and the source ONNX's sha256 when ``onnx=`` is given); a mismatch
   raises :class:`EngineMismatchError` saying how to rebuild, before any byte is deserialised;
4. the engine is deserialised (shared between backends opened on the same file: refcounted);
   for an engine the sidecar marks ``version_compatible``, ``runtime.engine_host_code_allowed``
   is set first (TensorRT refuses such plans by default); ``None`` from TensorRT ->
   :class:`EngineCorruptError` carrying TensorRT's own log lines;
5. one execution context, three CUDA streams (copy-in, compute, copy-out), per in-flight slot a
   set of device buffers (frame + outputs, sized ONCE for the profile's largest shape), a set of
   pinned staging buffers and six timing events, are allocated.

Two frames in flight can overlap (ordered for it; the overlap itself has not been measured on a GPU:
``benchmarks/gpu_check.sh``): each slot has its own device buffers, and the streams are ordered by
CUDA events only where data flows::

    copy-in : [wait compute_end(prev use of slot)] h2d_start  H2D(slot)  h2d_end
    compute : [wait h2d_end] [wait d2h_end(prev use of slot)] compute_start  execute_async_v3  compute_end
    copy-out: [wait compute_end]  d2h_start  D2H(slot)  d2h_end   <- the host waits on this one

so the H2D copy of frame N+1 runs while frame N computes, and the D2H copy of frame N while frame
N+1 computes. With one copy stream for both directions, the H2D of frame N+1 would queue behind the
D2H of frame N, which waits for frame N's compute: no overlap; hence a stream per direction.
``execute_async_v3`` calls of one execution context all go to the compute stream, in order (a
context must not run two enqueues at once).

The hot path (:meth:`TensorRTBackend.submit` / :meth:`TensorRTBackend.result`, or
:meth:`TensorRTBackend.infer` = both) allocates nothing on the device or in pinned memory: it
copies the frame into the slot's pinned staging, queues the work above, and returns.
``set_input_shape`` is called only when the frame shape changes. With ``cuda_graph=True``
(default) the compute part of a slot (``execute_async_v3`` between its two timing events) is
captured once per frame shape into a CUDA graph (after one plain warm-up run) and replayed; the
copies and event waits stay outside the graph. When capture fails the backend falls back to plain
enqueues and says why (:attr:`cuda_graph_reason`).

Every batch's stages are timed with the events around them (inside the captured graph as
external event nodes): :attr:`TensorRTBackend.last_stage_timings` gives ``h2d`` (pinned staging
-> device), ``compute`` (``execute_async_v3``) and ``d2h`` in milliseconds for the batch the last
:meth:`~TensorRTBackend.result` returned.

Named-tensor API only (``num_io_tensors``, ``set_input_shape``, ``set_tensor_address``,
``execute_async_v3``): the same code runs on TensorRT 8.5 to 11.

Example (needs a GPU)::

    >>> with TensorRTBackend("fcn8s.engine") as be:                            # doctest: +SKIP
    ...     t0 = be.submit(frame0[None]); t1 = be.submit(frame1[None])        # two in flight
    ...     labels0 = be.result(t0)["labels"]; labels1 = be.result(t1)["labels"]
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import deque
from pathlib import Path
from typing import Any, Deque, Dict, List, Optional, Tuple, Union

import numpy as np

from .._hashing import file_sha256
from .._imports import require_tensorrt
from ._cuda import CudaGraph, DeviceBuffer, DeviceInfo, Event, PinnedBuffer, Stream, cuda_device_info, set_device
from ..errors import (
    ClosedError,
    CudaError,
    EngineCorruptError,
    EngineMismatchError,
    FrameDtypeError,
    FrameShapeError,
    InputError,
    ModelFormatError,
    ModelNotFoundError,
    TensorRTError,
)
from ..metadata import PipelineMetadata, check_graph_io
from .base import Backend

__all__ = ["TensorRTBackend", "Ticket", "import_tensorrt", "open_engine_count", "STAGE_KEYS"]

log = logging.getLogger(__name__)

INPUT_NAME = "frame"
SLOTS = 2  # two frames in flight
MAX_PARKED = 64  # completed, not yet retrieved tickets kept for result()
#: Keys of :attr:`TensorRTBackend.last_stage_timings`, in stream order.
STAGE_KEYS = ("h2d", "compute", "d2h")

# TensorRT DataType member name -> numpy dtype (members looked up by name: TensorRT 11 renumbered)
_DTYPES = (
    ("UINT8", np.uint8),
    ("FLOAT", np.float32),
    ("HALF", np.float16),
    ("INT8", np.int8),
    ("INT32", np.int32),
    ("INT64", np.int64),
    ("BOOL", np.bool_),
)


def import_tensorrt() -> Any:
    """Import the ``tensorrt`` module, or raise :class:`BackendUnavailableError` with the fix."""
    return require_tensorrt("TensorRT backend")


def _np_dtype(trt: Any, dtype: Any) -> Any:
    for name, np_dtype in _DTYPES:
        member = getattr(trt.DataType, name, None)
        if member is not None and dtype == member:
            return np.dtype(np_dtype)
    raise ModelFormatError(
        "engine tensor data type", expected="one of " + ", ".join(n for n, _ in _DTYPES), found=str(dtype),
        hint="rebuild the engine from a pipeline graph exported by build_engine",
    )


def _make_logger(trt: Any, verbose: bool = True) -> Any:
    """The one ``trt.ILogger`` of fcn_trt (backend, ``inspect`` and the engine builder share it).

    It forwards TensorRT's messages to :mod:`logging` and keeps what a typed error should quote:
    ``messages`` (warnings and errors, emptied by ``drain()``) and ``errors`` (errors only).
    INFO/VERBOSE messages go to DEBUG when ``verbose``, else nowhere.
    """
    levels = {
        trt.ILogger.INTERNAL_ERROR: logging.CRITICAL,
        trt.ILogger.ERROR: logging.ERROR,
        trt.ILogger.WARNING: logging.WARNING,
        trt.ILogger.INFO: logging.DEBUG if verbose else logging.NOTSET,
        trt.ILogger.VERBOSE: logging.DEBUG if verbose else logging.NOTSET,
    }

    class _CapturingLogger(trt.ILogger):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            trt.ILogger.__init__(self)
            self.messages: List[str] = []
            self.errors: List[str] = []

        def log(self, severity: Any, msg: str) -> None:
            level = levels.get(severity, logging.WARNING)
            if level >= logging.WARNING:
                self.messages.append(str(msg))
            if level >= logging.ERROR:
                self.errors.append(str(msg))
            if level != logging.NOTSET:
                log.log(min(level, logging.ERROR), "TensorRT: %s", msg)

        def drain(self) -> List[str]:
            out, self.messages = self.messages, []
            return out

    return _CapturingLogger()


# --- shared engines -------------------------------------------------------------------------------
@dataclasses.dataclass
class _EngineEntry:
    trt: Any
    runtime: Any
    engine: Any
    logger: Any
    refs: int = 0


_ENGINES: Dict[Tuple[Any, ...], _EngineEntry] = {}
_ENGINES_LOCK = threading.Lock()


def open_engine_count() -> int:
    """Number of deserialised engines currently shared by open backends (for tests and reports)."""
    with _ENGINES_LOCK:
        return len(_ENGINES)


def _engine_key(trt: Any, path: Path, device: int, host_code: bool = False,
                dla_core: Optional[int] = None) -> Tuple[Any, ...]:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns, int(device), id(trt), bool(host_code), dla_core)


def _acquire_engine(
    trt: Any, path: Path, device: int, rebuild: str, host_code: bool = False, dla_core: Optional[int] = None
) -> Tuple[Tuple[Any, ...], _EngineEntry]:
    key = _engine_key(trt, path, device, host_code, dla_core)
    with _ENGINES_LOCK:
        entry = _ENGINES.get(key)
        if entry is None:
            entry = _deserialize(trt, path, rebuild, host_code, dla_core)
            _ENGINES[key] = entry
        entry.refs += 1
        return key, entry


def _release_engine(key: Tuple[Any, ...]) -> None:
    with _ENGINES_LOCK:
        entry = _ENGINES.get(key)
        if entry is None:
            return
        entry.refs -= 1
        if entry.refs <= 0:
            del _ENGINES[key]
            entry.engine = None  # engine before the runtime that made it
            entry.runtime = None


def _deserialize(trt: Any, path: Path, rebuild: str, host_code: bool = False,
                 dla_core: Optional[int] = None) -> _EngineEntry:
    """Deserialise ``path``; ``host_code`` (the sidecar says ``version_compatible``) lets the runtime
    load the lean runtime embedded in a version-compatible plan (off by default in TensorRT);
    ``dla_core`` (the sidecar's build flag) selects the DLA core, as trtexec --useDLACore does."""
    from . import _trt as compat

    data = path.read_bytes()
    if not data:
        raise EngineCorruptError(str(path), expected="a serialized TensorRT engine", found="an empty file", hint=rebuild)
    logger = _make_logger(trt)
    runtime = trt.Runtime(logger)
    if runtime is None:
        raise TensorRTError("trt.Runtime", expected="a TensorRT runtime", found="None", hint="check the TensorRT install")
    if host_code:
        compat.allow_engine_host_code(trt, runtime)
        log.info("%s was built version-compatible: engine host code allowed for it", path.name)
    if dla_core is not None:
        runtime.DLA_core = int(dla_core)  # IRuntime::setDLACore: "Defaults to -1"
    try:
        engine = runtime.deserialize_cuda_engine(data)
    except Exception as e:  # a binding that raises instead of returning None
        logger.messages.append("%s: %s" % (type(e).__name__, e))
        engine = None
    if engine is None:
        messages = logger.drain()
        raise EngineCorruptError(
            str(path),
            expected="an engine TensorRT %s can deserialize" % getattr(trt, "__version__", "?"),
            found="deserialize_cuda_engine returned None (%s)" % ("; ".join(messages) or "no log message"),
            hint="the file is truncated, corrupt or not a TensorRT engine; " + rebuild,
        )
    return _EngineEntry(trt=trt, runtime=runtime, engine=engine, logger=logger)


# --- sidecar checks -------------------------------------------------------------------------------
def _check_sidecar(path: Path, trt_version: str, device: DeviceInfo, onnx: Optional[Path], precision: Optional[str]) -> Any:
    """Read ``<engine>.json`` and check it against this machine; returns the sidecar."""
    from ..sidecar import check_engine_compatible, read_sidecar, rebuild_hint

    sidecar = read_sidecar(path)
    check_engine_compatible(sidecar, trt_version, device.compute_capability, engine_path=path)
    info = sidecar.engine
    rebuild = rebuild_hint(sidecar, path)
    if precision is not None and info.precision != precision:
        raise EngineMismatchError(
            "%s precision" % path.name, expected=precision, found=info.precision,
            hint="rebuild on this machine with: python -m build_engine build %s --precision %s --out %s"
            % (onnx or dict(info.build_flags).get("onnx") or "MODEL.onnx", precision, path.name),
        )
    if onnx is not None:
        if not onnx.is_file():
            raise ModelNotFoundError("source ONNX", expected="an existing file", found=str(onnx))
        digest = file_sha256(onnx)
        if info.onnx_sha256 and digest != info.onnx_sha256:
            raise EngineMismatchError(
                "%s source model" % path.name,
                expected="an engine built from %s (sha256 %s...)" % (onnx.name, digest[:12]),
                found="an engine built from sha256 %s..." % info.onnx_sha256[:12],
                hint=rebuild,
            )
    return sidecar


def _shape(dims: Any) -> Tuple[int, ...]:
    return tuple(int(d) for d in dims)


@dataclasses.dataclass(frozen=True)
class Ticket:
    """A frame batch in flight: pass it to :meth:`TensorRTBackend.result`."""

    id: int
    slot: int
    shape: Tuple[int, ...]
    backend_id: int


class _Pending:
    __slots__ = ("ticket", "out_shapes", "outputs", "stage_timings")

    def __init__(self, ticket: Ticket, out_shapes: Dict[str, Tuple[int, ...]]) -> None:
        self.ticket = ticket
        self.out_shapes = out_shapes
        self.outputs: Optional[Dict[str, np.ndarray]] = None
        self.stage_timings: Dict[str, float] = {}


class TensorRTBackend(Backend):
    """Runs a pipeline TensorRT engine with one execution context, two frames in flight.

    Args:
        path: the ``.engine``/``.plan``/``.trt`` file; its sidecar ``<path>.json`` must sit next to it.
        device: CUDA device index.
        cuda_graph: capture the copy + enqueue + copy sequence per frame shape into a CUDA graph.
        onnx: optional source ONNX; when given, its sha256 must match the one the sidecar records.
        precision: optional expected precision (``"fp32"``/``"fp16"``/``"int8"``), checked against the sidecar.

    Properties ``max_batch``, ``max_frame_hw`` and ``min_frame_hw`` come from the engine's
    optimization profile. One backend = one execution context + its three streams; its calls are
    serialised by an internal lock (safe to share between threads, but not parallel): open one
    backend per thread for parallelism; backends on the same file share the deserialised engine.
    """

    name = "tensorrt"
    title = "TensorRT"

    def __init__(
        self,
        path: Union[str, Path],
        device: int = 0,
        cuda_graph: bool = True,
        onnx: Union[str, Path, None] = None,
        precision: Optional[str] = None,
    ) -> None:
        self._closed = True
        self._teardown: List[Any] = []  # resources in acquisition order
        self._engine_key: Optional[Tuple[Any, ...]] = None
        path = Path(path)
        if not path.is_file():
            raise ModelNotFoundError("engine file", expected="an existing .engine/.plan/.trt file", found=str(path))
        trt = import_tensorrt()
        self._device_info = cuda_device_info(device)  # before any TensorRT runtime exists
        self._device = int(device)
        trt_version = str(getattr(trt, "__version__", "?"))
        sidecar = _check_sidecar(path, trt_version, self._device_info, Path(onnx) if onnx else None, precision)
        self._trt = trt
        self._metadata: PipelineMetadata = sidecar.pipeline
        self._sidecar = sidecar
        self.path = path
        self._lock = threading.Lock()
        self._cuda_graph_requested = bool(cuda_graph)
        try:
            self._open(trt, path)
        except BaseException:
            self._release_all()
            raise
        self._closed = False

    # --- construction ---------------------------------------------------------------------------
    def _open(self, trt: Any, path: Path) -> None:
        from ..sidecar import rebuild_hint

        flags = dict(self._sidecar.engine.build_flags)
        host_code = bool(flags.get("version_compatible"))
        dla_core = flags.get("dla_core")
        self._engine_key, entry = _acquire_engine(
            trt, path, self._device, rebuild_hint(self._sidecar, path), host_code=host_code,
            dla_core=int(dla_core) if isinstance(dla_core, int) else None,
        )
        self._logger = entry.logger
        engine = entry.engine
        self._engine = engine
        self._inputs, self._outputs = self._inspect(trt, engine, path)
        # the sidecar's pipeline record must describe this engine (input layout, outputs, class count)
        check_graph_io(self._metadata, _shape(engine.get_tensor_shape(INPUT_NAME)), list(self._outputs),
                       {n: _shape(engine.get_tensor_shape(n)) for n in self._outputs}, source=path.name)
        self._profile = self._profile_shapes(engine, path)
        self._max_batch = int(self._profile[2][0])
        self._max_frame_hw, self._min_frame_hw = self._hw(self._profile[2]), self._hw(self._profile[0])
        context = engine.create_execution_context()
        if context is None:
            raise TensorRTError(
                "create_execution_context", expected="an execution context", found="None (%s)" % "; ".join(self._logger.drain()),
                hint="free GPU memory (other processes?) and retry",
            )
        self._context = context
        self._h2d_stream = self._own(Stream(self._device))
        self._stream = self._own(Stream(self._device))  # compute: every execute_async_v3 of the context
        self._d2h_stream = self._own(Stream(self._device))
        # per slot, in stream order: h2d start/end, compute start/end, d2h start/end (d2h end = done)
        self._stage_events = [[self._own(Event(timing=True)) for _ in range(2 * len(STAGE_KEYS))] for _ in range(SLOTS)]
        self._done = [ev[-1] for ev in self._stage_events]
        self._slot_used = [False] * SLOTS
        self._last_stage_timings: Dict[str, float] = {}
        self._stage_timing_failed = False
        # device buffers per slot: once, at the profile's largest shapes
        max_out = self._max_output_shapes()
        in_dtype = self._inputs[INPUT_NAME]
        in_bytes = int(np.prod(self._profile[2], dtype=np.int64)) * in_dtype.itemsize
        out_bytes = {name: max(1, int(np.prod(max_out[name], dtype=np.int64))) * dt.itemsize
                     for name, dt in self._outputs.items()}
        self._d_in = [self._own(DeviceBuffer(in_bytes, self._device)) for _ in range(SLOTS)]
        self._d_out = [
            {name: self._own(DeviceBuffer(n, self._device)) for name, n in out_bytes.items()} for _ in range(SLOTS)
        ]
        self._h_in = [self._own(PinnedBuffer(in_bytes, np.uint8)) for _ in range(SLOTS)]
        self._h_out = [{name: self._own(PinnedBuffer(n, np.uint8)) for name, n in out_bytes.items()} for _ in range(SLOTS)]
        self._shape: Optional[Tuple[int, ...]] = None
        self._out_shapes: Dict[str, Tuple[int, ...]] = {}
        self._pending: Deque[_Pending] = deque()
        self._parked: Dict[int, _Pending] = {}
        self._next_id = 0
        # CUDA graphs
        self._use_graph = bool(self._cuda_graph_requested)
        self._graph_reason = "" if self._use_graph else "disabled (cuda_graph=False)"
        self._graphs: Dict[int, CudaGraph] = {}
        self._warm_slots: set = set()
        self._graph_active = False
        self.set_input_shape_calls = 0

    def _own(self, resource: Any) -> Any:
        self._teardown.append(resource)
        return resource

    def _inspect(self, trt: Any, engine: Any, path: Path) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        inputs: Dict[str, Any] = {}
        outputs: Dict[str, Any] = {}
        for i in range(int(engine.num_io_tensors)):
            name = engine.get_tensor_name(i)
            mode = engine.get_tensor_mode(name)
            dtype = _np_dtype(trt, engine.get_tensor_dtype(name))
            if mode == trt.TensorIOMode.INPUT:
                inputs[name] = dtype
            elif mode == trt.TensorIOMode.OUTPUT:
                outputs[name] = dtype
        if list(inputs) != [INPUT_NAME] or inputs[INPUT_NAME] != np.uint8 or outputs.get("labels") != np.uint8:
            raise ModelFormatError(
                path.name,
                expected="a pipeline engine: one uint8 input 'frame', a uint8 output 'labels'",
                found="inputs %s, outputs %s" % ({k: str(v) for k, v in inputs.items()}, {k: str(v) for k, v in outputs.items()}),
                hint="build the engine from a pipeline graph: python -m build_engine export ... then build",
            )
        return inputs, outputs

    def _profile_shapes(self, engine: Any, path: Path) -> Tuple[Tuple[int, ...], Tuple[int, ...], Tuple[int, ...]]:
        static = _shape(engine.get_tensor_shape(INPUT_NAME))
        if all(d >= 0 for d in static):
            return static, static, static
        shapes = engine.get_tensor_profile_shape(INPUT_NAME, 0)
        if shapes is None or len(shapes) != 3:
            raise ModelFormatError(
                path.name, expected="an optimization profile for input 'frame'", found="none",
                hint="rebuild the engine with `python -m build_engine build` (it always adds one)",
            )
        lo, opt, hi = (_shape(s) for s in shapes)
        return lo, opt, hi

    def _max_output_shapes(self) -> Dict[str, Tuple[int, ...]]:
        """Largest output shape over the profile's min/opt/max input shapes."""
        best: Dict[str, Tuple[int, ...]] = {}
        for shape in dict.fromkeys(self._profile):
            self._set_shape(shape, count=False)
            for name in self._outputs:
                out = _shape(self._context.get_tensor_shape(name))
                if any(d < 0 for d in out):
                    raise TensorRTError(
                        "output %r shape for input %s" % (name, shape), expected="a concrete shape", found=str(out)
                    )
                if name not in best or np.prod(out, dtype=np.int64) > np.prod(best[name], dtype=np.int64):
                    best[name] = out
        return best

    def _set_address(self, name: str, ptr: int) -> None:
        if not self._context.set_tensor_address(name, int(ptr)):
            raise TensorRTError(
                "set_tensor_address(%r)" % name, expected="True", found="False (%s)" % "; ".join(self._logger.drain())
            )

    def _set_shape(self, shape: Tuple[int, ...], count: bool = True) -> None:
        if not self._context.set_input_shape(INPUT_NAME, tuple(int(d) for d in shape)):
            raise FrameShapeError(
                "frame batch shape", expected="within the engine profile %s..%s" % (self._profile[0], self._profile[2]),
                found="%s (%s)" % (shape, "; ".join(self._logger.drain())),
                hint="resize the frame or rebuild the engine with a larger --max shape",
            )
        if count:
            self.set_input_shape_calls += 1

    # --- properties -------------------------------------------------------------------------------
    @property
    def sidecar(self) -> Any:
        """The engine's sidecar (:class:`fcn_trt.sidecar.EngineSidecar`)."""
        return self._sidecar

    @property
    def device_info(self) -> DeviceInfo:
        return self._device_info

    def _hw(self, shape: Tuple[int, ...]) -> Tuple[int, int]:
        if self._metadata.input_format == "nv12":
            return (shape[1] * 2 // 3, shape[2])
        return (shape[1], shape[2])

    @property
    def profile_shapes(self) -> Tuple[Tuple[int, ...], Tuple[int, ...], Tuple[int, ...]]:
        """The input profile's (min, opt, max) shapes of ``frame``."""
        return self._profile

    @property
    def execution_context(self) -> Any:
        """The TensorRT ``IExecutionContext`` (e.g. to attach an ``IProfiler``); owned by the backend.

        Do not change its shapes or tensor addresses: the backend sets them.
        """
        self._check_open()
        return self._context

    def profile_layers(self, frames: np.ndarray, runs: int, show_progress: bool = False) -> Any:
        """Per-layer times over ``runs`` runs (capability :class:`~fcn_trt.backends.base.LayerProfiled`)."""
        from ._trt_layers import profile_layers

        # a replayed CUDA graph reports no layer times: a second backend on the shared engine, graphs off
        with TensorRTBackend(self.path, device=self._device, cuda_graph=False) as plain:
            return profile_layers(self._trt, plain, frames, runs, show_progress)

    @property
    def last_stage_timings(self) -> Dict[str, float]:
        """CUDA-event times (ms) of the batch the last :meth:`result`/:meth:`infer` returned.

        Keys :data:`STAGE_KEYS`: ``h2d`` (pinned staging -> device copy), ``compute``
        (``execute_async_v3``, inside the replayed graph when CUDA graphs are on), ``d2h`` (all
        outputs). Whole batch, not per frame. Empty before the first result, or when the CUDA
        timing query failed (logged once).

        Example (needs a GPU)::

            >>> be.infer(frames); be.last_stage_timings                 # doctest: +SKIP
            {'h2d': 0.21, 'compute': 6.8, 'd2h': 0.05}
        """
        return dict(self._last_stage_timings)

    @property
    def cuda_graph_active(self) -> bool:
        """True when the last frame ran by replaying a captured CUDA graph."""
        return self._graph_active

    @property
    def cuda_graph_reason(self) -> str:
        """Why CUDA graphs are off ("" while they are enabled)."""
        return self._graph_reason

    def describe(self) -> Dict[str, str]:
        graph = "on" if self._use_graph else "off: " + self._graph_reason
        return {
            "backend": self.name,
            "version": str(getattr(self._trt, "__version__", "?")),
            "device": "%s (sm_%s)" % (self._device_info.name, self._device_info.compute_capability.replace(".", "")),
            "precision": str(getattr(self._sidecar.engine, "precision", self._metadata.precision)),
            "cuda_graph": graph,
        }

    # --- hot path ---------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise ClosedError(
                "TensorRTBackend used after close()", expected="an open backend", found="a closed one",
                hint="create a new Segmenter / TensorRTBackend",
            )

    def _check_frames(self, frames: np.ndarray) -> None:
        if not isinstance(frames, np.ndarray) or frames.dtype != np.uint8:
            found = str(frames.dtype) if isinstance(frames, np.ndarray) else type(frames).__name__
            raise FrameDtypeError("frames", expected="a uint8 numpy array", found=found)
        lo, _, hi = self._profile
        if frames.ndim != len(hi) or any(not a <= d <= b for a, d, b in zip(lo, frames.shape, hi)):
            raise FrameShapeError(
                "frame batch shape", expected="between %s and %s (the engine profile)" % (lo, hi),
                found=str(tuple(frames.shape)),
                hint="split the batch (max %d) / resize the frames, or rebuild the engine with a larger --max" % hi[0],
            )

    def submit(self, frames: np.ndarray) -> Ticket:
        """Queue one batch (uint8, ``[N,H,W,3]`` or nv12 ``[N,H*3/2,W]``); returns at once.

        At most two batches are in flight; submitting a third first completes the oldest (its
        outputs are kept for :meth:`result`).
        """
        with self._lock:
            self._check_open()
            self._check_frames(frames)
            set_device(self._device)
            while len(self._pending) >= SLOTS:  # every slot is in flight: complete the oldest
                self._park(self._pending.popleft())
            shape = tuple(int(d) for d in frames.shape)
            if shape != self._shape:
                for p in self._pending:  # never reshape the context under work in flight
                    self._finish(p)
                self._set_shape(shape)
                self._shape = shape
                self._out_shapes = {n: _shape(self._context.get_tensor_shape(n)) for n in self._outputs}
                self._drop_graphs()
            # a slot no batch in flight uses (results may have been taken out of order)
            busy = {p.ticket.slot for p in self._pending}
            slot = next(s for s in sorted(range(SLOTS), key=lambda s: (s - self._next_id) % SLOTS) if s not in busy)
            ticket = Ticket(self._next_id, slot, shape, id(self))
            self._next_id += 1
            # the slot's previous batch is complete (parked above): its staging may be overwritten
            np.copyto(self._h_in[slot].view(shape), frames, casting="no")
            self._enqueue(slot)
            self._pending.append(_Pending(ticket, dict(self._out_shapes)))
            return ticket

    def result(self, ticket: Ticket) -> Dict[str, np.ndarray]:
        """Wait for ``ticket``'s batch and return its outputs (arrays owned by the caller)."""
        with self._lock:
            self._check_open()
            for p in self._pending:
                if p.ticket == ticket:
                    self._finish(p)
                    self._pending.remove(p)
                    self._last_stage_timings = p.stage_timings
                    return p.outputs  # type: ignore[return-value]
            parked = self._parked.pop(getattr(ticket, "id", -1), None)
            if parked is not None and parked.ticket == ticket:
                self._last_stage_timings = parked.stage_timings
                return parked.outputs  # type: ignore[return-value]
            raise InputError(
                "ticket %d" % getattr(ticket, "id", -1), expected="a ticket from this backend's submit() not yet retrieved",
                found="an unknown or already retrieved ticket", hint="call result() once per submit()",
            )

    def infer(self, frames: np.ndarray) -> Dict[str, np.ndarray]:
        """Run one batch and wait for it (``submit`` + ``result``)."""
        return self.result(self.submit(frames))

    def _park(self, p: _Pending) -> None:
        """Complete ``p`` and keep its outputs until result() asks for them (bounded)."""
        self._finish(p)
        self._parked[p.ticket.id] = p
        while len(self._parked) > MAX_PARKED:
            oldest = min(self._parked)
            del self._parked[oldest]
            log.warning("dropped the outputs of ticket %d: result() was never called for it", oldest)

    def _finish(self, p: _Pending) -> None:
        if p.outputs is not None:
            return
        slot = p.ticket.slot
        self._done[slot].synchronize()
        p.outputs = {
            name: self._h_out[slot][name].view(p.out_shapes[name], dt).copy() for name, dt in self._outputs.items()
        }
        p.stage_timings = self._read_stage_timings(slot)

    def _read_stage_timings(self, slot: int) -> Dict[str, float]:
        """Elapsed times between the slot's stage events (its work has completed)."""
        if self._stage_timing_failed:
            return {}
        ev = self._stage_events[slot]
        try:
            return {key: ev[2 * i + 1].elapsed_ms(ev[2 * i]) for i, key in enumerate(STAGE_KEYS)}
        except CudaError as e:
            self._stage_timing_failed = True
            log.warning("CUDA-event stage timings unavailable, no longer measured: %s", e)
            return {}

    def _enqueue(self, slot: int) -> None:
        """Queue H2D (copy-in stream) -> compute (compute stream) -> D2H (copy-out stream) for ``slot``,
        ordered by the slot's events; compute replays a CUDA graph when possible."""
        ev = self._stage_events[slot]
        used = self._slot_used[slot]
        h2d, compute, d2h = self._h2d_stream, self._stream, self._d2h_stream
        # copy-in: d_in[slot] is free once the slot's previous compute has read it
        if used:
            h2d.wait_event(ev[3])
        ev[0].record(h2d)
        assert self._shape is not None  # submit() sets the shape before any enqueue
        self._d_in[slot].copy_from_host_async(self._h_in[slot], h2d, int(np.prod(self._shape, dtype=np.int64)))
        ev[1].record(h2d)
        # compute: after this slot's input copy, and after the previous D2H read this slot's outputs
        compute.wait_event(ev[1])
        if used:
            compute.wait_event(ev[5])
        self._compute(slot)
        # copy-out: after this slot's compute
        d2h.wait_event(ev[3])
        ev[4].record(d2h)
        for name, dt in self._outputs.items():
            nbytes = int(np.prod(self._out_shapes[name], dtype=np.int64)) * dt.itemsize
            if nbytes:
                self._d_out[slot][name].copy_to_host_async(self._h_out[slot][name], d2h, nbytes)
        ev[5].record(d2h)
        self._slot_used[slot] = True

    def _compute(self, slot: int) -> None:
        """``execute_async_v3`` on the compute stream between the slot's compute events: a replayed
        CUDA graph when one is captured for this slot and shape, else a plain enqueue."""
        graph = self._graphs.get(slot)
        if graph is not None:
            graph.launch()
            self._graph_active = True
            return
        self._graph_active = False
        if self._use_graph and slot in self._warm_slots:
            if self._capture(slot):
                self._graphs[slot].launch()
                self._graph_active = True
                return
        self._queue_compute(slot)
        self._warm_slots.add(slot)

    def _queue_compute(self, slot: int, capturing: bool = False) -> None:
        """Point the context at the slot's buffers and enqueue it (event nodes while capturing)."""
        ev = self._stage_events[slot]
        # addresses are read at enqueue (and baked into a captured graph): set them per slot
        self._set_address(INPUT_NAME, self._d_in[slot].ptr)
        for name, buf in self._d_out[slot].items():
            self._set_address(name, buf.ptr)
        ev[2].record(self._stream, external=capturing)
        if not self._context.execute_async_v3(self._stream.handle):
            raise TensorRTError(
                "execute_async_v3", expected="True", found="False (%s)" % ("; ".join(self._logger.drain()) or "no log message"),
                hint="run with logging at DEBUG for TensorRT's messages; rebuild the engine if it persists",
            )
        ev[3].record(self._stream, external=capturing)

    def _capture(self, slot: int) -> bool:
        graph = CudaGraph(self._stream)
        try:
            graph.begin()
            try:
                self._queue_compute(slot, capturing=True)
            except BaseException:
                graph.abort()
                raise
            graph.end()
        except (CudaError, TensorRTError) as e:
            graph.close()
            self._use_graph = False
            self._graph_reason = "capture failed: %s" % (e.found or e)
            self._logger.drain()
            log.info("CUDA graph capture failed, using plain enqueue: %s", self._graph_reason)
            return False
        self._graphs[slot] = graph
        return True

    def _drop_graphs(self) -> None:
        for g in self._graphs.values():
            g.close()
        self._graphs.clear()
        self._warm_slots.clear()
        self._graph_active = False

    # --- teardown ---------------------------------------------------------------------------------
    def close(self) -> None:
        """Wait for queued work, then free everything in reverse order. Idempotent."""
        lock = getattr(self, "_lock", None)
        if lock is None:
            self._release_all()
            return
        with lock:
            if self._closed:
                return
            self._closed = True
            for stream in (self._h2d_stream, self._stream, self._d2h_stream):
                try:
                    stream.synchronize()
                except Exception:  # a dead context must not stop the frees
                    log.debug("stream synchronize at close failed", exc_info=True)
            self._pending.clear()
            self._parked.clear()
            self._release_all()

    def _release_all(self) -> None:
        errors: List[BaseException] = []
        for g in list(getattr(self, "_graphs", {}).values()):
            try:
                g.close()
            except Exception as e:
                errors.append(e)
        if hasattr(self, "_graphs"):
            self._graphs.clear()
        # reverse acquisition order: pinned, device buffers, events, stream, then context, engine
        while self._teardown:
            res = self._teardown.pop()
            try:
                res.close()
            except Exception as e:
                errors.append(e)
        self._context = None
        self._engine = None
        if self._engine_key is not None:
            key, self._engine_key = self._engine_key, None
            _release_engine(key)
        if errors:
            log.warning("errors while closing the TensorRT backend: %s", "; ".join(str(e) for e in errors))

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            log.warning("TensorRTBackend(%s) was not closed; call close() or use `with`", getattr(self, "path", "?"))
