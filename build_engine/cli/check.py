"""``python -m build_engine check MODEL.onnx [--trt 8.6,10,11]`` (:func:`build_engine.trt_check.check_model`)."""

from __future__ import annotations

import argparse
from typing import Any

from fcn_trt.cli.args import add_command
from fcn_trt.errors import TensorRTCompatibilityError

from ..trt_check import TARGETS, check_model, parse_targets


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """``check MODEL.onnx [--trt 8.6,10,11]``: the TensorRT ONNX-parser rules, without TensorRT."""
    p = add_command(subparsers, "check", command,
                    "check an ONNX graph against the TensorRT 8.6/10/11 ONNX-parser rules (no GPU needed)",
                    "Print every place where the ONNX parser of the given TensorRT majors would reject the graph "
                    "(or import something other than ONNX Runtime runs): node, rule, the parser's message, the fix "
                    "and the source of the rule. Exit status 0 when compatible, 3 when not.")
    p.add_argument("model", help="the .onnx graph to check")
    p.add_argument("--trt", default=",".join(TARGETS), metavar="MAJORS",
                   help="TensorRT majors to check, comma-separated (default: 8.6,10,11; 8.5 counts as 8.6)")
    return p


def command(args: argparse.Namespace) -> int:
    """Handler of the ``check`` subcommand: prints the report; incompatible -> TensorRTCompatibilityError."""
    report = check_model(args.model, parse_targets(args.trt))
    print(report.format())
    if report.ok:
        return 0
    raise TensorRTCompatibilityError(str(args.model), expected=report.expected, found=report.summary(),
                                     hint="apply the fix printed for each violation and re-export")
