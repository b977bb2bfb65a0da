"""TensorRTBackend on the strict TensorRT fake (every supported release) + the strict CUDA fake.

The fake engine runs its embedded ONNX with ONNX Runtime, reading inputs from and writing outputs
to the fake device memory at the addresses the backend set; so equality with ONNX Runtime run
directly on the same ONNX checks buffer sizing, shapes, dtypes, named tensors, copies and stream
order, not just plumbing.
"""

from __future__ import annotations

import hashlib
import json
import struct
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from fcn_trt.backends import tensorrt as trt_backend
from fcn_trt.backends.tensorrt import TensorRTBackend, open_engine_count
from fcn_trt.errors import (
    BackendUnavailableError,
    ClosedError,
    EngineCorruptError,
    EngineError,
    EngineMismatchError,
    FrameDtypeError,
    FrameShapeError,
    InputError,
    MetadataError,
    ModelFormatError,
    NoCudaDeviceError,
)
from fcn_trt.metadata import METADATA_KEY, PipelineMetadata
from fcn_trt.sidecar import EngineInfo, EngineSidecar, write_sidecar
from tests._helpers import raises_with, run_in_threads
from tests.fakes import fake_tensorrt
from tests.fakes.fixtures_cuda import fake_cuda  # noqa: F401  (fixture)

PROFILE = ((1, 8, 8, 3), (1, 16, 16, 3), (4, 64, 64, 3))
META = PipelineMetadata(class_names=("blue", "green", "red"), palette=((0, 0, 255), (0, 255, 0), (255, 0, 0)),
                        outputs=("labels", "confidence"))


# --- helpers --------------------------------------------------------------------------------------
def tiny_pipeline(path: Path, outputs=("labels", "confidence"), input_name="frame") -> Path:
    """uint8 [N,H,W,3] -> labels = argmax over channels (uint8), confidence = max/255 (float)."""
    nodes = [
        helper.make_node("Cast", [input_name], ["f"], to=TensorProto.FLOAT),
        helper.make_node("ArgMax", ["f"], ["idx"], axis=3, keepdims=0),
        helper.make_node("Cast", ["idx"], ["idx_f"], to=TensorProto.FLOAT),
        helper.make_node("Cast", ["idx_f"], ["labels"], to=TensorProto.UINT8),
        helper.make_node("ReduceMax", ["f"], ["mx"], axes=[3], keepdims=0),
        helper.make_node("Div", ["mx", "c255"], ["confidence"]),
    ]
    outs = [helper.make_tensor_value_info("labels", TensorProto.UINT8, ["N", "H", "W"])]
    if "confidence" in outputs:
        outs.append(helper.make_tensor_value_info("confidence", TensorProto.FLOAT, ["N", "H", "W"]))
    graph = helper.make_graph(
        nodes, "tiny_pipeline",
        [helper.make_tensor_value_info(input_name, TensorProto.UINT8, ["N", "H", "W", 3])], outs,
        initializer=[helper.make_tensor("c255", TensorProto.FLOAT, [], [255.0])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    meta = META.replace(outputs=tuple(outputs))
    helper.set_model_props(model, {METADATA_KEY: meta.to_json()})
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


_DT = {TensorProto.UINT8: "UINT8", TensorProto.FLOAT: "FLOAT"}


def fake_engine_bytes(onnx_path: Path, trt_version: str, profile=PROFILE, flags=()) -> bytes:
    """A fake engine in the documented format: FAKETRT1 + uint32 header length + JSON + ONNX bytes."""
    model = onnx.load(str(onnx_path))
    io = []
    for vi, mode in [(i, "INPUT") for i in model.graph.input] + [(o, "OUTPUT") for o in model.graph.output]:
        dims = [d.dim_value if d.HasField("dim_value") else -1 for d in vi.type.tensor_type.shape.dim]
        io.append({"name": vi.name, "mode": mode, "dtype": _DT[vi.type.tensor_type.elem_type], "shape": dims})
    header = {
        "trt_version": trt_version, "flags": list(flags), "profiles": [
            {model.graph.input[0].name: {"min": list(profile[0]), "opt": list(profile[1]), "max": list(profile[2])}}
        ],
        "io": io, "hardware_compatibility_level": "NONE",
    }
    head = json.dumps(header).encode()
    return b"FAKETRT1" + struct.pack("<I", len(head)) + head + onnx_path.read_bytes()


def make_engine(tmp_path: Path, trt, *, name="m", outputs=("labels", "confidence"), engine_version=None,
                sidecar_version=None, cc="8.7", precision="fp32", sidecar=True, input_name="frame",
                engine_flags=(), build_flags=None) -> Path:
    onnx_path = tiny_pipeline(tmp_path / (name + ".onnx"), outputs, input_name)
    engine = tmp_path / (name + ".engine")
    engine.write_bytes(fake_engine_bytes(onnx_path, engine_version or trt.__version__, flags=engine_flags))
    if sidecar:
        info = EngineInfo(
            tensorrt_version=sidecar_version or trt.__version__, gpu_name="Fake Orin", compute_capability=cc,
            precision=precision, onnx_sha256=hashlib.sha256(onnx_path.read_bytes()).hexdigest(),
            build_flags=dict({"onnx": str(onnx_path)}, **(build_flags or {})),
            profiles={input_name: {"min": list(PROFILE[0]), "opt": list(PROFILE[1]), "max": list(PROFILE[2])}},
        )
        write_sidecar(engine, EngineSidecar(pipeline=META.replace(outputs=tuple(outputs)), engine=info))
    return engine


def ort_run(onnx_path: Path, frames: np.ndarray) -> dict:
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(None, {"frame": frames})))


def rand_frames(shape, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


def _assert_results_match_onnx(be, onnx_path: Path, *done) -> None:
    """For each ``(ticket, frame)`` in ``done``, in that order: ``be.result(ticket)`` has the labels
    ONNX Runtime gives for ``frame``."""
    for ticket, frame in done:
        np.testing.assert_array_equal(be.result(ticket)["labels"], ort_run(onnx_path, frame)["labels"])


def _open_error(engine: Path, error: type, *words: str, **kwargs) -> str:
    """``TensorRTBackend(engine, **kwargs)`` raises ``error`` whose message holds every one of ``words``;
    returns the message."""
    with raises_with(error, *words) as exc:
        TensorRTBackend(engine, **kwargs)
    return str(exc.value)


def _other_trt_version(trt) -> str:
    """A supported TensorRT release other than the fake ``trt``'s."""
    return "8.6.1" if trt.__version__ != "8.6.1" else "10.3.0"


# --- results equal ONNX Runtime -------------------------------------------------------------------
SHAPES = [(1, 16, 16, 3), (2, 24, 40, 3), (4, 64, 64, 3), (1, 8, 8, 3), (3, 33, 17, 3)]


def test_outputs_equal_onnxruntime(tmp_path, fake_trt, fake_cuda):
    engine = make_engine(tmp_path, fake_trt)
    with TensorRTBackend(engine) as be:
        assert be.metadata == META
        assert be.max_batch == 4 and be.max_frame_hw == (64, 64) and be.min_frame_hw == (8, 8)
        for i, shape in enumerate(SHAPES):
            frames = rand_frames(shape, seed=i)
            got = be.infer(frames)
            want = ort_run(tmp_path / "m.onnx", frames)
            assert set(got) == {"labels", "confidence"}
            assert got["labels"].dtype == np.uint8 and got["labels"].shape == shape[:3]
            np.testing.assert_array_equal(got["labels"], want["labels"])
            np.testing.assert_array_equal(got["confidence"], want["confidence"])
            assert len(np.unique(got["labels"])) == 3  # a meaningful comparison: every class occurs
        assert be.describe()["backend"] == "tensorrt"
        assert be.describe()["version"] == fake_trt.__version__


def test_outputs_are_owned_by_the_caller(tmp_path, fake_trt, fake_cuda):
    with TensorRTBackend(make_engine(tmp_path, fake_trt)) as be:
        a = be.infer(rand_frames((1, 16, 16, 3), 1))["labels"]
        keep = a.copy()
        be.infer(rand_frames((1, 16, 16, 3), 2))
        be.infer(rand_frames((1, 16, 16, 3), 3))
        np.testing.assert_array_equal(a, keep)  # not a view of reused staging memory


def test_labels_only_engine(tmp_path, fake_trt, fake_cuda):
    engine = make_engine(tmp_path, fake_trt, outputs=("labels",))
    frames = rand_frames((2, 20, 30, 3))
    with TensorRTBackend(engine) as be:
        got = be.infer(frames)
    assert list(got) == ["labels"]
    np.testing.assert_array_equal(got["labels"], ort_run(tmp_path / "m.onnx", frames)["labels"])


# --- hot path: no allocations, shapes set only on change --------------------------------------------
def test_no_allocation_per_frame(tmp_path, fake_trt, fake_cuda):
    with TensorRTBackend(make_engine(tmp_path, fake_trt), cuda_graph=False) as be:
        device = fake_cuda.DEVICE_MEMORY.allocation_count
        pinned = fake_cuda.HOST_MEMORY.allocation_count
        assert device == 2 * 3 and pinned == 2 * 3  # frame + 2 outputs, on the device and pinned, per slot
        events = fake_cuda.live_objects()["events"]
        for i, shape in enumerate(SHAPES * 2):
            be.infer(rand_frames(shape, i))
        assert fake_cuda.DEVICE_MEMORY.allocation_count == device
        assert fake_cuda.HOST_MEMORY.allocation_count == pinned
        assert fake_cuda.live_objects()["events"] == events
        # buffers sized once for the profile's maximum
        sizes = sorted(fake_cuda.DEVICE_MEMORY.live_allocations().values())
        assert sizes == sorted([4 * 64 * 64 * 3, 4 * 64 * 64, 4 * 64 * 64 * 4] * 2)


def test_set_input_shape_only_when_shape_changes(tmp_path, fake_trt, fake_cuda, monkeypatch):
    calls = []
    original = fake_tensorrt._IExecutionContext.set_input_shape

    def spy(self, name, shape):
        calls.append((name, tuple(shape)))
        return original(self, name, shape)

    monkeypatch.setattr(fake_tensorrt._IExecutionContext, "set_input_shape", spy)
    with TensorRTBackend(make_engine(tmp_path, fake_trt)) as be:
        calls.clear()  # construction sizes the buffers with the profile shapes
        a, b = (1, 16, 16, 3), (2, 16, 16, 3)
        for shape in (a, a, a, b, b, a, a):
            be.infer(rand_frames(shape))
        assert calls == [("frame", a), ("frame", b), ("frame", a)]
        assert be.set_input_shape_calls == 3


def test_execute_runs_on_the_backends_own_stream(tmp_path, fake_trt, fake_cuda):
    with TensorRTBackend(make_engine(tmp_path, fake_trt), cuda_graph=False) as be:
        be.infer(rand_frames((1, 16, 16, 3)))
        be.infer(rand_frames((1, 16, 16, 3)))
        handle = be._stream.handle
        assert handle != 0
        assert [h for h, _ in fake_trt._fake.executions] == [handle, handle]


# --- two frames in flight -------------------------------------------------------------------------
def test_submit_result_two_in_flight(tmp_path, fake_trt, fake_cuda):
    onnx_path = tmp_path / "m.onnx"
    with TensorRTBackend(make_engine(tmp_path, fake_trt)) as be:
        f0, f1 = rand_frames((1, 16, 16, 3), 10), rand_frames((1, 16, 16, 3), 11)
        t0, t1 = be.submit(f0), be.submit(f1)
        assert t0.slot != t1.slot
        _assert_results_match_onnx(be, onnx_path, (t1, f1), (t0, f0))
        # a third submit completes the oldest; every result stays correct
        frames = [rand_frames((2, 16, 24, 3), 20 + i) for i in range(5)]
        tickets = [be.submit(f) for f in frames]
        _assert_results_match_onnx(be, onnx_path, *zip(tickets, frames))
        with pytest.raises(InputError):
            be.result(tickets[0])  # already retrieved


def _event_time(fake_cuda, event) -> float:
    """Simulated GPU time (ms) at which ``event``'s last record ran (the fake's own bookkeeping)."""
    return fake_cuda._EVENTS[int(event.raw)]["time"]


def test_copy_of_the_next_frame_overlaps_compute_of_this_one(tmp_path, fake_trt, fake_cuda):
    st = fake_cuda.STATE
    st.kernel_ms, st.copy_bytes_per_ms = 2.0, 1e4  # slow enough copies that overlap shows
    onnx_path = tmp_path / "m.onnx"
    shape = (4, 64, 64, 3)
    with TensorRTBackend(make_engine(tmp_path, fake_trt), cuda_graph=False) as be:
        frames = [rand_frames(shape, 40 + i) for i in range(6)]
        tickets = [be.submit(frames[0]), be.submit(frames[1])]
        ev0, ev1 = be._stage_events[tickets[0].slot], be._stage_events[tickets[1].slot]
        out = be.result(tickets[0])
        # slot events: 0/1 h2d start/end, 2/3 compute start/end, 4/5 d2h start/end
        assert _event_time(fake_cuda, ev1[1]) < _event_time(fake_cuda, ev0[3])  # frame 1 copied in during compute 0
        np.testing.assert_array_equal(out["labels"], ort_run(onnx_path, frames[0])["labels"])
        out1 = be.result(tickets[1])
        assert _event_time(fake_cuda, ev0[4]) < _event_time(fake_cuda, ev1[3])  # frame 0 copied out during compute 1
        assert _event_time(fake_cuda, ev1[2]) >= _event_time(fake_cuda, ev0[3])  # one context: computes in order
        np.testing.assert_array_equal(out1["labels"], ort_run(onnx_path, frames[1])["labels"])
        # steady state: a pipeline of 4 frames beats running their stages back to back
        start = st.gpu_clock_ms
        tickets = [be.submit(f) for f in frames[2:]]
        _assert_results_match_onnx(be, onnx_path, *zip(tickets, frames[2:]))
        serial = 4 * sum(expected_stage_ms(fake_cuda, shape).values())
        assert st.gpu_clock_ms - start < 0.8 * serial


def test_a_missing_event_wait_is_caught(tmp_path, fake_trt, fake_cuda, monkeypatch):
    from fcn_trt.backends import _cuda as fcn_cuda

    monkeypatch.setattr(fcn_cuda.Stream, "wait_event", lambda self, event: None)
    with TensorRTBackend(make_engine(tmp_path, fake_trt), cuda_graph=False) as be:
        with pytest.raises(fake_cuda.StreamOrderError) as exc:
            be.infer(rand_frames((1, 16, 16, 3)))
        assert "execute_async_v3" in str(exc.value)  # it reads the frame the copy-in stream writes


def test_sharing_one_device_buffer_between_slots_is_caught(tmp_path, fake_trt, fake_cuda):
    with TensorRTBackend(make_engine(tmp_path, fake_trt), cuda_graph=False) as be:
        be._d_in[1] = be._d_in[0]  # what "one set of device buffers" would do
        be.submit(rand_frames((1, 16, 16, 3), 1))
        with pytest.raises(fake_cuda.StreamOrderError) as exc:
            be.submit(rand_frames((1, 16, 16, 3), 2))  # overwrites the frame compute 0 still reads
        assert "cudaMemcpyAsync(h2d)" in str(exc.value)


def test_results_taken_out_of_order_then_a_new_submit(tmp_path, fake_trt, fake_cuda):
    # t1 is retrieved before t0; the next submit must not reuse t0's slot while t0 is in flight
    onnx_path = tmp_path / "m.onnx"
    with TensorRTBackend(make_engine(tmp_path, fake_trt)) as be:
        f = [rand_frames((1, 16, 16, 3), 60 + i) for i in range(4)]
        t0, t1 = be.submit(f[0]), be.submit(f[1])
        _assert_results_match_onnx(be, onnx_path, (t1, f[1]))
        t2 = be.submit(f[2])
        assert t2.slot != t0.slot
        t3 = be.submit(f[3])  # both slots busy: the oldest (t0) is completed and parked first
        _assert_results_match_onnx(be, onnx_path, (t0, f[0]), (t2, f[2]), (t3, f[3]))


def test_shape_change_with_work_in_flight(tmp_path, fake_trt, fake_cuda):
    onnx_path = tmp_path / "m.onnx"
    with TensorRTBackend(make_engine(tmp_path, fake_trt)) as be:
        f0, f1 = rand_frames((1, 16, 16, 3), 1), rand_frames((2, 32, 8, 3), 2)
        t0, t1 = be.submit(f0), be.submit(f1)
        _assert_results_match_onnx(be, onnx_path, (t0, f0), (t1, f1))


# --- CUDA graphs ----------------------------------------------------------------------------------
def test_cuda_graph_capture_and_replay(tmp_path, fake_trt, fake_cuda, monkeypatch):
    fake_cuda.STATE.capture_supported = True
    onnx_path = tmp_path / "m.onnx"
    with TensorRTBackend(make_engine(tmp_path, fake_trt)) as be:
        for i in range(6):
            frames = rand_frames((1, 16, 16, 3), 100 + i)
            got = be.infer(frames)
            np.testing.assert_array_equal(got["labels"], ort_run(onnx_path, frames)["labels"])
            # frames 0, 1: warm-up per staging slot; 2, 3: capture + launch; then replay
            assert be.cuda_graph_active == (i >= 2)
        assert fake_cuda.STATE.graph_launches == 4
        assert be.cuda_graph_reason == "" and be.describe()["cuda_graph"] == "on"
        # a new shape drops the graphs, warms up and captures again
        frames = rand_frames((2, 16, 16, 3), 7)
        np.testing.assert_array_equal(be.infer(frames)["labels"], ort_run(onnx_path, frames)["labels"])
        assert be.cuda_graph_active is False
        assert fake_cuda.live_objects()["graph_execs"] == 0
        allocations = fake_cuda.DEVICE_MEMORY.allocation_count
        for i in range(4):
            frames = rand_frames((2, 16, 16, 3), 200 + i)
            np.testing.assert_array_equal(be.infer(frames)["labels"], ort_run(onnx_path, frames)["labels"])
        assert be.cuda_graph_active and fake_cuda.live_objects()["graph_execs"] == 2
        assert fake_cuda.DEVICE_MEMORY.allocation_count == allocations
    assert fake_cuda.live_objects() == {"streams": 0, "events": 0, "graphs": 0, "graph_execs": 0}


def test_cuda_graph_falls_back_when_capture_fails(tmp_path, fake_trt, fake_cuda):
    onnx_path = tmp_path / "m.onnx"
    with TensorRTBackend(make_engine(tmp_path, fake_trt)) as be:  # the fake refuses capture by default
        for i in range(4):
            frames = rand_frames((1, 16, 16, 3), i)
            np.testing.assert_array_equal(be.infer(frames)["labels"], ort_run(onnx_path, frames)["labels"])
        assert be.cuda_graph_active is False
        assert "cudaErrorStreamCaptureUnsupported" in be.cuda_graph_reason
        assert be.describe()["cuda_graph"].startswith("off: capture failed")
    with TensorRTBackend(tmp_path / "m.engine", cuda_graph=False) as be:
        be.infer(rand_frames((1, 16, 16, 3)))
        assert "cuda_graph=False" in be.cuda_graph_reason


# --- CUDA-event stage timings ---------------------------------------------------------------------
def expected_stage_ms(fake_cuda, shape, outputs=("labels", "confidence")) -> dict:
    """What the fake's simulated GPU clock charges for one batch of ``shape`` (frame + outputs)."""
    st = fake_cuda.STATE
    n = int(np.prod(shape))
    pixels = n // shape[-1]
    out_bytes = {"labels": pixels, "confidence": 4 * pixels}
    return {
        "h2d": st.copy_latency_ms + n / st.copy_bytes_per_ms,
        "compute": st.kernel_ms,
        "d2h": sum(st.copy_latency_ms + out_bytes[o] / st.copy_bytes_per_ms for o in outputs),
    }


@pytest.mark.parametrize("cuda_graph", [False, True])
def test_stage_timings_per_batch(tmp_path, fake_trt, fake_cuda, cuda_graph):
    fake_cuda.STATE.capture_supported = True
    with TensorRTBackend(make_engine(tmp_path, fake_trt), cuda_graph=cuda_graph) as be:
        assert be.last_stage_timings == {}
        for i, shape in enumerate([(1, 16, 16, 3)] * 5 + [(4, 64, 64, 3)] * 4):
            be.infer(rand_frames(shape, i))
            got = be.last_stage_timings
            assert tuple(got) == trt_backend.STAGE_KEYS == ("h2d", "compute", "d2h")
            assert all(v >= 0 for v in got.values())
            want = expected_stage_ms(fake_cuda, shape)
            assert got == pytest.approx(want)  # each stage timed on its own, replayed graph or not
        assert be.cuda_graph_active is cuda_graph
        assert fake_cuda.STATE.graph_launches == (3 + 2 if cuda_graph else 0)  # per shape: 2 warm-up runs, then graphs


def test_stage_timings_allocate_no_event_after_warm_up(tmp_path, fake_trt, fake_cuda):
    fake_cuda.STATE.capture_supported = True
    for cuda_graph in (False, True):
        created = fake_cuda.STATE.calls.get("cudaEventCreateWithFlags", 0)
        with TensorRTBackend(make_engine(tmp_path, fake_trt), cuda_graph=cuda_graph) as be:
            at_open = fake_cuda.STATE.calls["cudaEventCreateWithFlags"] - created
            assert at_open == 2 * 6  # per slot: start + end of h2d, compute, d2h (d2h end = completion)
            be.infer(rand_frames((1, 16, 16, 3)))
            live = fake_cuda.live_objects()["events"]
            for i in range(8):
                be.infer(rand_frames((1, 16, 16, 3), i))
                assert set(be.last_stage_timings) == {"h2d", "compute", "d2h"}
            assert fake_cuda.STATE.calls["cudaEventCreateWithFlags"] - created == at_open
            assert fake_cuda.live_objects()["events"] == live
        assert fake_cuda.live_objects()["events"] == 0


def test_stage_timings_follow_the_returned_ticket(tmp_path, fake_trt, fake_cuda):
    small, big = (1, 8, 8, 3), (4, 64, 64, 3)
    with TensorRTBackend(make_engine(tmp_path, fake_trt)) as be:
        t_small, t_big = be.submit(rand_frames(small)), be.submit(rand_frames(big))
        be.result(t_big)
        assert be.last_stage_timings == pytest.approx(expected_stage_ms(fake_cuda, big))
        be.result(t_small)
        assert be.last_stage_timings == pytest.approx(expected_stage_ms(fake_cuda, small))
        assert be.last_stage_timings["h2d"] < expected_stage_ms(fake_cuda, big)["h2d"]


def test_stage_timing_failure_is_logged_once_and_inference_goes_on(tmp_path, fake_trt, fake_cuda, caplog):
    onnx_path = tmp_path / "m.onnx"
    with TensorRTBackend(make_engine(tmp_path, fake_trt), cuda_graph=False) as be:
        fake_cuda.STATE.fail_next["cudaEventElapsedTime"] = fake_cuda.cudaError_t.cudaErrorInvalidValue
        with caplog.at_level("WARNING", logger="fcn_trt.backends.tensorrt"):
            for i in range(3):
                frames = rand_frames((1, 16, 16, 3), i)
                np.testing.assert_array_equal(be.infer(frames)["labels"], ort_run(onnx_path, frames)["labels"])
                assert be.last_stage_timings == {}
        assert sum("stage timings unavailable" in r.getMessage() for r in caplog.records) == 1


def test_execution_context_property(tmp_path, fake_trt, fake_cuda):
    be = TensorRTBackend(make_engine(tmp_path, fake_trt))
    ctx = be.execution_context
    assert ctx is be._context and type(ctx).__name__.endswith("IExecutionContext")
    be.close()
    with pytest.raises(ClosedError):
        be.execution_context


# --- lifetime -------------------------------------------------------------------------------------
def test_close_frees_everything_once(tmp_path, fake_trt, fake_cuda):
    be = TensorRTBackend(make_engine(tmp_path, fake_trt))
    t = be.submit(rand_frames((1, 16, 16, 3)))
    assert open_engine_count() == 1
    be.close()
    be.close()
    assert fake_cuda.DEVICE_MEMORY.live_allocations() == {}
    assert fake_cuda.HOST_MEMORY.live_allocations() == {}
    assert fake_cuda.DEVICE_MEMORY.free_count == fake_cuda.DEVICE_MEMORY.allocation_count == 6
    assert fake_cuda.HOST_MEMORY.free_count == fake_cuda.HOST_MEMORY.allocation_count == 6
    assert fake_cuda.live_objects() == {"streams": 0, "events": 0, "graphs": 0, "graph_execs": 0}
    assert open_engine_count() == 0
    for call in (lambda: be.infer(rand_frames((1, 16, 16, 3))), lambda: be.submit(rand_frames((1, 16, 16, 3))),
                 lambda: be.result(t)):
        with pytest.raises(ClosedError):
            call()


def test_engine_shared_between_backends(tmp_path, fake_trt, fake_cuda):
    engine = make_engine(tmp_path, fake_trt)
    a = TensorRTBackend(engine)
    b = TensorRTBackend(engine)
    try:
        assert fake_trt._fake.created.count("ICudaEngine") == 1
        assert fake_trt._fake.created.count("IExecutionContext") == 2
        assert open_engine_count() == 1
        assert a._stream.handle != b._stream.handle
        frames = rand_frames((1, 16, 16, 3))
        np.testing.assert_array_equal(a.infer(frames)["labels"], b.infer(frames)["labels"])
        a.close()
        assert open_engine_count() == 1
        b.infer(frames)  # still usable
    finally:
        a.close()
        b.close()
    assert open_engine_count() == 0


def test_failed_open_leaks_nothing(tmp_path, fake_trt, fake_cuda):
    engine = make_engine(tmp_path, fake_trt)
    fake_cuda.STATE.fail_next["cudaMallocHost"] = fake_cuda.cudaError_t.cudaErrorMemoryAllocation
    _open_error(engine, Exception, "cudaErrorMemoryAllocation")
    assert fake_cuda.DEVICE_MEMORY.live_allocations() == {} and fake_cuda.HOST_MEMORY.live_allocations() == {}
    assert fake_cuda.live_objects()["streams"] == 0 and open_engine_count() == 0


# --- frames the engine cannot take ----------------------------------------------------------------
def test_bad_frames(tmp_path, fake_trt, fake_cuda):
    with TensorRTBackend(make_engine(tmp_path, fake_trt)) as be:
        with pytest.raises(FrameShapeError) as exc:
            be.infer(rand_frames((5, 16, 16, 3)))  # batch above the profile's 4
        assert "(4, 64, 64, 3)" in str(exc.value)
        with pytest.raises(FrameShapeError):
            be.infer(rand_frames((1, 80, 16, 3)))
        with pytest.raises(FrameShapeError):
            be.infer(rand_frames((1, 16, 16)))
        with pytest.raises(FrameDtypeError):
            be.infer(np.zeros((1, 16, 16, 3), np.float32))
        assert fake_cuda.DEVICE_MEMORY.allocation_count == 6


# --- engines that must not load -------------------------------------------------------------------
@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_corrupt_engine(tmp_path, fake_trt, fake_cuda, damage):
    engine = make_engine(tmp_path, fake_trt)
    blob = engine.read_bytes()
    engine.write_bytes({"garbage": b"\x00junk" * 50, "truncated": blob[:20], "empty": b""}[damage])
    msg = _open_error(engine, EngineCorruptError, "rebuild", "m.engine")
    if damage != "empty":
        assert "Serialization" in msg  # TensorRT's own log line, captured by the backend's logger
    assert fake_cuda.DEVICE_MEMORY.live_allocations() == {} and open_engine_count() == 0


def test_foreign_engine_lying_sidecar(tmp_path, fake_trt, fake_cuda):
    engine = make_engine(tmp_path, fake_trt, engine_version=_other_trt_version(fake_trt))  # bytes from another TensorRT
    _open_error(engine, EngineCorruptError, "Version tag does not match")


@pytest.mark.parametrize("engine_kwargs,error,words", [
    pytest.param(lambda trt: {"sidecar": False}, EngineError, ["m.engine.json", "build_engine build"],
                 id="missing_sidecar"),
    pytest.param(lambda trt: dict.fromkeys(["engine_version", "sidecar_version"], _other_trt_version(trt)),
                 EngineMismatchError, ["TensorRT", "build_engine build"], id="engine_from_other_tensorrt_version"),
    pytest.param(lambda trt: {"cc": "8.6"}, EngineMismatchError, ["sm_86", "sm_87"], id="engine_from_other_gpu"),
])
def test_sidecar_mismatch_is_refused_before_deserialising(tmp_path, fake_trt, fake_cuda, engine_kwargs, error, words):
    _open_error(make_engine(tmp_path, fake_trt, **engine_kwargs(fake_trt)), error, *words)
    assert "Runtime" not in fake_trt._fake.created  # checked before deserialising


def test_version_compatible_engine_loads_with_host_code_allowed(tmp_path, fake_trt, fake_cuda):
    # A version-compatible plan carries its lean runtime (host code); TensorRT's runtime refuses it
    # unless engine_host_code_allowed is set (default False). The fake refuses the same way.
    engine = make_engine(tmp_path, fake_trt, engine_flags=["VERSION_COMPATIBLE"],
                         build_flags={"version_compatible": True})
    frames = rand_frames((1, 16, 16, 3), 5)
    with TensorRTBackend(engine) as be:
        np.testing.assert_array_equal(be.infer(frames)["labels"], ort_run(tmp_path / "m.onnx", frames)["labels"])
    runtime = fake_trt._fake.last("Runtime")
    assert runtime.engine_host_code_allowed is True


def test_dla_engine_selects_its_dla_core(tmp_path, fake_trt, fake_cuda):
    engine = make_engine(tmp_path, fake_trt, build_flags={"dla_core": 1})
    with TensorRTBackend(engine) as be:
        be.infer(rand_frames((1, 16, 16, 3)))
    assert fake_trt._fake.last("Runtime").DLA_core == 1


def test_host_code_stays_off_for_ordinary_engines(tmp_path, fake_trt, fake_cuda):
    with TensorRTBackend(make_engine(tmp_path, fake_trt)) as be:
        be.infer(rand_frames((1, 16, 16, 3)))
    assert fake_trt._fake.last("Runtime").engine_host_code_allowed is False


def test_version_compatible_engine_with_a_sidecar_that_hides_it_fails_clearly(tmp_path, fake_trt, fake_cuda):
    engine = make_engine(tmp_path, fake_trt, engine_flags=["VERSION_COMPATIBLE"])  # sidecar: not compatible
    _open_error(engine, EngineCorruptError, "host code", "Hint:")
    assert open_engine_count() == 0


def test_precision_and_source_onnx_checks(tmp_path, fake_trt, fake_cuda):
    engine = make_engine(tmp_path, fake_trt, precision="fp16")
    _open_error(engine, EngineMismatchError, "--precision int8", precision="int8")
    TensorRTBackend(engine, precision="fp16", onnx=tmp_path / "m.onnx").close()
    other = tiny_pipeline(tmp_path / "other.onnx", outputs=("labels",))
    _open_error(engine, EngineMismatchError, "sha256", onnx=other)


def test_not_a_pipeline_engine(tmp_path, fake_trt, fake_cuda):
    engine = make_engine(tmp_path, fake_trt, input_name="images")
    _open_error(engine, ModelFormatError, "'frame'")
    assert fake_cuda.DEVICE_MEMORY.live_allocations() == {} and open_engine_count() == 0


def test_no_cuda_device_before_tensorrt_runtime(tmp_path, fake_trt, fake_cuda):
    engine = make_engine(tmp_path, fake_trt)
    fake_cuda.STATE.device_count = 0
    with pytest.raises(NoCudaDeviceError):
        TensorRTBackend(engine)
    assert "Runtime" not in fake_trt._fake.created


def test_tensorrt_not_installed(tmp_path, fake_cuda, monkeypatch):
    engine = tmp_path / "m.engine"
    engine.write_bytes(b"x")
    monkeypatch.setitem(sys.modules, "tensorrt", None)
    _open_error(engine, BackendUnavailableError, 'pip install "fcn-trt[tensorrt]"')


def test_segmenter_uses_the_backend(tmp_path, fake_trt, fake_cuda):
    from fcn_trt import Segmenter

    engine = make_engine(tmp_path, fake_trt)
    frame = rand_frames((24, 40, 3), 5)
    with Segmenter(engine) as seg:
        assert seg.backend.name == "tensorrt"
        result = seg.run(frame)
    np.testing.assert_array_equal(result.labels, ort_run(tmp_path / "m.onnx", frame[None])["labels"][0])


def test_declares_its_capabilities(tmp_path, fake_trt, fake_cuda):
    from fcn_trt import Segmenter
    from fcn_trt.backends.base import AsyncBackend, DeviceBacked, LayerProfiled, StageTimed

    engine = make_engine(tmp_path, fake_trt)
    with TensorRTBackend(engine) as be:
        assert all(isinstance(be, c) for c in (AsyncBackend, StageTimed, LayerProfiled, DeviceBacked))
        with Segmenter(be) as seg:
            assert seg.asynchronous and seg.model_path == engine
            t0, t1 = seg.submit(rand_frames((24, 40, 3), 1)), seg.submit(rand_frames((24, 40, 3), 2))
            assert seg.collect(t1).labels.shape == seg.collect(t0).labels.shape == (24, 40)


# --- the real thing -------------------------------------------------------------------------------
@pytest.mark.gpu
def test_real_tensorrt_matches_onnxruntime(tmp_path):
    trt_builder = pytest.importorskip("build_engine.trt_builder")
    onnx_path = tiny_pipeline(tmp_path / "m.onnx")
    engine = trt_builder.build_engine(onnx_path, tmp_path / "m.engine", trt_builder.BuildConfig())
    with TensorRTBackend(engine) as be:
        for i, shape in enumerate([(1, 240, 320, 3), (1, 480, 640, 3), (1, 480, 640, 3), (1, 480, 640, 3)]):
            frames = rand_frames(shape, i)
            got = be.infer(frames)
            np.testing.assert_array_equal(got["labels"], ort_run(onnx_path, frames)["labels"])
    assert trt_backend.open_engine_count() == 0


def test_backends_in_threads_share_one_engine(tmp_path, fake_trt, fake_cuda):
    engine = make_engine(tmp_path, fake_trt)
    onnx_path = tmp_path / "m.onnx"
    frames = [rand_frames((1, 16, 16, 3), 300 + i) for i in range(4)]
    want = [ort_run(onnx_path, f)["labels"] for f in frames]
    failures = []

    def worker(k):
        try:
            with TensorRTBackend(engine, cuda_graph=False) as be:  # opened and used in this thread
                for f, w in zip(frames, want):
                    if not np.array_equal(be.infer(f)["labels"], w):
                        failures.append((k, "mismatch"))
        except Exception as e:  # pragma: no cover - reported by the assert below
            failures.append((k, repr(e)))

    run_in_threads(worker, 3)
    assert failures == []
    assert fake_trt._fake.created.count("IExecutionContext") == 3
    assert open_engine_count() == 0 and fake_cuda.DEVICE_MEMORY.live_allocations() == {}


@pytest.mark.parametrize("change,words", [
    ({"input_format": "nv12"}, ["metadata input_format 'nv12'", "expected a graph input 'frame' of rank 3"]),
    ({"outputs": ["labels", "confidence", "logits"]}, ["expected graph outputs", "(no logits)"]),
])
def test_sidecar_pipeline_that_contradicts_the_engine_is_refused(tmp_path, fake_trt, fake_cuda, change, words):
    engine = make_engine(tmp_path, fake_trt)
    path = tmp_path / "m.engine.json"
    doc = json.loads(path.read_text())
    doc["pipeline"].update(change)
    path.write_text(json.dumps(doc))
    _open_error(engine, MetadataError, *words)
    assert open_engine_count() == 0  # nothing leaked by the failed open
