"""Segmentation metrics of the FCN paper (numpy only).

With ``n_ij`` the number of pixels of ground-truth class ``i`` predicted as class ``j`` (the
confusion matrix, rows = ground truth, columns = prediction) and ``t_i = sum_j n_ij``:

* pixel accuracy          ``sum_i n_ii / sum_i t_i``
* mean accuracy           ``(1/n_cl) sum_i n_ii / t_i``
* mean IU                 ``(1/n_cl) sum_i n_ii / (t_i + sum_j n_ji - n_ii)``
* frequency-weighted IU   ``(sum_k t_k)^-1 sum_i t_i n_ii / (t_i + sum_j n_ji - n_ii)``

Which classes make ``n_cl``: exactly what the FCN authors' ``score.py`` and pytorch-fcn's
``label_accuracy_score`` compute with ``np.nanmean``, so numbers compare with the published ones:

* a class's accuracy is NaN when it is absent from the ground truth (``t_i = 0``); mean accuracy
  averages the classes present in the ground truth;
* a class's IU is NaN only when it is absent from both ground truth and prediction; mean IU
  averages the other classes. A class predicted but absent from the ground truth has IU 0 and
  *does* count (false positives are penalised);
* frequency-weighted IU sums over classes present in the ground truth (``t_i > 0``).

Over a full VOC val set every class is present, and ``n_cl`` is simply the class count.
Ground-truth pixels equal to the ignore label (255 in PASCAL VOC) are excluded.

Example:
    >>> gt = np.array([[0, 0, 1, 1]], np.uint8)
    >>> pred = np.array([[0, 1, 1, 1]], np.uint8)
    >>> s = scores_from_confusion(confusion_matrix(gt, pred, num_classes=2))
    >>> s.pixel_accuracy, s.mean_accuracy, round(s.mean_iu, 4)
    (0.75, 0.75, 0.5833)
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np

from ..errors import InputError

__all__ = [
    "confusion_matrix",
    "iou_per_class",
    "mask_iou",
    "ConfusionMatrix",
    "SegmentationScores",
    "scores_from_confusion",
    "format_iou_table",
]


def _check_num_classes(num_classes: Any) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise InputError("num_classes", expected="a positive integer", found=repr(num_classes))
    return int(num_classes)


def _as_label_array(a: Any, name: str) -> np.ndarray:
    if not isinstance(a, np.ndarray):
        raise InputError(name, expected="a numpy array of class ids", found=type(a).__name__)
    if not (np.issubdtype(a.dtype, np.integer) or a.dtype == np.bool_):
        raise InputError(
            name, expected="an integer array of class ids (uint8 labels)", found="dtype %s" % a.dtype,
            hint="pass the argmax labels, not scores or probabilities",
        )
    return a


def confusion_matrix(
    gt: np.ndarray,
    pred: np.ndarray,
    num_classes: int,
    ignore_index: Optional[int] = 255,
) -> np.ndarray:
    """The ``[num_classes, num_classes]`` int64 confusion matrix (rows: ground truth, cols: prediction).

    Pixels whose ground truth equals ``ignore_index`` are skipped (``None`` keeps all). Any other
    ground-truth or predicted id outside ``0..num_classes-1`` raises :class:`InputError`: it means
    the model and the dataset disagree on the class list, which no metric should hide.

    Example:
        >>> confusion_matrix(np.array([0, 1, 255]), np.array([1, 1, 0]), 2).tolist()
        [[0, 1], [0, 1]]
    """
    n = _check_num_classes(num_classes)
    gt = _as_label_array(gt, "ground truth")
    pred = _as_label_array(pred, "prediction")
    if gt.shape != pred.shape:
        raise InputError(
            "prediction shape", expected="the ground truth's shape %s" % (gt.shape,),
            found="%s" % (pred.shape,),
            hint="resize labels with nearest-neighbour interpolation, or predict at the image's resolution",
        )
    g = gt.ravel()
    p = pred.ravel()
    if ignore_index is not None:
        keep = g != ignore_index
        if not keep.all():
            g = g[keep]
            p = p[keep]
    if g.size == 0:
        return np.zeros((n, n), dtype=np.int64)
    g = g.astype(np.int64, copy=False)
    p = p.astype(np.int64, copy=False)
    _check_ids(g, n, "ground-truth class id", "0..%d or the ignore label %r" % (n - 1, ignore_index),
               "the dataset has more classes than the model (%d): evaluate with a model trained on this label set" % n)
    _check_ids(p, n, "predicted class id", "0..%d" % (n - 1), "num_classes must be the model's class count")
    return np.bincount(n * g + p, minlength=n * n).reshape(n, n)


def _check_ids(ids: np.ndarray, n: int, what: str, expected: str, hint: str) -> None:
    """:class:`InputError` naming the id past the end (else the negative one) when ``ids`` leave ``0..n-1``."""
    lo, hi = int(ids.min()), int(ids.max())
    if lo < 0 or hi >= n:
        raise InputError(what, expected=expected, found=str(hi if hi >= n else lo), hint=hint)


def iou_per_class(cm: np.ndarray) -> np.ndarray:
    """Intersection over union per class of a confusion matrix (NaN where a class has no union).

    The one IoU in fcn_trt and build_engine: rows or columns may be either ground truth or the
    other model, the formula is symmetric.

    Example:
        >>> iou_per_class(np.array([[3, 1], [0, 4]])).tolist()
        [0.75, 0.8]
    """
    hist = np.asarray(cm, dtype=np.float64)
    diag = np.diag(hist)
    union = hist.sum(axis=0) + hist.sum(axis=1) - diag
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, diag / union, np.nan)


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two boolean masks of the same shape (1.0 when both are empty).

    Example:
        >>> mask_iou(np.array([1, 1, 0], bool), np.array([1, 0, 0], bool))
        0.5
    """
    a, b = np.asarray(a, bool).ravel(), np.asarray(b, bool).ravel()
    iou = iou_per_class(np.bincount(2 * a.astype(np.int64) + b, minlength=4).reshape(2, 2))[1]
    return 1.0 if np.isnan(iou) else float(iou)


@dataclasses.dataclass(frozen=True)
class SegmentationScores:
    """The four FCN-paper metrics (fractions in 0..1) plus per-class IU and accuracy.

    ``per_class_iu[i]`` is NaN when class ``i`` is absent from both ground truth and prediction;
    ``per_class_acc[i]`` is NaN when class ``i`` is absent from the ground truth.
    """

    pixel_accuracy: float
    mean_accuracy: float
    mean_iu: float
    frequency_weighted_iu: float
    per_class_iu: Tuple[float, ...]
    per_class_acc: Tuple[float, ...]
    num_pixels: int = 0

    @property
    def num_classes(self) -> int:
        return len(self.per_class_iu)

    def to_dict(self) -> Dict[str, Any]:
        """JSON-ready dict; NaN becomes ``None``."""

        def clean(v: float) -> Optional[float]:
            return None if math.isnan(v) else float(v)

        return {
            "pixel_accuracy": clean(self.pixel_accuracy),
            "mean_accuracy": clean(self.mean_accuracy),
            "mean_iu": clean(self.mean_iu),
            "frequency_weighted_iu": clean(self.frequency_weighted_iu),
            "per_class_iu": [clean(v) for v in self.per_class_iu],
            "per_class_acc": [clean(v) for v in self.per_class_acc],
            "num_pixels": int(self.num_pixels),
        }


def scores_from_confusion(cm: np.ndarray) -> SegmentationScores:
    """The FCN-paper metrics of a confusion matrix (see the module docstring for ``n_cl``).

    Raises :class:`InputError` if the matrix is not square or counts no pixel.

    Example:
        >>> s = scores_from_confusion(np.array([[3, 1], [0, 4]]))
        >>> s.pixel_accuracy, s.per_class_iu
        (0.875, (0.75, 0.8))
    """
    hist = np.asarray(cm)
    if hist.ndim != 2 or hist.shape[0] != hist.shape[1] or hist.shape[0] == 0:
        raise InputError("confusion matrix", expected="a square [C, C] array", found="shape %s" % (hist.shape,))
    if hist.size and hist.min() < 0:
        raise InputError("confusion matrix", expected="non-negative counts", found="min %r" % hist.min())
    hist = hist.astype(np.float64)
    total = hist.sum()
    if total == 0:
        raise InputError(
            "confusion matrix", expected="at least one labelled pixel", found="0 pixels",
            hint="every ground-truth pixel was the ignore label, or no image was evaluated",
        )
    diag = np.diag(hist)
    t = hist.sum(axis=1)  # ground-truth pixels per class
    iu = iou_per_class(hist)
    with np.errstate(divide="ignore", invalid="ignore"):
        acc_cls = np.where(t > 0, diag / t, np.nan)
    present = t > 0
    pixel_accuracy = float(diag.sum() / total)
    mean_accuracy = float(acc_cls[present].mean())  # total > 0 so at least one class present
    counted = ~np.isnan(iu)
    mean_iu = float(iu[counted].mean())
    fw_iu = float((t[present] * iu[present]).sum() / total)
    return SegmentationScores(
        pixel_accuracy=pixel_accuracy,
        mean_accuracy=mean_accuracy,
        mean_iu=mean_iu,
        frequency_weighted_iu=fw_iu,
        per_class_iu=tuple(float(v) for v in iu),
        per_class_acc=tuple(float(v) for v in acc_cls),
        num_pixels=int(total),
    )


class ConfusionMatrix:
    """Accumulates a confusion matrix over many images.

    Example:
        >>> cm = ConfusionMatrix(2)
        >>> _ = cm.update(np.array([0, 1]), np.array([0, 0])).update(np.array([1]), np.array([1]))
        >>> cm.matrix.tolist(), cm.num_pixels
        ([[1, 0], [1, 1]], 3)
        >>> cm.scores().mean_iu
        0.5
    """

    def __init__(self, num_classes: int, ignore_index: Optional[int] = 255) -> None:
        self.num_classes = _check_num_classes(num_classes)
        self.ignore_index = ignore_index
        self._matrix = np.zeros((self.num_classes, self.num_classes), dtype=np.int64)

    @property
    def matrix(self) -> np.ndarray:
        """A copy of the accumulated ``[C, C]`` int64 matrix."""
        return self._matrix.copy()

    @property
    def num_pixels(self) -> int:
        """Labelled (non-ignored) pixels accumulated so far."""
        return int(self._matrix.sum())

    def update(self, gt: np.ndarray, pred: np.ndarray) -> "ConfusionMatrix":
        """Add one image (or batch) of ground truth and prediction; returns ``self``."""
        self._matrix += confusion_matrix(gt, pred, self.num_classes, self.ignore_index)
        return self

    def merge(self, other: "ConfusionMatrix") -> "ConfusionMatrix":
        """Add another accumulator's counts (e.g. from a worker); returns ``self``."""
        if not isinstance(other, ConfusionMatrix):
            raise InputError("merge()", expected="a ConfusionMatrix", found=type(other).__name__)
        if other.num_classes != self.num_classes:
            raise InputError(
                "merge()", expected="a ConfusionMatrix with %d classes" % self.num_classes,
                found="%d classes" % other.num_classes,
            )
        self._matrix += other._matrix
        return self

    def reset(self) -> None:
        """Zero the counts."""
        self._matrix[...] = 0

    def scores(self) -> SegmentationScores:
        """:func:`scores_from_confusion` of the accumulated matrix."""
        return scores_from_confusion(self._matrix)

    def __repr__(self) -> str:
        return "ConfusionMatrix(num_classes=%d, num_pixels=%d)" % (self.num_classes, self.num_pixels)


def _pct(v: float) -> str:
    return "-" if math.isnan(v) else "%.2f" % (100.0 * v)


def format_iou_table(scores: SegmentationScores, class_names: Optional[Sequence[str]] = None) -> str:
    """A plain-text table: one row per class (IoU %, accuracy %), then the four metrics.

    Absent classes show ``-``.

    Example:
        >>> s = scores_from_confusion(np.array([[3, 1, 0], [2, 4, 0], [0, 0, 0]]))
        >>> print(format_iou_table(s, ["background", "cat", "dog"]))
        class         IoU %    acc %
        ----------  -------  -------
        background    50.00    75.00
        cat           57.14    66.67
        dog               -        -
        ----------  -------  -------
        pixel accuracy         70.00
        mean accuracy          70.83
        mean IU                53.57
        f.w. IU                54.29
    """
    n = scores.num_classes
    if class_names is None:
        names = ["class %d" % i for i in range(n)]
    else:
        names = [str(c) for c in class_names]
        if len(names) != n:
            raise InputError(
                "class_names", expected="%d names (one per class)" % n, found="%d" % len(names),
            )
    w = max([len("class")] + [len(s) for s in names])
    rule = "%s  %s  %s" % ("-" * w, "-" * 7, "-" * 7)
    lines = ["%-*s  %7s  %7s" % (w, "class", "IoU %", "acc %"), rule]
    for name, iu, acc in zip(names, scores.per_class_iu, scores.per_class_acc):
        lines.append("%-*s  %7s  %7s" % (w, name, _pct(iu), _pct(acc)))
    lines.append(rule)
    summary = (
        ("pixel accuracy", scores.pixel_accuracy),
        ("mean accuracy", scores.mean_accuracy),
        ("mean IU", scores.mean_iu),
        ("f.w. IU", scores.frequency_weighted_iu),
    )
    lw = max(w + 9, len("pixel accuracy"))
    for label, v in summary:
        lines.append("%-*s  %7s" % (lw, label, _pct(v)))
    return "\n".join(lines)
