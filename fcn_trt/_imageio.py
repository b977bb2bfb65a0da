"""The one image-file reader and the one list of image/video file suffixes.

:func:`read_image` decodes with OpenCV, or with Pillow where OpenCV is not installed (VOC
evaluation on a machine without OpenCV). :func:`image_files` turns a file, folder or glob into the
sorted image files it names. Streaming sources, the ``run`` command, VOC reading and calibration
all use these.

Example:
    >>> is_video("clip.MP4"), is_image("a.png")
    (True, True)
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Any, List, Union

import numpy as np

from ._imports import require_cv2
from .errors import SourceOpenError

__all__ = ["IMAGE_EXTENSIONS", "VIDEO_EXTENSIONS", "read_image", "image_files", "is_image", "is_video"]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".ts", ".h264", ".h265")


def is_image(path: Union[str, Path]) -> bool:
    """Whether ``path``'s suffix is an image suffix (case-insensitive)."""
    return os.path.splitext(str(path))[1].lower() in IMAGE_EXTENSIONS


def is_video(path: Union[str, Path]) -> bool:
    """Whether ``path``'s suffix is a video suffix (case-insensitive)."""
    return os.path.splitext(str(path))[1].lower() in VIDEO_EXTENSIONS


def _cv2_module() -> Any:
    try:
        import cv2
    except ImportError:
        return None
    return cv2


def _pil_image() -> Any:
    try:
        from PIL import Image
    except ImportError:
        return None
    return Image


def read_image(path: Union[str, Path], purpose: str = "reading images") -> np.ndarray:
    """One BGR uint8 image from a file; :class:`SourceOpenError` when it cannot be decoded."""
    cv2 = _cv2_module()
    if cv2 is None:
        Image = _pil_image()
        if Image is None:
            return require_cv2(purpose)  # type: ignore[no-any-return]  # raises BackendUnavailableError (install hint)
        try:
            with Image.open(str(path)) as img:
                rgb = np.array(img.convert("RGB"))
        except OSError as e:
            raise SourceOpenError(f"image {path}", expected="a readable image file", found=str(e)) from None
        return np.ascontiguousarray(rgb[..., ::-1])
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise SourceOpenError(f"image {path}", expected="a readable image file", found="OpenCV could not decode it")
    return img


def image_files(spec: Union[str, Path], what: str = "images") -> List[Path]:
    """The image files ``spec`` names: itself (an image file), a folder's images, or a glob's matches (sorted)."""
    text = os.path.expanduser(str(spec))
    path = Path(text)
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and is_image(p))
        if not files:
            raise SourceOpenError(f"{what} {path}", expected="a folder with images (" + ", ".join(IMAGE_EXTENSIONS[:4])
                                  + "...)", found="no image files")
        return files
    if any(c in text for c in "*?["):
        files = sorted(Path(p) for p in glob.glob(text) if is_image(p))
        if not files:
            raise SourceOpenError(f"{what} {text}", expected="a glob matching image files", found="no matches",
                                  hint="quote the pattern in the shell so it reaches fcn_trt unexpanded")
        return files
    raise SourceOpenError(f"{what} {text}", expected="an image, a folder of images or a glob",
                          found="no such file or folder", hint="check the path")
