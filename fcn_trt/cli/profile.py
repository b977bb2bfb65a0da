"""``fcn-trt profile MODEL``: per-stage latency percentiles, throughput, memory, slowest layers."""

from __future__ import annotations

import argparse
from typing import Any

from .._util import parse_hw
from ..tools.profiling import profile, write_plots
from .args import add_backend_argument, add_command, add_progress_argument


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = add_command(sub, "profile", command,
                    "latency profile: per-stage percentiles, throughput, memory, slowest layers",
                    "Profile a model: warm-up excluded, per-stage min/p50/p90/p99/max/mean/std, throughput, "
                    "peak memory, and the machine/software needed to reproduce it.")
    p.add_argument("model", help="pipeline .onnx, TensorRT .engine, or a built-in name")
    p.add_argument("--size", default="480x640", help="synthetic frame size HxW (default 480x640)")
    p.add_argument("--batch", type=int, default=1, help="frames per call (default 1)")
    p.add_argument("--frames", type=int, default=100, help="timed calls (default 100)")
    p.add_argument("--warmup", type=int, default=10, help="untimed warm-up calls (default 10)")
    p.add_argument("--source", help="camera index, video, folder or URL instead of synthetic frames")
    add_backend_argument(p)
    p.add_argument("--layers", type=int, default=0, metavar="N", help="also show the N slowest layers")
    p.add_argument("--no-render", action="store_true", help="do not time rendering the overlay")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--plot", metavar="OUT_PREFIX", help="write OUT_PREFIX_hist.png and OUT_PREFIX_timeline.png")
    add_progress_argument(p)
    return p


def command(args: argparse.Namespace) -> int:
    source: Any = args.source
    if source is not None and str(source).isdigit():
        source = int(source)
    report = profile(args.model, size=parse_hw(args.size), batch=args.batch, frames=args.frames, warmup=args.warmup,
                     source=source, backend=args.backend, layers=args.layers, render=not args.no_render,
                     show_progress=not args.no_progress and not args.json)
    if args.plot:
        paths = write_plots(report, args.plot)
        if not args.json:
            print("wrote " + ", ".join(str(p) for p in paths))
    print(report.to_json() if args.json else report.format_table())
    return 0
