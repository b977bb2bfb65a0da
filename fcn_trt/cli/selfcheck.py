"""``fcn-trt selfcheck MODEL``: does TensorRT on this GPU give the labels ONNX Runtime gives?

The runtime does not import the offline tools: :func:`fcn_trt.tools.selfcheck` finds build_engine's
builder through its entry point; this command hands it that builder by name, so a missing
build_engine is one line that says how to build the engine instead.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Optional, Tuple

from .._util import parse_hw
from ..errors import ConfigError
from ..tools.check import DEFAULT_BUDGET, selfcheck
from .args import add_command

def build_with_build_engine(onnx_path: Path, engine_out: Path, precision: Optional[str], size: Tuple[int, int],
                            device: int) -> Path:
    """Build ``onnx_path`` into ``engine_out`` with build_engine's ``build_for_selfcheck``, or say plainly
    that the build tools are missing (offline tooling, imported here only)."""
    try:
        from build_engine.trt_builder import build_for_selfcheck
    except ImportError:
        raise ConfigError(
            "selfcheck from an ONNX model",
            expected="the build_engine tools (installed with the fcn-trt source)",
            found="build_engine.trt_builder is not importable",
            hint="build the engine with `python -m build_engine build MODEL.onnx --out MODEL.engine`, "
            "then run `fcn-trt selfcheck MODEL.engine --onnx MODEL.onnx`",
        ) from None
    return build_for_selfcheck(onnx_path, engine_out, precision, size, device)


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = add_command(sub, "selfcheck", command,
                    "check TensorRT against ONNX Runtime on this GPU (label agreement, latency)",
                    "Build (from a pipeline .onnx) or load (.engine) a TensorRT engine, run the same frames "
                    "through TensorRT and ONNX Runtime, print label agreement and TensorRT latency p50/p99. "
                    "Exits 1 when the agreement is below the budget.")
    p.add_argument("model", help="pipeline .onnx (an engine is built from it) or TensorRT .engine")
    p.add_argument("--onnx", default=None, help="reference ONNX for an engine (default: <engine stem>.onnx)")
    p.add_argument("--frames", type=int, default=32, help="frames to compare and time (default 32)")
    p.add_argument("--size", default="480x640", help="HxW of the random frames (default 480x640)")
    p.add_argument("--images", nargs="*", default=(), metavar="IMAGE", help="use these images instead of random frames")
    p.add_argument(
        "--precision", choices=("fp32", "fp16", "int8"), default=None,
        help="expected precision of the graph/engine (default: whatever it is)",
    )
    p.add_argument("--budget", type=float, default=DEFAULT_BUDGET, help="minimum label agreement, 0..1 (default 0.995)")
    p.add_argument("--warmup", type=int, default=3, help="untimed warm-up frames (default 3)")
    p.add_argument("--engine-out", default=None, help="keep the built engine here (default: temporary)")
    p.add_argument("--device", type=int, default=0, help="CUDA device index")
    p.add_argument("--no-cuda-graph", action="store_true", help="plain enqueue instead of CUDA graph replay")
    p.add_argument("--seed", type=int, default=0, help="seed of the random frames")
    return p


def command(args: argparse.Namespace) -> int:
    """Prints the summary; 0 on PASS, 1 on FAIL (other errors: one line, their exit code)."""
    report = selfcheck(
        args.model, frames=args.frames, precision=args.precision, onnx=args.onnx, size=parse_hw(args.size),
        images=args.images or (), budget=args.budget, warmup=args.warmup, engine_out=args.engine_out,
        device=args.device, cuda_graph=not args.no_cuda_graph, seed=args.seed, build=build_with_build_engine,
    )
    print(report.summary())
    return 0 if report.passed else 1
