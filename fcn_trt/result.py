"""The immutable result of segmenting one frame.

Example:
    >>> import numpy as np
    >>> r = SegmentationResult(labels=np.array([[0, 1], [1, 1]], np.uint8),
    ...                        class_names=("bg", "fg"), palette=((0, 0, 0), (255, 0, 0)))
    >>> r.class_fractions()
    {'bg': 0.25, 'fg': 0.75}
    >>> r.colorize()[0, 1].tolist()   # BGR
    [0, 0, 255]
"""

from __future__ import annotations

import dataclasses
from typing import Dict, Mapping, Optional, Tuple

import numpy as np

from .errors import FrameShapeError, InputError, MetadataError
from .palettes import palette_to_bgr_lut

__all__ = ["SegmentationResult"]


def _readonly(a: Optional[np.ndarray]) -> Optional[np.ndarray]:
    if a is not None:
        a.flags.writeable = False
    return a


@dataclasses.dataclass(frozen=True)
class SegmentationResult:
    """Labels (and optionally confidence/logits) of one frame, at the frame's resolution.

    Arrays are read-only: copy them (``result.labels.copy()``) to modify.

    Attributes:
        labels: uint8 [H, W] class ids.
        confidence: float32 [H, W] probability of the predicted class, if the model outputs it.
        logits: float32 [C, h, w] raw scores, if the model outputs them (debugging).
        class_names: one name per class id.
        palette: one RGB colour per class id.
        timings: milliseconds per stage ("validate", "infer", "postprocess", "total").
    """

    labels: np.ndarray
    class_names: Tuple[str, ...] = ()
    palette: Tuple[Tuple[int, int, int], ...] = ()
    confidence: Optional[np.ndarray] = None
    logits: Optional[np.ndarray] = None
    timings: Mapping[str, float] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.class_names and self.labels.size:
            top = int(self.labels.max())
            if top >= len(self.class_names):
                raise MetadataError(
                    "model metadata class_names", expected="a name for every class id the network outputs",
                    found="class id %d with %d names %s" % (top, len(self.class_names), list(self.class_names)[:8]),
                    hint="the metadata does not match the network: re-export it with `python -m build_engine "
                         "export --num-classes N` (or --class-names)",
                )
        _readonly(self.labels)
        _readonly(self.confidence)
        _readonly(self.logits)

    @property
    def shape(self) -> Tuple[int, int]:
        return self.labels.shape[0], self.labels.shape[1]

    def colorize(self, palette: Optional[Tuple[Tuple[int, int, int], ...]] = None) -> np.ndarray:
        """Labels painted with the palette (RGB triples), as a BGR uint8 image for OpenCV."""
        return palette_to_bgr_lut(tuple(palette or self.palette))[self.labels]

    def overlay(self, frame: np.ndarray, alpha: float = 0.5, skip_background: bool = False) -> np.ndarray:
        """Blend the colourised labels over ``frame`` (BGR uint8 HxWx3, same size); returns a new image.

        ``alpha`` is the weight of the colours (0 = frame only, 1 = labels only). With
        ``skip_background`` class 0 is left unpainted.
        """
        if not 0.0 <= alpha <= 1.0:
            raise InputError("overlay alpha", expected="a value in [0, 1]", found=repr(alpha))
        if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3 \
                or frame.shape[:2] != self.labels.shape:
            found = f"{type(frame).__name__} {getattr(frame, 'dtype', '')} {getattr(frame, 'shape', '')}"
            raise FrameShapeError(
                "overlay frame", expected=f"uint8 BGR array of shape {self.labels.shape + (3,)}", found=found,
                hint="overlay the frame that was segmented (for nv12 input, convert it to BGR first)",
            )
        colors = self.colorize().astype(np.float32)
        out = frame.astype(np.float32) * (1.0 - alpha) + colors * alpha
        if skip_background:
            bg = self.labels == 0
            out[bg] = frame[bg]
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)

    def class_fractions(self) -> Dict[str, float]:
        """Fraction of the frame's pixels per class name (classes with no pixels give 0.0)."""
        n = max(len(self.class_names), int(self.labels.max()) + 1 if self.labels.size else 0)
        counts = np.bincount(self.labels.ravel(), minlength=n)
        total = float(self.labels.size) or 1.0
        names = list(self.class_names) + [f"class_{i}" for i in range(len(self.class_names), n)]
        return {names[i]: float(counts[i]) / total for i in range(n)}
