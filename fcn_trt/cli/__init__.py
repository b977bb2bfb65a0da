"""``fcn-trt``: run, eval, demo, inspect, selfcheck, profile, serve, export-triton.

One module per command (``add_parser(subparsers)`` + ``command(args) -> exit code``); shared
argument types and groups in :mod:`fcn_trt.cli.args`. argparse lives only here: each command
parses, calls one library function and prints the frozen report it returns.

User mistakes print one line (``fcn-trt: error: ...``) and exit non-zero; ``--verbose`` shows the
traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Optional, Sequence

from .._version import __version__
from . import demo, export_triton, profile, run, selfcheck, serve
from . import eval as eval_command
from . import inspect as inspect_command
from .args import add_plugin_parsers, int_in_range, parse_hw, positive_int, run_parsed

__all__ = ["main", "make_parser", "add_plugin_parsers", "parse_hw", "positive_int", "int_in_range", "run_parsed"]

COMMANDS = (run, eval_command, demo, inspect_command, selfcheck, profile, serve, export_triton)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fcn-trt", description="FCN semantic segmentation with TensorRT (ONNX Runtime on CPU).")
    parser.add_argument("--version", action="version", version=f"fcn-trt {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging and tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    return run_parsed(make_parser(), argv, "fcn-trt", logging.WARNING)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
