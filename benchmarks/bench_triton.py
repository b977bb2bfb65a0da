"""Multi-camera load benchmark: N simulated 30 FPS cameras on one Triton server vs one local Segmenter.

Each camera is a driver thread that captures a frame every 1/30 s into a one-frame slot (the newest
frame wins, as with ``Segmenter.stream(..., live=True)``) and a client thread that segments the
newest frame, then the next newest, and so on. Frames overwritten before a client took them are
**drops**. For every processed frame the benchmark records the **latency** (call to result) and the
**frame age** (capture to result).

* ``triton``: ``fcn-trt serve``'s server (tritonserver + python backend + ONNX Runtime, dynamic
  batching) started by the benchmark on 127.0.0.1; each camera has its own
  ``Segmenter("grpc://127.0.0.1:PORT/NAME")`` (system shared memory: same host).
* ``local``: all cameras share one local ``Segmenter(MODEL)`` (ONNX Runtime in this process; calls
  serialised by the Segmenter's lock).

Configurations run one after another for ``--seconds`` each, alternating triton/local per camera
count. Server and clients share this machine's cores, so on a CPU-only box the server gains
nothing from the network: it shows what dynamic batching and the protocol cost or save, not what a
GPU server would do.

Run from the repository root (the server needs its own interpreter, see fcn_trt.serve.server)::

    python -m benchmarks.bench_triton --cameras 1,2,4,8 --seconds 20 --server-python .venv-serve/bin/python
    # -> benchmarks/results/triton.md ; then python -m benchmarks.collect
"""

from __future__ import annotations

import threading
import time
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from benchmarks._common import (
    RESULTS, argument_parser, header, load, parse_sizes, percentile, publish, synthetic_frame, ticks,
)

__all__ = ["Camera", "run_cameras", "main"]


class Camera:
    """A 30 FPS camera whose driver overwrites a one-frame slot (newest wins); counts captures."""

    def __init__(self, frame: np.ndarray, fps: float, stop: threading.Event) -> None:
        self._frame = frame
        self._period = 1.0 / fps
        self._stop = stop
        self._cond = threading.Condition()
        self._slot: Optional[Tuple[int, float]] = None  # (sequence, capture time)
        self.captured = 0
        self._thread = threading.Thread(target=self._drive, daemon=True)

    def start(self) -> "Camera":
        self._thread.start()
        return self

    def _drive(self) -> None:
        for _ in ticks(self._stop, self._period):
            with self._cond:
                self._slot = (self.captured, time.perf_counter())
                self.captured += 1
                self._cond.notify_all()

    def newest(self, after: int) -> Optional[Tuple[int, float, np.ndarray]]:
        """The newest frame with a sequence number above ``after`` (waits for one; None when stopped)."""
        with self._cond:
            while not self._stop.is_set():
                if self._slot is not None and self._slot[0] > after:
                    seq, t = self._slot
                    return seq, t, self._frame
                self._cond.wait(0.05)
        return None

    def join(self) -> None:
        self._thread.join(2)


def run_cameras(segmenters: List[Any], frame: np.ndarray, seconds: float, fps: float = 30.0,
                warmup_s: float = 1.0) -> Dict[str, float]:
    """Drive ``len(segmenters)`` cameras (camera i uses ``segmenters[i]``, which may repeat) for ``seconds``."""
    stop = threading.Event()
    cams = [Camera(frame, fps, stop).start() for _ in segmenters]
    latencies: List[float] = []
    ages: List[float] = []
    processed = [0] * len(cams)
    first_seq = [0] * len(cams)
    last_seq = [0] * len(cams)
    errors: List[str] = []
    lock = threading.Lock()
    t_measure = time.perf_counter() + warmup_s

    def client(i: int) -> None:
        last = -1
        while not stop.is_set():
            item = cams[i].newest(last)
            if item is None:
                return
            seq, t_cap, img = item
            t0 = time.perf_counter()
            try:
                segmenters[i].run(img)
            except Exception as e:  # reported in the table
                errors.append(repr(e))
                return
            t1 = time.perf_counter()
            last = seq
            if t0 >= t_measure:
                with lock:
                    latencies.append((t1 - t0) * 1e3)
                    ages.append((t1 - t_cap) * 1e3)
                    if processed[i] == 0:
                        first_seq[i] = seq
                    processed[i] += 1
                    last_seq[i] = seq

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(len(cams))]
    for t in threads:
        t.start()
    time.sleep(warmup_s + seconds)
    stop.set()
    for t in threads:
        t.join(30)
    for c in cams:
        c.join()
    # frames captured during the measured span of each camera = last - first + 1; the rest were dropped
    spanned = sum(last_seq[i] - first_seq[i] + 1 for i in range(len(cams)) if processed[i])
    done = sum(processed)

    return {
        "cameras": len(cams), "frames": done, "throughput": done / seconds,
        "lat_p50": percentile(latencies, 50), "lat_p95": percentile(latencies, 95), "lat_p99": percentile(latencies, 99),
        "age_p50": percentile(ages, 50), "age_p95": percentile(ages, 95), "age_p99": percentile(ages, 99),
        "drop_pct": 100.0 * (spanned - done) / spanned if spanned else float("nan"),
        "errors": len(errors), "first_error": errors[0] if errors else "",
    }


def _server_batches(grpc_port: int, name: str) -> Tuple[int, int]:
    import tritonclient.grpc as tc

    client = tc.InferenceServerClient(f"127.0.0.1:{grpc_port}")
    stats = client.get_inference_statistics(name, as_json=True)["model_stats"][0]
    client.close()
    return int(stats.get("inference_count", 0)), int(stats.get("execution_count", 0))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argument_parser(__doc__, "pipeline .onnx or built-in name (default demo)", model_default="demo")
    parser.add_argument("--cameras", default="1,2,4,8", help="camera counts (default 1,2,4,8)")
    parser.add_argument("--size", default="240x320", help="frame HxW (default 240x320)")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per configuration")
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--max-batch", type=int, default=8)
    parser.add_argument("--instances", type=int, default=1)
    parser.add_argument("--protocol", choices=("grpc", "http"), default="grpc")
    parser.add_argument("--server-python", default=None, help="the server's interpreter (see fcn_trt.serve.server)")
    parser.add_argument("--out", default=str(RESULTS / "triton.md"))
    args = parser.parse_args(argv)

    import fcn_trt
    from fcn_trt.models import resolve_model
    from fcn_trt.serve.server import TritonServer, free_port

    start_load = load()
    (h, w), = parse_sizes(args.size)
    frame = synthetic_frame(h, w)
    counts = [int(c) for c in args.cameras.split(",")]
    server = TritonServer(args.model, http_port=free_port(), grpc_port=free_port(), model_name="bench",
                          max_batch=args.max_batch, instances=args.instances, server_python=args.server_python)
    rows: List[Tuple[str, Dict[str, float], str]] = []
    with server, fcn_trt.Segmenter(args.model) as local:
        env = server.environment
        local.run(frame)
        solo = []
        for _ in range(10):  # what one frame costs right now, alone: the scale for everything below
            t0 = time.perf_counter()
            local.run(frame)
            solo.append((time.perf_counter() - t0) * 1e3)
        solo_ms = float(np.median(solo))
        url = server.grpc_url if args.protocol == "grpc" else server.http_url
        for n in counts:
            for mode in ("triton", "local"):
                if mode == "triton":
                    segs = [fcn_trt.Segmenter(url) for _ in range(n)]
                    b0 = _server_batches(server.grpc_port, "bench")
                    try:
                        r = run_cameras(segs, frame, args.seconds, args.fps)
                    finally:
                        for s in segs:
                            s.close()
                    b1 = _server_batches(server.grpc_port, "bench")
                    inf, ex = b1[0] - b0[0], b1[1] - b0[1]
                    note = f"mean batch {inf / ex:.2f} ({ex} executions)" if ex else ""
                else:
                    r = run_cameras([local] * n, frame, args.seconds, args.fps)
                    note = "one Segmenter shared by all cameras"
                rows.append((mode, r, note))
                print(f"{n} camera(s) {mode:6s}: {r['throughput']:.1f} frames/s, latency p50 {r['lat_p50']:.1f} ms, "
                      f"age p95 {r['age_p95']:.1f} ms, drops {r['drop_pct']:.1f} % {note}", flush=True)
    lines = header(
        "Triton: N simulated 30 FPS cameras on one server vs one local Segmenter (CPU only)",
        [f"model: {args.model} ({resolve_model(args.model).name}), frames {h}x{w}",
         f"server: tritonserver from nvidia-pytriton (python backend, ONNX Runtime {env.onnxruntime} CPU, numpy {env.numpy}), "
         f"max batch {args.max_batch}, {args.instances} instance(s), dynamic batching (no queue delay), on 127.0.0.1; "
         f"clients: one Segmenter('{args.protocol}://...') per camera, system shared memory",
         f"{args.seconds:g} s measured per row after 1 s of warm-up; cameras at {args.fps:g} FPS, newest frame wins",
         "**CPU numbers**: server, clients and the local Segmenter share this machine's cores; no GPU was involved",
         f"one frame alone on the local Segmenter at the start: {solo_ms:.1f} ms (median of 10): the machine's speed "
         "during this run (other processes share its cores)",
         f"load average at end (1/5/15 min): {load()}"],
        start_load=start_load,
    )
    lines += [
        "| cameras | mode | frames/s | latency p50 ms | p95 | p99 | frame age p50 ms | p95 | p99 | dropped % | notes |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for mode, r, note in rows:
        if r["errors"]:
            note = f"{r['errors']} error(s): {r['first_error']}"
        lines.append(f"| {r['cameras']} | {mode} | {r['throughput']:.1f} | {r['lat_p50']:.1f} | {r['lat_p95']:.1f} | "
                     f"{r['lat_p99']:.1f} | {r['age_p50']:.1f} | {r['age_p95']:.1f} | {r['age_p99']:.1f} | "
                     f"{r['drop_pct']:.1f} | {note} |")
    by_n: Dict[int, Dict[str, Dict[str, float]]] = {}
    for mode, r, _note in rows:
        by_n.setdefault(int(r["cameras"]), {})[mode] = r
    lines += [""]
    for n, modes in by_n.items():
        if "triton" in modes and "local" in modes and modes["local"]["throughput"] and modes["local"]["age_p95"]:
            t, loc = modes["triton"], modes["local"]
            lines.append(f"- {n} camera(s): Triton / local throughput **{t['throughput'] / loc['throughput']:.2f}x**, "
                         f"frame-age p95 {t['age_p95'] / loc['age_p95']:.2f}x")
    lines += ["", "Latency: call to result of one frame. Frame age: the camera's capture to the result. Dropped: "
              "frames the camera captured during the measured span that no client took (newest frame wins)."]
    return publish(lines, args.out, show=False)


if __name__ == "__main__":
    raise SystemExit(main())
