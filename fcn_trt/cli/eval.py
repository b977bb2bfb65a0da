"""``fcn-trt eval MODEL --data VOC_ROOT``: mean IU and the FCN paper's four metrics on a VOC split."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable, Optional

from ..errors import FcnTrtError
from ..eval.evaluation import evaluate
from .args import add_backend_argument, add_command, add_progress_argument, positive_int


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = add_command(sub, "eval", command,
                    "measure mean IU (and pixel acc., mean acc., f.w. IU) on a PASCAL VOC split",
                    "Run a model on every image of a PASCAL VOC segmentation split and print the "
                    "per-class IU table and the FCN paper's four metrics (void label 255 ignored).")
    p.add_argument("model", help="pipeline .onnx, TensorRT .engine, or built-in model name")
    p.add_argument(
        "--data", required=True, metavar="ROOT",
        help="VOC root: the folder holding JPEGImages/, SegmentationClass/, ImageSets/Segmentation/",
    )
    p.add_argument("--split", default="val", help="split name, ImageSets/Segmentation/<split>.txt (default: val)")
    p.add_argument("--limit", type=positive_int, default=None, metavar="N", help="evaluate the first N images only")
    p.add_argument("--json", dest="json_out", default=None, metavar="OUT", help="also write the report as JSON")
    add_backend_argument(p)
    add_progress_argument(p)
    return p


def _open_segmenter(args: argparse.Namespace) -> Any:
    from ..segmenter import Segmenter

    return Segmenter(args.model, backend=args.backend)


def command(args: argparse.Namespace, segmenter_factory: Optional[Callable[[argparse.Namespace], Any]] = None) -> int:
    """Prints the IU table and the four metrics; returns the exit code.

    ``segmenter_factory(args)`` opens the segmenter (default: ``fcn_trt.Segmenter(args.model,
    backend=args.backend)``); errors print one line to stderr and return the error's exit code.
    """
    factory = segmenter_factory or _open_segmenter
    segmenter = None
    try:
        segmenter = factory(args)
        report = evaluate(segmenter, args.data, split=args.split, limit=args.limit,
                          progress=not getattr(args, "no_progress", False))
        backend = getattr(getattr(segmenter, "backend", None), "name", "") or ""
    except FcnTrtError as e:
        print("fcn-trt eval: error: %s" % e, file=sys.stderr)
        return int(getattr(e, "exit_code", 1))
    finally:
        close = getattr(segmenter, "close", None)
        if callable(close):
            close()
    s = report.scores
    print("%s on %s (split %s, %d images)" % (args.model, report.root, report.split, report.num_images))
    print()
    print(report.table())
    print()
    print(
        "pixel acc. %.2f  mean acc. %.2f  mean IU %.2f  f.w. IU %.2f  (%%, %d labelled pixels)"
        % (100 * s.pixel_accuracy, 100 * s.mean_accuracy, 100 * s.mean_iu, 100 * s.frequency_weighted_iu, s.num_pixels)
    )
    print("mean latency %.2f ms/image (segmenter.run, %s)" % (report.mean_latency_ms, backend or "unknown backend"))
    if args.json_out:
        out = dict(report.to_dict(), model=str(args.model), backend=backend)
        try:
            path = Path(args.json_out)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(out, indent=2, allow_nan=False))
        except OSError as e:
            print("fcn-trt eval: error: cannot write %s: %s" % (args.json_out, e), file=sys.stderr)
            return 1
        print("wrote %s" % args.json_out)
    return 0
