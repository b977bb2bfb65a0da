"""Tiled inference for images larger than the engine's optimization profile (or than memory allows).

The image is cut into overlapping tiles whose origins sit on the network's output stride (32 for
FCN-8s), each tile is segmented, and the tiles are merged without seams:

* ``merge="logits"`` (model with a ``"logits"`` output): per-class scores are averaged with a
  narrow linear cross-fade (``overlap / 8`` wide) centred in each overlap, then argmax; the pixels
  nearest a tile's inner edge (which saw zero padding instead of image) get no weight;
* ``merge="labels"`` (any model): each pixel takes the label of the tile in whose centre region it
  lies (the overlap is split at its middle).

Memory is bounded by the tile size: tiles are processed row by row and a row band of accumulated
scores (``classes x tile_h x W`` floats) is turned into labels as soon as no later tile touches it.
Only the uint8 label image (and float confidence, if the model has it) is image-sized.

Example:
    >>> tile_grid(600, 800, tile=(256, 256), overlap=64)[:2]
    [(0, 0, 256, 256), (0, 192, 256, 448)]
    >>> result = segment_tiled(seg, big_image, tile=1024)               # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np

from ._frames import validate_frame
from .errors import ConfigError, FrameShapeError
from .result import SegmentationResult

__all__ = ["tile_grid", "tile_starts", "segment_tiled", "MERGE_MODES", "FCN_CONTEXT_OVERLAP"]

log = logging.getLogger(__name__)

MERGE_MODES = ("auto", "logits", "labels")
_DEFAULT_TILE = 1024
#: FCN-8s/16s/32s see ~404 px (VGG16 to pool5 + the 7x7 fc6 at stride 32): with this much overlap,
#: every pixel a tile owns lies >= 208 px from the tile's inner edges, so it sees its full context.
FCN_CONTEXT_OVERLAP = 416
_DEFAULT_OVERLAP = 64


def _pair(value: Union[int, Sequence[int]], what: str) -> Tuple[int, int]:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        pair = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        pair = (int(value[0]), int(value[1]))
    else:
        raise ConfigError(what, expected="an int or an (h, w) pair", found=repr(value))
    return pair


def tile_starts(length: int, tile: int, overlap: int, align: int = 32, min_size: int = 1) -> List[int]:
    """Start offsets of the tiles along one axis (tiles are ``[s, min(s + tile, length))``).

    Starts are multiples of ``align``; consecutive tiles overlap by at least ``overlap`` pixels; the
    last tile is at least ``min_size`` wide (and wider than ``overlap``).
    """
    if tile < 1 or overlap < 0 or align < 1:
        raise ConfigError("tiling", expected="tile >= 1, overlap >= 0, align >= 1",
                          found=f"tile={tile}, overlap={overlap}, align={align}")
    if length <= tile:
        return [0]
    stride = (tile - overlap) // align * align
    if stride <= 0:
        raise ConfigError(
            "tile overlap", expected=f"tile - overlap >= align ({align})", found=f"tile={tile}, overlap={overlap}",
            hint="use larger tiles or a smaller overlap",
        )
    starts = [0]
    while starts[-1] + tile < length:
        starts.append(starts[-1] + stride)
    if length - starts[-1] < min_size:  # too thin for the engine's profile: move the last tile back
        starts[-1] = max(0, (length - min_size) // align * align)
    return starts


def tile_grid(height: int, width: int, tile: Union[int, Sequence[int]] = _DEFAULT_TILE, overlap: int = 64,
              align: int = 32, min_hw: Tuple[int, int] = (1, 1)) -> List[Tuple[int, int, int, int]]:
    """Tiles ``(y0, x0, y1, x1)`` covering a ``height x width`` image, row by row."""
    th, tw = _pair(tile, "tile")
    ys = tile_starts(height, th, overlap, align, min_hw[0])
    xs = tile_starts(width, tw, overlap, align, min_hw[1])
    return [(y, x, min(y + th, height), min(x + tw, width)) for y in ys for x in xs]


def _ends(starts: List[int], tile: int, length: int) -> List[int]:
    return [min(s + tile, length) for s in starts]


def _cores(starts: List[int], ends: List[int], length: int) -> List[Tuple[int, int]]:
    """The part of each tile it owns: overlaps are split at their middle."""
    cuts = [0] + [(ends[i - 1] + starts[i]) // 2 for i in range(1, len(starts))] + [length]
    return [(cuts[i], cuts[i + 1]) for i in range(len(starts))]


def _crossfade(start: int, end: int, cut_lo: int, cut_hi: int, length: int, blend: int) -> np.ndarray:
    """1-D weights of a tile: 1 in the part it owns ``[cut_lo, cut_hi)``, 0 near its inner edges,
    and a linear cross-fade ``blend`` px wide at each cut (neighbours' weights sum to 1)."""
    x = np.arange(start, end, dtype=np.float32) + 0.5
    w = np.ones(end - start, np.float32)
    b = float(max(1, blend))
    if start > 0:
        w *= np.clip((x - cut_lo + b / 2) / b, 0.0, 1.0)
    if end < length:
        w *= np.clip((cut_hi + b / 2 - x) / b, 0.0, 1.0)
    return w


def _softmax_max(scores: np.ndarray) -> np.ndarray:
    m = scores.max(axis=0)
    e = np.exp(scores - m[None])
    return (1.0 / e.sum(axis=0)).astype(np.float32)  # max prob = exp(0) / sum


def segment_tiled(
    segmenter: Any,
    frame: np.ndarray,
    tile: Union[int, Sequence[int], None] = None,
    overlap: Optional[int] = None,
    merge: str = "auto",
    align: int = 32,
) -> SegmentationResult:
    """Segment an image of any size tile by tile; same result type as :meth:`Segmenter.run`.

    Args:
        segmenter: an open :class:`fcn_trt.Segmenter` (BGR or RGB pipeline).
        frame: uint8 HxWx3 image, any size.
        tile: tile size (int or (h, w)); default: the engine's maximum frame size, else 1024.
        overlap: minimum overlap of neighbouring tiles in pixels (context for the owned pixels);
            default: for FCN variants :data:`FCN_CONTEXT_OVERLAP` (416) capped at half the tile,
            else 64. Less overlap is faster but pixels near the seams see less context than in
            whole-image inference.
        merge: ``"logits"``, ``"labels"`` or ``"auto"`` (logits when the model outputs them).
        align: tile origins are multiples of this (the network's output stride keeps tiles
            consistent with whole-image inference).

    An image no larger than one tile is segmented in one call.
    """
    t_start = time.perf_counter()
    if merge not in MERGE_MODES:
        raise ConfigError("merge", expected=" or ".join(MERGE_MODES), found=repr(merge))
    meta = segmenter.metadata
    if meta.input_format == "nv12":
        raise ConfigError("tiled inference", expected="a bgr or rgb pipeline", found="an nv12 pipeline",
                          hint="convert frames to BGR and use a bgr model for tiling")
    image = validate_frame(frame, meta.input_format, "image")
    h, w = image.shape[:2]
    backend = segmenter.backend
    max_h, max_w = backend.max_frame_hw
    min_h, min_w = backend.min_frame_hw
    if tile is None:
        tile = (max_h or _DEFAULT_TILE, max_w or _DEFAULT_TILE)
    th, tw = _pair(tile, "tile")
    if (max_h and th > max_h) or (max_w and tw > max_w) or th < min_h or tw < min_w:
        raise ConfigError("tile", expected=f"between {min_h}x{min_w} and {max_h}x{max_w} (the engine's profile)",
                          found=f"{th}x{tw}")
    if overlap is None:
        overlap = min(FCN_CONTEXT_OVERLAP, min(th, tw) // 2) if meta.variant.startswith("fcn") else _DEFAULT_OVERLAP
    if h <= th and w <= tw:
        return segmenter.run(image)
    want_logits = merge == "logits" or (merge == "auto" and "logits" in meta.outputs)
    if merge == "logits" and "logits" not in meta.outputs:
        raise ConfigError("merge='logits'", expected="a model with a 'logits' output", found=f"outputs {meta.outputs}",
                          hint="use merge='labels', or export the model with --outputs labels logits")
    ys = tile_starts(h, th, overlap, align, min_h)
    xs = tile_starts(w, tw, overlap, align, min_w)
    y_ends, x_ends = _ends(ys, th, h), _ends(xs, tw, w)
    labels = np.zeros((h, w), np.uint8)
    has_conf = "confidence" in meta.outputs
    confidence = np.zeros((h, w), np.float32) if has_conf else None
    infer_ms = 0.0
    y_cores, x_cores = _cores(ys, y_ends, h), _cores(xs, x_ends, w)
    merger = _LogitBands(h, w, labels, confidence, overlap // 8, max(y_ends[i] - ys[i] for i in range(len(ys)))) \
        if want_logits else None
    for r, (y0, y1) in enumerate(zip(ys, y_ends)):
        if merger is not None:
            merger.start_row(y0, y1, y_cores[r])
        for c, (x0, x1) in enumerate(zip(xs, x_ends)):
            res = segmenter.run(image[y0:y1, x0:x1])
            infer_ms += float(res.timings.get("total", 0.0))
            if merger is not None and res.logits is not None and res.logits.shape[1:] == (y1 - y0, x1 - x0):
                merger.add(res.logits, x0, x1, x_cores[c])
                continue
            if merger is not None:  # logits at the inference size: cannot average, use labels from now on
                raise FrameShapeError(
                    "tile logits", expected=f"logits at the tile's size {(y1 - y0, x1 - x0)}",
                    found=f"shape {None if res.logits is None else res.logits.shape}",
                    hint="use merge='labels' for models with a fixed inference size",
                )
            (cy0, cy1), (cx0, cx1) = y_cores[r], x_cores[c]
            labels[cy0:cy1, cx0:cx1] = res.labels[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
            if confidence is not None and res.confidence is not None:
                confidence[cy0:cy1, cx0:cx1] = res.confidence[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
    if merger is not None:
        merger.finish()
    total = (time.perf_counter() - t_start) * 1e3
    return SegmentationResult(
        labels=labels, confidence=confidence, logits=None, class_names=meta.class_names, palette=meta.palette,
        timings={"validate": 0.0, "infer": infer_ms, "postprocess": max(0.0, total - infer_ms), "total": total},
    )


class _LogitBands:
    """Weighted logit sums for one band of tile rows; rows no later tile touches become labels.

    One buffer of ``classes x tile_h x W`` floats is allocated once and reused: when a new row of
    tiles starts, the rows it overlaps move to the top of the buffer and the rest is cleared.
    """

    _CHUNK = 64  # rows turned into labels at a time (bounds the temporaries of the division)

    def __init__(self, h: int, w: int, labels: np.ndarray, confidence: Optional[np.ndarray], blend: int,
                 band_rows: int) -> None:
        self.h, self.w = h, w
        self.labels = labels
        self.confidence = confidence
        self.blend = blend
        self.band_rows = band_rows
        self.acc: Optional[np.ndarray] = None  # [C, band_rows, W] weighted sums
        self.weight = np.zeros((band_rows, w), np.float32)  # weight sums
        self.top = 0  # image row of acc[:, 0]
        self.rows = 0  # rows of the current band
        self.row_w = np.ones(0, np.float32)

    def _flush(self, upto: int) -> None:
        """Turn rows [top, upto) into labels (and confidence)."""
        if self.acc is None or upto <= self.top:
            return
        for r0 in range(0, upto - self.top, self._CHUNK):
            r1 = min(r0 + self._CHUNK, upto - self.top)
            scores = self.acc[:, r0:r1] / np.maximum(self.weight[r0:r1], 1e-12)[None]
            self.labels[self.top + r0:self.top + r1] = np.argmax(scores, axis=0).astype(np.uint8)
            if self.confidence is not None:
                self.confidence[self.top + r0:self.top + r1] = _softmax_max(scores)

    def start_row(self, y0: int, y1: int, core: Tuple[int, int]) -> None:
        """Finish the rows above ``y0``; move the overlapping rows up and clear the rest."""
        self._flush(y0)
        keep = max(0, self.top + self.rows - y0) if self.rows else 0
        shift = y0 - self.top
        if keep and shift:
            for r0 in range(0, keep, self._CHUNK):  # forward chunks: sources lie below destinations
                r1 = min(r0 + self._CHUNK, keep)
                if self.acc is not None:
                    self.acc[:, r0:r1] = self.acc[:, shift + r0:shift + r1]
                self.weight[r0:r1] = self.weight[shift + r0:shift + r1]
        if self.acc is not None:
            self.acc[:, keep:] = 0.0
        self.weight[keep:] = 0.0
        self.top, self.rows = y0, y1 - y0
        self.row_w = _crossfade(y0, y1, core[0], core[1], self.h, self.blend)

    def add(self, logits: np.ndarray, x0: int, x1: int, core: Tuple[int, int]) -> None:
        if self.acc is None:
            self.acc = np.zeros((logits.shape[0], self.band_rows, self.w), np.float32)
        wgt = self.row_w[:, None] * _crossfade(x0, x1, core[0], core[1], self.w, self.blend)[None, :]
        self.acc[:, :self.rows, x0:x1] += logits.astype(np.float32, copy=False) * wgt[None]
        self.weight[:self.rows, x0:x1] += wgt

    def finish(self) -> None:
        self._flush(self.top + self.rows)
        self.acc = None
