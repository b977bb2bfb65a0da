"""Latency profiling: ``fcn-trt profile MODEL`` and :func:`profile`.

Runs a Segmenter on synthetic frames (or a real source), excludes the warm-up, and reports per-stage
latency statistics (min / p50 / p90 / p99 / max / mean / std), throughput, peak host (and device)
memory, optionally the slowest layers, and everything needed to reproduce the numbers (model sha256,
backend and versions, CPU/GPU, OS, Jetson power mode and clock state).

Stages are only those the backend really measures. Stage names:

=================  ===============================================================================
``capture``        ``Source.read()`` of the next frame (only with ``source=``)
``host_prep``      frame validation / staging on the host (Segmenter's ``validate``)
``h2d``            host-to-device copy (CUDA events; only when the backend exposes them)
``gpu_compute``    engine execution on the GPU (CUDA events; only when the backend exposes them)
``d2h``            device-to-host copy (CUDA events; only when the backend exposes them)
``infer``          the backend call as the host sees it (H2D + compute + D2H + waits on TensorRT)
``host_postprocess``  splitting outputs into results (Segmenter's ``postprocess``)
``total``          ``Segmenter.run`` end to end (per frame)
``render``         ``result.overlay(frame)`` (a BGR overlay, what a live viewer draws)
``frame_age``      from the frame leaving ``capture`` to its rendered overlay (only with ``source=``)
=================  ===============================================================================

Stages a backend cannot measure are listed in :attr:`ProfileReport.unmeasured` with the reason;
no number is ever invented for them.

Example:
    >>> report = profile("model.onnx", size=(240, 320), frames=50)      # doctest: +SKIP
    >>> print(report.format_table())                                    # doctest: +SKIP
    >>> report.stage("total").p99_ms                                    # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import math
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from .._hashing import file_sha256
from .._imports import require_pyplot
from .._progress import progress
from .._util import parse_hw
from ..backends import backend_spec
from ..backends.base import DeviceBacked, LayerProfiled, StageTimed
from ..errors import ConfigError, ConfigTypeError, FrameTooLargeError, SourceError
from ..preflight import available_memory_bytes, check_frame_memory
from .latency import StageStats, stage_stats

__all__ = [
    "StageStats",
    "LayerTime",
    "ProfileReport",
    "profile",
    "stage_stats",
    "parse_size",
    "write_plots",
    "SCHEMA",
    "STAGES",
    "CV_WARN",
]

#: upper bounds of profile()'s counts (a typo such as --frames 1000000000000 is an error, not a hang).
MAX_FRAMES = 10_000_000
MAX_BATCH = 1024

log = logging.getLogger(__name__)

SCHEMA = "fcn_trt.profile/1"
#: Every stage name a report may carry, in pipeline order.
STAGES = ("capture", "host_prep", "h2d", "gpu_compute", "d2h", "infer", "host_postprocess", "total", "render", "frame_age")
#: Coefficient of variation above which a stage is reported as unstable (trtexec uses 10% too).
CV_WARN = 0.10
#: A run is host-bound when host time per frame exceeds this multiple of the device compute time.
HOST_BOUND_RATIO = 1.0

_SEGMENTER_KEYS = {"validate": "host_prep", "infer": "infer", "postprocess": "host_postprocess", "total": "total"}
_DEVICE_KEYS = {"h2d": "h2d", "compute": "gpu_compute", "gpu_compute": "gpu_compute", "d2h": "d2h"}


# --- statistics ---------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class LayerTime:
    """Time of one layer (TensorRT) or node (ONNX Runtime), averaged over ``calls`` runs."""

    name: str
    op_type: str
    mean_ms: float
    total_ms: float
    calls: int
    share: float  # of the summed mean time of all layers


# --- the report -----------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class ProfileReport:
    """What :func:`profile` measured, and on what. ``to_json()`` is the machine form.

    Attributes:
        model, model_sha256: the profiled file and its sha256.
        backend: the backend's ``describe()`` (name, version, device, precision, cuda_graph...).
        precision: ``fp32``/``fp16``/``int8`` from the model metadata (or the engine sidecar).
        frame_hw, batch, frames, warmup: what was run (``frames`` timed batches; warm-up excluded).
        source: the frame source (``None`` = synthetic frames generated before timing).
        stages: statistics per measured stage (milliseconds per frame).
        unmeasured: stage name -> why this backend/run cannot measure it.
        throughput_fps: frames per second over the timed loop (all stages included).
        peak_rss_mb: the process's peak resident memory (``getrusage``); None where unavailable.
        device_memory: device memory numbers (TensorRT backend) or None, see ``device_memory_note``.
        layers: the slowest layers/nodes (``layers=N``), ``layers_source`` says how they were timed.
        system: :func:`fcn_trt.sysinfo.system_info` (CPU, OS, versions, GPU, Jetson power/clocks).
        warnings: host-bound / unstable / overhead warnings, as sentences.
        samples_ms: per-frame samples of every measured stage (timeline and histogram).
    """

    model: str
    model_sha256: str
    backend: Mapping[str, str]
    precision: str
    frame_hw: Tuple[int, int]
    batch: int
    frames: int
    warmup: int
    source: Optional[str]
    stages: Tuple[StageStats, ...]
    unmeasured: Mapping[str, str]
    throughput_fps: float
    wall_s: float
    peak_rss_mb: Optional[float]
    device_memory: Optional[Mapping[str, Any]]
    device_memory_note: str
    host_memory_note: str
    layers: Tuple[LayerTime, ...]
    layers_source: str
    system: Mapping[str, Any]
    warnings: Tuple[str, ...]
    samples_ms: Mapping[str, Tuple[float, ...]]
    created: str
    schema: str = SCHEMA

    def stage(self, name: str) -> StageStats:
        """Statistics of stage ``name`` (KeyError-free: raises :class:`ConfigError` naming the stages)."""
        for s in self.stages:
            if s.name == name:
                return s
        raise ConfigError(f"stage {name!r}", expected="one of " + ", ".join(s.name for s in self.stages),
                          found=name if name not in self.unmeasured else f"{name} (not measured: {self.unmeasured[name]})")

    def to_dict(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {
            "schema": self.schema,
            "created": self.created,
            "model": self.model,
            "model_sha256": self.model_sha256,
            "backend": dict(self.backend),
            "precision": self.precision,
            "frame_hw": list(self.frame_hw),
            "batch": self.batch,
            "frames": self.frames,
            "warmup": self.warmup,
            "source": self.source,
            "stages": {s.name: s.to_dict() for s in self.stages},
            "unmeasured": dict(self.unmeasured),
            "throughput_fps": self.throughput_fps,
            "wall_s": self.wall_s,
            "peak_rss_mb": self.peak_rss_mb,
            "host_memory_note": self.host_memory_note,
            "device_memory": None if self.device_memory is None else dict(self.device_memory),
            "device_memory_note": self.device_memory_note,
            "layers": [dataclasses.asdict(layer) for layer in self.layers],
            "layers_source": self.layers_source,
            "system": dict(self.system),
            "warnings": list(self.warnings),
            "samples_ms": {k: list(v) for k, v in self.samples_ms.items()},
        }
        return d

    def to_json(self, indent: Optional[int] = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False, default=str)

    def format_table(self) -> str:
        """The human-readable report (what ``fcn-trt profile`` prints)."""
        b = self.backend
        dev = b.get("device", "")
        lines = [
            "profile: %s (sha256 %s) on %s %s%s, %s%s" % (
                Path(self.model).name, self.model_sha256[:12], b.get("backend", "?"), b.get("version", ""),
                f" [{dev}]" if dev else "", self.precision,
                f", CUDA graph {b['cuda_graph']}" if b.get("cuda_graph") else ""),
            "frames: %d x batch %d at %dx%d, warm-up %d excluded, source %s; throughput %.2f frames/s (%.2f s)" % (
                self.frames, self.batch, self.frame_hw[0], self.frame_hw[1], self.warmup, self.source or "synthetic",
                self.throughput_fps, self.wall_s),
            "",
            "%-17s %5s %9s %9s %9s %9s %9s %9s %8s %6s" % ("stage (ms/frame)", "n", "min", "p50", "p90", "p99", "max",
                                                           "mean", "std", "cv"),
        ]
        for s in self.stages:
            lines.append("%-17s %5d %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %8.3f %5.1f%%" % (
                s.name, s.count, s.min_ms, s.p50_ms, s.p90_ms, s.p99_ms, s.max_ms, s.mean_ms, s.std_ms, 100 * s.cv))
        if self.unmeasured:
            lines.append("")
            lines.append("not measured:")
            for name, why in self.unmeasured.items():
                lines.append(f"  {name}: {why}")
        lines.append("")
        rss = "n/a" if self.peak_rss_mb is None else "%.1f MB" % self.peak_rss_mb
        lines.append(f"host memory: peak RSS {rss} ({self.host_memory_note})")
        if self.device_memory is not None:
            lines.append("device memory: " + ", ".join(f"{k} {v}" for k, v in self.device_memory.items())
                         + f" ({self.device_memory_note})")
        else:
            lines.append(f"device memory: n/a ({self.device_memory_note})")
        sysi = self.system
        gpu = sysi.get("gpu") or {}
        lines.append("machine: %s, %s cores, %s; python %s, numpy %s, onnxruntime %s%s" % (
            sysi.get("cpu_model"), sysi.get("cpu_count"), sysi.get("os"), sysi.get("python"), sysi.get("numpy"),
            sysi.get("onnxruntime"),
            ", GPU %s (sm %s), driver %s, CUDA %s, TensorRT %s" % (
                gpu.get("gpu_name"), gpu.get("compute_capability"), gpu.get("driver_version"),
                gpu.get("cuda_runtime_version"), sysi.get("tensorrt")) if gpu else ""))
        if sysi.get("loadavg"):
            lines.append("load average: %s" % " ".join(str(v) for v in sysi["loadavg"]))
        jet = sysi.get("jetson")
        if jet:
            lines.append("jetson: %s; power mode %s; clocks locked: %s" % (
                jet.get("l4t_release"), jet.get("power_mode"), jet.get("clocks_locked")))
        if self.layers:
            lines.append("")
            lines.append(f"slowest {len(self.layers)} layers ({self.layers_source}):")
            lines.append("  %-44s %-18s %9s %6s" % ("layer", "op", "mean ms", "share"))
            for layer in self.layers:
                lines.append("  %-44s %-18s %9.3f %5.1f%%" % (
                    layer.name[-44:], layer.op_type[:18], layer.mean_ms, 100 * layer.share))
        elif self.layers_source:
            lines.append("")
            lines.append(f"layers: {self.layers_source}")
        if self.warnings:
            lines.append("")
            for w in self.warnings:
                lines.append(f"WARNING: {w}")
        return "\n".join(lines)


# --- helpers --------------------------------------------------------------------------------------
def parse_size(text: str, what: str = "--size") -> Tuple[int, int]:
    """``"480x640"`` (or ``"480,640"``) -> ``(480, 640)`` (height x width); a lone ``"480"`` is a ConfigError."""
    return parse_hw(text, what)


def _peak_rss_mb() -> Optional[float]:
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)  # bytes on macOS, KiB on Linux


def _device_mem_used_mb() -> Optional[float]:
    """Used memory of the current CUDA device (cudaMemGetInfo: whole device), or None."""
    try:
        from ..backends._cuda import check_cuda, cuda_runtime

        rt = cuda_runtime()
        free, total = check_cuda(rt.cudaMemGetInfo(), "cudaMemGetInfo", rt)
        return round((int(total) - int(free)) / 2**20, 1)
    except Exception:  # noqa: BLE001 - no cuda-python / device: not measurable
        return None


def _synthetic_frames(input_format: str, hw: Tuple[int, int], count: int, seed: int) -> List[np.ndarray]:
    h, w = hw
    rng = np.random.default_rng(seed)
    if input_format == "nv12":
        if h % 2 or w % 2:
            raise ConfigError("--size", expected="even height and width for an nv12 model", found=f"{h}x{w}")
        shape: Tuple[int, ...] = (h * 3 // 2, w)
    else:
        shape = (h, w, 3)
    # smooth-ish content (blocks of noise) so the labels are not all one class; content does not
    # change dense-network latency, only the post-processing of some pipelines.
    base = rng.integers(0, 256, size=(count,) + tuple(-(-d // 8) for d in shape[:2]) + shape[2:], dtype=np.uint8)
    frames = [np.ascontiguousarray(np.repeat(np.repeat(b, 8, axis=0), 8, axis=1)[: shape[0], : shape[1]]) for b in base]
    return frames


def _bgr_for_render(frame: np.ndarray, input_format: str) -> Optional[np.ndarray]:
    if input_format == "bgr":
        return frame
    if input_format == "rgb":
        return np.ascontiguousarray(frame[..., ::-1])
    return None  # nv12: rendering needs cv2 colour conversion; rendered labels only


# --- per-layer profiles ---------------------------------------------------------------------------
def _top_layers(times: Mapping[str, Sequence[float]], ops: Mapping[str, str], top: int) -> Tuple[LayerTime, ...]:
    means = {k: float(np.mean(v)) for k, v in times.items() if len(v)}
    total = sum(means.values()) or 1.0
    ranked = sorted(means, key=lambda k: means[k], reverse=True)[:top]
    return tuple(LayerTime(name=k, op_type=ops.get(k, ""), mean_ms=means[k], total_ms=float(np.sum(times[k])),
                           calls=len(times[k]), share=means[k] / total) for k in ranked)


# --- the profile loop -----------------------------------------------------------------------------
def _unmeasured(backend: Any, backend_name: str, device_keys: Sequence[str], has_source: bool,
                render: bool) -> Dict[str, str]:
    out: Dict[str, str] = {}
    if not has_source:
        out["capture"] = "no source: frames are synthetic and generated before timing"
        out["frame_age"] = "no source: frames are synthetic and generated before timing"
    for stage in ("h2d", "gpu_compute", "d2h"):
        if stage in device_keys:
            continue
        if not isinstance(backend, (StageTimed, DeviceBacked)):
            out[stage] = (f"not measurable on {backend_name}: it runs on the host through one call with no separate "
                          "copies or device timing; everything is in 'infer'")
        else:
            out[stage] = (f"the {backend_name} backend does not expose CUDA-event stage timings "
                          "(StageTimed.last_stage_timings); they are inside 'infer'")
    if not render:
        out["render"] = "rendering disabled (render=False / --no-render)"
    return out


def _warnings(stats: Mapping[str, StageStats], on_device: bool) -> List[str]:
    out: List[str] = []
    total = stats.get("total")
    device = stats.get("gpu_compute")
    if total is not None and device is not None and device.p50_ms > 0:
        host = total.p50_ms - device.p50_ms
        if host > HOST_BOUND_RATIO * device.p50_ms:
            out.append(
                "host-bound: host time %.3f ms/frame (total p50 minus GPU compute) exceeds the GPU compute time "
                "%.3f ms/frame; the GPU waits on the host (throughput may be bound by host work, as trtexec "
                "warns about enqueue time)" % (host, device.p50_ms))
    elif total is not None and not on_device:
        infer = stats.get("infer")
        if infer is not None and infer.p50_ms > 0:
            overhead = total.p50_ms - infer.p50_ms
            if overhead > 0.10 * infer.p50_ms:
                out.append("SDK host overhead %.3f ms/frame is %.0f%% of the inference call (%.3f ms): host-bound "
                           "outside the network" % (overhead, 100 * overhead / infer.p50_ms, infer.p50_ms))
    for name in ("total", "gpu_compute"):
        s = stats.get(name)
        if s is not None and s.count > 1 and s.cv > CV_WARN:
            out.append("unstable: %s latency coefficient of variation %.1f%% > %.0f%% (std %.3f ms over mean %.3f ms); "
                       "other processes, thermal throttling or unlocked clocks" % (
                           name, 100 * s.cv, 100 * CV_WARN, s.std_ms, s.mean_ms))
    return out


#: how many synthetic frames a profile without a source makes up front (its batches cycle through them)
SYNTHETIC_FRAMES = 8


def _frame_stream(source: Any, hw: Tuple[int, int], fmt: str, seed: int):
    """Yields (frame, capture_ms, captured_at) forever from the synthetic set or a source."""
    if source is None:
        frames = _synthetic_frames(fmt, hw, SYNTHETIC_FRAMES, seed)
        i = 0
        while True:
            yield frames[i % len(frames)], None, time.perf_counter()
            i += 1
    from ..streaming.sources import open_source

    with open_source(source) as src:
        while True:
            t0 = time.perf_counter()
            frame = src.read()
            t1 = time.perf_counter()
            if frame is None:
                return
            yield frame, (t1 - t0) * 1e3, t1


def profile(
    model: Any,
    size: Union[Tuple[int, int], str] = (480, 640),
    batch: int = 1,
    frames: int = 100,
    warmup: int = 10,
    source: Any = None,
    backend: Optional[str] = None,
    layers: int = 0,
    layer_runs: int = 5,
    render: bool = True,
    show_progress: bool = True,
    seed: int = 0,
    **backend_options: Any,
) -> ProfileReport:
    """Profile a Segmenter (or a model path/name, opened and closed here) and return a report.

    Args:
        model: a :class:`fcn_trt.Segmenter` (left open) or what ``Segmenter()`` accepts.
        size: frame (height, width) or ``"HxW"`` for synthetic frames (ignored with ``source``).
        batch: frames per call (``run_batch`` when > 1); timings are per frame.
        frames: timed calls (each of ``batch`` frames); warm-up calls are excluded.
        source: a camera/video/folder spec or reader (:func:`fcn_trt.sources.open_source`); adds
            ``capture`` and ``frame_age``.
        layers: when > 0, also time layers (TensorRT IProfiler / ONNX Runtime profiling) and keep the
            ``layers`` slowest, over ``layer_runs`` runs.
        render: also time ``result.overlay(frame)``.

    Raises:
        ConfigError: bad sizes/counts. SourceError: the source gave no timed frame.
    """
    from ..backends.base import Backend
    from ..models import resolve_model
    from ..segmenter import Segmenter

    counts = dict(frames=frames, batch=batch, warmup=warmup, layers=layers)
    if any(isinstance(v, bool) or not isinstance(v, int) for v in counts.values()):
        raise ConfigTypeError("profile counts", expected="integers",
                              found=", ".join(f"{k}={v!r}" for k, v in counts.items()))
    if not (1 <= frames <= MAX_FRAMES and 1 <= batch <= MAX_BATCH and 0 <= warmup <= MAX_FRAMES
            and 0 <= layers <= 10000):
        raise ConfigError("profile counts", expected=f"frames 1..{MAX_FRAMES}, batch 1..{MAX_BATCH}, "
                          f"warmup 0..{MAX_FRAMES}, layers 0..10000",
                          found=", ".join(f"{k}={v}" for k, v in counts.items()))
    hw = parse_size(size) if isinstance(size, str) else (int(size[0]), int(size[1]))
    if hw[0] <= 0 or hw[1] <= 0:
        raise ConfigError("size", expected="positive height and width", found=str(size))
    own = not isinstance(model, Segmenter)
    on_device = own and not isinstance(model, Backend) and backend_spec(resolve_model(model), backend).on_device
    mem_before = _device_mem_used_mb() if on_device else None
    seg = Segmenter(model, backend=backend, **backend_options) if own else model
    try:
        if source is None:  # SYNTHETIC_FRAMES frames are made up front, then one batch is in flight
            h, w = hw
            if not all(seg.backend.max_frame_hw):  # an engine's profile bounds the frame instead
                check_frame_memory(seg.metadata, batch, h, w, seg.backend.name,
                                   hint="profile a smaller --size or --batch (the profile measures whole frames)")
            synthetic = SYNTHETIC_FRAMES * h * w * 3
            have = available_memory_bytes()
            if have is not None and synthetic > have // 4:
                raise FrameTooLargeError(
                    f"{SYNTHETIC_FRAMES} synthetic {h}x{w} frames", expected="at most %.1f GiB (a quarter of the available "
                    "memory)" % (have / 4 / 2 ** 30), found="%.1f GiB" % (synthetic / 2 ** 30),
                    hint="profile a smaller --size (engines: their optimization profile's size)")
        return _profile(seg, hw, int(batch), int(frames), int(warmup), source, int(layers), int(layer_runs), render,
                        show_progress, seed, mem_before)
    finally:
        if own:
            seg.close()


def _profile(seg: Any, hw: Tuple[int, int], batch: int, frames: int, warmup: int, source: Any, layers: int,
             layer_runs: int, render: bool, show_progress: bool, seed: int, mem_before: Optional[float]) -> ProfileReport:
    from .sysinfo import system_info

    be = seg.backend
    on_device = isinstance(be, DeviceBacked)
    meta = seg.metadata
    fmt = meta.input_format
    describe = {str(k): str(v) for k, v in be.describe().items()}
    backend_name = getattr(be, "title", "") or describe.get("backend", getattr(be, "name", "?"))  # for sentences
    samples: Dict[str, List[float]] = {}
    device_keys: set = set()
    stream = _frame_stream(source, hw, fmt, seed)
    frame_hw: Optional[Tuple[int, int]] = None
    mem_samples: List[float] = []
    last_batch: Optional[np.ndarray] = None

    def one_call(record: bool) -> bool:
        nonlocal frame_hw, last_batch
        got = []
        for _ in range(batch):
            try:
                item = next(stream)
            except StopIteration:
                break
            got.append(item)
        if not got or len(got) < batch:
            return False
        fr = [g[0] for g in got]
        if batch == 1:
            results = [seg.run(fr[0])]
        else:
            results = seg.run_batch(fr)
        stage_t = be.last_stage_timings if isinstance(be, StageTimed) else None
        rendered_ms: List[float] = []
        done_at: List[float] = []
        for f, r in zip(fr, results):
            if render:
                t0 = time.perf_counter()
                bgr = _bgr_for_render(f, fmt)
                if bgr is not None and bgr.shape[:2] == r.labels.shape:
                    r.overlay(bgr)
                else:
                    r.colorize()
                t1 = time.perf_counter()
                rendered_ms.append((t1 - t0) * 1e3)
                done_at.append(t1)
            else:
                done_at.append(time.perf_counter())
        if not record:
            return True
        if frame_hw is None:
            frame_hw = tuple(int(d) for d in results[0].labels.shape)  # type: ignore[assignment]
            last_batch = np.stack(fr) if batch > 1 else fr[0][None]
        for i, (g, r) in enumerate(zip(got, results)):
            for key, stage in _SEGMENTER_KEYS.items():
                if key in r.timings:
                    samples.setdefault(stage, []).append(float(r.timings[key]))
            if isinstance(stage_t, Mapping):
                for key, stage in _DEVICE_KEYS.items():
                    if key in stage_t:
                        device_keys.add(stage)
                        samples.setdefault(stage, []).append(float(stage_t[key]) / batch)
            if render:
                samples.setdefault("render", []).append(rendered_ms[i])
            if g[1] is not None:
                samples.setdefault("capture", []).append(g[1])
                samples.setdefault("frame_age", []).append((done_at[i] - g[2]) * 1e3)
        return True

    try:
        for _ in range(warmup):
            if not one_call(False):
                break
        used = _device_mem_used_mb() if on_device else None
        if used is not None:
            mem_samples.append(used)
        done = 0
        t_start = time.perf_counter()
        for _ in progress(range(frames), total=frames, desc="profile", enabled=show_progress):
            if not one_call(True):
                break
            done += 1
        wall = time.perf_counter() - t_start
    finally:
        stream.close()  # closes the source (the generator's `with`)
    if done == 0:
        raise SourceError("profile source", expected=f"at least {warmup + 1} call(s) of {batch} frame(s)",
                          found="the source ended during the warm-up", hint="use a longer video or fewer --warmup")
    used = _device_mem_used_mb() if on_device else None
    if used is not None:
        mem_samples.append(used)

    stats = {name: stage_stats(name, samples[name]) for name in STAGES if name in samples}
    layer_rows: Tuple[LayerTime, ...] = ()
    layers_source = ""
    if layers and last_batch is not None:
        if not isinstance(be, LayerProfiled):
            layers_source = f"per-layer profile unavailable: the {backend_name} backend does not time layers"
        else:
            try:
                times, ops, layers_source = be.profile_layers(last_batch, layer_runs, show_progress)
                layer_rows = _top_layers(times, ops, layers)
            except (ImportError, AttributeError) as e:
                layers_source = f"per-layer profile unavailable: {type(e).__name__}: {e}"
    if mem_samples:
        measured: Dict[str, Any] = {"peak_used_mb": max(mem_samples)}
        if mem_before is not None:
            measured["delta_since_open_mb"] = round(max(mem_samples) - mem_before, 1)
        device_memory: Optional[Dict[str, Any]] = measured
        mem_note = "cudaMemGetInfo after warm-up and at the end: whole device, other processes included"
    else:
        device_memory = None
        mem_note = (f"not applicable: {backend_name} runs on the host" if not on_device
                    else "cudaMemGetInfo unavailable")
    sha = file_sha256(seg.model_path) if seg.model_path is not None else ""  # a served model has no file here
    precision = describe.get("precision") or meta.precision
    return ProfileReport(
        model=seg.model_source,
        model_sha256=sha,
        backend=describe,
        precision=str(precision),
        frame_hw=frame_hw or hw,
        batch=batch,
        frames=done,
        warmup=warmup,
        source=None if source is None else str(source),
        stages=tuple(stats[n] for n in STAGES if n in stats),
        unmeasured=_unmeasured(be, backend_name, sorted(device_keys), source is not None, render),
        throughput_fps=done * batch / wall if wall > 0 else math.inf,
        wall_s=wall,
        peak_rss_mb=_peak_rss_mb(),
        host_memory_note=("process peak resident set size (getrusage ru_maxrss), model load included; "
                          "tracemalloc not used (it misses native ONNX Runtime/TensorRT memory and slows the loop)"),
        device_memory=device_memory,
        device_memory_note=mem_note,
        layers=layer_rows,
        layers_source=layers_source,
        system=system_info(device=be.device_info.index if on_device else None),
        warnings=tuple(_warnings(stats, on_device)),
        samples_ms={k: tuple(v) for k, v in samples.items()},
        created=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    )


# --- plots ----------------------------------------------------------------------------------------
def write_plots(report: ProfileReport, prefix: Union[str, Path]) -> List[Path]:
    """Write ``<prefix>_hist.png`` (latency histogram) and ``<prefix>_timeline.png`` (per frame)."""
    plt = require_pyplot("--plot")
    prefix = Path(prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    title = f"{Path(report.model).name} {report.backend.get('backend', '')} {report.precision} " \
            f"{report.frame_hw[0]}x{report.frame_hw[1]} b{report.batch}"
    shown = [s for s in ("total", "infer", "gpu_compute", "render", "frame_age") if s in report.samples_ms]
    hist = Path(f"{prefix}_hist.png")
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name in shown:
        ax.hist(report.samples_ms[name], bins=min(50, max(5, len(report.samples_ms[name]) // 2)), alpha=0.5, label=name)
    total = report.stage("total") if "total" in report.samples_ms else None
    if total is not None:
        for v, ls, lab in ((total.p50_ms, "-", "p50"), (total.p99_ms, "--", "p99")):
            ax.axvline(v, color="k", linestyle=ls, linewidth=1, label=f"total {lab} {v:.2f} ms")
    ax.set_xlabel("latency per frame (ms)")
    ax.set_ylabel("frames")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(hist, dpi=100)
    plt.close(fig)
    timeline = Path(f"{prefix}_timeline.png")
    fig, ax = plt.subplots(figsize=(10, 4.5))
    for name in [s for s in STAGES if s in report.samples_ms]:
        ax.plot(report.samples_ms[name], linewidth=1, label=name)
    ax.set_xlabel("frame (after warm-up)")
    ax.set_ylabel("ms")
    ax.set_title(title)
    ax.legend(ncol=3, fontsize="small")
    fig.tight_layout()
    fig.savefig(timeline, dpi=100)
    plt.close(fig)
    return [hist, timeline]
