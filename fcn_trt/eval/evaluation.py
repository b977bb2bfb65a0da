"""Accuracy of a segmenter on a PASCAL VOC split: the FCN paper's four metrics + per-class IU.

Library use::

    >>> import fcn_trt
    >>> from fcn_trt.eval import evaluate
    >>> with fcn_trt.Segmenter("fcn8s.engine") as seg:                  # doctest: +SKIP
    ...     report = evaluate(seg, "VOCdevkit/VOC2012", split="val")
    ...     print(report.table())

Command line::

    fcn-trt eval fcn8s.engine --data VOCdevkit/VOC2012 [--split val] [--limit N] [--json out.json]

Anything with ``.run(frame).labels`` (uint8 HxW) and ``.metadata.class_names`` can be evaluated,
so TensorRT engines, ONNX pipelines and test doubles go through the same code.
"""

from __future__ import annotations

import dataclasses
import logging
import statistics
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np

from .._progress import progress as _progress
from ..errors import InputError
from .metrics import ConfusionMatrix, SegmentationScores, format_iou_table
from .voc import VocDataset

__all__ = ["EvalReport", "evaluate"]

log = logging.getLogger(__name__)

_SEGMENTER_EXPECTED = "an object with .run(frame) -> result with .labels, and .metadata.class_names (e.g. fcn_trt.Segmenter)"


@dataclasses.dataclass(frozen=True)
class EvalReport:
    """Result of :func:`evaluate`.

    Attributes:
        scores: pixel accuracy, mean accuracy, mean IU, f.w. IU and per-class IU/accuracy.
        num_images: images evaluated.
        class_names: the model's class names (one per row of the IU table).
        mean_latency_ms: mean wall-clock time of one ``segmenter.run(frame)`` call (validation,
            inference and post-processing; image decoding excluded), measured by :func:`evaluate`
            with ``time.perf_counter``. The first call is a warm-up and is excluded when more than
            one image was evaluated.
        split: the dataset split name.
        root: the dataset root.
        confusion: the confusion matrix (rows: ground truth, columns: prediction).
    """

    scores: SegmentationScores
    num_images: int
    class_names: Tuple[str, ...]
    mean_latency_ms: float
    split: str = ""
    root: str = ""
    confusion: Tuple[Tuple[int, ...], ...] = ()

    def table(self) -> str:
        """The per-class IU table followed by the four metrics (see :func:`format_iou_table`)."""
        return format_iou_table(self.scores, self.class_names)

    def to_dict(self) -> Dict[str, Any]:
        """JSON-ready dict (NaN -> null)."""
        return {
            "scores": self.scores.to_dict(),
            "num_images": self.num_images,
            "class_names": list(self.class_names),
            "mean_latency_ms": self.mean_latency_ms,
            "split": self.split,
            "root": self.root,
            "confusion": [list(r) for r in self.confusion],
        }


def _check_segmenter(segmenter: Any) -> Tuple[str, ...]:
    run = getattr(segmenter, "run", None)
    meta = getattr(segmenter, "metadata", None)
    names = getattr(meta, "class_names", None)
    if not callable(run) or names is None:
        raise InputError("segmenter", expected=_SEGMENTER_EXPECTED, found=type(segmenter).__name__)
    names = tuple(str(n) for n in names)
    if not names:
        raise InputError("segmenter.metadata.class_names", expected="at least one class", found="none")
    return names


def _labels_of(result: Any, image_id: str) -> np.ndarray:
    labels = getattr(result, "labels", None)
    if not isinstance(labels, np.ndarray):
        raise InputError(
            "segmenter.run() result for %s" % image_id,
            expected="an object with a numpy .labels array", found=type(result).__name__,
        )
    return labels


def evaluate(
    segmenter: Any,
    root: Union[str, Path, VocDataset],
    split: str = "val",
    limit: Optional[int] = None,
    progress: bool = True,
    ignore_index: int = 255,
) -> EvalReport:
    """Run ``segmenter`` on every image of a VOC split and score its labels against the ground truth.

    Args:
        segmenter: e.g. a :class:`fcn_trt.Segmenter`; see :data:`EvalReport` for what is timed.
        root: the VOC root folder (or an already opened :class:`~fcn_trt.datasets.VocDataset`).
        split: split name (``ImageSets/Segmentation/<split>.txt``); ignored when ``root`` is a dataset.
        limit: evaluate only the first ``limit`` images of the split.
        progress: show a progress bar (tqdm, when installed and stderr is a terminal).
        ignore_index: ground-truth label excluded from the metrics (VOC: 255).

    Raises:
        InputError: labels of another size than the ground truth, class ids outside the model's
            classes, or a bad ``limit``.
        SourceOpenError: a missing or incomplete dataset.
    """
    class_names = _check_segmenter(segmenter)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InputError("limit", expected="a positive number of images or None", found=repr(limit))
    dataset = root if isinstance(root, VocDataset) else VocDataset(root, split)
    count = len(dataset) if limit is None else min(limit, len(dataset))
    cm = ConfusionMatrix(len(class_names), ignore_index=ignore_index)
    latencies: List[float] = []
    for index in _progress(range(count), total=count, desc="eval %s" % dataset.split, enabled=progress):
        image_id, image, gt = dataset[index]
        t0 = time.perf_counter()
        result = segmenter.run(image)
        latencies.append((time.perf_counter() - t0) * 1e3)
        labels = _labels_of(result, image_id)
        if labels.shape != gt.shape:
            raise InputError(
                "labels of image %s" % image_id,
                expected="the ground truth's size %s (HxW)" % (gt.shape,),
                found="%s" % (labels.shape,),
                hint="evaluate a model whose labels come at frame resolution (export with resize_back=True, "
                "or resize labels back with nearest-neighbour interpolation before scoring)",
            )
        try:
            cm.update(gt, labels)
        except InputError as e:
            raise InputError("%s (image %s)" % (e.what, image_id), e.expected, e.found, e.hint) from None
    timed = latencies[1:] if len(latencies) > 1 else latencies
    report = EvalReport(
        scores=cm.scores(),
        num_images=count,
        class_names=class_names,
        mean_latency_ms=float(statistics.fmean(timed)),
        split=dataset.split,
        root=str(dataset.root),
        confusion=tuple(tuple(int(v) for v in row) for row in cm.matrix),
    )
    log.info(
        "eval %s/%s: %d images, mean IU %.4f, %.2f ms/image",
        report.root, report.split, count, report.scores.mean_iu, report.mean_latency_ms,
    )
    return report
