"""``fcn-trt inspect ENGINE``: an engine's sidecar metadata and IO tensors."""

from __future__ import annotations

import argparse
from typing import Any

from ..tools.inspect import format_report, inspect_engine
from .args import add_command


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = add_command(sub, "inspect", command, "show an engine's sidecar metadata and IO tensors")
    p.add_argument("engine", help=".engine file (its .engine.json sidecar must sit next to it)")
    p.add_argument("--no-tensors", action="store_true", help="sidecar only (no TensorRT, no GPU needed)")
    return p


def command(args: argparse.Namespace) -> int:
    print(format_report(inspect_engine(args.engine, tensors=not args.no_tensors)))
    return 0
