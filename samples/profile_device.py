#!/usr/bin/env python3
"""Latency profile of a model on this device: per-frame latency percentiles at several frame sizes.

Examples:
    python samples/profile_device.py                                    # demo model, 480x640
    python samples/profile_device.py --model fcn8s.engine --size 720x1280 --size 480x640 --iters 300
    python samples/profile_device.py --model fcn8s.onnx --batch 4 --json profile.json

Each size is warmed up first (TensorRT tactic caches, ONNX Runtime arenas), then timed by
fcn_trt.tools.profile (the same numbers as `fcn-trt profile`): per-frame latency of Segmenter.run
end to end (validation, copies, inference, postprocessing), next to the SDK's per-stage timings
(with CUDA-event h2d / gpu_compute / d2h on the TensorRT backend).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from typing import Any, Dict, Tuple

import fcn_trt
from fcn_trt.cli.args import add_model_arguments, parse_hw, script_main, script_parser
from fcn_trt.errors import ConfigError
from fcn_trt.tools import profile

PERCENTILES = ("p50", "p90", "p99")


def _size(text: str) -> Tuple[int, int]:
    try:
        return parse_hw(text)
    except ConfigError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def make_parser() -> argparse.ArgumentParser:
    p = script_parser(__doc__)
    add_model_arguments(p)
    p.add_argument("--size", type=_size, action="append", help="frame size HxW, repeatable (default: 480x640)")
    p.add_argument("--batch", type=int, default=1, help="frames per call (default: 1)")
    p.add_argument("--warmup", type=int, default=10, help="untimed calls per size (default: 10)")
    p.add_argument("--iters", type=int, default=100, help="timed calls per size (default: 100)")
    p.add_argument("--json", help="also write the numbers to this JSON file")
    return p


def profile_size(seg: Any, size: Tuple[int, int], batch: int, warmup: int, iters: int) -> Dict[str, Any]:
    """One size, profiled by :func:`fcn_trt.tools.profile` (latencies per frame, warm-up excluded)."""
    report = profile(seg, size=size, batch=batch, frames=iters, warmup=warmup, render=False, show_progress=False)
    total = report.stage("total")
    return {
        "size": f"{size[0]}x{size[1]}", "batch": batch, "iters": report.frames,
        "latency_ms": {"p50": total.p50_ms, "p90": total.p90_ms, "p99": total.p99_ms, "mean": total.mean_ms,
                       "min": total.min_ms, "max": total.max_ms, "std": total.std_ms},
        "fps": report.throughput_fps,
        "stages_ms_p50": {s.name: s.p50_ms for s in report.stages},
        "unmeasured": dict(report.unmeasured),
        "warnings": list(report.warnings),
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
        print("latency per frame, ms (Segmenter.run end to end)")
        print("size        batch " + " ".join(f"{p:>8}" for p in PERCENTILES) + "     mean      FPS")
        rows = []
        for size in sizes:
            row = profile_size(seg, size, args.batch, args.warmup, args.iters)
            rows.append(row)
            lat = row["latency_ms"]
            print(f"{row['size']:<11} {args.batch:>5} " + " ".join(f"{lat[p]:8.2f}" for p in PERCENTILES)
                  + f" {lat['mean']:8.2f} {row['fps']:8.1f}")
            print("            stages p50 ms: " + ", ".join(f"{k} {v:.2f}" for k, v in row["stages_ms_p50"].items()))
            for warning in row["warnings"]:
                print(f"            warning: {warning}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"model": str(args.model), "device": device, "results": rows}, f, indent=2)
        print(f"wrote {args.json}")
    return 0


main = script_main(make_parser, run)  # a user mistake: one "error: ..." line and its exit code


if __name__ == "__main__":
    sys.exit(main())
