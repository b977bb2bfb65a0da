"""Argument groups shared by the ``python -m build_engine`` subcommands.

Some subcommands' parsers still live in the core modules they drive (``precision``, ``quantize``,
``trt_builder``); they take their shared groups from here, not from :mod:`build_engine.cli`, which
imports those modules (a parser group there made every core module import the CLI, a cycle).
"""

from __future__ import annotations

import argparse

__all__ = ["add_trt_check_arguments"]


def add_trt_check_arguments(p: argparse.ArgumentParser, multiple: bool = True) -> None:
    """``--trt`` (TensorRT majors the written graph must parse on) and ``--allow-trt-incompatible``."""
    from .trt_check import TARGETS, parse_targets

    if multiple:
        p.add_argument("--trt", type=parse_targets, default=None, metavar="8.6,10,11",
                       help="TensorRT majors the graph must parse on (default: %s)" % ",".join(TARGETS))
    p.add_argument("--allow-trt-incompatible", action="store_true",
                   help="write the graph even if TensorRT's ONNX parser would reject it (each violation is "
                        "logged as a warning); for graphs you will fix or run on ONNX Runtime only")
