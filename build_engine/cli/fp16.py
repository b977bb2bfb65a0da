"""``python -m build_engine fp16 MODEL.onnx --out MODEL.fp16.onnx`` (:func:`build_engine.precision.to_fp16_pipeline`)."""

from __future__ import annotations

import argparse
from typing import Any

from fcn_trt.cli.args import add_command

from ..cli_args import add_trt_check_arguments
from ..precision import to_fp16_pipeline


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """``fp16 MODEL.onnx --out MODEL.fp16.onnx``: the fp16 version of an fp32 pipeline graph."""
    p = add_command(subparsers, "fp16", command, "convert an fp32 pipeline .onnx to fp16 weights/compute (pre/post stay fp32)",
                    "Convert the network part of an fp32 pipeline graph to fp16 (onnxconverter-common, "
                    "keep_io_types) and splice it back between the fp32 preprocessing and the argmax. "
                    "On ONNX Runtime CPU an fp16 graph measures fp16 storage, not fp16 arithmetic.")
    p.add_argument("model", help="fp32 pipeline .onnx (from `build_engine export`)")
    p.add_argument("--out", required=True, help="output .onnx")
    add_trt_check_arguments(p)
    return p


def command(args: argparse.Namespace) -> int:
    """Handler of the ``fp16`` subcommand."""
    to_fp16_pipeline(args.model, args.out, trt_targets=args.trt, allow_incompatible=args.allow_trt_incompatible)
    print(f"wrote {args.out} (fp16 network, fp32 pre/post)")
    return 0
