#!/usr/bin/env python3
"""Live camera segmentation with a window (or --headless, writing a video).

Examples:
    python samples/live_camera.py                                   # camera 0, the demo model
    python samples/live_camera.py --source /dev/video2 --width 1280 --height 720 --fourcc MJPG
    python samples/live_camera.py --model fcn8s.engine --source "$(python -c 'import fcn_trt.streaming.sources as s; print(s.jetson_csi_pipeline())')"
    python samples/live_camera.py --source synthetic --headless --output seg.mp4 --max-frames 300

The newest camera frame is always the one segmented: when inference is slower than the camera,
stale frames are dropped (and counted) instead of queueing up, so the picture never lags.
Press q or Esc in the window to quit; Ctrl-C works everywhere.
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
from fcn_trt.streaming import FpsMeter, RetryPolicy, open_video_writer, to_input_format


def make_parser() -> argparse.ArgumentParser:
    p = script_parser(__doc__)
    add_model_arguments(p)
    p.add_argument("--source", default="0", help="camera index, /dev/videoN, URL, GStreamer pipeline, video file, "
                                                 "folder, or 'synthetic' (default: 0)")
    p.add_argument("--width", type=int, help="capture width")
    p.add_argument("--height", type=int, help="capture height")
    p.add_argument("--fps", type=float, help="capture frame rate")
    p.add_argument("--fourcc", help="capture pixel format, e.g. MJPG for USB cameras at high resolution")
    p.add_argument("--native", action="store_true",
                   help="the source already delivers the model's input format (e.g. nv12 from a CSI pipeline)")
    p.add_argument("--retries", type=int, default=0, help="reconnect attempts when the camera drops out (default: 0)")
    add_render_arguments(p)
    p.add_argument("--headless", action="store_true", help="no window: write the rendered frames to --output")
    p.add_argument("--output", default="live_camera.mp4", help="video written in --headless mode (default: live_camera.mp4)")
    p.add_argument("--max-frames", type=int, help="stop after this many frames")
    return p


def run(args: argparse.Namespace) -> int:
    import cv2

    draw = frame_renderer(args)
    meter = FpsMeter()
    ages: List[float] = []
    writer = None
    window = "fcn_trt live (q to quit)"
    t0 = time.perf_counter()
    with fcn_trt.Segmenter(args.model, backend=args.backend) as seg:
        fmt = seg.metadata.input_format
        retry = RetryPolicy(max_retries=args.retries) if args.retries > 0 else None
        # BGR camera frames are converted to the model's format (rgb, nv12) on the capture thread;
        # a source that already gives nv12 (jetson_csi_pipeline(output="nv12")) needs --native.
        transform = None if fmt == "bgr" or args.native else functools.partial(to_input_format, input_format=fmt)
        frames = seg.stream(args.source, retry=retry, max_frames=args.max_frames, width=args.width, height=args.height,
                            fps=args.fps, fourcc=args.fourcc, transform=transform)
        print(f"model {seg.model_path.name} on {seg.backend.name}; source {frames.source.name} "
              f"({'live: newest frame wins' if frames.live else 'every frame'})")
        try:
            with frames:
                for r in frames:
                    meter.tick(latency_ms=r.age_ms)
                    ages.append(r.age_ms)
                    image = draw(r.frame, r.result, fmt, text=meter.text(dropped=r.dropped))
                    if args.headless:
                        if writer is None:
                            writer = open_video_writer(args.output, frames.source.fps or 30.0, (image.shape[1], image.shape[0]))
                        writer.write(image)
                        continue
                    try:
                        cv2.imshow(window, image)
                        key = cv2.waitKey(1) & 0xFF
                    except cv2.error:
                        print("error: this OpenCV cannot open windows (opencv-python-headless?). "
                              "Hint: use --headless --output out.mp4", file=sys.stderr)
                        return 2
                    if key in (ord("q"), 27):
                        break
        except KeyboardInterrupt:
            print("interrupted")
        finally:
            if writer is not None:
                writer.release()
            if not args.headless:
                try:
                    cv2.destroyAllWindows()
                except cv2.error:
                    pass
        elapsed = time.perf_counter() - t0
        n = len(ages)
        print(f"frames {n}, dropped {frames.dropped}, {n / elapsed if elapsed > 0 else 0:.1f} FPS, "
              f"end: {frames.end_reason}")
        if n:
            print(f"frame age ms: p50 {np.percentile(ages, 50):.1f}, p95 {np.percentile(ages, 95):.1f}")
        if args.headless and writer is not None:
            print(f"wrote {args.output}")
    return 0


main = script_main(make_parser, run)  # a user mistake: one "error: ..." line and its exit code


if __name__ == "__main__":
    sys.exit(main())
