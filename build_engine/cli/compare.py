"""``python -m build_engine compare A B --data DIR``: the accuracy gate (:func:`build_engine.compare.compare_models`)."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from fcn_trt.cli.args import add_command, add_progress_argument
from fcn_trt.segmenter import Segmenter

from ..calibration import load_eval_data, parse_size
from ..compare import DEFAULT_BUDGETS, AccuracyBudget, compare_models, default_budget


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """``compare A.onnx B.onnx --data DIR``: agreement, mean IU, boundary error; non-zero exit on failure."""
    p = add_command(subparsers, "compare", command, "accuracy gate: compare a reduced-precision graph/engine B against A (exit 6 on failure)",
                    "Run A (reference, usually fp32) and B on the same frames; report label agreement, "
                    "mean IU against ground truth (VOC root), per-class IoU delta and boundary-band error; fail "
                    "(exit code 6) when B exceeds its budget (fp16: >= 99.5% agreement; int8: >= 97% agreement and "
                    "<= 1.0 point mean-IU drop).")
    p.add_argument("model_a", help="reference pipeline .onnx or engine")
    p.add_argument("model_b", help="candidate pipeline .onnx or engine")
    p.add_argument("--data", required=True, help="VOC root (with labels), folder of images or video")
    p.add_argument("--split", default="val", help="VOC split (default val)")
    p.add_argument("--max-frames", type=int, default=None, help="sample at most N frames evenly")
    p.add_argument("--size", type=parse_size, default=None, metavar="HxW", help="resize frames (and labels) to HxW")
    p.add_argument("--boundary-px", type=int, default=3, help="boundary band half-width k in pixels (default 3)")
    p.add_argument("--min-agreement", type=float, default=None,
                   help="minimum label agreement in %% (default by B's precision)")
    p.add_argument("--max-miou-drop", type=float, default=None, help="maximum mean-IU drop in points")
    p.add_argument("--threads", type=int, default=0, help="ONNX Runtime threads (0: default)")
    p.add_argument("--json", default=None, help="also write the report as JSON to this file")
    add_progress_argument(p)
    return p


def _budget_from_args(args: argparse.Namespace, precision_b: str) -> AccuracyBudget:
    base = default_budget(precision_b) if precision_b in DEFAULT_BUDGETS else DEFAULT_BUDGETS["fp32"]
    min_agree = base.min_agreement if args.min_agreement is None else args.min_agreement / 100.0
    drop = base.max_miou_drop if args.max_miou_drop is None else args.max_miou_drop
    return AccuracyBudget(min_agree, drop)


def command(args: argparse.Namespace) -> int:
    """Handler of ``compare``: prints the report; raises AccuracyGateError (exit 6) on failure."""
    data = load_eval_data(args.data, max_frames=args.max_frames, split=args.split, size=args.size,
                          show_progress=not args.no_progress)
    options = {"threads": args.threads} if args.threads else {}
    with Segmenter(args.model_a, **options) as seg_a, Segmenter(args.model_b, **options) as seg_b:
        budget = _budget_from_args(args, seg_b.metadata.precision)
        report = compare_models(seg_a, seg_b, data.frames, data.labels, boundary_px=args.boundary_px,
                                budget=budget, show_progress=not args.no_progress)
    report = dataclasses.replace(report, model_a=str(args.model_a), model_b=str(args.model_b))
    print(report.format())
    if args.json:
        Path(args.json).write_text(json.dumps(report.to_dict(), indent=2))
    report.check()
    return 0
