#!/usr/bin/env python3
"""Latency profile of a model on this device: per-frame latency percentiles at several frame sizes.

Examples:
    python samples/profile_device.py                                    # demo model, 480x640
    python samples/profile_device.py --model fcn8s.engine --size 720x1280 --size 480x640 --iters 300
    python samples/profile_device.py --model fcn8s.onnx --batch 4 --json profile.json

Each size is warmed up first (TensorRT tactic caches, ONNX Runtime arenas), then timed frame by
frame with time.perf_counter around Segmenter.run (end to end: validation, copies, inference,
postprocessing), next to the SDK's own per-stage timings.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

import fcn_trt
from fcn_trt.errors import FcnTrtError

PERCENTILES = (50, 90, 95, 99)


def _size(text: str) -> Tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HxW such as 480x640, found {text!r}") from None
    if h < 1 or w < 1:
        raise argparse.ArgumentTypeError(f"expected a positive HxW, found {text!r}")
    return h, w


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="demo", help="pipeline .onnx, TensorRT .engine, or built-in name (default: demo)")
    p.add_argument("--backend", choices=["onnxruntime", "tensorrt"], help="default: from the model's suffix")
    p.add_argument("--size", type=_size, action="append", help="frame size HxW, repeatable (default: 480x640)")
    p.add_argument("--batch", type=int, default=1, help="frames per call (default: 1)")
    p.add_argument("--warmup", type=int, default=10, help="untimed calls per size (default: 10)")
    p.add_argument("--iters", type=int, default=100, help="timed calls per size (default: 100)")
    p.add_argument("--json", help="also write the numbers to this JSON file")
    return p.parse_args(argv)


def _frames(seg: Any, h: int, w: int, batch: int) -> List[np.ndarray]:
    rng = np.random.default_rng(0)
    if seg.metadata.input_format == "nv12":
        return [rng.integers(0, 256, (h * 3 // 2, w), dtype=np.uint8) for _ in range(batch)]
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(batch)]


def _stats(values: List[float]) -> Dict[str, float]:
    a = np.asarray(values, np.float64)
    out = {f"p{p}": float(np.percentile(a, p)) for p in PERCENTILES}
    out.update(mean=float(a.mean()), min=float(a.min()), max=float(a.max()))
    return out


def profile(seg: Any, size: Tuple[int, int], batch: int, warmup: int, iters: int) -> Dict[str, Any]:
    frames = _frames(seg, size[0], size[1], batch)
    call = (lambda: [seg.run(frames[0])]) if batch == 1 else (lambda: seg.run_batch(frames))
    for _ in range(warmup):
        call()
    wall: List[float] = []
    stages: Dict[str, List[float]] = {}
    for _ in range(iters):
        t0 = time.perf_counter()
        results = call()
        wall.append((time.perf_counter() - t0) * 1e3)
        for k, v in results[0].timings.items():
            stages.setdefault(k, []).append(float(v) * batch)  # timings are per frame; report per call
    wall_stats = _stats(wall)
    return {
        "size": f"{size[0]}x{size[1]}", "batch": batch, "iters": iters,
        "latency_ms": wall_stats,
        "fps": 1000.0 * batch / wall_stats["mean"],
        "stages_ms_p50": {k: float(np.percentile(v, 50)) for k, v in stages.items()},
    }


def run(args: argparse.Namespace) -> int:
    if args.batch < 1 or args.iters < 1 or args.warmup < 0:
        print("error: --batch and --iters must be >= 1, --warmup >= 0", file=sys.stderr)
        return 2
    sizes = args.size or [(480, 640)]
    with fcn_trt.Segmenter(args.model, backend=args.backend) as seg:
        device = dict(seg.backend.describe())
        device.setdefault("machine", platform.machine())
        device.setdefault("python", platform.python_version())
        print(f"model {seg.model_path.name}: " + ", ".join(f"{k} {v}" for k, v in device.items()))
        header = "size        batch " + " ".join(f"{'p%d' % p:>8}" for p in PERCENTILES) + "     mean      FPS"
        print(header)
        rows = []
        for size in sizes:
            row = profile(seg, size, args.batch, args.warmup, args.iters)
            rows.append(row)
            lat = row["latency_ms"]
            print(f"{row['size']:<11} {args.batch:>5} " + " ".join(f"{lat['p%d' % p]:8.2f}" for p in PERCENTILES)
                  + f" {lat['mean']:8.2f} {row['fps']:8.1f}")
            print("            stages p50 ms: " + ", ".join(f"{k} {v:.2f}" for k, v in row["stages_ms_p50"].items()))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"model": str(args.model), "device": device, "results": rows}, f, indent=2)
        print(f"wrote {args.json}")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except FcnTrtError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
