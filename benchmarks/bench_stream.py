"""Streaming benchmark: stream() vs the naive loops it replaces, measured in the same run.

1. **Live camera** (simulated, 30 fps, frames captured by a driver thread into a small FIFO like
   V4L2's buffers, new frames dropped when it is full) while inference takes longer than 33 ms:
   ``Segmenter.stream`` (newest frame wins) vs the naive ``read() -> run()`` loop. Frame age is
   measured from the camera's own capture timestamp (stamped into the frame) to the result.
   Acceptance: stream's frame-age p95 <= 2.5 x the median inference time (no backlog).
2. **Video file**: stream() over a file (every frame, in order) vs the sequential
   ``read -> run -> render`` loop, alternated A/B/B/A; acceptance: stream's throughput >= the loop's.
3. **Tiled inference** on a 3000x4000 image: label agreement with whole-image inference on the
   interior (acceptance >= 99%) and peak traced host memory of both.
4. **Shutdown**: time from killing the camera to the end of the stream, and from ``close()`` (the
   ``break``/Ctrl-C path) to released camera and joined threads.

Run from the repository root (the live comparison takes 2 x --seconds)::

    python -m benchmarks.bench_stream --seconds 60          # -> benchmarks/results/stream.md
    python -m benchmarks.bench_stream --seconds 3 --no-tiling --out /tmp/stream.md   # quick look
"""

from __future__ import annotations

import argparse
import collections
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Deque, Dict, List, Optional, Sequence, Tuple

import numpy as np

from benchmarks._common import RESULTS, header, load, percentile, publish, ticks

__all__ = ["SimulatedCamera", "live_comparison", "file_comparison", "tiling_check", "shutdown_times", "main"]


class SimulatedCamera:
    """A camera whose driver captures at ``fps`` into a FIFO of ``buffers`` frames, whether or not
    anyone reads (like V4L2 with OpenCV's default 4 buffers); when the FIFO is full new frames are
    dropped. ``read()`` blocks for the oldest buffered frame. Each frame carries its capture
    number in its first pixels; :meth:`capture_time` maps it back to the capture timestamp."""

    def __init__(self, frames: Sequence[np.ndarray], fps: float = 30.0, buffers: int = 4) -> None:
        self._frames = list(frames)
        self._period = 1.0 / fps
        self._fifo: Deque[np.ndarray] = collections.deque()
        self._buffers = buffers
        self._cond = threading.Condition()
        self._times: Dict[int, float] = {}
        self._stop = threading.Event()
        self.killed = threading.Event()
        self.released = False
        self.captured = 0
        self.driver_dropped = 0
        self._thread = threading.Thread(target=self._drive, daemon=True, name="simulated-camera")
        self._thread.start()

    def _drive(self) -> None:
        for n in ticks(self._stop, self._period):
            frame = self._frames[n % len(self._frames)].copy()
            frame[0, :4, 0] = np.frombuffer(np.uint32(n).tobytes(), np.uint8)
            t = time.perf_counter()
            with self._cond:
                self._times[n] = t
                if len(self._fifo) >= self._buffers:
                    self.driver_dropped += 1
                else:
                    self._fifo.append(frame)
                    self._cond.notify_all()
            self.captured = n + 1

    def read(self) -> Tuple[bool, Optional[np.ndarray]]:
        with self._cond:
            while not self._fifo:
                if self.killed.is_set() or self._stop.is_set():
                    return False, None
                self._cond.wait(0.05)
            if self.killed.is_set():
                return False, None
            return True, self._fifo.popleft()

    def capture_time(self, frame: np.ndarray) -> float:
        n = int(np.frombuffer(frame[0, :4, 0].tobytes(), np.uint32)[0])
        return self._times[n]

    def release(self) -> None:
        self.released = True
        self._stop.set()
        self._thread.join(1.0)


def live_comparison(seg: Any, frames: Sequence[np.ndarray], seconds: float, fps: float = 30.0,
                    buffers: int = 4) -> Dict[str, Dict[str, float]]:
    """stream() vs the naive loop on a simulated camera, ``seconds`` each; ages in ms from capture."""
    out: Dict[str, Dict[str, float]] = {}
    # stream(): newest frame wins.
    cam = SimulatedCamera(frames, fps, buffers)
    ages: List[float] = []
    infer: List[float] = []
    t0 = time.perf_counter()
    s = seg.stream(cam, live=True)
    with s:
        for r in s:
            ages.append((time.perf_counter() - cam.capture_time(r.frame)) * 1e3)
            infer.append(r.result.timings["total"])
            if time.perf_counter() - t0 >= seconds:
                break
    elapsed = time.perf_counter() - t0
    cam.release()
    out["stream"] = dict(results=len(ages), seconds=elapsed, fps=len(ages) / elapsed, captured=cam.captured,
                         dropped=s.dropped + cam.driver_dropped, stream_dropped=s.dropped,
                         age_p50=percentile(ages, 50), age_p95=percentile(ages, 95), age_max=max(ages),
                         infer_p50=percentile(infer, 50), age_last_second_p50=percentile(ages[-max(1, int(len(ages) / elapsed)):], 50))
    # Naive: read -> run, one frame at a time.
    cam = SimulatedCamera(frames, fps, buffers)
    ages, infer = [], []
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        ok, frame = cam.read()
        t_run = time.perf_counter()
        result = seg.run(frame)
        infer.append((time.perf_counter() - t_run) * 1e3)
        ages.append((time.perf_counter() - cam.capture_time(frame)) * 1e3)
        del result
    elapsed = time.perf_counter() - t0
    cam.release()
    out["naive"] = dict(results=len(ages), seconds=elapsed, fps=len(ages) / elapsed, captured=cam.captured,
                        dropped=cam.driver_dropped, stream_dropped=0,
                        age_p50=percentile(ages, 50), age_p95=percentile(ages, 95), age_max=max(ages),
                        infer_p50=percentile(infer, 50), age_last_second_p50=percentile(ages[-max(1, int(len(ages) / elapsed)):], 50))
    return out


def _write_video(path: Path, frames: Sequence[np.ndarray], count: int) -> Path:
    import cv2

    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (w, h))
    for i in range(count):
        writer.write(frames[i % len(frames)])
    writer.release()
    return path


def file_comparison(seg: Any, video: Path, rounds: int = 6) -> Dict[str, Any]:
    """Throughput (frames/s) of stream() and of the sequential read -> run -> render loop, A/B/B/A."""
    import cv2

    from fcn_trt.streaming.drawing import render

    def with_stream() -> Tuple[int, bool]:
        seqs = [r.sequence for r in _render_all(seg.stream(str(video)))]
        return len(seqs), seqs == list(range(len(seqs)))

    def _render_all(stream: Any):
        for r in stream:
            render(r.frame, r.result)
            yield r

    def sequential() -> Tuple[int, bool]:
        cap = cv2.VideoCapture(str(video))
        n = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            render(frame, seg.run(frame))
            n += 1
        cap.release()
        return n, True

    fns = {"stream": with_stream, "sequential": sequential}
    times: Dict[str, List[float]] = {k: [] for k in fns}
    counts: Dict[str, int] = {}
    in_order = True
    for r in range(rounds):
        order = ["stream", "sequential"] if r % 2 == 0 else ["sequential", "stream"]
        for name in order:
            time.sleep(0.05)
            t0 = time.perf_counter()
            n, ok = fns[name]()
            times[name].append(time.perf_counter() - t0)
            counts[name] = n
            in_order = in_order and ok
    return {
        "frames": counts, "in_order": in_order,
        "fps": {k: counts[k] / float(np.median(v)) for k, v in times.items()},
        "fps_all": {k: [counts[k] / t for t in v] for k, v in times.items()},
    }


_TILE_WORKER = """
import json, sys, time, tracemalloc
import numpy as np
import fcn_trt
from fcn_trt.tiling import segment_tiled

def status_kb(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])

model, image_path, mode, tile, overlap, out = sys.argv[1:7]
image = np.load(image_path)
with fcn_trt.Segmenter(model, threads=int(sys.argv[7])) as seg:
    seg.run(image[:64, :64])
    try:  # reset the peak-RSS mark (VmHWM) to the current RSS (Linux >= 4.0)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    base = status_kb("VmRSS")
    tracemalloc.start()
    t0 = time.perf_counter()
    if mode == "tiled":
        result = segment_tiled(seg, image, tile=int(tile), overlap=int(overlap))
    else:
        result = seg.run(image)
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    hwm = status_kb("VmHWM")
np.save(out, result.labels)
print(json.dumps(dict(seconds=seconds, peak_traced_mb=peak / 2 ** 20, rss_base_mb=base / 1024, rss_peak_mb=hwm / 1024)))
"""


def tiling_check(model: Path, image: np.ndarray, tile: int, overlap: int, workdir: Path, threads: int = 0,
                 margin: int = 64) -> Dict[str, Any]:
    """Tiled vs whole-image labels on ``image``, each in a fresh process so that its peak memory
    (max RSS above the process's baseline after loading the model and image, and peak traced numpy
    memory) is its own."""
    import json
    import os
    import subprocess
    import sys

    image_path = workdir / "big.npy"
    np.save(image_path, image)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    out: Dict[str, Any] = {}
    labels = {}
    for mode in ("tiled", "whole"):
        lab = workdir / f"{mode}.npy"
        proc = subprocess.run([sys.executable, "-c", _TILE_WORKER, str(model), str(image_path), mode, str(tile),
                               str(overlap), str(lab), str(threads)], capture_output=True, text=True, env=env, check=True)
        out[mode] = json.loads(proc.stdout.strip().splitlines()[-1])
        labels[mode] = np.load(lab)
    t, w = labels["tiled"], labels["whole"]
    m = margin
    out["agreement_all"] = float((t == w).mean())
    out["agreement_interior"] = float((t[m:-m, m:-m] == w[m:-m, m:-m]).mean())
    out["classes_present"] = int(len(np.unique(w)))
    return out


def shutdown_times(seg: Any, frames: Sequence[np.ndarray]) -> Dict[str, float]:
    """ms from killing the camera to the end of iteration, and from close() to a released camera."""
    from fcn_trt.streaming.sources import open_source

    cam = SimulatedCamera(frames, 30.0)
    s = seg.stream(open_source(cam, release=True), on_source_error="stop")
    t_kill = None
    for i, _ in enumerate(s):
        if i == 3:
            cam.killed.set()
            t_kill = time.perf_counter()
    kill_ms = (time.perf_counter() - t_kill) * 1e3
    cam2 = SimulatedCamera(frames, 30.0)
    s2 = seg.stream(open_source(cam2, release=True))
    for i, _ in enumerate(s2):
        if i == 3:
            break
    t0 = time.perf_counter()
    s2.close()
    close_ms = (time.perf_counter() - t0) * 1e3
    alive = [t.name for t in threading.enumerate() if t.name.startswith("fcn_trt-") and t.is_alive()]
    return {"kill_to_end_ms": kill_ms, "kill_released": float(cam.released), "close_ms": close_ms,
            "close_released": float(cam2.released), "threads_left": float(len(alive))}


def bench_model(workdir: Path, model: Optional[str]) -> Path:
    """The given model, else a width/16 FCN-8s (5 classes) whose random score layers are zero-mean
    over input channels, so its labels vary over the image (plain random weights give one class)."""
    if model:
        from fcn_trt.models import resolve_model

        return resolve_model(model)
    from build_engine.fcn import structured_random_fcn_weights
    from build_engine.pipeline import export_fcn_pipeline

    w = structured_random_fcn_weights("fcn8s", 5, 16, seed=0)
    return export_fcn_pipeline(workdir / "fcn8s_w16_c5.onnx", "fcn8s", num_classes=5, width_divisor=16, weights=w,
                               outputs=("labels", "logits"))


def _live_section(seg: Any, frames: Sequence[np.ndarray], args: argparse.Namespace) -> List[str]:
    lines: List[str] = []
    print(f"live comparison, {args.seconds:g} s each ...", flush=True)
    live = live_comparison(seg, frames, args.seconds, 30.0, args.camera_buffers)
    s, n = live["stream"], live["naive"]
    verdict = "PASS" if s["age_p95"] <= 2.5 * s["infer_p50"] else "FAIL"
    lines += [
        "### 1. Live camera (30 fps) while inference takes longer than 33 ms", "",
        "| method | results | results/s | frame age p50 ms | p95 | max | p50 in the last second | inference p50 ms | dropped (driver + stream) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, v in (("stream() (newest wins)", s), ("naive read -> run", n)):
        lines.append(f"| {name} | {v['results']} | {v['fps']:.1f} | {v['age_p50']:.0f} | {v['age_p95']:.0f} | "
                     f"{v['age_max']:.0f} | {v['age_last_second_p50']:.0f} | {v['infer_p50']:.1f} | "
                     f"{v['dropped']} ({v['dropped'] - v['stream_dropped']} + {v['stream_dropped']}) |")
    lines += ["", f"stream() frame-age p95 / median inference = {s['age_p95'] / s['infer_p50']:.2f} "
              f"(acceptance <= 2.5): **{verdict}**; naive: {n['age_p95'] / n['infer_p50']:.2f}.", ""]
    return lines


def _file_section(seg: Any, video: Path, args: argparse.Namespace) -> List[str]:
    lines: List[str] = []
    print(f"file comparison ({args.video_frames} frames) ...", flush=True)
    fc = file_comparison(seg, video, args.rounds)
    ok = fc["fps"]["stream"] >= fc["fps"]["sequential"] and fc["in_order"] \
        and fc["frames"]["stream"] == args.video_frames
    lines += [
        "### 2. Video file: every frame, in order", "",
        f"| method | frames | frames/s (median of {args.rounds}, alternating order) | all runs |", "|---|---|---|---|",
    ]
    for name in ("stream", "sequential"):
        lines.append(f"| {'stream()' if name == 'stream' else 'sequential read -> run -> render'} | "
                     f"{fc['frames'][name]} | {fc['fps'][name]:.2f} | "
                     + ", ".join(f"{v:.2f}" for v in fc["fps_all"][name]) + " |")
    lines += ["", f"stream() processed every frame in order: {fc['in_order']}; throughput ratio "
              f"{fc['fps']['stream'] / fc['fps']['sequential']:.2f} (acceptance >= 1.0): "
              f"**{'PASS' if ok else 'FAIL'}**.", ""]
    return lines


def _shutdown_section(seg: Any, frames: Sequence[np.ndarray]) -> List[str]:
    lines: List[str] = []
    print("shutdown ...", flush=True)
    sd = shutdown_times(seg, frames)
    lines += [
        "### 4. Shutdown", "",
        f"- camera killed mid-stream -> iteration ended in {sd['kill_to_end_ms']:.0f} ms, camera released: "
        f"{bool(sd['kill_released'])}",
        f"- break + close() -> returned in {sd['close_ms']:.0f} ms, camera released: {bool(sd['close_released'])}, "
        f"fcn_trt threads left: {int(sd['threads_left'])}", "",
    ]
    return lines


def _tiling_section(model: Path, tmp: Path, args: argparse.Namespace) -> List[str]:
    lines: List[str] = []
    th, tw = (int(v) for v in args.tile_image.split("x"))
    print(f"tiling {th}x{tw} ...", flush=True)
    from fcn_trt.streaming.scenes import generate_frame

    big = generate_frame(11, (th, tw)).image
    tc = tiling_check(model, big, args.tile, args.overlap, tmp, args.threads)
    tt, tw_ = tc["tiled"], tc["whole"]
    verdict_t = "PASS" if tc["agreement_interior"] >= 0.99 else "FAIL"
    lines += [
        f"### 3. Tiled inference, {th}x{tw}, tiles {args.tile} with overlap {args.overlap} (logit merge)", "",
        f"- label agreement with whole-image inference: interior (64 px margin) "
        f"{100 * tc['agreement_interior']:.3f}%, whole image {100 * tc['agreement_all']:.3f}% "
        f"({tc['classes_present']} classes present): **{verdict_t}** (acceptance >= 99%)",
        f"- peak RSS above the baseline (VmHWM after a reset, each in a fresh process with the model and image "
        f"loaded, ONNX Runtime included): tiled {tt['rss_peak_mb'] - tt['rss_base_mb']:.0f} MB, whole image "
        f"{tw_['rss_peak_mb'] - tw_['rss_base_mb']:.0f} MB",
        f"- peak traced numpy memory (tracemalloc; ONNX Runtime's own buffers are not traced): tiled "
        f"{tt['peak_traced_mb']:.0f} MB, whole image {tw_['peak_traced_mb']:.0f} MB",
        f"- time: tiled {tt['seconds']:.1f} s, whole image {tw_['seconds']:.1f} s", "",
    ]
    return lines


def main(argv: Optional[List[str]] = None) -> int:
    import fcn_trt
    from fcn_trt.streaming.scenes import generate_clip

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=60.0, help="duration of each live run (default: 60)")
    p.add_argument("--size", default="240x320", help="camera/video frame size HxW (default: 240x320)")
    p.add_argument("--video-frames", type=int, default=90, help="frames in the test video (default: 90)")
    p.add_argument("--camera-buffers", type=int, default=4, help="simulated driver FIFO depth (default: 4)")
    p.add_argument("--model", help="pipeline .onnx (default: a generated width/16 FCN-8s)")
    p.add_argument("--threads", type=int, default=0, help="ONNX Runtime intra-op threads (default: 0 = all cores)")
    p.add_argument("--rounds", type=int, default=6, help="alternated runs per method over the video (default: 6)")
    p.add_argument("--tile-image", default="3000x4000", help="tiling test image HxW (default: 3000x4000)")
    p.add_argument("--tile", type=int, default=1024)
    p.add_argument("--overlap", type=int, default=416, help="default: fcn_trt.tiling.FCN_CONTEXT_OVERLAP")
    p.add_argument("--parts", default="live,file,shutdown,tiling", help="comma-separated parts to run (default: all)")
    p.add_argument("--no-tiling", action="store_true", help="same as leaving 'tiling' out of --parts")
    p.add_argument("--out", default=str(RESULTS / "stream.md"))
    args = p.parse_args(argv)
    h, w = (int(v) for v in args.size.split("x"))
    load_start = load()
    lines = header("Streaming (stream() vs naive loops, tiling, shutdown)", [
        f"live: simulated 30 fps camera, {args.camera_buffers}-frame driver FIFO, {args.seconds:g} s per method, "
        f"frames {h}x{w}",
    ])
    parts = set(args.parts.split(","))
    if args.no_tiling:
        parts.discard("tiling")
    with tempfile.TemporaryDirectory() as tmp:
        model = bench_model(Path(tmp), args.model)
        lines.insert(3, f"- model: {model.name} (ONNX Runtime CPU, intra-op threads {args.threads or 'default'})")
        lines.insert(4, f"- parts: {', '.join(sorted(parts))}")
        frames = [f.image for f in generate_clip(5, 24, (h, w))]
        video = _write_video(Path(tmp) / "clip.mp4", frames, args.video_frames)
        with fcn_trt.Segmenter(model, threads=args.threads) as seg:
            for _ in range(3):
                seg.run(frames[0])
            if "live" in parts:
                lines += _live_section(seg, frames, args)
            if "file" in parts:
                lines += _file_section(seg, video, args)
            if "shutdown" in parts:
                lines += _shutdown_section(seg, frames)
        if "tiling" in parts:
            lines += _tiling_section(model, Path(tmp), args)
    lines.append(f"Load average at start / end (1/5/15 min): {load_start} / {load()} (shared 2-core machine).")
    return publish(lines, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
