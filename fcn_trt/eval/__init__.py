"""Accuracy: the one IoU/metrics implementation, PASCAL VOC reading, evaluation (layer L4).

Example:
    >>> from fcn_trt.eval import evaluate                                 # doctest: +SKIP
    >>> with fcn_trt.Segmenter("fcn8s.onnx") as seg:                       # doctest: +SKIP
    ...     print(evaluate(seg, "VOCdevkit/VOC2012", split="val").table())
"""

from typing import TYPE_CHECKING

from .._deprecated import moved_names
from .evaluation import EvalReport, evaluate
from .metrics import (
    ConfusionMatrix,
    SegmentationScores,
    confusion_matrix,
    format_iou_table,
    iou_per_class,
    mask_iou,
    scores_from_confusion,
)
from .voc import VocDataset, VocSample, read_label_png, save_label_png, write_split, write_voc_sample

__all__ = [
    "EvalReport", "evaluate",
    "ConfusionMatrix", "SegmentationScores", "confusion_matrix", "scores_from_confusion", "iou_per_class", "mask_iou",
    "format_iou_table",
    "VocDataset", "VocSample", "read_label_png", "save_label_png", "write_split", "write_voc_sample",
]


if not TYPE_CHECKING:  # names that moved to the command line (_deprecated.MOVED_NAMES), one release
    __getattr__ = moved_names(__name__)
