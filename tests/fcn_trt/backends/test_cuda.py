"""fcn_trt.backends._cuda on the strict cuda-python fake, and the fake checked against the real module."""

from __future__ import annotations

import enum
import importlib
import inspect
import threading

import numpy as np
import pytest

from fcn_trt.backends import _cuda as cuda
from fcn_trt.errors import BackendUnavailableError, ClosedError, CudaError, NoCudaDeviceError
from tests._helpers import raises_with
from tests.fakes import fake_cuda as fake_module
from tests.fakes.fixtures_cuda import fake_cuda  # noqa: F401  (fixture)


# --- the fake against the real cuda-python --------------------------------------------------------
def _real_runtime():
    try:
        return importlib.import_module("cuda.bindings.runtime")
    except ImportError:
        try:
            return importlib.import_module("cuda.cudart")
        except ImportError:
            pytest.skip("cuda-python is not installed: cannot compare the fake with the real module")


def _fake_public_names():
    return [n for n in vars(fake_module) if not n.startswith("_") and n not in fake_module.FAKE_ONLY]


def _fake_and_real_objects():
    """(name, the fake's object, the real module's object) for every public name of the fake."""
    real = _real_runtime()
    return [(n, getattr(fake_module, n), getattr(real, n)) for n in _fake_public_names()]


def test_fake_exposes_only_real_names():
    real = _real_runtime()
    missing = [n for n in _fake_public_names() if not hasattr(real, n)]
    assert missing == []
    # and it exposes the API fcn_trt.backends._cuda uses
    assert {"cudaMalloc", "cudaMallocHost", "cudaMemcpyAsync", "cudaStreamBeginCapture", "cudaGraphLaunch"} <= set(
        _fake_public_names()
    )


def test_fake_enum_members_match_real_values():
    checked = 0
    for name, obj, real_obj in _fake_and_real_objects():
        if inspect.isclass(obj) and issubclass(obj, enum.Enum):
            for member in obj:
                assert int(getattr(real_obj, member.name)) == int(member), (name, member.name)
                checked += 1
        elif isinstance(obj, int) and not isinstance(obj, bool):
            assert int(real_obj) == obj, name
    assert checked >= 20


def test_fake_functions_take_the_real_parameters():
    compared = 0
    for name, obj, real_obj in _fake_and_real_objects():
        if not (inspect.isfunction(obj) and name.startswith("cuda")):
            continue
        first_line = (real_obj.__doc__ or "").strip().splitlines()[0]
        if not first_line.startswith(name + "("):
            continue
        real_params = [p.split(":")[0].strip().split(" ")[-1] for p in first_line[len(name) + 1 : -1].split(",") if p.strip()]
        assert list(inspect.signature(obj).parameters) == real_params, name
        compared += 1
    assert compared >= 20


def test_real_module_without_driver_gives_no_device_error():
    real = _real_runtime()
    err = real.cudaGetDeviceCount()[0]
    if int(err) == 0:
        pytest.skip("this machine has a CUDA driver")
    with pytest.raises(NoCudaDeviceError) as exc:
        cuda.check_cuda(real.cudaGetDeviceCount(), "cudaGetDeviceCount", real)
    assert "cudaError" in str(exc.value) and "Hint:" in str(exc.value)


# --- fcn_trt.backends._cuda on the fake ---------------------------------------------------------------------
def test_runtime_missing_raises_backend_unavailable(monkeypatch):
    import sys

    for name in ("cuda", "cuda.bindings", "cuda.bindings.runtime", "cuda.cudart"):
        monkeypatch.setitem(sys.modules, name, None)  # None in sys.modules -> ImportError
    with pytest.raises(BackendUnavailableError) as exc:
        cuda.cuda_device_info()
    assert 'pip install "fcn-trt[tensorrt]"' in str(exc.value)


def test_device_info(fake_cuda):
    fake_cuda.STATE.device_name = "NVIDIA Jetson AGX Orin"
    fake_cuda.STATE.compute_capability = (8, 7)
    info = cuda.cuda_device_info(0)
    assert info == cuda.DeviceInfo(0, "NVIDIA Jetson AGX Orin", "8.7", fake_cuda.STATE.total_memory)
    assert info.sm == "sm_87"
    assert cuda.cuda_device_count() == 1


@pytest.mark.parametrize("setup", ["no_driver", "no_device"])
def test_device_info_without_device(fake_cuda, setup):
    if setup == "no_driver":
        fake_cuda.STATE.driver_error = fake_cuda.cudaError_t.cudaErrorInsufficientDriver
        expected_name = "cudaErrorInsufficientDriver"
    else:
        fake_cuda.STATE.device_count = 0
        expected_name = "cudaErrorNoDevice"
    with pytest.raises(NoCudaDeviceError) as exc:
        cuda.cuda_device_info()
    assert expected_name in str(exc.value)
    assert cuda.cuda_device_count() == 0


def test_device_index_out_of_range(fake_cuda):
    with pytest.raises(NoCudaDeviceError) as exc:
        cuda.cuda_device_info(3)
    assert "device=0..0" in str(exc.value)


def test_round_trip_through_device(fake_cuda):
    with cuda.Stream() as s, cuda.PinnedBuffer((2, 3), np.float32) as h, cuda.DeviceBuffer(24) as d:
        h.array[:] = np.arange(6, dtype=np.float32).reshape(2, 3)
        d.copy_from_host_async(h, s)
        s.synchronize()  # pinned memory a queued copy still reads must not be overwritten before
        h.array[:] = -1
        d.copy_to_host_async(h, s)
        s.synchronize()
        np.testing.assert_array_equal(h.array, np.arange(6, dtype=np.float32).reshape(2, 3))
        # the device really holds the bytes
        assert fake_cuda.DEVICE_MEMORY.view(d.ptr, 24).view(np.float32).tolist() == [0, 1, 2, 3, 4, 5]
        assert fake_cuda.STATE.memcpy_bytes == {"h2d": 24, "d2h": 24, "d2d": 0, "h2h": 0}
    assert fake_cuda.DEVICE_MEMORY.live_allocations() == {}
    assert fake_cuda.HOST_MEMORY.live_allocations() == {}
    assert fake_cuda.live_objects()["streams"] == 0


def test_pinned_view_is_prefix_of_buffer(fake_cuda):
    with cuda.PinnedBuffer(100) as h:
        v = h.view((2, 3, 4))
        v[:] = 9
        assert h.array[:24].tolist() == [9] * 24 and h.array[24] == 0
        with pytest.raises(CudaError):
            h.view((101,))


def test_close_is_idempotent_and_frees_once(fake_cuda):
    d = cuda.DeviceBuffer(64)
    h = cuda.PinnedBuffer(64)
    s = cuda.Stream()
    e = cuda.Event()
    for obj in (d, h, s, e):
        obj.close()
        obj.close()
    assert fake_cuda.DEVICE_MEMORY.free_count == 1 and fake_cuda.HOST_MEMORY.free_count == 1
    assert fake_cuda.live_objects() == {"streams": 0, "events": 0, "graphs": 0, "graph_execs": 0}
    with pytest.raises(ClosedError):
        _ = d.ptr
    with pytest.raises(ClosedError):
        _ = h.array
    with pytest.raises(ClosedError):
        s.synchronize()
    with pytest.raises(ClosedError):
        e.record(s)


def test_cuda_error_names_the_error(fake_cuda):
    fake_cuda.STATE.fail_next["cudaMalloc"] = fake_cuda.cudaError_t.cudaErrorMemoryAllocation
    with pytest.raises(CudaError) as exc:
        cuda.DeviceBuffer(1 << 20)
    assert "cudaErrorMemoryAllocation" in str(exc.value) and "out of memory" in str(exc.value)
    assert not isinstance(exc.value, NoCudaDeviceError)
    assert fake_cuda.DEVICE_MEMORY.live_allocations() == {}


def test_copy_size_checked(fake_cuda):
    with cuda.Stream() as s, cuda.PinnedBuffer(16) as h, cuda.DeviceBuffer(8) as d:
        with pytest.raises(CudaError):
            d.copy_from_host_async(h, s)  # 16 bytes into 8
        d.copy_from_host_async(h, s, nbytes=8)


def test_events(fake_cuda):
    with cuda.Stream() as s, cuda.Event(timing=True) as a, cuda.Event(timing=True) as b, cuda.Event() as c:
        a.record(s)
        b.record(s)
        c.record(s)
        s.wait_event(c)
        b.synchronize()
        assert c.query() is True
        assert b.elapsed_ms(a) >= 0.0
        with pytest.raises(CudaError):
            c.elapsed_ms(a)  # timing disabled


def test_graph_capture_and_replay(fake_cuda):
    fake_cuda.STATE.capture_supported = True
    with cuda.Stream() as s, cuda.PinnedBuffer(4) as h, cuda.PinnedBuffer(4) as out, cuda.DeviceBuffer(4) as d:
        g = cuda.CudaGraph(s)
        g.begin()
        d.copy_from_host_async(h, s)
        d.copy_to_host_async(out, s)
        g.end()
        assert fake_cuda.STATE.memcpy_bytes["h2d"] == 0  # captured, not run
        for value in (3, 5):
            h.array[:] = value
            g.launch()
            s.synchronize()
            assert out.array.tolist() == [value] * 4
        g.close()
        g.close()
    assert fake_cuda.STATE.graph_launches == 2
    assert fake_cuda.live_objects()["graphs"] == 0 and fake_cuda.live_objects()["graph_execs"] == 0


def test_event_timing_follows_the_simulated_gpu_clock(fake_cuda):
    st = fake_cuda.STATE
    with cuda.Stream() as s, cuda.PinnedBuffer(1 << 20) as h, cuda.DeviceBuffer(1 << 20) as d, \
            cuda.Event(timing=True) as a, cuda.Event(timing=True) as b:
        a.record(s)
        d.copy_from_host_async(h, s)
        b.record(s)
        b.synchronize()
        assert b.elapsed_ms(a) == pytest.approx(st.copy_latency_ms + (1 << 20) / st.copy_bytes_per_ms)
        assert 0.05 < b.elapsed_ms(a) < 1.0  # 1 MiB over a ~12 GB/s link: plausible


def test_event_timing_inside_a_graph_needs_external_records(fake_cuda):
    fake_cuda.STATE.capture_supported = True
    with cuda.Stream() as s, cuda.PinnedBuffer(4096) as h, cuda.DeviceBuffer(4096) as d, \
            cuda.Event(timing=True) as a, cuda.Event(timing=True) as b, cuda.Event(timing=True) as c:
        g = cuda.CudaGraph(s)
        g.begin()
        a.record(s, external=True)
        d.copy_from_host_async(h, s)
        b.record(s, external=True)
        c.record(s)  # not external: a dependency marker inside the capture, never timed
        g.end()
        assert fake_cuda.STATE.calls["cudaEventRecordWithFlags"] == 2
        for _ in range(2):
            g.launch()
            s.synchronize()
            assert b.elapsed_ms(a) == pytest.approx(fake_cuda.STATE.copy_latency_ms + 4096 / fake_cuda.STATE.copy_bytes_per_ms)
        with pytest.raises(CudaError) as exc:
            c.elapsed_ms(a)
        assert "cudaErrorInvalidValue" in str(exc.value)
        g.close()


def test_graph_capture_unsupported_and_invalidated(fake_cuda):
    with cuda.Stream() as s, cuda.DeviceBuffer(4):
        g = cuda.CudaGraph(s)
        with pytest.raises(CudaError) as exc:
            g.begin()
        assert "cudaErrorStreamCaptureUnsupported" in str(exc.value)
        g.close()
        fake_cuda.STATE.capture_supported = True
        g = cuda.CudaGraph(s)
        g.begin()
        with pytest.raises(CudaError):
            cuda.DeviceBuffer(4)  # allocation while capturing: refused, capture invalidated
        with pytest.raises(CudaError) as exc:
            g.end()
        assert "cudaErrorStreamCaptureInvalidated" in str(exc.value)
        g.close()
    assert fake_cuda.DEVICE_MEMORY.live_allocations() == {}


def test_objects_work_from_another_thread(fake_cuda):
    errors = []
    with cuda.Stream() as s, cuda.PinnedBuffer(8) as h, cuda.DeviceBuffer(8) as d:

        def work():
            try:
                h.array[:] = 1
                d.copy_from_host_async(h, s)
                s.synchronize()
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

        t = threading.Thread(target=work)
        t.start()
        t.join()
        assert errors == []
        assert fake_cuda.DEVICE_MEMORY.view(d.ptr, 8).tolist() == [1] * 8


# --- cudaErrorInsufficientDriver: say which driver, which cuda-python, and the pip line -----------
def test_insufficient_driver_names_versions_and_the_fix(fake_cuda):
    # JetPack 6: a CUDA 12.6 driver; cuda-python 13 (CUDA 13 runtime) needs a >= 580 driver
    fake_cuda.STATE.driver_error = fake_cuda.cudaError_t.cudaErrorInsufficientDriver
    fake_cuda.STATE.driver_version = 12060
    with raises_with(NoCudaDeviceError, "cudaErrorInsufficientDriver",
                     "the driver supports CUDA 12.6 (cudaDriverGetVersion returned 12060)",
                     "cuda-python 13.0.0 (CUDA runtime 13.0, which needs an NVIDIA driver >= 580)",
                     'Hint: install the cuda-python that matches the driver: pip install "cuda-python>=12,<13"',
                     "upgrade the NVIDIA driver to >= 580"):
        cuda.cuda_device_info()


def test_insufficient_driver_without_any_driver(fake_cuda):
    fake_cuda.STATE.driver_error = fake_cuda.cudaError_t.cudaErrorInsufficientDriver
    with raises_with(NoCudaDeviceError, "no NVIDIA driver is loaded (cudaDriverGetVersion returned 0)",
                     "nvidia-smi", "ONNX Runtime"):  # the fix is a driver, not a pip line
        cuda.cuda_device_info()


def _real_cuda_runtime():
    try:
        from cuda.bindings import runtime
    except ImportError:
        try:
            from cuda import cudart as runtime
        except ImportError:
            return None
    return runtime


def test_insufficient_driver_message_from_the_real_cuda_python():
    """The real cuda-python of the test environment: on a machine without a driver it returns
    cudaErrorInsufficientDriver, and the message must carry its real version numbers."""
    rt = _real_cuda_runtime()
    if rt is None:
        pytest.skip("cuda-python is not installed in this environment")
    err = rt.cudaGetDeviceCount()[0]
    if int(err) != int(rt.cudaError_t.cudaErrorInsufficientDriver):
        pytest.skip("this machine's driver answers %s, not cudaErrorInsufficientDriver" % err)
    driver = int(rt.cudaDriverGetVersion()[1])
    runtime_v = int(rt.cudaRuntimeGetVersion()[1])
    with pytest.raises(NoCudaDeviceError) as exc:
        cuda.cuda_device_info()
    msg = str(exc.value)
    assert "cudaDriverGetVersion returned %d" % driver in msg
    assert "cuda-python %s" % cuda.cuda_python_version() in msg and cuda.cuda_python_version() != "unknown"
    assert "CUDA runtime %d.%d" % (runtime_v // 1000, runtime_v % 1000 // 10) in msg


# --- stream order: the fake runs work lazily and rejects unordered cross-stream accesses -----------
def test_work_runs_only_when_the_host_waits(fake_cuda):
    with cuda.Stream() as s, cuda.PinnedBuffer(8) as h, cuda.PinnedBuffer(8) as out, cuda.DeviceBuffer(8) as d:
        h.array[:] = 7
        d.copy_from_host_async(h, s)
        d.copy_to_host_async(out, s)
        assert fake_cuda.pending_ops() == 2 and fake_cuda.STATE.memcpy_bytes["h2d"] == 0
        assert out.array.tolist() == [0] * 8  # reading before a synchronise sees stale bytes
        h.array[:] = 9  # ...and a host write before the queued copy ran is what the copy takes
        s.synchronize()
        assert fake_cuda.pending_ops() == 0 and out.array.tolist() == [9] * 8


def test_cross_stream_read_without_an_event_wait_is_a_race(fake_cuda):
    with cuda.Stream() as copy, cuda.Stream() as compute, cuda.PinnedBuffer(16) as h, \
            cuda.PinnedBuffer(16) as out, cuda.DeviceBuffer(16) as d:
        d.copy_from_host_async(h, copy)
        with pytest.raises(fake_cuda.StreamOrderError) as exc:
            d.copy_to_host_async(out, compute)  # reads what `copy` writes, nothing orders them
        assert "data race" in str(exc.value) and "cudaStreamWaitEvent" in str(exc.value)


def test_event_wait_orders_streams_and_moves_the_data(fake_cuda):
    with cuda.Stream() as copy, cuda.Stream() as compute, cuda.Event() as ready, cuda.PinnedBuffer(16) as h, \
            cuda.PinnedBuffer(16) as out, cuda.DeviceBuffer(16) as d:
        h.array[:] = 5
        d.copy_from_host_async(h, copy)
        ready.record(copy)
        compute.wait_event(ready)
        d.copy_to_host_async(out, compute)
        assert fake_cuda.pending_ops() == 4  # copy, record / wait, copy: nothing ran yet
        compute.synchronize()  # runs `copy` up to the record first, as the wait requires
        assert out.array.tolist() == [5] * 16


def test_overwriting_a_buffer_another_stream_still_reads_is_a_race(fake_cuda):
    with cuda.Stream() as a, cuda.Stream() as b, cuda.Event() as ev, cuda.PinnedBuffer(16) as h, \
            cuda.PinnedBuffer(16) as out, cuda.DeviceBuffer(16) as d:
        d.copy_from_host_async(h, a)
        ev.record(a)
        b.wait_event(ev)
        d.copy_to_host_async(out, b)  # b reads d
        with pytest.raises(fake_cuda.StreamOrderError):
            d.copy_from_host_async(h, a)  # a rewrites d while b's read may still be queued
        b.synchronize()  # once the host has seen b's read complete, rewriting d is ordered
        d.copy_from_host_async(h, a)
        a.synchronize()


def test_a_wait_refers_to_the_record_at_the_time_of_the_call(fake_cuda):
    with cuda.Stream() as a, cuda.Stream() as b, cuda.Event() as ev, cuda.PinnedBuffer(16) as h, \
            cuda.PinnedBuffer(16) as out, cuda.DeviceBuffer(16) as d:
        ev.record(a)  # recorded before the copy: waiting on it orders nothing after
        d.copy_from_host_async(h, a)
        b.wait_event(ev)
        with pytest.raises(fake_cuda.StreamOrderError):
            d.copy_to_host_async(out, b)
        a.synchronize()


def test_two_streams_overlap_on_the_simulated_clock(fake_cuda):
    st = fake_cuda.STATE
    n = 1 << 20
    with cuda.Stream() as a, cuda.Stream() as b, cuda.PinnedBuffer(n) as h1, cuda.PinnedBuffer(n) as h2, \
            cuda.DeviceBuffer(n) as d1, cuda.DeviceBuffer(n) as d2, cuda.Event(timing=True) as a0, \
            cuda.Event(timing=True) as a1, cuda.Event(timing=True) as b1:
        a0.record(a)
        d1.copy_from_host_async(h1, a)
        a1.record(a)
        d2.copy_from_host_async(h2, b)  # independent work on another stream
        b1.record(b)
        a.synchronize()
        b.synchronize()
        one = st.copy_latency_ms + n / st.copy_bytes_per_ms
        assert a1.elapsed_ms(a0) == pytest.approx(one)
        assert b1.elapsed_ms(a0) == pytest.approx(one)  # ran alongside, not after, stream a's copy
