"""Drawing segmentation results for display or video: overlay, legend, FPS/latency text, smoothing.

OpenCV is imported lazily, only by the functions that draw text or write video.

Example:
    >>> import numpy as np
    >>> from fcn_trt.result import SegmentationResult
    >>> r = SegmentationResult(labels=np.ones((48, 64), np.uint8), class_names=("bg", "road"),
    ...                        palette=((0, 0, 0), (128, 64, 128)))
    >>> frame = np.zeros((48, 64, 3), np.uint8)
    >>> render(frame, r, legend=False).shape
    (48, 64, 3)
    >>> smoother = LabelSmoother("majority", k=3)
    >>> smoother.update(r.labels).shape
    (48, 64)
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import time
from pathlib import Path
from typing import Any, Deque, Dict, Optional, Sequence, Tuple, Union

import numpy as np

from .._imageio import IMAGE_EXTENSIONS, image_files, is_image, is_video, read_image
from .._imports import require_cv2
from ..errors import ConfigError, InputError, SourceError, SourceOpenError
from ..eval.voc import save_label_png
from ..result import SegmentationResult

__all__ = ["render", "draw_legend", "draw_text", "to_bgr", "FpsMeter", "LabelSmoother", "open_video_writer", "RENDER_MODES",
           "SegmentedFile", "SegmentFilesReport", "segment_files"]

RENDER_MODES = ("overlay", "labels", "side-by-side")


_cv2 = functools.partial(require_cv2, "drawing text and writing video")


def to_bgr(frame: np.ndarray, input_format: str) -> np.ndarray:
    """A frame in a model's input format (``bgr``, ``rgb``, ``nv12``) as BGR HxWx3, for drawing."""
    if input_format == "bgr":
        return frame
    cv2 = _cv2()
    if input_format == "nv12":
        return cv2.cvtColor(frame, cv2.COLOR_YUV2BGR_NV12)
    if input_format == "rgb":
        return cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
    raise ConfigError("input_format", expected="'bgr', 'rgb' or 'nv12'", found=repr(input_format))


def draw_text(image: np.ndarray, lines: Sequence[str], origin: Tuple[int, int] = (8, 8), scale: float = 0.5) -> np.ndarray:
    """Draw ``lines`` (top-left, white on a dark box) into ``image`` in place; returns ``image``."""
    cv2 = _cv2()
    if not lines:
        return image
    font = cv2.FONT_HERSHEY_SIMPLEX
    thickness = 1
    sizes = [cv2.getTextSize(line, font, scale, thickness)[0] for line in lines]
    line_h = max(h for _, h in sizes) + 6
    box_w = max(w for w, _ in sizes) + 8
    x, y = origin
    x1, y1 = min(image.shape[1], x + box_w), min(image.shape[0], y + line_h * len(lines) + 4)
    if x1 > x and y1 > y:
        image[y:y1, x:x1] = (image[y:y1, x:x1].astype(np.uint16) // 3).astype(np.uint8)
    for i, line in enumerate(lines):
        cv2.putText(image, line, (x + 4, y + (i + 1) * line_h - 2), font, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    return image


def draw_legend(image: np.ndarray, class_names: Sequence[str], palette: Sequence[Tuple[int, int, int]],
                classes: Optional[Sequence[int]] = None, scale: float = 0.45) -> np.ndarray:
    """Draw a colour swatch + name per class at the top-right of ``image`` (in place); returns it.

    ``classes`` limits the legend to those ids (e.g. the classes present in the frame).
    """
    cv2 = _cv2()
    ids = list(range(len(class_names))) if classes is None else [int(c) for c in classes if 0 <= int(c) < len(class_names)]
    if not ids:
        return image
    font = cv2.FONT_HERSHEY_SIMPLEX
    sizes = [cv2.getTextSize(class_names[i], font, scale, 1)[0] for i in ids]
    row_h = max(max(h for _, h in sizes) + 8, 14)
    box_w = max(w for w, _ in sizes) + row_h + 14
    x0 = max(0, image.shape[1] - box_w - 8)
    y0 = 8
    y1 = min(image.shape[0], y0 + row_h * len(ids) + 4)
    image[y0:y1, x0:x0 + box_w] = (image[y0:y1, x0:x0 + box_w].astype(np.uint16) // 3).astype(np.uint8)
    for row, i in enumerate(ids):
        top = y0 + 2 + row * row_h
        if top + row_h > image.shape[0]:
            break
        r, g, b = palette[i] if i < len(palette) else (255, 255, 255)
        cv2.rectangle(image, (x0 + 4, top + 2), (x0 + row_h, top + row_h - 2), (int(b), int(g), int(r)), -1)
        cv2.putText(image, class_names[i], (x0 + row_h + 8, top + row_h - 5), font, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return image


def render(
    frame: np.ndarray,
    result: SegmentationResult,
    *,
    mode: str = "overlay",
    alpha: float = 0.5,
    legend: bool = True,
    legend_present_only: bool = True,
    text: Sequence[str] = (),
    skip_background: bool = False,
) -> np.ndarray:
    """A BGR image showing ``result`` for ``frame`` (a new array; ``frame`` is not modified).

    Args:
        mode: ``"overlay"`` (colours blended over the frame), ``"labels"`` (colours only, no frame
            needed beyond its size), or ``"side-by-side"`` (frame | overlay).
        alpha: weight of the colours in the overlay.
        legend: draw the class legend (only the classes present, unless ``legend_present_only=False``).
        text: lines drawn at the top-left (e.g. ``FpsMeter.text()``).
        skip_background: leave class 0 unpainted in the overlay.
    """
    if mode not in RENDER_MODES:
        raise ConfigError("render mode", expected=" or ".join(RENDER_MODES), found=repr(mode))
    if mode == "labels":
        out = result.colorize()
    else:
        out = result.overlay(frame, alpha=alpha, skip_background=skip_background)
        if mode == "side-by-side":
            out = np.concatenate([frame, out], axis=1)
    if legend and result.class_names:
        present = np.flatnonzero(np.bincount(result.labels.ravel(), minlength=len(result.class_names))) \
            if legend_present_only else None
        draw_legend(out, result.class_names, result.palette, None if present is None else present.tolist())
    if text:
        draw_text(out, list(text))
    return out


class FpsMeter:
    """Frames per second and latency, smoothed with an exponential moving average.

    Example:
        >>> meter = FpsMeter()
        >>> meter.tick(latency_ms=20.0); meter.latency_ms
        20.0
    """

    def __init__(self, smoothing: float = 0.9) -> None:
        if not 0.0 <= smoothing < 1.0:
            raise ConfigError("FpsMeter smoothing", expected="a value in [0, 1)", found=repr(smoothing))
        self._s = smoothing
        self._last: Optional[float] = None
        self.fps = 0.0
        self.latency_ms = 0.0
        self.count = 0

    def tick(self, latency_ms: Optional[float] = None, now: Optional[float] = None) -> None:
        """Record one frame (now), optionally with its latency."""
        now = time.perf_counter() if now is None else now
        if self._last is not None and now > self._last:
            inst = 1.0 / (now - self._last)
            self.fps = inst if self.count <= 1 else self._s * self.fps + (1 - self._s) * inst
        self._last = now
        if latency_ms is not None:
            self.latency_ms = float(latency_ms) if self.count == 0 else self._s * self.latency_ms + (1 - self._s) * latency_ms
        self.count += 1

    def text(self, dropped: Optional[int] = None) -> Tuple[str, ...]:
        """Lines for :func:`draw_text`: ``"12.3 FPS"``, ``"latency 45 ms"`` (+ dropped frames)."""
        lines = [f"{self.fps:.1f} FPS", f"latency {self.latency_ms:.0f} ms"]
        if dropped is not None:
            lines.append(f"dropped {dropped}")
        return tuple(lines)


class LabelSmoother:
    """Temporal smoothing of label maps across video frames (reduces flicker; adds some lag).

    Methods:
        ``"ema"``: exponential moving average of the one-hot labels, ``state = a*state + (1-a)*onehot``,
            then argmax (``alpha`` = weight of the past).
        ``"majority"``: per-pixel most frequent label over the last ``k`` frames (a tie that
            includes the newest frame's label goes to it, other ties to the lowest id).

    The state resets when the frame size changes. Use :meth:`smooth` to get a new
    :class:`~fcn_trt.SegmentationResult` with smoothed labels.
    """

    def __init__(self, method: str = "ema", alpha: float = 0.6, k: int = 5, num_classes: Optional[int] = None) -> None:
        if method not in ("ema", "majority"):
            raise ConfigError("smoothing method", expected="'ema' or 'majority'", found=repr(method))
        if not 0.0 <= alpha < 1.0:
            raise ConfigError("smoothing alpha", expected="a value in [0, 1)", found=repr(alpha))
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ConfigError("smoothing k", expected="a positive integer", found=repr(k))
        self.method = method
        self.alpha = float(alpha)
        self.k = k
        self.num_classes = num_classes
        self._ema: Optional[np.ndarray] = None
        self._history: Deque[np.ndarray] = collections.deque(maxlen=k)

    def reset(self) -> None:
        self._ema = None
        self._history.clear()

    def _classes(self, labels: np.ndarray) -> int:
        n = int(labels.max()) + 1 if labels.size else 1
        if self.num_classes is not None:
            n = max(n, self.num_classes)
        return n

    def update(self, labels: np.ndarray) -> np.ndarray:
        """Add one label map (uint8 HxW); return the smoothed labels (uint8 HxW, a new array)."""
        if not isinstance(labels, np.ndarray) or labels.ndim != 2:
            raise InputError("labels", expected="a 2-D uint8 label map", found=f"{type(labels).__name__} {getattr(labels, 'shape', '')}")
        labels = labels.astype(np.uint8, copy=False)
        if self.method == "ema":
            n = self._classes(labels)
            if self._ema is not None and self._ema.shape[1:] != labels.shape:
                self.reset()
            if self._ema is not None and self._ema.shape[0] < n:  # a class seen for the first time
                grown = np.zeros((n,) + labels.shape, np.float32)
                grown[: self._ema.shape[0]] = self._ema
                self._ema = grown
            if self._ema is None:
                self._ema = np.zeros((n,) + labels.shape, np.float32)
                self._ema[labels, np.arange(labels.shape[0])[:, None], np.arange(labels.shape[1])[None, :]] = 1.0
            else:
                self._ema *= self.alpha
                rows = np.arange(labels.shape[0])[:, None]
                cols = np.arange(labels.shape[1])[None, :]
                self._ema[labels, rows, cols] += 1.0 - self.alpha
            return np.argmax(self._ema, axis=0).astype(np.uint8)
        if self._history and self._history[0].shape != labels.shape:
            self.reset()
        self._history.append(labels.copy())
        n = max(self._classes(h) for h in self._history)
        counts = np.zeros((n,) + labels.shape, np.uint16)
        rows = np.arange(labels.shape[0])[:, None]
        cols = np.arange(labels.shape[1])[None, :]
        for h in self._history:
            counts[h, rows, cols] += 2
        counts[labels, rows, cols] += 1  # the newest frame breaks ties
        return np.argmax(counts, axis=0).astype(np.uint8)

    def smooth(self, result: SegmentationResult) -> SegmentationResult:
        """``result`` with smoothed labels (confidence/logits unchanged)."""
        return dataclasses.replace(result, labels=self.update(result.labels))


def open_video_writer(path: Union[str, Path], fps: float, size_wh: Tuple[int, int], fourcc: str = "mp4v") -> Any:
    """A ``cv2.VideoWriter`` for BGR frames of ``size_wh`` (width, height), checked to be open."""
    cv2 = _cv2()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), float(fps or 30.0), (int(size_wh[0]), int(size_wh[1])))
    if not writer.isOpened():
        raise SourceOpenError(
            str(path), expected=f"a video file OpenCV can write with fourcc {fourcc!r}", found="cv2.VideoWriter did not open",
            hint="use a .mp4 path with fourcc 'mp4v' or an .avi path with 'MJPG'",
        )
    return writer


# --- segmenting files to files (``fcn-trt run``) ------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class SegmentedFile:
    """One input image (or a whole video) and what :func:`segment_files` wrote for it."""

    source: str
    output: str
    frames: int
    total_ms: float  # mean per frame (Segmenter timings["total"])
    class_fractions: Tuple[Tuple[str, float], ...]
    labels_png: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class SegmentFilesReport:
    """What :func:`segment_files` did: one entry per image, or one for a video."""

    input: str
    output: str
    video: bool
    files: Tuple[SegmentedFile, ...]

    @property
    def frames(self) -> int:
        return sum(f.frames for f in self.files)

    def lines(self) -> Tuple[str, ...]:
        """Printable lines (what ``fcn-trt run`` prints)."""
        if self.video:
            return (f"segmented {self.frames} frames -> {self.output}",)
        out = []
        for f in self.files:
            fractions = ", ".join(f"{k} {v:.1%}" for k, v in f.class_fractions if v > 0)
            out.append(f"{Path(f.source).name}: {f.total_ms:.1f} ms  [{fractions}] -> {f.output}")
        return tuple(out)


def segment_files(segmenter: Any, input: Union[str, Path], output: Union[str, Path], *, alpha: float = 0.5,
                  labels_only: bool = False, save_labels: bool = False) -> SegmentFilesReport:
    """Segment an image, a folder/glob of images, or a video file, and write overlays.

    Frames are read by the streaming sources and run through :meth:`fcn_trt.Segmenter.stream`
    (every frame, in order; inference overlaps reading and writing).

    Args:
        segmenter: an open :class:`fcn_trt.Segmenter`.
        input: an image, a folder, a glob, or a video file.
        output: for one image with an image suffix, that file; for several images, a folder
            (``<stem>_overlay.png``); for a video, the output video (``.avi``: MJPG, else mp4v).
        alpha: overlay opacity; ``labels_only`` writes the colourised labels instead.
        save_labels: also write palette label PNGs (class ids) next to each image's output.

    Example:
        >>> with fcn_trt.Segmenter("demo") as seg:                                  # doctest: +SKIP
        ...     report = segment_files(seg, "frames/", "out/", save_labels=True)
        >>> print("\\n".join(report.lines()))                                       # doctest: +SKIP
    """
    if not 0.0 <= alpha <= 1.0:
        raise ConfigError("alpha", expected="a value in [0, 1]", found=repr(alpha))
    src, out = Path(input), Path(output)

    def draw(result: SegmentationResult, frame: np.ndarray) -> np.ndarray:
        return result.colorize() if labels_only else result.overlay(frame, alpha=alpha)

    video_in = src.is_file() and is_video(src)
    images = [] if video_in else image_files(src, "input")
    _check_output_kind(out, video_in, len(images))
    if video_in:
        return _segment_video(segmenter, src, out, draw)
    single = len(images) == 1 and is_image(out)
    if not single:
        out.mkdir(parents=True, exist_ok=True)
    cv2 = _cv2()
    written: list = []
    frames = (read_image(p, "reading images") for p in images)  # a typed read error reaches the caller
    for item in segmenter.stream(frames, live=False):
        path = images[item.sequence]
        result = item.result
        target = out if single else out / f"{path.stem}_overlay.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(target), draw(result, item.frame)):
            raise SourceOpenError(f"output {target}", expected="a writable image path", found="OpenCV could not write it")
        labels_png = None
        if save_labels:
            labels_png = target.with_name(target.stem.replace("_overlay", "") + "_labels.png")
            save_label_png(labels_png, np.asarray(result.labels), result.palette)
        written.append(SegmentedFile(
            source=str(path), output=str(target), frames=1, total_ms=float(result.timings["total"]),
            class_fractions=tuple(result.class_fractions().items()),
            labels_png=None if labels_png is None else str(labels_png),
        ))
    return SegmentFilesReport(input=str(src), output=str(out), video=False, files=tuple(written))


OUTPUT_VIDEO_EXTENSIONS = (".mp4", ".avi")


def _check_output_kind(out: Path, video_in: bool, n_images: int) -> None:
    """Video in -> a video file out; one image in -> an image file or a folder; images -> a folder
    (an unknown suffix is an error, never a silently created folder)."""
    suffix = out.suffix.lower()
    if video_in:
        if suffix not in OUTPUT_VIDEO_EXTENSIONS:
            raise ConfigError("output for a video input", expected="a video file (" + ", ".join(OUTPUT_VIDEO_EXTENSIONS)
                              + ")", found=repr(str(out)), hint="e.g. -o overlay.mp4")
        return
    if out.is_dir() or (not suffix and not out.exists()):
        return  # a folder
    if is_image(out):
        if n_images == 1:
            return
        raise ConfigError("output for %d input images" % n_images, expected="a folder",
                          found="image file name %r" % str(out), hint="pass a folder, e.g. -o overlays/")
    what = "an image file (" + ", ".join(IMAGE_EXTENSIONS) + ") or a folder" if n_images == 1 else "a folder"
    raise ConfigError("output", expected=what, found=repr(str(out)) + (" (a video name for image input)"
                      if is_video(out) else " (unknown suffix)" if suffix else " (an existing file)"),
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


def _segment_video(segmenter: Any, src: Path, out: Path, draw: Any) -> SegmentFilesReport:
    writer = None
    n = 0
    total_ms = 0.0
    fractions: Dict[str, float] = {}
    stream = segmenter.stream(str(src), live=False)
    try:
        for item in stream:
            img = draw(item.result, item.frame)
            if writer is None:
                fourcc = "MJPG" if out.suffix.lower() == ".avi" else "mp4v"
                try:
                    writer = open_video_writer(out, stream.source.fps or 30.0, (img.shape[1], img.shape[0]), fourcc)
                except SourceOpenError:
                    raise SourceOpenError(f"output video {out}", expected="a writable .mp4 or .avi path",
                                          found="OpenCV could not open it") from None
            writer.write(img)
            n += 1
            total_ms += float(item.result.timings["total"])
            for k, v in item.result.class_fractions().items():
                fractions[k] = fractions.get(k, 0.0) + v
    finally:
        stream.close()
        if writer is not None:
            writer.release()
    if n == 0:
        raise SourceOpenError(f"video {src}", expected="at least one frame", found="none could be read")
    _check_video_written(out, n)
    entry = SegmentedFile(source=str(src), output=str(out), frames=n, total_ms=total_ms / n,
                          class_fractions=tuple((k, v / n) for k, v in fractions.items()))
    return SegmentFilesReport(input=str(src), output=str(out), video=True, files=(entry,))
