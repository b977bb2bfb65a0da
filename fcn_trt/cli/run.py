"""``fcn-trt run MODEL -i INPUT -o OUTPUT``: segment images or a video, write overlays (and label PNGs)."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import ConfigError
from ..streaming.drawing import segment_files
from .args import add_backend_argument, add_command


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = add_command(sub, "run", command, "segment an image, a folder/glob of images or a video file",
                    "Segment images or a video and write overlays (and label PNGs).")
    p.add_argument("model", help="pipeline .onnx, TensorRT .engine, or a built-in name (demo, selfie)")
    p.add_argument("--input", "-i", required=True, help="image, folder, glob or video file")
    p.add_argument("--output", "-o", required=True, help="output image (single input), folder, or video file")
    add_backend_argument(p)
    p.add_argument("--alpha", type=float, default=0.5, help="overlay opacity of the label colours")
    p.add_argument("--labels-only", action="store_true", help="write colourised labels instead of overlays")
    p.add_argument("--save-labels", action="store_true", help="also write palette label PNGs (class ids)")
    return p


def command(args: argparse.Namespace) -> int:
    from ..segmenter import Segmenter

    if not 0.0 <= args.alpha <= 1.0:
        raise ConfigError("--alpha", expected="a value in [0, 1]", found=str(args.alpha))
    with Segmenter(args.model, backend=args.backend) as seg:
        report = segment_files(seg, args.input, args.output, alpha=args.alpha, labels_only=args.labels_only,
                               save_labels=args.save_labels)
    print("\n".join(report.lines()))
    return 0
