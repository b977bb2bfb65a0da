"""``fcn-trt``: run, eval, demo, inspect, selfcheck, profile.

User mistakes print one line (``fcn-trt: error: ...``) and exit non-zero; ``--verbose`` shows the
traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple

import numpy as np

from ._imports import require_cv2
from .errors import ConfigError, SourceError, SourceOpenError, run_cli

__all__ = ["main"]

log = logging.getLogger("fcn_trt")

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v")

_PLUGINS = (
    ("fcn_trt.eval", "add_eval_parser"),
    ("fcn_trt.demo", "add_demo_parser"),
    ("fcn_trt.inspect_engine", "add_inspect_parser"),
    ("fcn_trt.selfcheck", "add_selfcheck_parser"),
    ("fcn_trt.profile", "add_profile_parser"),
)


def _cv2():
    return require_cv2("image/video I/O")


def positive_int(text: str) -> int:
    """argparse type: a positive integer (for --frames, --limit...)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a positive integer, found %r" % text) from None
    if value < 1:
        raise argparse.ArgumentTypeError("expected a positive integer, found %d" % value)
    return value


def int_in_range(lo: int, hi: int):
    """argparse type factory: an integer in ``lo..hi``.

    Example:
        >>> int_in_range(1, 256)("21")
        21
    """
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError("expected an integer in %d..%d, found %r" % (lo, hi, text)) from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError("expected an integer in %d..%d, found %d" % (lo, hi, value))
        return value

    parse.__name__ = "integer %d..%d" % (lo, hi)
    return parse


def parse_hw(text: str, what: str = "--size") -> Tuple[int, int]:
    """``"480x640"`` -> (480, 640)."""
    try:
        h, w = (int(v) for v in text.lower().split("x"))
        if h <= 0 or w <= 0:
            raise ValueError
    except ValueError:
        raise ConfigError(what, expected="HxW with positive integers, e.g. 480x640", found=repr(text)) from None
    return h, w


def _list_images(path: Path) -> List[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise SourceOpenError("--input folder", expected="image files (" + ", ".join(IMAGE_SUFFIXES) + ")", found=f"none in {path}")
        return files
    import glob

    files = sorted(Path(p) for p in glob.glob(str(path)) if Path(p).suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise SourceOpenError("--input", expected="an image, a video, a folder or a glob", found=f"nothing at {path}")
    return files


def _read_image(path: Path) -> np.ndarray:
    from .sources import read_image

    return read_image(path, "image/video I/O")


def _frames_of_video(path: Path) -> Iterator[np.ndarray]:
    cv2 = _cv2()
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise SourceOpenError(f"video {path}", expected="a video OpenCV can open", found="it could not be opened")
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                return
            yield frame
    finally:
        cap.release()


OUTPUT_VIDEO_SUFFIXES = (".mp4", ".avi")


def _check_output_kind(out: Path, video_in: bool, n_images: int) -> None:
    """Video in -> a video file out; one image in -> an image file or a folder; images -> a folder."""
    suffix = out.suffix.lower()
    if video_in:
        if suffix not in OUTPUT_VIDEO_SUFFIXES:
            raise ConfigError("--output for a video input", expected="a video file (" + ", ".join(OUTPUT_VIDEO_SUFFIXES)
                              + ")", found=repr(str(out)), hint="e.g. -o overlay.mp4")
        return
    if out.is_dir() or (not suffix and not out.exists()):
        return  # a folder
    if suffix in IMAGE_SUFFIXES:
        if n_images == 1:
            return
        raise ConfigError("--output for %d input images" % n_images, expected="a folder",
                          found="image file name %r" % str(out), hint="pass a folder, e.g. -o overlays/")
    what = "an image file (" + ", ".join(IMAGE_SUFFIXES) + ") or a folder" if n_images == 1 else "a folder"
    raise ConfigError("--output", expected=what, found=repr(str(out)) + (" (a video name for image input)"
                      if suffix in VIDEO_SUFFIXES else " (unknown suffix)" if suffix else " (an existing file)"),
                      hint="name a folder without a suffix to write one overlay per image")


def _check_video_written(out: Path, n: int) -> None:
    """Every segmented frame is in the output video (OpenCV's writer fails silently per frame)."""
    cv2 = _cv2()
    cap = cv2.VideoCapture(str(out))
    try:
        written = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if cap.isOpened() else 0
    finally:
        cap.release()
    if written != n:
        raise SourceError(f"output video {out}", expected=f"{n} frames written", found=f"{max(written, 0)} frames in it",
                          hint="check free disk space and that OpenCV has a codec for this suffix (try .avi)")


def _render(result, frame: np.ndarray, args) -> np.ndarray:
    return result.colorize() if args.labels_only else result.overlay(frame, alpha=args.alpha)


def _save_labels(path: Path, result) -> None:
    try:
        from .datasets.voc import save_label_png
    except ImportError:  # pragma: no cover - datasets ships with the package
        save_label_png = None
    if save_label_png is not None:
        save_label_png(path, np.asarray(result.labels), result.palette)
    else:
        _cv2().imwrite(str(path), np.asarray(result.labels))


def run_command(args) -> int:
    from .segmenter import Segmenter

    cv2 = _cv2()
    if not 0.0 <= args.alpha <= 1.0:
        raise ConfigError("--alpha", expected="a value in [0, 1]", found=str(args.alpha))
    from .models import resolve_model

    resolve_model(args.model)  # a missing model is reported before anything about the input
    src = Path(args.input)
    out = Path(args.output)
    video_in = src.is_file() and src.suffix.lower() in VIDEO_SUFFIXES
    images = [] if video_in else ([src] if src.is_file() else _list_images(src))
    _check_output_kind(out, video_in, len(images))
    with Segmenter(args.model, backend=args.backend) as seg:
        if video_in:
            writer = None
            n = 0
            try:
                fps = cv2.VideoCapture(str(src)).get(cv2.CAP_PROP_FPS) or 30.0
                for frame in _frames_of_video(src):
                    result = seg.run(frame)
                    img = _render(result, frame, args)
                    if writer is None:
                        out.parent.mkdir(parents=True, exist_ok=True)
                        fourcc = cv2.VideoWriter_fourcc(*("MJPG" if out.suffix.lower() == ".avi" else "mp4v"))
                        writer = cv2.VideoWriter(str(out), fourcc, fps, (img.shape[1], img.shape[0]))
                        if not writer.isOpened():
                            raise SourceOpenError(f"output video {out}", expected="a writable .mp4 or .avi path", found="OpenCV could not open it")
                    writer.write(img)
                    n += 1
            finally:
                if writer is not None:
                    writer.release()
            if n == 0:
                raise SourceOpenError(f"video {src}", expected="at least one frame", found="none could be read")
            _check_video_written(out, n)
            print(f"segmented {n} frames -> {out}")
            return 0
        single = len(images) == 1 and out.suffix.lower() in IMAGE_SUFFIXES
        if not single:
            out.mkdir(parents=True, exist_ok=True)
        for path in images:
            frame = _read_image(path)
            result = seg.run(frame)
            target = out if single else out / f"{path.stem}_overlay.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            if not cv2.imwrite(str(target), _render(result, frame, args)):
                raise SourceOpenError(f"output {target}", expected="a writable image path", found="OpenCV could not write it")
            if args.save_labels:
                _save_labels(target.with_name(target.stem.replace("_overlay", "") + "_labels.png"), result)
            fractions = ", ".join(f"{k} {v:.1%}" for k, v in result.class_fractions().items() if v > 0)
            print(f"{path.name}: {result.timings['total']:.1f} ms  [{fractions}] -> {target}")
    return 0


def _add_run_parser(sub) -> None:
    p = sub.add_parser("run", help="segment an image, a folder/glob of images or a video file",
                       description="Segment images or a video and write overlays (and label PNGs).")
    p.add_argument("model", help="pipeline .onnx, TensorRT .engine, or a built-in name (demo, selfie)")
    p.add_argument("--input", "-i", required=True, help="image, folder, glob or video file")
    p.add_argument("--output", "-o", required=True, help="output image (single input), folder, or video file")
    p.add_argument("--backend", choices=("onnxruntime", "tensorrt"), help="default: from the model's suffix")
    p.add_argument("--alpha", type=float, default=0.5, help="overlay opacity of the label colours")
    p.add_argument("--labels-only", action="store_true", help="write colourised labels instead of overlays")
    p.add_argument("--save-labels", action="store_true", help="also write palette label PNGs (class ids)")
    p.set_defaults(func=run_command)


def add_plugin_parsers(sub, plugins: Sequence[Tuple[str, str]]) -> None:
    """Add the subcommands that live in their own modules (``(module, add_parser function)``)."""
    for module, func in plugins:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name == module:
                continue
            raise
        add_parser = getattr(mod, func, None)
        if add_parser is not None:
            add_parser(sub)


def run_parsed(parser: argparse.ArgumentParser, argv: Optional[Sequence[str]], prog: str, level: int) -> int:
    """Parse and run ``args.func`` under :func:`fcn_trt.errors.run_cli` (one-line errors, exit codes)."""
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else level, format="%(levelname)s %(name)s: %(message)s")
    return run_cli(lambda: args.func(args), prog, debug=args.verbose)


def make_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="fcn-trt", description="FCN semantic segmentation with TensorRT (ONNX Runtime on CPU).")
    parser.add_argument("--version", action="version", version=f"fcn-trt {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging and tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    _add_run_parser(sub)
    add_plugin_parsers(sub, _PLUGINS)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    return run_parsed(make_parser(), argv, "fcn-trt", logging.WARNING)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
