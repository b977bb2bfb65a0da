"""fcn_trt.profile: statistics on known data, the JSON schema, and smoke runs on a tiny real model."""

from __future__ import annotations

import json
import sys
import types

import numpy as np
import pytest

import fcn_trt
from fcn_trt.backends._trt_layers import make_layer_profiler
from fcn_trt.backends.onnxruntime import parse_ort_profile
from fcn_trt.errors import BackendUnavailableError, ConfigError, FrameTooLargeError, InputError, SourceError
from fcn_trt.tools import profiling as prof
from fcn_trt.tools.sysinfo import jetson_info, system_info
from tests.fcn_trt._shared import REPORT_KEYS

STAGE_KEYS = {"name", "count", "min_ms", "p50_ms", "p90_ms", "p99_ms", "max_ms", "mean_ms", "std_ms", "cv"}
SYSTEM_KEYS = {"os", "cpu_model", "cpu_count", "python", "numpy", "onnxruntime", "tensorrt", "gpu", "jetson"}


# --- statistics -----------------------------------------------------------------------------------
def test_stage_stats_on_known_data():
    s = prof.stage_stats("total", [float(v) for v in range(1, 101)])
    assert (s.count, s.min_ms, s.max_ms) == (100, 1.0, 100.0)
    assert s.p50_ms == pytest.approx(50.5) and s.p90_ms == pytest.approx(90.1) and s.p99_ms == pytest.approx(99.01)
    assert s.mean_ms == pytest.approx(50.5)
    assert s.std_ms == pytest.approx(np.sqrt((100**2 - 1) / 12))  # population std of 1..100
    assert s.cv == pytest.approx(s.std_ms / 50.5)


def test_stage_stats_constant_and_order_independent():
    s = prof.stage_stats("x", [4.0, 4.0, 4.0])
    assert (s.p50_ms, s.p99_ms, s.std_ms, s.cv) == (4.0, 4.0, 0.0, 0.0)
    a = prof.stage_stats("a", [3.0, 1.0, 2.0, 10.0])
    b = prof.stage_stats("a", [10.0, 2.0, 1.0, 3.0])
    assert a == b and a.p50_ms == 2.5


@pytest.mark.parametrize("bad", [[], [1.0, float("nan")], [float("inf")]])
def test_stage_stats_rejects_empty_and_nonfinite(bad):
    with pytest.raises(InputError, match="latency samples"):
        prof.stage_stats("total", bad)


def test_parse_size():
    assert prof.parse_size("480x640") == (480, 640)
    assert prof.parse_size("720X1280") == (720, 1280)
    assert prof.parse_size("480,640") == (480, 640)  # the one size grammar
    for bad in ("480", "ax3", "0x10", "-1x5", "1x2x3"):
        with pytest.raises(ConfigError, match="--size"):
            prof.parse_size(bad)


def test_parse_ort_profile_drops_warmup_and_converts_us():
    events = []
    for run in range(3):
        events.append({"cat": "Session", "name": "model_run", "dur": 999})
        events.append({"cat": "Node", "name": "conv_kernel_time", "dur": 1000 * (run + 1), "args": {"op_name": "Conv"}})
        events.append({"cat": "Node", "name": "conv_fence_before", "dur": 5})
        events.append({"cat": "Node", "name": "argmax_kernel_time", "dur": 500, "args": {"op_name": "ArgMax"}})
    times, ops = parse_ort_profile(events, skip_runs=1)
    assert times == {"conv": [2.0, 3.0], "argmax": [0.5, 0.5]}
    assert ops == {"conv": "Conv", "argmax": "ArgMax"}
    top = prof._top_layers(times, ops, 1)
    assert len(top) == 1 and top[0].name == "conv" and top[0].mean_ms == 2.5 and top[0].calls == 2
    assert top[0].share == pytest.approx(2.5 / 3.0) and top[0].total_ms == 5.0


def test_layer_profiler_collects_report_layer_time():
    class IProfiler:  # the base class shape of trt.IProfiler (report_layer_time overridden by users)
        def __init__(self):
            pass

    fake_trt = types.SimpleNamespace(IProfiler=IProfiler)
    p = make_layer_profiler(fake_trt)
    assert isinstance(p, IProfiler)
    for ms in (1.0, 3.0):
        p.report_layer_time("conv1", ms)
    p.report_layer_time("argmax", 0.5)
    assert p.times == {"conv1": [1.0, 3.0], "argmax": [0.5]}


def _stats(**p50):
    return {k: prof.StageStats(k, 10, v, v, v, v, v, v, 0.0) for k, v in p50.items()}


def test_host_bound_and_unstable_warnings():
    w = prof._warnings(_stats(total=10.0, gpu_compute=2.0), on_device=True)
    assert len(w) == 1 and w[0].startswith("host-bound") and "2.000 ms" in w[0]
    assert prof._warnings(_stats(total=10.0, gpu_compute=8.0), on_device=True) == []
    noisy = {"total": prof.StageStats("total", 10, 1, 10, 20, 30, 30, 10.0, 2.0)}
    w = prof._warnings(noisy, on_device=False)
    assert len(w) == 1 and w[0].startswith("unstable") and "20.0%" in w[0]
    w = prof._warnings(_stats(total=12.0, infer=10.0), on_device=False)
    assert len(w) == 1 and "SDK host overhead" in w[0]


# --- system info ----------------------------------------------------------------------------------
def test_system_info_has_versions():
    info = system_info(device=None)
    assert SYSTEM_KEYS <= set(info)
    assert info["numpy"] == np.__version__ and info["cpu_count"] >= 1 and info["gpu"] is None
    json.dumps(info)


def _fake_jetson(tmp_path, cur, mx):
    tmp_path.mkdir(parents=True)
    rel = tmp_path / "nv_tegra_release"
    rel.write_text("# R36 (release), REVISION: 4.0\n")
    gpu = tmp_path / "sys" / "17000000.gpu" / "devfreq" / "17000000.gpu"
    gpu.mkdir(parents=True)
    (gpu / "cur_freq").write_text(f"{cur}\n")
    (gpu / "max_freq").write_text(f"{mx}\n")
    (gpu / "min_freq").write_text("306000000\n")
    return str(rel), str(tmp_path / "sys")


def test_jetson_detection_and_clock_state(tmp_path):
    assert jetson_info(str(tmp_path / "missing"), str(tmp_path)) is None
    rel, root = _fake_jetson(tmp_path / "a", 1300500000, 1300500000)
    info = jetson_info(rel, root)
    assert info["l4t_release"].startswith("# R36") and info["clocks_locked"] is True
    assert info["clocks"][0] == {"name": "17000000.gpu", "cur": 1300500000, "max": 1300500000, "min": 306000000}
    rel, root = _fake_jetson(tmp_path / "b", 306000000, 1300500000)
    assert jetson_info(rel, root)["clocks_locked"] is False


# --- smoke runs on a tiny real model --------------------------------------------------------------
def test_profile_smoke_json_schema(model_path):
    r = prof.profile(str(model_path), size=(40, 56), frames=6, warmup=2, layers=3, layer_runs=2, show_progress=False)
    d = json.loads(r.to_json())
    assert set(d) == REPORT_KEYS and d["schema"] == prof.SCHEMA
    assert d["frames"] == 6 and d["batch"] == 1 and d["warmup"] == 2 and d["frame_hw"] == [40, 56]
    assert set(d["stages"]) == {"host_prep", "infer", "host_postprocess", "total", "render"}
    for s in d["stages"].values():
        assert set(s) == STAGE_KEYS and s["count"] == 6 and s["min_ms"] <= s["p50_ms"] <= s["p99_ms"] <= s["max_ms"]
    assert {"h2d", "gpu_compute", "d2h", "capture", "frame_age"} == set(d["unmeasured"])
    assert "ONNX Runtime" in d["unmeasured"]["gpu_compute"] and "runs on the host" in d["unmeasured"]["gpu_compute"]
    assert d["backend"]["backend"] == "onnxruntime" and d["precision"] == "fp32"
    assert len(d["model_sha256"]) == 64 and d["throughput_fps"] > 0 and d["peak_rss_mb"] > 0
    assert d["device_memory"] is None and SYSTEM_KEYS <= set(d["system"])
    assert all(len(v) == 6 for v in d["samples_ms"].values())
    assert len(d["layers"]) == 3 and d["layers"][0]["mean_ms"] >= d["layers"][-1]["mean_ms"] > 0
    assert "ONNX Runtime profiling" in d["layers_source"]
    assert r.stage("total").p50_ms >= r.stage("infer").p50_ms * 0.99
    with pytest.raises(ConfigError, match="not measured"):
        r.stage("gpu_compute")
    table = r.format_table()
    for word in ("p99", "not measured:", "gpu_compute", "peak RSS", "slowest 3 layers", "throughput"):
        assert word in table


def test_profile_open_segmenter_batch_and_source(model_path):
    frames = [np.full((32, 48, 3), i * 20, np.uint8) for i in range(10)]
    with fcn_trt.Segmenter(model_path) as seg:
        r = prof.profile(seg, batch=2, frames=10, warmup=1, source=frames, render=False, show_progress=False)
        assert not seg.closed  # a Segmenter passed in stays open
    assert r.frames == 4 and r.batch == 2 and r.frame_hw == (32, 48)  # 10 frames: 1 warm-up call of 2 + 4 timed calls of 2
    assert r.stage("capture").count == 8 and r.stage("frame_age").count == 8
    assert r.stage("frame_age").min_ms >= 0 and "render" in r.unmeasured and "capture" not in r.unmeasured


def test_profile_source_too_short(model_path):
    with pytest.raises(SourceError, match="warm-up"):
        prof.profile(model_path, source=[np.zeros((16, 16, 3), np.uint8)], warmup=1, frames=3, show_progress=False)


def test_the_synthetic_frame_guard_counts_the_frames_made_not_batch_times_eight(model_path, monkeypatch):
    frame = 24 * 32 * 3
    # room for the 8 synthetic frames a profile makes, not for batch x 8 of them
    monkeypatch.setattr(prof, "available_memory_bytes", lambda: 4 * (prof.SYNTHETIC_FRAMES * frame + 1))
    r = prof.profile(model_path, size=(24, 32), batch=16, frames=1, warmup=0, render=False, show_progress=False)
    assert r.batch == 16
    monkeypatch.setattr(prof, "available_memory_bytes", lambda: 4 * (prof.SYNTHETIC_FRAMES * frame - 1))
    with pytest.raises(FrameTooLargeError, match="8 synthetic 24x32 frames"):
        prof.profile(model_path, size=(24, 32), batch=16, frames=1, warmup=0, render=False, show_progress=False)


def test_profile_rejects_bad_counts(model_path):
    with pytest.raises(ConfigError, match=r"expected frames 1\.\.10000000, .*found frames=0"):
        prof.profile(model_path, frames=0)


def test_plots_written(model_path, tmp_path):
    pytest.importorskip("matplotlib")
    r = prof.profile(model_path, size=(24, 32), frames=4, warmup=1, show_progress=False)
    paths = prof.write_plots(r, tmp_path / "out" / "p")
    assert [p.name for p in paths] == ["p_hist.png", "p_timeline.png"]
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_is_a_clear_error(model_path, monkeypatch):
    r = prof.profile(model_path, size=(24, 32), frames=2, warmup=0, show_progress=False)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(BackendUnavailableError, match=r"fcn-trt\[plot\]"):
        prof.write_plots(r, "unused")


# --- TensorRT backend on the strict fakes ---------------------------------------------------------
def test_profile_tensorrt_backend_on_fakes(tmp_path, fake_trt, fake_cuda, monkeypatch):
    from fcn_trt.backends.tensorrt import TensorRTBackend
    from tests.fcn_trt.backends.test_tensorrt_backend import make_engine

    engine = make_engine(tmp_path, fake_trt)
    with fcn_trt.Segmenter(engine) as seg:
        r = prof.profile(seg, size=(16, 16), frames=3, warmup=1, layers=2, layer_runs=1, show_progress=False)
        assert r.backend["backend"] == "tensorrt" and r.frame_hw == (16, 16) and r.frames == 3
        assert r.device_memory is not None and r.device_memory["peak_used_mb"] >= 0  # fake cudaMemGetInfo
        assert r.layers_source  # either IProfiler rows or why they are unavailable, never silence
        # the backend's CUDA-event stage timings (the fake's simulated GPU clock) are profiled
        d = json.loads(r.to_json())
        assert {"h2d", "gpu_compute", "d2h"} <= set(d["stages"]) and not {"h2d", "gpu_compute", "d2h"} & set(d["unmeasured"])
        assert d["stages"]["gpu_compute"]["p50_ms"] == pytest.approx(fake_cuda.STATE.kernel_ms)
        assert d["stages"]["h2d"]["count"] == 3 and d["stages"]["h2d"]["min_ms"] > 0
        assert len(d["samples_ms"]["d2h"]) == 3 and min(d["samples_ms"]["d2h"]) > 0
        r2 = prof.profile(seg, size=(16, 16), batch=2, frames=2, warmup=0, render=False, show_progress=False)
        assert r2.stage("gpu_compute").p50_ms == pytest.approx(fake_cuda.STATE.kernel_ms / 2)  # one call, 2 frames
        # a backend without stage timings: the stages are listed as not measured, with the reason
        monkeypatch.setattr(TensorRTBackend, "last_stage_timings", property(lambda self: None))
        r = prof.profile(seg, size=(16, 16), frames=2, warmup=0, render=False, show_progress=False)
        assert "does not expose CUDA-event stage timings" in r.unmeasured["gpu_compute"]
        # timings are per call (a whole batch): the profile reports them per frame, under its stage names
        monkeypatch.setattr(TensorRTBackend, "last_stage_timings",
                            property(lambda self: {"h2d": 0.1, "compute": 0.2, "d2h": 0.05}))
        r = prof.profile(seg, size=(16, 16), frames=3, warmup=0, render=False, show_progress=False)
    assert r.stage("gpu_compute").p50_ms == pytest.approx(0.2) and r.stage("h2d").count == 3
    assert not {"h2d", "gpu_compute", "d2h"} & set(r.unmeasured)
    assert any(w.startswith("host-bound") for w in r.warnings) == (r.stage("total").p50_ms - 0.2 > 0.2)


def test_profile_of_a_segmenter_without_a_model_file(model_path):
    """A Segmenter over a Backend with no file (a served model, a custom backend): the report says where
    the model comes from and leaves the file hash empty instead of failing."""
    from fcn_trt.backends.base import Backend
    from fcn_trt.backends.onnxruntime import OnnxRuntimeBackend

    class NoFile(Backend):
        name = "nofile"
        url = "grpc://127.0.0.1:1/nofile"

        def __init__(self) -> None:
            self._inner = OnnxRuntimeBackend(model_path)

        @property
        def metadata(self):
            return self._inner.metadata

        def infer(self, frames):
            return self._inner.infer(frames)

        def close(self) -> None:
            self._inner.close()

    with fcn_trt.Segmenter(NoFile()) as seg:
        assert seg.model_path is None and seg.model_source == NoFile.url
        r = prof.profile(seg, size=(24, 32), frames=2, warmup=1, render=False, show_progress=False)
    assert r.model == NoFile.url and r.model_sha256 == "" and r.frames == 2
    assert "nofile" in r.format_table() and r.to_dict()["model"] == NoFile.url
