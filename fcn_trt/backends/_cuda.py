"""A small, checked layer over NVIDIA's cuda-python runtime API.

Everything here goes through the CUDA *runtime* API and therefore through the device's primary
context: there is no global context to push or pop, and every object works from any thread (the
layer calls ``cudaSetDevice`` where a thread may not have selected the device yet).

Every CUDA call's error code is checked; a failure raises :class:`~fcn_trt.errors.CudaError`
naming the CUDA error (``cudaErrorMemoryAllocation`` ...), or
:class:`~fcn_trt.errors.NoCudaDeviceError` when there is no usable driver or device.

cuda-python is imported lazily, through :func:`cuda_runtime` only (``cuda.bindings.runtime`` on
cuda-python >= 12.8 / 13.x, ``cuda.cudart`` on older 12.x), so ``import fcn_trt.backends._cuda`` works
without it.

Example (on a machine with a GPU)::

    >>> from fcn_trt.backends._cuda import DeviceBuffer, PinnedBuffer, Stream, cuda_device_info
    >>> cuda_device_info().compute_capability            # doctest: +SKIP
    '8.7'
    >>> with Stream() as s, PinnedBuffer((4,), "uint8") as h, DeviceBuffer(4) as d:  # doctest: +SKIP
    ...     h.array[:] = 7
    ...     d.copy_from_host_async(h, s)
    ...     h.array[:] = 0
    ...     d.copy_to_host_async(h, s)
    ...     s.synchronize()
    ...     h.array.tolist()
    [7, 7, 7, 7]
"""

from __future__ import annotations

import ctypes
import dataclasses
import logging
import threading
from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np

from .._util import Closeable
from ..errors import BackendUnavailableError, ClosedError, CudaError, NoCudaDeviceError

__all__ = [
    "DeviceInfo",
    "DeviceBuffer",
    "PinnedBuffer",
    "Stream",
    "Event",
    "CudaGraph",
    "cuda_runtime",
    "cuda_device_info",
    "cuda_device_count",
    "check_cuda",
    "set_device",
    "INSTALL_HINT",
    "cuda_python_version",
]

_log = logging.getLogger(__name__)

INSTALL_HINT = 'pip install "fcn-trt[tensorrt]" (installs tensorrt and cuda-python)'

#: CUDA errors that mean "no usable driver or device" rather than "this call failed".
_NO_DEVICE_ERRORS = frozenset(
    (
        "cudaErrorNoDevice",
        "cudaErrorInsufficientDriver",
        "cudaErrorStubLibrary",
        "cudaErrorDevicesUnavailable",
        "cudaErrorSystemDriverMismatch",
        "cudaErrorCompatNotSupportedOnDevice",
        "cudaErrorInitializationError",
        "cudaErrorSystemNotReady",
        "cudaErrorInvalidDevice",
    )
)

_NO_DEVICE_HINT = (
    "run on a machine with an NVIDIA GPU and a working driver (check `nvidia-smi`), "
    "or use the ONNX Runtime backend: Segmenter('model.onnx')"
)


def cuda_runtime() -> Any:
    """Return cuda-python's runtime API module (the ONE place that chooses the import).

    ``from cuda.bindings import runtime`` (cuda-python 12.8+ and 13.x) is preferred; cuda-python
    12.0-12.7 only has ``from cuda import cudart``, which is the same API.

    Raises:
        BackendUnavailableError: cuda-python is not installed.
    """
    try:
        from cuda.bindings import runtime  # type: ignore[import-not-found]

        return runtime
    except ImportError:
        pass
    try:
        from cuda import cudart  # type: ignore[import-not-found]

        return cudart
    except ImportError:
        raise BackendUnavailableError(
            "cuda-python (NVIDIA's CUDA Python bindings)",
            expected="the package `cuda-python` installed",
            found="neither cuda.bindings.runtime nor cuda.cudart importable",
            hint=INSTALL_HINT,
        ) from None


def _runtime_text(rt: Any, getter: str, err: Any) -> str:
    """What ``rt.<getter>(err)`` answers, as text ("" when it answers nothing or fails)."""
    try:
        res = getattr(rt, getter)(err)
        text = res[1] if isinstance(res, tuple) else res
        if isinstance(text, bytes):
            text = text.decode("ascii", "replace")
        return str(text or "")
    except Exception:  # pragma: no cover - only with a broken binding
        return ""


def _error_name(rt: Any, err: Any) -> str:
    """``cudaErrorXxx`` for an error code (falls back to the enum's own name or number)."""
    return _runtime_text(rt, "cudaGetErrorName", err) or str(getattr(err, "name", int(err)))


def _error_string(rt: Any, err: Any) -> str:
    return _runtime_text(rt, "cudaGetErrorString", err)


# Minimum Linux driver per CUDA major (CUDA Toolkit release notes, "CUDA Toolkit and Minimum Required
# Driver Version for CUDA Minor Version Compatibility": CUDA 12.x >= 525.60.13, CUDA 13.x >= 580).
# cuda-python 13.x ships a CUDA 13 runtime, so on a CUDA 12 driver (JetPack 6, driver 535/540)
# every call returns cudaErrorInsufficientDriver.
_MIN_DRIVER = {12: "525.60.13", 13: "580"}


def cuda_python_version() -> str:
    """Installed cuda-python release ("13.4.4"), "unknown" when it cannot be told."""
    import sys

    for module in ("cuda.bindings", "cuda"):
        version = getattr(sys.modules.get(module), "__version__", None)
        if version:
            return str(version)
    try:
        from importlib.metadata import PackageNotFoundError, version as dist_version
    except ImportError:  # pragma: no cover - Python < 3.8
        return "unknown"
    for dist in ("cuda-python", "cuda-bindings"):
        try:
            return dist_version(dist)
        except PackageNotFoundError:
            continue
    return "unknown"


def _cuda_version_text(v: int) -> str:
    return "%d.%d" % (v // 1000, (v % 1000) // 10)


def _version_call(rt: Any, name: str) -> int:
    """``cudaDriverGetVersion`` / ``cudaRuntimeGetVersion`` as an int (-1 when the call fails)."""
    try:
        res = getattr(rt, name)()
        err, value = (res[0], res[1]) if isinstance(res, tuple) else (res, None)
        return int(value) if int(err) == 0 and value is not None else -1
    except Exception:  # noqa: BLE001 - only used to explain another error
        return -1


def _insufficient_driver(rt: Any) -> Tuple[str, str]:
    """``(what was found, hint)`` for cudaErrorInsufficientDriver: the driver's CUDA version
    (``cudaDriverGetVersion``: 0 = no driver loaded), cuda-python's, and the pip line that fixes it."""
    driver = _version_call(rt, "cudaDriverGetVersion")
    runtime = _version_call(rt, "cudaRuntimeGetVersion")
    package = cuda_python_version()
    needs = "CUDA runtime %s" % _cuda_version_text(runtime) if runtime > 0 else "its CUDA runtime"
    rt_major = runtime // 1000 if runtime > 0 else None
    if rt_major is None:
        try:
            rt_major = int(package.split(".")[0])
        except ValueError:
            rt_major = None
    min_driver = _MIN_DRIVER.get(rt_major or 0)
    if min_driver:
        needs += ", which needs an NVIDIA driver >= %s" % min_driver
    pkg = "cuda-python %s (%s)" % (package, needs)
    if driver <= 0:
        found = "no NVIDIA driver is loaded (cudaDriverGetVersion returned %d); %s" % (driver, pkg)
        return found, _NO_DEVICE_HINT
    drv_major = driver // 1000
    found = "the driver supports CUDA %s (cudaDriverGetVersion returned %d); %s" % (
        _cuda_version_text(driver), driver, pkg)
    if rt_major is not None and drv_major < rt_major:
        hint = ('install the cuda-python that matches the driver: pip install "cuda-python>=%d,<%d" '
                '(or pip install "fcn-trt[cuda%d]"), or upgrade the NVIDIA driver%s'
                % (drv_major, drv_major + 1, drv_major, " to >= %s" % min_driver if min_driver else ""))
    else:
        hint = ('upgrade the NVIDIA driver to one that supports CUDA %s, or install an older cuda-python: '
                'pip install "cuda-python>=%d,<%s"' % (_cuda_version_text(runtime) if runtime > 0 else package,
                                                      drv_major, package))
    return found, hint


def check_cuda(result: Any, call: str, rt: Optional[Any] = None) -> Any:
    """Check a cuda-python return value ``(err, *values)`` and return the values.

    Returns ``None`` for no value, the value itself for one, a tuple for several.

    Raises:
        NoCudaDeviceError: the error means no usable driver/device.
        CudaError: any other error; the message names the CUDA error.
    """
    if rt is None:
        rt = cuda_runtime()
    if isinstance(result, tuple):
        err, values = result[0], result[1:]
    else:
        err, values = result, ()
    if int(err) != 0:
        name = _error_name(rt, err)
        desc = _error_string(rt, err)
        found = name + (" (%s)" % desc if desc else "")
        if name == "cudaErrorInsufficientDriver":
            detail, hint = _insufficient_driver(rt)
            raise NoCudaDeviceError(
                "no usable CUDA device (%s failed)" % call,
                expected="a CUDA driver at least as new as cuda-python's CUDA runtime",
                found="%s: %s" % (found, detail),
                hint=hint,
            )
        if name in _NO_DEVICE_ERRORS:
            raise NoCudaDeviceError(
                "no usable CUDA device (%s failed)" % call,
                expected="a usable CUDA driver and device",
                found=found,
                hint=_NO_DEVICE_HINT,
            )
        raise CudaError("CUDA %s" % call, expected="cudaSuccess", found=found)
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return values


def set_device(device: int = 0, rt: Optional[Any] = None) -> None:
    """Make ``device`` current for the calling thread (its primary context)."""
    rt = rt or cuda_runtime()
    check_cuda(rt.cudaSetDevice(int(device)), "cudaSetDevice(%d)" % device, rt)


def cuda_device_count() -> int:
    """Number of CUDA devices; 0 when there is no driver or device. Raises only without cuda-python."""
    rt = cuda_runtime()
    try:
        return int(check_cuda(rt.cudaGetDeviceCount(), "cudaGetDeviceCount", rt))
    except NoCudaDeviceError:
        return 0


@dataclasses.dataclass(frozen=True)
class DeviceInfo:
    """One CUDA device: ``name``, ``compute_capability`` ("8.7"), ``total_memory`` in bytes."""

    index: int
    name: str
    compute_capability: str
    total_memory: int

    @property
    def sm(self) -> str:
        """``"sm_87"`` form of the compute capability."""
        return "sm_" + self.compute_capability.replace(".", "")


def cuda_device_info(device: int = 0) -> DeviceInfo:
    """Describe CUDA device ``device``.

    Raises:
        BackendUnavailableError: cuda-python is not installed (hint: ``pip install "fcn-trt[tensorrt]"``).
        NoCudaDeviceError: no driver, no device, or ``device`` out of range.

    Example:
        >>> cuda_device_info(0)                      # doctest: +SKIP
        DeviceInfo(index=0, name='Orin', compute_capability='8.7', total_memory=...)
    """
    rt = cuda_runtime()
    count = int(check_cuda(rt.cudaGetDeviceCount(), "cudaGetDeviceCount", rt))
    if count <= 0 or not 0 <= int(device) < count:
        raise NoCudaDeviceError(
            "CUDA device %d" % device,
            expected="a device index below the device count",
            found="%d CUDA device(s)" % count,
            hint=_NO_DEVICE_HINT if count == 0 else "pass device=0..%d" % (count - 1),
        )
    prop = check_cuda(rt.cudaGetDeviceProperties(int(device)), "cudaGetDeviceProperties(%d)" % device, rt)
    raw = prop.name
    if isinstance(raw, (bytes, bytearray)):
        name = bytes(raw).split(b"\0", 1)[0].decode("utf-8", "replace")
    else:
        name = str(raw)
    return DeviceInfo(
        index=int(device),
        name=name.strip(),
        compute_capability="%d.%d" % (int(prop.major), int(prop.minor)),
        total_memory=int(prop.totalGlobalMem),
    )


class _Resource(Closeable):
    """Shared lifetime logic: idempotent close, context manager, use-after-close -> ClosedError."""

    _kind = "CUDA resource"

    def __init__(self) -> None:
        self._rt = cuda_runtime()
        self._closed = True  # set to False by subclasses once the resource is acquired
        self._lock = threading.Lock()
        self._handle: Any = None  # what the subclass acquired: a cuda-python object or an address

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def raw(self) -> Any:
        """The acquired CUDA handle: ``cudaStream_t``, ``cudaEvent_t``, a buffer's address (a CudaGraph: None)."""
        self._check_open()
        return self._handle

    def _check_open(self) -> None:
        if self._closed:
            raise ClosedError(
                "%s used after close()" % self._kind,
                expected="an open object",
                found="a closed one",
                hint="create a new one; close() releases it for good",
            )

    def _release(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def close(self) -> None:
        """Release the resource. Idempotent; safe from any thread."""
        if self._first_close():
            self._release()

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            _log.warning("%s was not closed; call close() or use it in a `with` block", self._kind)


class Stream(_Resource):
    """A CUDA stream (non-blocking with respect to the legacy default stream).

    ``raw`` is the cuda-python ``cudaStream_t`` object; ``handle`` is the integer TensorRT's
    ``execute_async_v3(stream_handle)`` takes.
    """

    _kind = "CUDA stream"

    def __init__(self, device: int = 0) -> None:
        super().__init__()
        self.device = int(device)
        set_device(self.device, self._rt)
        flags = int(getattr(self._rt, "cudaStreamNonBlocking", 1))
        self._handle = check_cuda(self._rt.cudaStreamCreateWithFlags(flags), "cudaStreamCreateWithFlags", self._rt)
        self._closed = False

    @property
    def handle(self) -> int:
        return int(self.raw)

    def synchronize(self) -> None:
        """Block until all work queued on the stream is done."""
        check_cuda(self._rt.cudaStreamSynchronize(self.raw), "cudaStreamSynchronize", self._rt)

    def wait_event(self, event: "Event") -> None:
        """Make later work on this stream wait for ``event``."""
        check_cuda(self._rt.cudaStreamWaitEvent(self.raw, event.raw, 0), "cudaStreamWaitEvent", self._rt)

    def _release(self) -> None:
        check_cuda(self._rt.cudaStreamDestroy(self._handle), "cudaStreamDestroy", self._rt)


class Event(_Resource):
    """A CUDA event. ``timing=False`` (default) makes record/query cheapest."""

    _kind = "CUDA event"

    def __init__(self, timing: bool = False) -> None:
        super().__init__()
        flags = 0 if timing else int(getattr(self._rt, "cudaEventDisableTiming", 2))
        self.timing = bool(timing)
        self._handle = check_cuda(self._rt.cudaEventCreateWithFlags(flags), "cudaEventCreateWithFlags", self._rt)
        self._closed = False

    def record(self, stream: Stream, external: bool = False) -> None:
        """Record the event on ``stream`` (it completes when the work queued before it does).

        ``external=True`` while ``stream`` is being captured into a :class:`CudaGraph` makes the
        record an event node of the graph (``cudaEventRecordExternal``): each replay records the
        event again, so it can be timed and waited on from outside the graph. Without it a record
        during capture is only a dependency marker inside the capture.
        """
        event = self.raw
        if external:
            flags = int(getattr(self._rt, "cudaEventRecordExternal", 1))
            check_cuda(self._rt.cudaEventRecordWithFlags(event, stream.raw, flags), "cudaEventRecordWithFlags", self._rt)
        else:
            check_cuda(self._rt.cudaEventRecord(event, stream.raw), "cudaEventRecord", self._rt)

    def synchronize(self) -> None:
        """Block until the event has completed."""
        check_cuda(self._rt.cudaEventSynchronize(self.raw), "cudaEventSynchronize", self._rt)

    def query(self) -> bool:
        """True when the event has completed, False while work before it is pending."""
        res = self._rt.cudaEventQuery(self.raw)
        err = res[0] if isinstance(res, tuple) else res
        if int(err) == int(self._rt.cudaError_t.cudaErrorNotReady):
            return False
        check_cuda(res, "cudaEventQuery", self._rt)
        return True

    def elapsed_ms(self, start: "Event") -> float:
        """Milliseconds between ``start`` and this event (both created with ``timing=True``)."""
        end = self.raw
        return float(check_cuda(self._rt.cudaEventElapsedTime(start.raw, end), "cudaEventElapsedTime", self._rt))

    def _release(self) -> None:
        check_cuda(self._rt.cudaEventDestroy(self._handle), "cudaEventDestroy", self._rt)


class DeviceBuffer(_Resource):
    """``nbytes`` of device memory (``cudaMalloc``), freed exactly once by :meth:`close`.

    ``ptr`` is the integer device address TensorRT's ``set_tensor_address`` takes.
    """

    _kind = "CUDA device buffer"

    def __init__(self, nbytes: int, device: int = 0) -> None:
        super().__init__()
        if int(nbytes) <= 0:
            raise CudaError("cudaMalloc", expected="a positive byte count", found=str(nbytes))
        self.nbytes = int(nbytes)
        self.device = int(device)
        set_device(self.device, self._rt)
        self._handle = int(check_cuda(self._rt.cudaMalloc(self.nbytes), "cudaMalloc(%d bytes)" % self.nbytes, self._rt))
        self._closed = False

    @property
    def ptr(self) -> int:
        return int(self.raw)

    def copy_from_host_async(self, host: "PinnedBuffer", stream: Stream, nbytes: Optional[int] = None) -> None:
        """Queue a host-to-device copy of ``nbytes`` (default: all of ``host``) on ``stream``."""
        self._copy(host, stream, nbytes, "HostToDevice")

    def copy_to_host_async(self, host: "PinnedBuffer", stream: Stream, nbytes: Optional[int] = None) -> None:
        """Queue a device-to-host copy of ``nbytes`` (default: all of ``host``) on ``stream``."""
        self._copy(host, stream, nbytes, "DeviceToHost")

    def _copy(self, host: "PinnedBuffer", stream: Stream, nbytes: Optional[int], direction: str) -> None:
        n = host.nbytes if nbytes is None else int(nbytes)
        limit = min(self.nbytes, host.nbytes)
        if not 0 < n <= limit:
            raise CudaError("cudaMemcpyAsync size", expected="1..%d bytes" % limit, found="%d bytes" % n)
        dst, src = (self.ptr, host.ptr) if direction == "HostToDevice" else (host.ptr, self.ptr)
        kind = getattr(self._rt.cudaMemcpyKind, "cudaMemcpy" + direction)
        check_cuda(self._rt.cudaMemcpyAsync(dst, src, n, kind, stream.raw), "cudaMemcpyAsync(%s)" % direction, self._rt)

    def _release(self) -> None:
        check_cuda(self._rt.cudaFree(self._handle), "cudaFree", self._rt)


_NpShape = Union[int, Sequence[int]]


class PinnedBuffer(_Resource):
    """Page-locked host memory (``cudaMallocHost``) exposed as a numpy array (:attr:`array`).

    Copies between pinned memory and the device are truly asynchronous; copies from ordinary
    (pageable) numpy arrays are not.
    """

    _kind = "CUDA pinned host buffer"

    def __init__(self, shape: _NpShape, dtype: Any = np.uint8) -> None:
        super().__init__()
        self.dtype = np.dtype(dtype)
        self.shape: Tuple[int, ...] = ((int(shape),) if isinstance(shape, (int, np.integer))
                                       else tuple(int(s) for s in shape))
        self.nbytes = int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize
        if self.nbytes <= 0:
            raise CudaError("cudaMallocHost", expected="a positive byte count", found=str(self.nbytes))
        self._handle = int(check_cuda(self._rt.cudaMallocHost(self.nbytes), "cudaMallocHost(%d bytes)" % self.nbytes,
                                      self._rt))
        raw = (ctypes.c_ubyte * self.nbytes).from_address(self._handle)
        self._array: Optional[np.ndarray] = np.frombuffer(raw, dtype=self.dtype).reshape(self.shape)
        self._closed = False

    @property
    def ptr(self) -> int:
        return int(self.raw)

    @property
    def array(self) -> np.ndarray:
        """The whole buffer as a numpy array (a view: valid only until close())."""
        self._check_open()
        assert self._array is not None
        return self._array

    def view(self, shape: Sequence[int], dtype: Any = None) -> np.ndarray:
        """A view of the buffer's first bytes as an array of ``shape`` (and ``dtype``)."""
        self._check_open()
        dt = self.dtype if dtype is None else np.dtype(dtype)
        n = int(np.prod(tuple(shape), dtype=np.int64)) * dt.itemsize
        if n > self.nbytes:
            raise CudaError(
                "pinned buffer view", expected="at most %d bytes" % self.nbytes, found="%d bytes for %s" % (n, tuple(shape))
            )
        flat = self.array.reshape(-1).view(np.uint8)[:n]
        return flat.view(dt).reshape(tuple(shape))

    def _release(self) -> None:
        self._array = None
        check_cuda(self._rt.cudaFreeHost(self._handle), "cudaFreeHost", self._rt)


class CudaGraph(_Resource):
    """Capture work queued on a stream into an executable CUDA graph, then replay it.

    Usage::

        g = CudaGraph(stream)
        g.begin()                 # cudaStreamBeginCapture (thread-local mode)
        ...queue copies / enqueue on stream...
        g.end()                   # cudaStreamEndCapture + cudaGraphInstantiate
        g.launch()                # cudaGraphLaunch; replays the captured work
    """

    _kind = "CUDA graph"

    def __init__(self, stream: Stream) -> None:
        super().__init__()
        self._stream = stream
        self._graph: Any = None
        self._exec: Any = None
        self._capturing = False
        self._closed = False

    @property
    def ready(self) -> bool:
        return self._exec is not None and not self._closed

    def begin(self) -> None:
        self._check_open()
        mode = self._rt.cudaStreamCaptureMode.cudaStreamCaptureModeThreadLocal
        check_cuda(self._rt.cudaStreamBeginCapture(self._stream.raw, mode), "cudaStreamBeginCapture", self._rt)
        self._capturing = True

    def end(self) -> None:
        """End the capture and instantiate the graph (a failed capture still leaves capture mode)."""
        self._check_open()
        self._capturing = False
        self._graph = check_cuda(self._rt.cudaStreamEndCapture(self._stream.raw), "cudaStreamEndCapture", self._rt)
        self._exec = check_cuda(self._rt.cudaGraphInstantiate(self._graph, 0), "cudaGraphInstantiate", self._rt)

    def abort(self) -> None:
        """Leave capture mode after a failure, discarding what was captured. Never raises."""
        if self._capturing:
            self._capturing = False
            try:
                res = self._rt.cudaStreamEndCapture(self._stream.raw)
                if isinstance(res, tuple) and int(res[0]) == 0 and len(res) > 1 and res[1] is not None:
                    self._rt.cudaGraphDestroy(res[1])
            except Exception:  # pragma: no cover - best effort
                _log.debug("cudaStreamEndCapture after a failed capture raised", exc_info=True)

    def launch(self) -> None:
        self._check_open()
        if self._exec is None:
            raise CudaError("cudaGraphLaunch", expected="an instantiated graph", found="none (call begin/end first)")
        check_cuda(self._rt.cudaGraphLaunch(self._exec, self._stream.raw), "cudaGraphLaunch", self._rt)

    def _release(self) -> None:
        self.abort()
        errors = []
        if self._exec is not None:
            errors.append(self._rt.cudaGraphExecDestroy(self._exec))
            self._exec = None
        if self._graph is not None:
            errors.append(self._rt.cudaGraphDestroy(self._graph))
            self._graph = None
        for res in errors:
            check_cuda(res, "cudaGraph destroy", self._rt)
