"""``python -m build_engine quantize MODEL.onnx --calib SRC --out MODEL.int8.onnx`` (:func:`build_engine.quantize.quantize_pipeline`)."""

from __future__ import annotations

import argparse
from typing import Any

import onnx

from fcn_trt.cli.args import add_command, add_progress_argument

from ..calibration import parse_size
from ..cli_args import add_trt_check_arguments
from ..quantize import METHODS, QDQ_TARGETS, QuantizeConfig, qdq_summary, quantize_pipeline


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """``quantize MODEL.onnx --calib SRC --method entropy|percentile|minmax --out MODEL.int8.onnx``."""
    p = add_command(subparsers, "quantize", command, "INT8 Q/DQ pipeline graph calibrated on real frames (runs on CPU)",
                    "Calibrate an fp32 pipeline graph on frames from a folder, a video or a VOC root and write "
                    "a symmetric, per-channel int8 Q/DQ graph (Conv/ConvTranspose only; pre/ and post/ stay float) that "
                    "TensorRT builds as INT8 and ONNX Runtime runs on a CPU.")
    p.add_argument("model", help="fp32 pipeline .onnx")
    p.add_argument("--calib", required=True, help="calibration frames: folder of images, video file or VOC root")
    p.add_argument("--method", choices=METHODS, default="percentile",
                   help="calibration method (default: percentile; with onnxruntime's defaults 'entropy' equals minmax)")
    p.add_argument("--out", required=True, help="output .onnx (e.g. MODEL.int8.onnx)")
    p.add_argument("--num-frames", type=int, default=64, help="calibration frames sampled evenly (default 64)")
    p.add_argument("--calib-size", type=parse_size, default=None, metavar="HxW",
                   help="resize calibration frames to HxW (default: the model's inference size, else 512x512)")
    p.add_argument("--percentile", type=float, default=99.999, help="percentile for --method percentile")
    p.add_argument("--split", default="train", help="VOC split to calibrate on (VOC roots only; default train)")
    p.add_argument("--cache-dir", default=None, help="calibration frame cache (default ~/.cache/fcn_trt/calibration)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the frame cache")
    p.add_argument("--keep-float", nargs="+", default=(), metavar="PATTERN",
                   help="network nodes (names or globs, e.g. 'score_*' 'upscore*') left unquantized")
    p.add_argument("--chunk", type=int, default=4, help="frames per calibration pass (memory bound; default 4)")
    p.add_argument("--trt", choices=QDQ_TARGETS, default="10", dest="trt_target",
                   help="TensorRT major that will build the graph (sets ConvTranspose weight-scale axes: "
                        "0 for 8.x, 1 for 10/11; default 10)")
    add_trt_check_arguments(p, multiple=False)
    add_progress_argument(p)
    return p


def command(args: argparse.Namespace) -> int:
    """Handler of the ``quantize`` subcommand."""
    config = QuantizeConfig(
        method=args.method, num_frames=args.num_frames, size=args.calib_size, percentile=args.percentile,
        split=args.split, chunk=args.chunk, cache_dir=args.cache_dir, use_cache=not args.no_cache,
        keep_float=tuple(args.keep_float), trt_target=args.trt_target,
    )
    out = quantize_pipeline(args.model, args.out, args.calib, config, show_progress=not args.no_progress,
                            allow_incompatible=args.allow_trt_incompatible)
    s = qdq_summary(onnx.load(str(out), load_external_data=False))
    per_channel = sum(1 for a in s["weight_axes"].values() if a is not None)
    print(f"wrote {out}: {s['quantized_nodes']} int8 Conv/ConvTranspose ({per_channel} with per-channel weight "
          f"scales), {s['quantize_nodes']} QuantizeLinear, zero points all 0; method {args.method}")
    return 0
