"""Class palettes (RGB) and class names for segmentation masks.

Palettes are tuples of ``(r, g, b)`` tuples, the form :class:`fcn_trt.metadata.PipelineMetadata`
stores. :func:`palette_to_bgr_lut` turns one into a ``[256, 3]`` uint8 BGR lookup table, so a label
map is colourised with one fancy-indexing call (``lut[labels]``), ready for OpenCV.

Example:
    >>> voc_palette(3)
    ((0, 0, 0), (128, 0, 0), (0, 128, 0))
    >>> lut = palette_to_bgr_lut(get_palette("voc"))
    >>> lut[1].tolist()   # aeroplane, BGR
    [0, 0, 128]
    >>> len(get_palette(5)) == 5
    True
"""

from __future__ import annotations

import colorsys
import random
from typing import Sequence, Tuple, Union

import numpy as np

from .errors import ConfigError

__all__ = [
    "Palette",
    "VOC_CLASSES",
    "VOC_IGNORE_COLOR",
    "CITYSCAPES_CLASSES",
    "CITYSCAPES_PALETTE",
    "voc_palette",
    "make_palette",
    "get_palette",
    "palette_to_bgr_lut",
]

Palette = Tuple[Tuple[int, int, int], ...]

#: The 21 PASCAL VOC segmentation classes (id 0 = background; 255 = "void"/ignore in the PNGs).
VOC_CLASSES: Tuple[str, ...] = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair",
    "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa",
    "train", "tvmonitor",
)

#: Colour of the VOC "void" label 255 (object boundaries), entry 255 of :func:`voc_palette`.
VOC_IGNORE_COLOR = (224, 224, 192)

#: The 19 Cityscapes training classes (train ids 0..18), in train-id order.
CITYSCAPES_CLASSES: Tuple[str, ...] = (
    "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign",
    "vegetation", "terrain", "sky", "person", "rider", "car", "truck", "bus", "train", "motorcycle",
    "bicycle",
)

#: Official Cityscapes colours (cityscapesScripts ``labels.py``) of the 19 train ids, RGB.
CITYSCAPES_PALETTE: Palette = (
    (128, 64, 128), (244, 35, 232), (70, 70, 70), (102, 102, 156), (190, 153, 153),
    (153, 153, 153), (250, 170, 30), (220, 220, 0), (107, 142, 35), (152, 251, 152),
    (70, 130, 180), (220, 20, 60), (255, 0, 0), (0, 0, 142), (0, 0, 70), (0, 60, 100),
    (0, 80, 100), (0, 0, 230), (119, 11, 32),
)

_MAX_IDS = 256  # labels are uint8


def _check_count(n: int, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= int(n) <= _MAX_IDS:
        raise ConfigError(
            what, expected="an integer class count in 1..256 (labels are uint8)", found=repr(n),
        )
    return int(n)


def voc_palette(n: int = 256) -> Palette:
    """The standard PASCAL VOC colormap (bit-interleaved class id), first ``n`` entries, RGB.

    All 256 entries are distinct; entry 255 is :data:`VOC_IGNORE_COLOR`.

    Example:
        >>> voc_palette(256)[255]
        (224, 224, 192)
    """
    n = _check_count(n, "voc_palette(n)")
    out = []
    for i in range(n):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        out.append((r, g, b))
    return tuple(out)


def make_palette(n: int, seed: int = 0) -> Palette:
    """``n`` distinct, well-separated RGB colours for a model with an arbitrary class count.

    Entry 0 is black (the background convention). The others step the hue by the golden ratio
    from a ``seed``-dependent start, cycling through three saturation/value levels, so
    neighbouring ids look different. Deterministic for a given ``(n, seed)``.

    Example:
        >>> p = make_palette(40)
        >>> p[0], len(set(p)) == 40
        ((0, 0, 0), True)
    """
    n = _check_count(n, "make_palette(n)")
    rng = random.Random(seed)
    hue = rng.random()
    levels = ((0.90, 0.95), (0.60, 0.80), (0.95, 0.60))
    seen = {(0, 0, 0)}
    out = [(0, 0, 0)]
    golden = 0.6180339887498949
    i = 0
    while len(out) < n:
        s, v = levels[i % len(levels)]
        r, g, b = colorsys.hsv_to_rgb(hue % 1.0, s, v)
        colour = (int(round(r * 255)), int(round(g * 255)), int(round(b * 255)))
        hue += golden
        i += 1
        if colour in seen:  # rounding collision: take the next hue
            continue
        seen.add(colour)
        out.append(colour)
    return tuple(out)


def get_palette(name_or_n: Union[str, int]) -> Palette:
    """A palette by name (``"voc"``/``"pascal_voc"`` -> 21 colours, ``"cityscapes"`` -> 19) or
    by class count (``make_palette(n)``).

    Example:
        >>> len(get_palette("voc")), len(get_palette("cityscapes")), len(get_palette(7))
        (21, 19, 7)
    """
    if isinstance(name_or_n, str):
        key = name_or_n.strip().lower().replace("-", "_")
        if key in ("voc", "pascal_voc", "pascal"):
            return voc_palette(len(VOC_CLASSES))
        if key == "cityscapes":
            return CITYSCAPES_PALETTE
        raise ConfigError(
            "palette name", expected="'voc', 'cityscapes' or a class count", found=repr(name_or_n),
        )
    return make_palette(_check_count(name_or_n, "palette class count"))


def palette_to_bgr_lut(palette: Union[Sequence[Sequence[int]], np.ndarray]) -> np.ndarray:
    """A ``[256, 3]`` uint8 BGR lookup table from an RGB palette; ids past the palette are black.

    Colourise a label map with ``lut[labels]`` (one gather, no Python loop).

    Example:
        >>> lut = palette_to_bgr_lut([(255, 0, 0), (0, 255, 0)])
        >>> lut[np.array([[0, 1, 7]], np.uint8)].tolist()
        [[[0, 0, 255], [0, 255, 0], [0, 0, 0]]]
    """
    try:
        arr = np.asarray(palette, dtype=np.int64)
    except (TypeError, ValueError):
        raise ConfigError(
            "palette", expected="a sequence of (r, g, b) integer triples", found=type(palette).__name__,
        ) from None
    if arr.ndim != 2 or arr.shape[1] != 3 or not 1 <= arr.shape[0] <= _MAX_IDS:
        raise ConfigError(
            "palette", expected="1..256 (r, g, b) triples, shape (n, 3)", found="shape %s" % (arr.shape,),
        )
    if arr.min() < 0 or arr.max() > 255:
        raise ConfigError(
            "palette", expected="channel values in 0..255", found="range %d..%d" % (arr.min(), arr.max()),
        )
    lut = np.zeros((_MAX_IDS, 3), dtype=np.uint8)
    lut[: arr.shape[0]] = arr[:, ::-1].astype(np.uint8)
    return lut
