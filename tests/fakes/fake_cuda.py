"""A strict fake of cuda-python's runtime API module (``cuda.bindings.runtime`` / ``cuda.cudart``).

This module *is* the fake: the fixture ``fake_cuda`` (tests/fakes/fixtures_cuda.py) installs it
into ``sys.modules`` as ``cuda.bindings.runtime`` and ``cuda.cudart``.

Rules it keeps (a test checks them against the real cuda-python):

* every public ``cuda*`` name it exposes exists in the real module, and its enum members exist with
  the same integer values; test-only helpers are listed in :data:`FAKE_ONLY`;
* every function returns a tuple ``(cudaError_t, *values)`` like the real bindings;
* memory is real bytes. Device memory lives in :data:`DEVICE_MEMORY` under fake addresses (which
  are never valid host addresses: code that dereferences a device pointer on the host crashes in
  the fake as it would on a GPU). Pinned host memory (``cudaMallocHost``/``cudaHostAlloc``) lives
  in :data:`HOST_MEMORY`; its pointers are the real addresses of numpy buffers, so
  ``ctypes.from_address`` views work exactly as on a real machine;
* streams, events and graphs are tracked objects; use after destroy is an error;
* asynchronous work is LAZY: it is queued per stream and runs, in stream order, only when the
  host waits for it (``cudaStreamSynchronize``, ``cudaEventSynchronize``/``Query``,
  ``cudaDeviceSynchronize``, a free, a stream destroy). A wait for an event recorded on another
  stream (``cudaStreamWaitEvent``) runs that stream up to the record first. So a host that reads
  pinned memory before synchronising sees stale bytes, and a host write to staging memory a queued
  copy has not read yet changes what the copy takes, as on a GPU;
* stream order is checked: every queued copy or kernel carries the byte ranges it reads and writes
  and a vector clock (stream order + event waits + what the host has synchronised). An access that
  conflicts with another stream's access (at least one a write) that nothing orders raises
  :class:`StreamOrderError` when it is queued: a missing ``cudaStreamWaitEvent``, or a buffer
  reused while another stream may still read it, fails the test that does it;
* work queued on a stream that is being captured is recorded into the graph instead and runs at
  each ``cudaGraphLaunch``. Other fakes (the TensorRT fake) queue their device work with
  :func:`run_on_stream` so that it is captured, ordered and checked too;
* :data:`STATE` configures the machine (device count, name, compute capability, whether stream
  capture is supported) and injects failures (``STATE.fail_next["cudaMalloc"] = 2``);
* a simulated GPU clock per stream advances as its work runs: a copy costs ``copy_latency_ms`` +
  bytes / ``copy_bytes_per_ms``, other work (a TensorRT enqueue) ``kernel_ms``; a wait moves the
  stream's clock to the awaited record's time; streams otherwise run side by side (copy engines
  and SMs are not modelled as shared). ``STATE.gpu_clock_ms`` is the latest time any stream
  reached. Timing events stamp their stream's clock when they run, so ``cudaEventElapsedTime``
  gives plausible, deterministic milliseconds, also for events recorded inside a graph
  (``cudaEventRecordExternal``). As on a GPU,
  an event recorded *without* that flag during capture is a capture-internal dependency marker,
  not a node: it cannot be timed or synchronised afterwards (``cudaErrorInvalidValue``).
"""

import enum as _enum
import threading as _threading
from collections import deque as _deque
from typing import Any as _Any
from typing import Callable as _Callable
from typing import Deque as _Deque
from typing import Dict as _Dict
from typing import List as _List
from typing import Optional as _Optional
from typing import Tuple as _Tuple

import numpy as _np

#: Public names of this module that are NOT part of the real cuda-python API (test helpers).
FAKE_ONLY = ("FAKE_ONLY", "DEVICE_MEMORY", "HOST_MEMORY", "STATE", "reset", "run_on_stream", "live_objects",
             "pending_ops", "StreamOrderError")


# --- enums (values as in cuda-python 13.x; a test compares them with the real module) -------------
class cudaError_t(_enum.IntEnum):
    cudaSuccess = 0
    cudaErrorInvalidValue = 1
    cudaErrorMemoryAllocation = 2
    cudaErrorInitializationError = 3
    cudaErrorInvalidDevicePointer = 17
    cudaErrorInsufficientDriver = 35
    cudaErrorNoDevice = 100
    cudaErrorInvalidDevice = 101
    cudaErrorInvalidResourceHandle = 400
    cudaErrorIllegalState = 401
    cudaErrorNotReady = 600
    cudaErrorStreamCaptureUnsupported = 900
    cudaErrorStreamCaptureInvalidated = 901
    cudaErrorStreamCaptureIsolation = 905
    cudaErrorStreamCaptureImplicit = 906
    cudaErrorStreamCaptureWrongThread = 908


class cudaMemcpyKind(_enum.IntEnum):
    cudaMemcpyHostToHost = 0
    cudaMemcpyHostToDevice = 1
    cudaMemcpyDeviceToHost = 2
    cudaMemcpyDeviceToDevice = 3
    cudaMemcpyDefault = 4


class cudaStreamCaptureMode(_enum.IntEnum):
    cudaStreamCaptureModeGlobal = 0
    cudaStreamCaptureModeThreadLocal = 1
    cudaStreamCaptureModeRelaxed = 2


class cudaStreamCaptureStatus(_enum.IntEnum):
    cudaStreamCaptureStatusNone = 0
    cudaStreamCaptureStatusActive = 1
    cudaStreamCaptureStatusInvalidated = 2


cudaStreamDefault = 0
cudaStreamNonBlocking = 1
cudaEventDefault = 0
cudaEventBlockingSync = 1
cudaEventDisableTiming = 2
cudaEventRecordDefault = 0
cudaEventRecordExternal = 1
cudaHostAllocDefault = 0

_ERROR_STRINGS = {
    cudaError_t.cudaSuccess: "no error",
    cudaError_t.cudaErrorInvalidValue: "invalid argument",
    cudaError_t.cudaErrorMemoryAllocation: "out of memory",
    cudaError_t.cudaErrorInitializationError: "initialization error",
    cudaError_t.cudaErrorInvalidDevicePointer: "invalid device pointer",
    cudaError_t.cudaErrorInsufficientDriver: "CUDA driver version is insufficient for CUDA runtime version",
    cudaError_t.cudaErrorNoDevice: "no CUDA-capable device is detected",
    cudaError_t.cudaErrorInvalidDevice: "invalid device ordinal",
    cudaError_t.cudaErrorInvalidResourceHandle: "invalid resource handle",
    cudaError_t.cudaErrorIllegalState: "the operation cannot be performed in the present state",
    cudaError_t.cudaErrorNotReady: "device not ready",
    cudaError_t.cudaErrorStreamCaptureUnsupported: "operation not permitted when stream is capturing",
    cudaError_t.cudaErrorStreamCaptureInvalidated: "operation failed due to a previous error during capture",
    cudaError_t.cudaErrorStreamCaptureIsolation: "operation would have resulted in a merge of a capture sequence with an event outside it",
    cudaError_t.cudaErrorStreamCaptureImplicit: "operation would make the legacy stream depend on a capturing blocking stream",
    cudaError_t.cudaErrorStreamCaptureWrongThread: "attempt to terminate a thread-local capture sequence from another thread",
}

_OK = cudaError_t.cudaSuccess


# --- state ----------------------------------------------------------------------------------------
class _State:
    """The fake machine. Tests change fields directly; :func:`reset` restores the defaults."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.device_count = 1
        #: error returned by every call when set (e.g. cudaErrorInsufficientDriver: no driver)
        self.driver_error: _Optional[cudaError_t] = None
        #: what cudaDriverGetVersion reports (None: 13000, or 0 while ``driver_error`` is set, i.e.
        #: no driver loaded) and what cudaRuntimeGetVersion reports (cuda-python 13.0's runtime)
        self.driver_version: _Optional[int] = None
        self.runtime_version = 13000
        self.device_name = "Fake Orin"
        self.compute_capability = (8, 7)
        self.total_memory = 8 * 1024**3
        self.capture_supported = False
        self.fail_next: _Dict[str, int] = {}
        self.current_device = 0
        self.calls: _Dict[str, int] = {}
        self.memcpy_bytes: _Dict[str, int] = {"h2d": 0, "d2h": 0, "d2d": 0, "h2h": 0}
        self.graph_launches = 0
        #: simulated GPU clock (ms) and the costs that advance it
        self.gpu_clock_ms = 0.0
        self.kernel_ms = 0.5
        self.copy_latency_ms = 0.005
        self.copy_bytes_per_ms = 12e6  # 12 GB/s, a PCIe 3.0 x16 link


STATE = _State()
_LOCK = _threading.RLock()


class _Memory:
    """Tracked allocations: ``ptr -> uint8 numpy buffer``."""

    def __init__(self, kind: str, base: _Optional[int]) -> None:
        self.kind = kind
        self._base = base  # None: real host addresses
        self._next = base or 0
        self._allocs: _Dict[int, _np.ndarray] = {}
        self.allocation_count = 0
        self.free_count = 0
        self.bytes_allocated = 0

    def alloc(self, nbytes: int) -> int:
        nbytes = int(nbytes)
        with _LOCK:
            buf = _np.zeros(max(nbytes, 1), dtype=_np.uint8)
            if self._base is None:
                ptr = int(buf.ctypes.data)
            else:
                ptr = self._next
                self._next += ((nbytes + 255) // 256) * 256 + 4096  # aligned, with a guard gap
            self._allocs[ptr] = buf[:nbytes] if nbytes else buf[:0]
            self.allocation_count += 1
            self.bytes_allocated += nbytes
            return ptr

    def free(self, ptr: int) -> None:
        with _LOCK:
            if int(ptr) not in self._allocs:
                raise KeyError("%s pointer 0x%x was not allocated (or was already freed)" % (self.kind, int(ptr)))
            del self._allocs[int(ptr)]
            self.free_count += 1

    def find(self, ptr: int, nbytes: int = 1) -> _Optional[_Tuple[int, _np.ndarray]]:
        """The allocation ``(base, buffer)`` containing ``[ptr, ptr+nbytes)``, or None."""
        ptr = int(ptr)
        with _LOCK:
            for base, buf in self._allocs.items():
                if base <= ptr and ptr + nbytes <= base + buf.size:
                    return base, buf
        return None

    def owns(self, ptr: int) -> bool:
        return self.find(ptr, 0) is not None or self.find(ptr, 1) is not None

    def available(self, ptr: int) -> int:
        """Bytes from ``ptr`` to the end of its allocation (0 when ``ptr`` is not inside one)."""
        hit = self.find(ptr, 1)
        return 0 if hit is None else hit[0] + hit[1].size - int(ptr)

    def view(self, ptr: int, nbytes: int) -> _np.ndarray:
        """A writable uint8 view of ``nbytes`` at ``ptr`` (which may point inside an allocation).

        Raises ValueError when the range is not inside one live allocation.
        """
        hit = self.find(ptr, int(nbytes))
        if hit is None:
            raise ValueError(
                "%s range [0x%x, +%d) is not inside a live allocation (live: %s)"
                % (self.kind, int(ptr), int(nbytes), {hex(k): v.size for k, v in self._allocs.items()})
            )
        base, buf = hit
        off = int(ptr) - base
        return buf[off : off + int(nbytes)]

    def live_allocations(self) -> _Dict[int, int]:
        """``{ptr: nbytes}`` of allocations not freed yet."""
        with _LOCK:
            return {p: b.size for p, b in self._allocs.items()}

    def reset(self) -> None:
        with _LOCK:
            self._allocs.clear()
            self._next = self._base or 0
            self.allocation_count = 0
            self.free_count = 0
            self.bytes_allocated = 0


#: Device memory (fake addresses from 0x3000_0000_0000).
DEVICE_MEMORY = _Memory("device", 0x3000_0000_0000)
#: Pinned host memory (real numpy addresses).
HOST_MEMORY = _Memory("pinned host", None)


# --- handles --------------------------------------------------------------------------------------
class _Handle:
    _counter = 0x1000

    def __init__(self, init_value: _Any = 0) -> None:
        if init_value:
            self._value = int(init_value)
        else:
            _Handle._counter += 0x10
            self._value = _Handle._counter

    def __int__(self) -> int:
        return self._value

    def __index__(self) -> int:
        return self._value

    def getPtr(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        return "<%s 0x%x>" % (type(self).__name__, self._value)


class cudaStream_t(_Handle):
    pass


class cudaEvent_t(_Handle):
    pass


class cudaGraph_t(_Handle):
    pass


class cudaGraphExec_t(_Handle):
    pass


class cudaDeviceProp:
    def __init__(self) -> None:
        self.name = b""
        self.major = 0
        self.minor = 0
        self.totalGlobalMem = 0


class StreamOrderError(AssertionError):
    """Two accesses to the same bytes (device memory, or pinned memory a copy reads/writes) from
    different streams, at least one a write, with no event wait or host synchronisation ordering
    them: a data race on a real GPU. Raised by the call that queues the second access."""


class _Op:
    """Work queued on a stream. It runs only when the host waits for it (or for something after it):
    a stream synchronise, an event synchronise/query, a free, a device synchronise."""

    def __init__(self, label: str, fn: _Optional[_Callable[[], None]] = None, cost: float = 0.0,
                 accesses: _Any = ()) -> None:
        self.label = label
        self.fn = fn
        self.cost = float(cost)
        #: (mode "r"/"w", lo, hi) byte ranges the op touches
        self.accesses: _List[_Tuple[str, int, int]] = [a for a in accesses if isinstance(a[1], int) and a[2] > a[1]]
        self.done = False
        self.stream: _Optional["_StreamState"] = None
        self.seq = 0
        self.vc: _Dict[int, int] = {}
        self.time = 0.0

    def run(self, st: "_StreamState") -> None:
        if self.fn is not None:
            self.fn()
        st.clock += self.cost
        self.time = st.clock


class _RecordOp(_Op):
    def __init__(self, ev: _Dict[str, _Any]) -> None:
        super().__init__("cudaEventRecord")
        self.ev = ev

    def run(self, st: "_StreamState") -> None:
        self.ev["recorded"] += 1
        self.ev["capture_internal"] = False
        self.ev["time"] = st.clock
        self.time = st.clock


class _WaitOp(_Op):
    def __init__(self, record: _Op) -> None:
        super().__init__("cudaStreamWaitEvent")
        self.record = record

    def run(self, st: "_StreamState") -> None:
        _complete(self.record)  # may run another stream up to the record
        st.clock = max(st.clock, self.record.time)
        self.time = st.clock


class _GraphOp(_Op):
    def __init__(self, ops: _List[_Op]) -> None:
        super().__init__("cudaGraphLaunch", accesses=[a for op in ops for a in op.accesses])
        self.ops = ops

    def run(self, st: "_StreamState") -> None:
        for op in self.ops:
            op.run(st)
        STATE.graph_launches += 1
        self.time = st.clock


class _StreamState:
    def __init__(self, handle: int, flags: int) -> None:
        self.handle = handle
        self.flags = flags
        self.queue: _Deque[_Op] = _deque()
        self.capture: _Optional[_List[_Op]] = None
        self.capture_invalid = False
        self.capture_thread: _Optional[int] = None
        self.ops = 0
        self.clock = 0.0  # this stream's simulated GPU time (ms)
        self.seq = 0  # ops queued so far
        self.vc: _Dict[int, int] = {}  # vector clock: {stream handle: last op of it ordered before}


_STREAMS: _Dict[int, _StreamState] = {}
_EVENTS: _Dict[int, _Dict[str, _Any]] = {}
_GRAPHS: _Dict[int, _List[_Op]] = {}
_GRAPH_EXECS: _Dict[int, _List[_Op]] = {}
_LEGACY = _StreamState(0, 0)  # the legacy default stream: runs at once
#: what the host has seen complete (stream/event synchronise): everything queued later is ordered after it
_HOST_VC: _Dict[int, int] = {}
#: recent accesses not yet known complete by the host: (mode "r"/"w", lo, hi, stream, seq, label)
_ACCESSES: _List[_Tuple[str, int, int, int, int, str]] = []


def live_objects() -> _Dict[str, int]:
    """Counts of streams, events, graphs and graph execs not destroyed yet."""
    return {"streams": len(_STREAMS), "events": len(_EVENTS), "graphs": len(_GRAPHS), "graph_execs": len(_GRAPH_EXECS)}


def pending_ops() -> int:
    """Ops queued on streams that have not run yet (the fake runs work only when the host waits)."""
    with _LOCK:
        return sum(len(s.queue) for s in _STREAMS.values())


def reset() -> None:
    """Forget every allocation and object and restore the default machine."""
    global _LEGACY
    with _LOCK:
        STATE.reset()
        DEVICE_MEMORY.reset()
        HOST_MEMORY.reset()
        _STREAMS.clear()
        _EVENTS.clear()
        _GRAPHS.clear()
        _GRAPH_EXECS.clear()
        _HOST_VC.clear()
        del _ACCESSES[:]
        _LEGACY = _StreamState(0, 0)


# --- call plumbing --------------------------------------------------------------------------------
def _enter(name: str) -> _Optional[cudaError_t]:
    """Count the call; return an injected or driver error, if any."""
    STATE.calls[name] = STATE.calls.get(name, 0) + 1
    if STATE.driver_error is not None:
        return cudaError_t(STATE.driver_error)
    if name in STATE.fail_next:
        return cudaError_t(STATE.fail_next.pop(name))
    return None


def _any_capturing() -> bool:
    return any(s.capture is not None for s in _STREAMS.values())


def _stream_state(stream: _Any) -> _Optional[_StreamState]:
    """The stream's state; None for the legacy default stream. Raises KeyError for a dead handle."""
    if stream is None:
        return None
    if not isinstance(stream, (cudaStream_t, int)):
        raise TypeError("Argument 'stream' is not instance of type (expected int, or cudaStream_t, found %s)" % type(stream).__name__)
    handle = int(stream)
    if handle == 0:
        return None
    return _STREAMS[handle]


def _merge(a: _Dict[int, int], b: _Dict[int, int]) -> _Dict[int, int]:
    out = dict(a)
    for k, v in b.items():
        if out.get(k, 0) < v:
            out[k] = v
    return out


def _host_learns(vc: _Dict[int, int]) -> None:
    """The host saw everything in ``vc`` complete: forget accesses it orders (they cannot race)."""
    for k, v in vc.items():
        if _HOST_VC.get(k, 0) < v:
            _HOST_VC[k] = v
    _ACCESSES[:] = [a for a in _ACCESSES if _HOST_VC.get(a[3], 0) < a[4]]


def _check_races(op: _Op) -> None:
    for mode, lo, hi in op.accesses:
        for pmode, plo, phi, pstream, pseq, plabel in _ACCESSES:
            if "w" not in (mode, pmode) or hi <= plo or phi <= lo:
                continue
            if op.vc.get(pstream, 0) >= pseq:
                continue  # ordered: same stream, an event wait, or a host synchronise in between
            raise StreamOrderError(
                "data race: %s on stream 0x%x %s bytes [0x%x, 0x%x) that %s on stream 0x%x %s, with no event "
                "wait or synchronisation ordering the two (cudaStreamWaitEvent on an event recorded after the "
                "first, or a host-side synchronise)"
                % (op.label, op.stream.handle if op.stream else 0, "writes" if mode == "w" else "reads", lo, hi,
                   plabel, pstream, "wrote" if pmode == "w" else "read")
            )
    for mode, lo, hi in op.accesses:
        _ACCESSES.append((mode, lo, hi, op.stream.handle if op.stream else 0, op.seq, op.label))


def _execute(op: _Op) -> None:
    st = op.stream
    assert st is not None
    op.run(st)
    op.done = True
    STATE.gpu_clock_ms = max(STATE.gpu_clock_ms, st.clock)


def _complete(op: _Op) -> None:
    """Run ``op``'s stream up to and including ``op`` (other streams as its waits require)."""
    st = op.stream
    while not op.done:
        assert st is not None and st.queue, "fake CUDA: op %s lost from its stream" % op.label
        _execute(st.queue.popleft())


def _drain(st: _StreamState) -> None:
    if st.queue:
        _complete(st.queue[-1])
    _host_learns(st.vc)


def _drain_all() -> None:
    for st in list(_STREAMS.values()):
        _drain(st)


def _enqueue(st: _Optional[_StreamState], op: _Op) -> None:
    """Queue ``op`` on ``st`` (not capturing): stamp its vector clock, check it for races."""
    st = _LEGACY if st is None else st
    st.seq += 1
    st.vc = _merge(st.vc, _HOST_VC)
    st.vc[st.handle] = st.seq
    op.stream, op.seq, op.vc = st, st.seq, dict(st.vc)
    _check_races(op)
    st.ops += 1
    if st is _LEGACY:
        _execute(op)
        _host_learns(op.vc)
    else:
        st.queue.append(op)


def _submit(stream: _Any, op: _Op) -> cudaError_t:
    with _LOCK:
        try:
            st = _stream_state(stream)
        except KeyError:
            return cudaError_t.cudaErrorInvalidResourceHandle
        if st is not None and st.capture is not None:
            st.capture.append(op)
            return _OK
        if st is None and _any_capturing():
            # legacy stream work while another stream captures in global mode
            return cudaError_t.cudaErrorStreamCaptureImplicit
        if isinstance(op, _GraphOp):
            # an event record node of the graph is the event's most recent record once launched
            for sub in op.ops:
                if isinstance(sub, _RecordOp):
                    sub.ev["latest"] = op
        _enqueue(st, op)
    return _OK


def run_on_stream(stream: _Any, fn: _Callable[[], None], cost_ms: _Optional[float] = None,
                  reads: _Any = (), writes: _Any = (), label: str = "kernel") -> cudaError_t:
    """Queue ``fn`` as work on ``stream`` (run when the host waits for it, or at graph launch while
    the stream is captured). For other fakes (TensorRT's ``execute_async_v3``).

    ``reads``/``writes`` are ``(ptr, nbytes)`` ranges of device or pinned memory the work touches:
    an access that races with another stream's (no event wait or host synchronise between them)
    raises :class:`StreamOrderError`. Each run advances the stream's simulated GPU clock by
    ``cost_ms`` (default ``STATE.kernel_ms``). Returns the CUDA error a real enqueue would report
    (invalid handle for a destroyed stream).
    """
    cost = STATE.kernel_ms if cost_ms is None else float(cost_ms)
    accesses = [("r", int(p), int(p) + int(n)) for p, n in reads] + [("w", int(p), int(p) + int(n)) for p, n in writes]
    return _submit(stream, _Op(label, fn, cost, accesses))


def _unsafe_during_capture(name: str) -> _Optional[cudaError_t]:
    """Allocation/free/sync while a stream captures: an error, and the capture is invalidated."""
    if _any_capturing():
        for s in _STREAMS.values():
            if s.capture is not None:
                s.capture_invalid = True
        return cudaError_t.cudaErrorStreamCaptureUnsupported
    return None


# --- errors and versions --------------------------------------------------------------------------
def cudaGetErrorName(error: cudaError_t) -> _Tuple[cudaError_t, bytes]:
    return _OK, cudaError_t(error).name.encode()


def cudaGetErrorString(error: cudaError_t) -> _Tuple[cudaError_t, bytes]:
    return _OK, _ERROR_STRINGS.get(cudaError_t(error), "unknown error").encode()


def cudaGetLastError() -> _Tuple[cudaError_t]:
    return (_OK,)


def cudaRuntimeGetVersion() -> _Tuple[cudaError_t, int]:
    return _OK, STATE.runtime_version


def cudaDriverGetVersion() -> _Tuple[cudaError_t, int]:
    # real cuda-python without a driver: (cudaSuccess, 0) (measured: cuda-python 13.4.4, no GPU)
    if STATE.driver_version is not None:
        return _OK, STATE.driver_version
    if STATE.driver_error is not None:
        return _OK, 0
    return _OK, 13000


# --- devices --------------------------------------------------------------------------------------
def cudaGetDeviceCount() -> _Tuple[cudaError_t, _Optional[int]]:
    err = _enter("cudaGetDeviceCount")
    if err is not None:
        return err, None
    if STATE.device_count == 0:
        return cudaError_t.cudaErrorNoDevice, None
    return _OK, STATE.device_count


def _check_device(name: str, device: int) -> _Optional[cudaError_t]:
    err = _enter(name)
    if err is not None:
        return err
    if STATE.device_count == 0:
        return cudaError_t.cudaErrorNoDevice
    if not isinstance(device, int) or not 0 <= device < STATE.device_count:
        return cudaError_t.cudaErrorInvalidDevice
    return None


def cudaSetDevice(device: int) -> _Tuple[cudaError_t]:
    err = _check_device("cudaSetDevice", device)
    if err is not None:
        return (err,)
    STATE.current_device = device
    return (_OK,)


def cudaGetDevice() -> _Tuple[cudaError_t, _Optional[int]]:
    err = _check_device("cudaGetDevice", 0)
    if err is not None:
        return err, None
    return _OK, STATE.current_device


def cudaGetDeviceProperties(device: int) -> _Tuple[cudaError_t, _Optional[cudaDeviceProp]]:
    err = _check_device("cudaGetDeviceProperties", device)
    if err is not None:
        return err, None
    prop = cudaDeviceProp()
    prop.name = STATE.device_name.encode() + b"\0" * 8
    prop.major, prop.minor = STATE.compute_capability
    prop.totalGlobalMem = STATE.total_memory
    return _OK, prop


def cudaDeviceSynchronize() -> _Tuple[cudaError_t]:
    err = _enter("cudaDeviceSynchronize") or _unsafe_during_capture("cudaDeviceSynchronize")
    if err is None:
        with _LOCK:
            _drain_all()
    return (err or _OK,)


# --- memory ---------------------------------------------------------------------------------------
def _alloc(name: str, memory: _Memory, size: int) -> _Tuple[cudaError_t, int]:
    if not isinstance(size, int) or size < 0:
        raise TypeError("size must be a non-negative int")
    err = _enter(name) or _unsafe_during_capture(name)
    if err is not None:
        return err, 0
    if size == 0:
        return _OK, 0
    return _OK, memory.alloc(size)


def _free(name: str, memory: _Memory, ptr: _Any) -> _Tuple[cudaError_t]:
    err = _enter(name) or _unsafe_during_capture(name)
    if err is not None:
        return (err,)
    if int(ptr) == 0:
        return (_OK,)
    with _LOCK:
        _drain_all()  # cudaFree/cudaFreeHost synchronise the device before releasing memory
    try:
        memory.free(int(ptr))
    except KeyError:
        return (cudaError_t.cudaErrorInvalidValue,)
    return (_OK,)


def cudaMalloc(size: int) -> _Tuple[cudaError_t, int]:
    return _alloc("cudaMalloc", DEVICE_MEMORY, size)


def cudaFree(devPtr: _Any) -> _Tuple[cudaError_t]:
    return _free("cudaFree", DEVICE_MEMORY, devPtr)


def cudaMallocHost(size: int) -> _Tuple[cudaError_t, int]:
    return _alloc("cudaMallocHost", HOST_MEMORY, size)


def cudaHostAlloc(size: int, flags: int) -> _Tuple[cudaError_t, int]:
    return _alloc("cudaHostAlloc", HOST_MEMORY, size)


def cudaFreeHost(ptr: _Any) -> _Tuple[cudaError_t]:
    return _free("cudaFreeHost", HOST_MEMORY, ptr)


def cudaMemGetInfo() -> _Tuple[cudaError_t, int, int]:
    err = _enter("cudaMemGetInfo")
    if err is not None:
        return err, 0, 0
    used = sum(DEVICE_MEMORY.live_allocations().values())
    return _OK, STATE.total_memory - used, STATE.total_memory


def _host_view(ptr: _Any, count: int) -> _Optional[_np.ndarray]:
    """Host bytes: a pinned allocation, or an object with the buffer protocol (numpy array)."""
    if isinstance(ptr, int):
        if DEVICE_MEMORY.owns(ptr):
            return None
        try:
            return HOST_MEMORY.view(ptr, count)
        except ValueError:
            return None  # pageable pointer of unknown extent: the fake refuses it (strict)
    try:
        arr = _np.frombuffer(memoryview(ptr).cast("B"), dtype=_np.uint8)
    except TypeError:
        return None
    return arr[:count] if arr.size >= count else None


def _device_view(ptr: _Any, count: int) -> _Optional[_np.ndarray]:
    if not isinstance(ptr, int):
        return None
    try:
        return DEVICE_MEMORY.view(ptr, count)
    except ValueError:
        return None


def _memcpy_views(dst: _Any, src: _Any, count: int, kind: cudaMemcpyKind) -> _Tuple[_Optional[_np.ndarray], _Optional[_np.ndarray], str]:
    if kind == cudaMemcpyKind.cudaMemcpyHostToDevice:
        return _device_view(dst, count), _host_view(src, count), "h2d"
    if kind == cudaMemcpyKind.cudaMemcpyDeviceToHost:
        return _host_view(dst, count), _device_view(src, count), "d2h"
    if kind == cudaMemcpyKind.cudaMemcpyDeviceToDevice:
        return _device_view(dst, count), _device_view(src, count), "d2d"
    if kind == cudaMemcpyKind.cudaMemcpyHostToHost:
        return _host_view(dst, count), _host_view(src, count), "h2h"
    # cudaMemcpyDefault: infer from the pointers
    d = _device_view(dst, count)
    s = _device_view(src, count)
    direction = ("d" if s is not None else "h") + "2" + ("d" if d is not None else "h")
    return (d if d is not None else _host_view(dst, count)), (s if s is not None else _host_view(src, count)), direction


def cudaMemcpyAsync(dst: _Any, src: _Any, count: int, kind: cudaMemcpyKind, stream: _Any) -> _Tuple[cudaError_t]:
    if not isinstance(kind, cudaMemcpyKind):
        raise TypeError("Argument 'kind' is not instance of type (expected cudaMemcpyKind, found %s)" % type(kind).__name__)
    err = _enter("cudaMemcpyAsync")
    if err is not None:
        return (err,)
    d, s, direction = _memcpy_views(dst, src, int(count), kind)
    if d is None or s is None:
        return (cudaError_t.cudaErrorInvalidValue,)

    def op() -> None:
        d[:] = s
        STATE.memcpy_bytes[direction] += int(count)

    n = int(count)
    reads = [(src, n)] if isinstance(src, int) else []
    writes = [(dst, n)] if isinstance(dst, int) else []
    return (run_on_stream(stream, op, STATE.copy_latency_ms + n / STATE.copy_bytes_per_ms, reads, writes,
                          label="cudaMemcpyAsync(%s)" % direction),)


def cudaMemcpy(dst: _Any, src: _Any, count: int, kind: cudaMemcpyKind) -> _Tuple[cudaError_t]:
    if _any_capturing():
        return (_unsafe_during_capture("cudaMemcpy") or _OK,)
    return cudaMemcpyAsync(dst, src, count, kind, 0)


# --- streams --------------------------------------------------------------------------------------
def cudaStreamCreate() -> _Tuple[cudaError_t, _Optional[cudaStream_t]]:
    return cudaStreamCreateWithFlags(cudaStreamDefault)


def cudaStreamCreateWithFlags(flags: int) -> _Tuple[cudaError_t, _Optional[cudaStream_t]]:
    err = _enter("cudaStreamCreateWithFlags") or (cudaError_t.cudaErrorNoDevice if STATE.device_count == 0 else None)
    if err is not None:
        return err, None
    s = cudaStream_t()
    _STREAMS[int(s)] = _StreamState(int(s), int(flags))
    return _OK, s


def cudaStreamDestroy(stream: _Any) -> _Tuple[cudaError_t]:
    err = _enter("cudaStreamDestroy")
    if err is not None:
        return (err,)
    if stream is None or int(stream) not in _STREAMS:
        return (cudaError_t.cudaErrorInvalidResourceHandle,)
    with _LOCK:
        _drain(_STREAMS[int(stream)])  # queued work still completes after cudaStreamDestroy
        del _STREAMS[int(stream)]
    return (_OK,)


def _enter_on_stream(name: str, stream: _Any) -> _Tuple[_Optional[cudaError_t], _Optional[_StreamState]]:
    """Count the call and look ``stream`` up: ``(error or None, state or None for the legacy stream)``."""
    err = _enter(name)
    if err is not None:
        return err, None
    try:
        return None, _stream_state(stream)
    except KeyError:
        return cudaError_t.cudaErrorInvalidResourceHandle, None


def cudaStreamSynchronize(stream: _Any) -> _Tuple[cudaError_t]:
    err, st = _enter_on_stream("cudaStreamSynchronize", stream)
    if err is not None:
        return (err,)
    if st is not None and st.capture is not None:
        st.capture_invalid = True
        return (cudaError_t.cudaErrorStreamCaptureUnsupported,)
    if st is not None:
        with _LOCK:
            _drain(st)
    return (_OK,)


def cudaStreamWaitEvent(stream: _Any, event: _Any, flags: int) -> _Tuple[cudaError_t]:
    """Later work on ``stream`` waits for the event's most recent record as of this call."""
    err, st = _enter_on_stream("cudaStreamWaitEvent", stream)
    if err is not None:
        return (err,)
    ev = _event(event)
    if ev is None:
        return (cudaError_t.cudaErrorInvalidResourceHandle,)
    with _LOCK:
        if st is not None and st.capture is not None:
            if ev["capture_internal"]:
                return (_OK,)  # a join on a record inside the same capture
            st.capture_invalid = True
            return (cudaError_t.cudaErrorStreamCaptureIsolation,)
        record = ev["latest"]
        if record is None:
            return (_OK,)  # never recorded: nothing to wait for
        target = _LEGACY if st is None else st
        target.vc = _merge(target.vc, record.vc)
        _enqueue(st, _WaitOp(record))
    return (_OK,)


def cudaStreamBeginCapture(stream: _Any, mode: cudaStreamCaptureMode) -> _Tuple[cudaError_t]:
    if not isinstance(mode, cudaStreamCaptureMode):
        raise TypeError("Argument 'mode' is not instance of type (expected cudaStreamCaptureMode)")
    err, st = _enter_on_stream("cudaStreamBeginCapture", stream)
    if err is not None:
        return (err,)
    if st is None:
        return (cudaError_t.cudaErrorStreamCaptureUnsupported,)  # the legacy stream cannot be captured
    if st.capture is not None:
        return (cudaError_t.cudaErrorIllegalState,)
    if not STATE.capture_supported:
        return (cudaError_t.cudaErrorStreamCaptureUnsupported,)
    st.capture = []
    st.capture_invalid = False
    st.capture_thread = _threading.get_ident()
    return (_OK,)


def cudaStreamEndCapture(stream: _Any) -> _Tuple[cudaError_t, _Optional[cudaGraph_t]]:
    err, st = _enter_on_stream("cudaStreamEndCapture", stream)
    if err is not None:
        return err, None
    if st is None or st.capture is None:
        return cudaError_t.cudaErrorIllegalState, None
    ops, invalid = st.capture, st.capture_invalid
    st.capture, st.capture_invalid, st.capture_thread = None, False, None
    if invalid:
        return cudaError_t.cudaErrorStreamCaptureInvalidated, None
    g = cudaGraph_t()
    _GRAPHS[int(g)] = list(ops)
    return _OK, g


def cudaStreamIsCapturing(stream: _Any) -> _Tuple[cudaError_t, _Optional[cudaStreamCaptureStatus]]:
    try:
        st = _stream_state(stream)
    except KeyError:
        return cudaError_t.cudaErrorInvalidResourceHandle, None
    if st is None or st.capture is None:
        return _OK, cudaStreamCaptureStatus.cudaStreamCaptureStatusNone
    if st.capture_invalid:
        return _OK, cudaStreamCaptureStatus.cudaStreamCaptureStatusInvalidated
    return _OK, cudaStreamCaptureStatus.cudaStreamCaptureStatusActive


# --- graphs ---------------------------------------------------------------------------------------
def cudaGraphInstantiate(graph: _Any, flags: int) -> _Tuple[cudaError_t, _Optional[cudaGraphExec_t]]:
    err = _enter("cudaGraphInstantiate")
    if err is not None:
        return err, None
    if graph is None or int(graph) not in _GRAPHS:
        return cudaError_t.cudaErrorInvalidResourceHandle, None
    ge = cudaGraphExec_t()
    _GRAPH_EXECS[int(ge)] = list(_GRAPHS[int(graph)])
    return _OK, ge


def cudaGraphLaunch(graphExec: _Any, stream: _Any) -> _Tuple[cudaError_t]:
    err = _enter("cudaGraphLaunch")
    if err is not None:
        return (err,)
    if graphExec is None or int(graphExec) not in _GRAPH_EXECS:
        return (cudaError_t.cudaErrorInvalidResourceHandle,)
    ops = _GRAPH_EXECS[int(graphExec)]
    return (_submit(stream, _GraphOp(list(ops))),)  # the captured work carries its own cost


def cudaGraphExecDestroy(graphExec: _Any) -> _Tuple[cudaError_t]:
    if graphExec is None or int(graphExec) not in _GRAPH_EXECS:
        return (cudaError_t.cudaErrorInvalidResourceHandle,)
    del _GRAPH_EXECS[int(graphExec)]
    return (_OK,)


def cudaGraphDestroy(graph: _Any) -> _Tuple[cudaError_t]:
    if graph is None or int(graph) not in _GRAPHS:
        return (cudaError_t.cudaErrorInvalidResourceHandle,)
    del _GRAPHS[int(graph)]
    return (_OK,)


# --- events ---------------------------------------------------------------------------------------
def cudaEventCreate() -> _Tuple[cudaError_t, _Optional[cudaEvent_t]]:
    return cudaEventCreateWithFlags(cudaEventDefault)


def cudaEventCreateWithFlags(flags: int) -> _Tuple[cudaError_t, _Optional[cudaEvent_t]]:
    err = _enter("cudaEventCreateWithFlags")
    if err is not None:
        return err, None
    e = cudaEvent_t()
    _EVENTS[int(e)] = {"flags": int(flags), "recorded": 0, "time": 0.0, "capture_internal": False, "latest": None}
    return _OK, e


def _event(event: _Any) -> _Optional[_Dict[str, _Any]]:
    if event is None or not isinstance(event, (cudaEvent_t, int)):
        return None
    return _EVENTS.get(int(event))


def _record_event(name: str, event: _Any, stream: _Any, external: bool) -> _Tuple[cudaError_t]:
    err, st = _enter_on_stream(name, stream)
    if err is not None:
        return (err,)
    ev = _event(event)
    if ev is None:
        return (cudaError_t.cudaErrorInvalidResourceHandle,)
    if st is not None and st.capture is not None and not external:
        ev["capture_internal"] = True  # a fork/join marker inside the capture, not a graph node
        return (_OK,)
    op = _RecordOp(ev)
    if st is None or st.capture is None:
        ev["latest"] = op  # waits and synchronises from now on refer to this record
    return (_submit(stream, op),)


def cudaEventRecord(event: _Any, stream: _Any) -> _Tuple[cudaError_t]:
    return _record_event("cudaEventRecord", event, stream, external=False)


def cudaEventRecordWithFlags(event: _Any, stream: _Any, flags: int) -> _Tuple[cudaError_t]:
    if int(flags) & ~cudaEventRecordExternal:
        _enter("cudaEventRecordWithFlags")
        return (cudaError_t.cudaErrorInvalidValue,)
    return _record_event("cudaEventRecordWithFlags", event, stream, external=bool(int(flags) & cudaEventRecordExternal))


def _host_waits(name: str, event: _Any, on_capture_internal: cudaError_t) -> _Tuple[cudaError_t]:
    """The host waits for the event's latest record (and so learns what is ordered before it).

    A record made inside a stream capture is a fork/join marker, not work: there is nothing to wait
    for, and the call returns ``on_capture_internal``."""
    err = _enter(name)
    if err is not None:
        return (err,)
    ev = _event(event)
    if ev is None:
        return (cudaError_t.cudaErrorInvalidResourceHandle,)
    if ev["capture_internal"]:
        return (on_capture_internal,)
    with _LOCK:
        record = ev["latest"]
        if record is not None:
            _complete(record)
            _host_learns(record.vc)
    return (_OK,)


def cudaEventSynchronize(event: _Any) -> _Tuple[cudaError_t]:
    return _host_waits("cudaEventSynchronize", event, cudaError_t.cudaErrorInvalidValue)


def cudaEventQuery(event: _Any) -> _Tuple[cudaError_t]:
    # The fake's GPU makes progress only when the host waits or polls: a query runs the work before
    # the event and reports it complete (a real GPU may still say cudaErrorNotReady).
    return _host_waits("cudaEventQuery", event, _OK)


def cudaEventElapsedTime(start: _Any, end: _Any) -> _Tuple[cudaError_t, float]:
    err = _enter("cudaEventElapsedTime")
    if err is not None:
        return err, 0.0
    a, b = _event(start), _event(end)
    if a is None or b is None:
        return cudaError_t.cudaErrorInvalidResourceHandle, 0.0
    if (a["flags"] | b["flags"]) & cudaEventDisableTiming:
        return cudaError_t.cudaErrorInvalidResourceHandle, 0.0
    if a["capture_internal"] or b["capture_internal"]:
        return cudaError_t.cudaErrorInvalidValue, 0.0
    if not a["recorded"] or not b["recorded"]:
        return cudaError_t.cudaErrorInvalidResourceHandle, 0.0
    if any(e["latest"] is not None and not e["latest"].done for e in (a, b)):
        return cudaError_t.cudaErrorNotReady, 0.0  # a record still queued
    return _OK, max(0.0, b["time"] - a["time"])


def cudaEventDestroy(event: _Any) -> _Tuple[cudaError_t]:
    err = _enter("cudaEventDestroy")
    if err is not None:
        return (err,)
    if _event(event) is None:
        return (cudaError_t.cudaErrorInvalidResourceHandle,)
    del _EVENTS[int(event)]
    return (_OK,)
