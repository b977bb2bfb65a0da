"""``fcn-trt demo``: segment a generated moving-camera clip with the shipped demo model."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .._util import parse_hw
from ..demo.run import DEMO_CLIP_SEED, run_demo
from ..errors import FcnTrtError
from .args import add_backend_argument, add_command, add_progress_argument, positive_int


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = add_command(sub, "demo", command,
                    "segment a generated moving-camera clip with the shipped demo model (CPU is fine)",
                    "Generate a held-out robot/vehicle-view clip (fcn_trt.scenes), segment it with "
                    "the demo model, write an overlay video and a frame | ground truth | prediction image, and "
                    "print pixel accuracy, mean IU and latency.")
    p.add_argument("--out", default="fcn_trt_demo", metavar="DIR", help="output folder (default: ./fcn_trt_demo)")
    p.add_argument("--frames", type=positive_int, default=60, metavar="N", help="clip length (default 60)")
    p.add_argument("--size", default="240x320", metavar="HxW", help="frame size (default 240x320)")
    p.add_argument("--model", default="demo",
                   help="built-in name 'demo', its pipeline .onnx, or a TensorRT .engine built from it")
    add_backend_argument(p)
    p.add_argument("--seed", type=int, default=DEMO_CLIP_SEED, help="clip seed (default: a held-out one)")
    add_progress_argument(p)
    return p


def command(args: argparse.Namespace) -> int:
    """Prints the report; returns the exit code (errors: one line on stderr)."""
    try:
        report = run_demo(
            out_dir=args.out, frames=args.frames, size=parse_hw(args.size), model=args.model,
            backend=args.backend, seed=args.seed, progress=not args.no_progress,
        )
    except FcnTrtError as e:
        print("fcn-trt demo: error: %s" % e, file=sys.stderr)
        return int(getattr(e, "exit_code", 1))
    print(report.summary())
    return 0
