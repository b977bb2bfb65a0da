"""Frames for INT8 calibration and for the accuracy gate: from a folder, a video or a VOC root.

A *source* is one of:

* a PASCAL VOC root (a folder with ``JPEGImages/``, ``SegmentationClass/`` and
  ``ImageSets/Segmentation/``): images of a split, with ground-truth labels;
* a folder of images (``.jpg .jpeg .png .bmp .webp .tif .tiff``, sorted by name; no labels);
* a video file (anything OpenCV opens; no labels).

Calibration frames (:func:`load_calibration_frames`) are sampled evenly over the source, resized to
one size and cached as a ``.npz`` keyed by a hash of the source (paths, sizes, mtimes), the split,
the frame count and the size, so a second ``quantize`` run does not decode the source again.
The frames are uint8 BGR, exactly what a camera gives: the quantizer feeds them to the pipeline
graph, so they pass through the same in-graph preprocessing as at inference.

Example:
    >>> frames = load_calibration_frames("calib_images/", size=(256, 256), num_frames=32)  # doctest: +SKIP
    >>> frames.shape, frames.dtype                                                           # doctest: +SKIP
    ((32, 256, 256, 3), dtype('uint8'))
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Iterator, List, Optional, Tuple, Union

import numpy as np

from fcn_trt._imageio import IMAGE_EXTENSIONS, read_image
from fcn_trt._imports import require_cv2
from fcn_trt._progress import progress
from fcn_trt._util import parse_hw
from fcn_trt.errors import ConfigError, SourceOpenError

__all__ = [
    "IMAGE_SUFFIXES",
    "EvalData",
    "source_kind",
    "load_calibration_frames",
    "load_eval_data",
    "default_cache_dir",
    "parse_size",
]

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = IMAGE_EXTENSIONS  # the one list (fcn_trt._imageio); the old name stays for importers
_CACHE_VERSION = 1

PathLike = Union[str, "os.PathLike[str]"]


_cv2 = functools.partial(require_cv2, "reading calibration images and videos")


def default_cache_dir() -> Path:
    """``$FCN_TRT_CACHE/calibration`` or ``~/.cache/fcn_trt/calibration``."""
    root = os.environ.get("FCN_TRT_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "fcn_trt")
    return Path(root) / "calibration"


def parse_size(text: str) -> Tuple[int, int]:
    """``"HxW"`` (or ``"H,W"``, or a single ``"S"`` for SxS) -> ``(h, w)``; ConfigError otherwise (the one size grammar)."""
    return parse_hw(text, "size", square=True)


def source_kind(source: PathLike) -> str:
    """``"voc"``, ``"dir"`` or ``"video"`` (SourceOpenError if none fits)."""
    path = Path(source)
    if path.is_dir():
        if (path / "JPEGImages").is_dir() and (path / "SegmentationClass").is_dir():
            return "voc"
        return "dir"
    if path.is_file():
        if path.suffix.lower() in IMAGE_SUFFIXES:
            raise SourceOpenError(
                "frame source", expected="a folder of images, a video file or a VOC root", found=f"one image {path}",
                hint="put the images in a folder and pass the folder",
            )
        return "video"
    raise SourceOpenError(
        "frame source", expected="an existing folder of images, video file or VOC root", found=f"no such path {path}",
    )


def _dir_images(path: Path) -> List[Path]:
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise SourceOpenError(
            f"image folder {path}", expected="image files (" + " ".join(IMAGE_SUFFIXES) + ")", found="none",
            hint="point --calib/--data at a folder of frames, a video, or a VOC root",
        )
    return files


def _voc_ids(root: Path, split: Optional[str]) -> List[str]:
    from fcn_trt.eval.voc import VocDataset

    if split is not None:
        return list(VocDataset(root, split).ids)
    return sorted(p.stem for p in (root / "JPEGImages").glob("*.jpg"))


def _read_image(path: Path) -> np.ndarray:
    return read_image(path, "reading calibration images and videos")


def _evenly(n_total: int, n_wanted: Optional[int]) -> List[int]:
    if n_wanted is None or n_wanted >= n_total:
        return list(range(n_total))
    return sorted({int(round(i)) for i in np.linspace(0, n_total - 1, n_wanted)})


def _iter_video(path: Path, n_wanted: Optional[int]) -> Iterator[Tuple[str, np.ndarray]]:
    cv2 = _cv2()
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise SourceOpenError(f"video {path}", expected="a video OpenCV can open", found="it could not be opened")
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        wanted = set(_evenly(count, n_wanted)) if count > 0 else None
        index = yielded = 0
        while True:
            ok, frame = cap.read()
            if not ok or frame is None:
                break
            if (wanted is None or index in wanted):
                yield f"{path.name}#{index}", frame
                yielded += 1
                if n_wanted is not None and yielded >= n_wanted:
                    break
            index += 1
        if yielded == 0:
            raise SourceOpenError(f"video {path}", expected="at least one frame", found="none decoded")
    finally:
        cap.release()


def _fingerprint(source: Path, kind: str, split: Optional[str]) -> dict:
    """What identifies a source's content cheaply: file names, sizes and mtimes."""
    if kind == "video":
        st = source.stat()
        return {"video": str(source.resolve()), "size": st.st_size, "mtime": st.st_mtime_ns}
    if kind == "voc":
        ids = _voc_ids(source, split)
        files = [source / "JPEGImages" / (i + ".jpg") for i in ids]
    else:
        files = _dir_images(source)
    return {
        "root": str(source.resolve()), "split": split,
        "files": [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files],
    }


def _resize(frame: np.ndarray, size: Optional[Tuple[int, int]]) -> np.ndarray:
    if size is None or frame.shape[:2] == tuple(size):
        return frame
    cv2 = _cv2()
    h, w = size
    interp = cv2.INTER_AREA if (h < frame.shape[0] and w < frame.shape[1]) else cv2.INTER_LINEAR
    return cv2.resize(frame, (w, h), interpolation=interp)


def _iter_frames(source: Path, kind: str, n_wanted: Optional[int], split: Optional[str]):
    """Yield (id, bgr, labels-or-None) sampled evenly over the source."""
    if kind == "video":
        for fid, frame in _iter_video(source, n_wanted):
            yield fid, frame, None
        return
    if kind == "voc":
        from fcn_trt.eval.voc import read_label_png

        ids = _voc_ids(source, split)
        for i in _evenly(len(ids), n_wanted):
            label_path = source / "SegmentationClass" / (ids[i] + ".png")
            labels = read_label_png(label_path) if label_path.is_file() else None
            yield ids[i], _read_image(source / "JPEGImages" / (ids[i] + ".jpg")), labels
        return
    files = _dir_images(source)
    for i in _evenly(len(files), n_wanted):
        yield files[i].name, _read_image(files[i]), None


def load_calibration_frames(
    source: PathLike,
    size: Optional[Tuple[int, int]],
    num_frames: int = 64,
    split: Optional[str] = "train",
    cache_dir: Optional[PathLike] = None,
    use_cache: bool = True,
    show_progress: bool = True,
) -> np.ndarray:
    """``[N, h, w, 3]`` uint8 BGR frames sampled evenly from ``source``, resized to ``size``.

    ``size=None`` keeps the frames' own size (they must then all have the same size). For a VOC
    root the ``split`` is read (default ``train``, so calibration never sees the ``val`` images the
    accuracy gate uses); if that split file is missing every image of ``JPEGImages/`` is a
    candidate. The result is cached under ``cache_dir`` (default :func:`default_cache_dir`).
    """
    if not isinstance(num_frames, (int, np.integer)) or num_frames < 1:
        raise ConfigError("number of calibration frames", expected="a positive integer", found=repr(num_frames))
    path = Path(source)
    kind = source_kind(path)
    if kind == "voc" and split is not None and not (path / "ImageSets" / "Segmentation" / f"{split}.txt").is_file():
        log.info("VOC root %s has no split %r: sampling all of JPEGImages/", path, split)
        split = None
    if kind != "voc":
        split = None
    key_doc = {
        "v": _CACHE_VERSION, "kind": kind, "source": _fingerprint(path, kind, split),
        "size": list(size) if size else None, "n": int(num_frames),
    }
    key = hashlib.sha256(json.dumps(key_doc, sort_keys=True).encode()).hexdigest()
    cache_file = Path(cache_dir or default_cache_dir()) / f"calib-{key[:24]}.npz"
    if use_cache and cache_file.is_file():
        try:
            with np.load(cache_file) as data:
                frames = data["frames"]
            log.info("calibration frames from cache %s (%d frames)", cache_file, len(frames))
            return frames
        except Exception as e:  # noqa: BLE001 - a corrupt cache is rebuilt, never fatal
            log.warning("ignoring unreadable calibration cache %s: %s", cache_file, e)
    frames = []
    total = None if kind == "video" else num_frames
    for _, frame, _ in progress(_iter_frames(path, kind, num_frames, split), total=total, desc="calibration frames",
                                enabled=show_progress):
        frames.append(_resize(frame, size))
    shapes = {f.shape for f in frames}
    if len(shapes) != 1:
        raise ConfigError(
            "calibration frame sizes", expected="one size for every frame", found=f"{len(shapes)} sizes, e.g. "
            + ", ".join(f"{s[0]}x{s[1]}" for s in sorted(shapes)[:3]),
            hint="pass a calibration size (--calib-size HxW)",
        )
    arr = np.ascontiguousarray(np.stack(frames))
    if len(arr) < num_frames:
        log.warning("calibration source %s gave %d frames (asked for %d)", path, len(arr), num_frames)
    if use_cache:
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache_file.with_name(cache_file.stem + f".{os.getpid()}.tmp.npz")
            np.savez(tmp, frames=arr, key=json.dumps(key_doc))
            os.replace(tmp, cache_file)
            log.info("cached %d calibration frames in %s", len(arr), cache_file)
        except OSError as e:
            log.warning("could not write calibration cache %s: %s", cache_file, e)
    return arr


@dataclasses.dataclass(frozen=True)
class EvalData:
    """Frames (uint8 BGR, each its own size) and, for a VOC root, their ground-truth labels."""

    frames: Tuple[np.ndarray, ...]
    labels: Optional[Tuple[np.ndarray, ...]]
    ids: Tuple[str, ...]
    kind: str

    def __len__(self) -> int:
        return len(self.frames)


def load_eval_data(
    source: PathLike,
    max_frames: Optional[int] = None,
    split: Optional[str] = "val",
    size: Optional[Tuple[int, int]] = None,
    show_progress: bool = True,
) -> EvalData:
    """Frames (and labels for a VOC root) for :func:`build_engine.compare.compare_models`.

    Frames keep their size unless ``size`` is given (labels are then resized with nearest
    neighbour). ``max_frames`` samples evenly. For a VOC root without the ``split`` file every image
    with a label PNG is used.
    """
    path = Path(source)
    kind = source_kind(path)
    if kind == "voc" and split is not None and not (path / "ImageSets" / "Segmentation" / f"{split}.txt").is_file():
        split = None
    frames, labels, ids = [], [], []
    has_labels = kind == "voc"
    for fid, frame, lab in progress(_iter_frames(path, kind, max_frames, split if kind == "voc" else None),
                                    total=max_frames if kind != "video" else None, desc="frames",
                                    enabled=show_progress):
        if size is not None:
            frame = _resize(frame, size)
            if lab is not None:
                lab = _cv2().resize(lab, (size[1], size[0]), interpolation=_cv2().INTER_NEAREST)
        frames.append(frame)
        ids.append(fid)
        if lab is None:
            has_labels = False
        labels.append(lab)
    if not frames:
        raise SourceOpenError(f"{source}", expected="at least one frame", found="none")
    return EvalData(tuple(frames), tuple(labels) if has_labels else None, tuple(ids), kind)
