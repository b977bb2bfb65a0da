"""Backend outputs -> :class:`~fcn_trt.SegmentationResult` objects, built once with their timings.

A backend returns whole-batch arrays, possibly at the inference size (a graph without resize-back).
:func:`resize_outputs` brings them to the frame size; :func:`build_results` makes one frozen result
per batch item. The caller measures the stages and passes the finished timings in: a result is
never patched after it is built.

Example:
    >>> import numpy as np
    >>> outs = resize_outputs({"labels": np.zeros((1, 2, 2), np.uint8)}, 4, 4)
    >>> outs["labels"].shape
    (1, 4, 4)
"""

from __future__ import annotations

from typing import Dict, List, Mapping, Sequence

import numpy as np

from .metadata import PipelineMetadata
from .result import SegmentationResult

__all__ = ["resize_outputs", "merge_outputs", "build_results", "results_from_outputs"]


def _nearest_resize(a: np.ndarray, h: int, w: int) -> np.ndarray:
    rows = (np.arange(h) * a.shape[-2] // h).astype(np.intp)
    cols = (np.arange(w) * a.shape[-1] // w).astype(np.intp)
    return a[..., rows[:, None], cols[None, :]]


def merge_outputs(chunks: Sequence[Mapping[str, np.ndarray]]) -> Dict[str, np.ndarray]:
    """One output dict from the outputs of consecutive sub-batches."""
    if len(chunks) == 1:
        return dict(chunks[0])
    return {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}


def resize_outputs(outs: Mapping[str, np.ndarray], h: int, w: int) -> Dict[str, np.ndarray]:
    """``labels`` and ``confidence`` at frame size (H, W) (nearest neighbour; no copy when already there)."""
    out = dict(outs)
    labels = out["labels"]
    if labels.shape[-2:] != (h, w):  # graph without resize-back: labels at inference size
        out["labels"] = _nearest_resize(labels, h, w)
        if out.get("confidence") is not None:
            out["confidence"] = _nearest_resize(out["confidence"], h, w)
    return out


def build_results(outs: Mapping[str, np.ndarray], meta: PipelineMetadata,
                  timings: Mapping[str, float]) -> List[SegmentationResult]:
    """One :class:`SegmentationResult` per batch item of frame-sized outputs, each with ``timings``."""
    labels = outs["labels"]
    confidence = outs.get("confidence")
    logits = outs.get("logits")
    return [
        SegmentationResult(
            labels=labels[i],
            confidence=None if confidence is None else confidence[i],
            logits=None if logits is None else logits[i],
            class_names=meta.class_names,
            palette=meta.palette,
            timings=dict(timings),
        )
        for i in range(len(labels))
    ]


def results_from_outputs(outs: Mapping[str, np.ndarray], meta: PipelineMetadata, h: int, w: int,
                         timings: Mapping[str, float]) -> List[SegmentationResult]:
    """:func:`resize_outputs` then :func:`build_results` (one call for callers that time nothing between)."""
    return build_results(resize_outputs(outs, h, w), meta, timings)
