#!/usr/bin/env python3
"""Segment every frame of a video file (or image folder) and write the rendered result as a video.

Examples:
    python samples/segment_video.py drive.mp4 drive_seg.mp4
    python samples/segment_video.py drive.mp4 labels.mp4 --mode labels --smooth majority
    python samples/segment_video.py "frames/*.png" out.mp4 --model fcn8s.engine --fps 10

Every frame is processed, in order. Decoding runs on its own thread and overlaps inference.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from typing import List

import numpy as np

import fcn_trt
from fcn_trt.cli.args import add_model_arguments, add_render_arguments, frame_renderer, script_main, script_parser
from fcn_trt.streaming import open_video_writer, to_input_format


def make_parser() -> argparse.ArgumentParser:
    p = script_parser(__doc__)
    p.add_argument("input", help="video file, image folder or glob")
    p.add_argument("output", help="video to write (.mp4 with mp4v, or .avi with --fourcc MJPG)")
    add_model_arguments(p)
    add_render_arguments(p)
    p.add_argument("--fps", type=float, help="output frame rate (default: the input's, else 30)")
    p.add_argument("--fourcc", default="mp4v", help="output codec (default: mp4v)")
    p.add_argument("--max-frames", type=int, help="stop after this many frames")
    return p


def run(args: argparse.Namespace) -> int:
    draw = frame_renderer(args)
    writer = None
    n = 0
    infer_ms: List[float] = []
    t0 = time.perf_counter()
    with fcn_trt.Segmenter(args.model, backend=args.backend) as seg:
        fmt = seg.metadata.input_format
        transform = None if fmt == "bgr" else functools.partial(to_input_format, input_format=fmt)
        with seg.stream(args.input, live=False, max_frames=args.max_frames, transform=transform) as frames:
            try:
                for r in frames:
                    image = draw(r.frame, r.result, fmt)
                    if writer is None:
                        size = (image.shape[1], image.shape[0])
                        writer = open_video_writer(args.output, args.fps or frames.source.fps or 30.0, size, args.fourcc)
                    elif (image.shape[1], image.shape[0]) != size:
                        import cv2

                        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)  # folders of mixed sizes
                    writer.write(image)
                    infer_ms.append(r.result.timings.get("infer", 0.0))
                    n += 1
            finally:
                if writer is not None:
                    writer.release()
    elapsed = time.perf_counter() - t0
    if n == 0:
        print(f"error: no frames in {args.input}", file=sys.stderr)
        return 7
    print(f"wrote {args.output}: {n} frames in {elapsed:.1f} s ({n / elapsed:.1f} FPS end to end, "
          f"inference p50 {np.percentile(infer_ms, 50):.1f} ms)")
    return 0


main = script_main(make_parser, run)  # a user mistake: one "error: ..." line and its exit code


if __name__ == "__main__":
    sys.exit(main())
