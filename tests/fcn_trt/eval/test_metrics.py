"""Metrics against hand-computed confusion matrices and the pytorch-fcn reference formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fcn_trt.errors import InputError
from fcn_trt.eval.metrics import (
    ConfusionMatrix,
    SegmentationScores,
    confusion_matrix,
    format_iou_table,
    scores_from_confusion,
)


def _reference_scores(hist):
    """pytorch-fcn's label_accuracy_score, written from its published formulas."""
    hist = hist.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        acc = np.diag(hist).sum() / hist.sum()
        acc_cls = np.nanmean(np.diag(hist) / hist.sum(axis=1))
        iu = np.diag(hist) / (hist.sum(axis=1) + hist.sum(axis=0) - np.diag(hist))
        mean_iu = np.nanmean(iu)
        freq = hist.sum(axis=1) / hist.sum()
        fwavacc = (freq[freq > 0] * iu[freq > 0]).sum()
    return acc, acc_cls, mean_iu, fwavacc


def test_confusion_matrix_counts_by_hand():
    gt = np.array([[0, 0, 1, 1], [2, 2, 255, 1]], np.uint8)
    pred = np.array([[0, 1, 1, 1], [2, 0, 2, 1]], np.uint8)
    cm = confusion_matrix(gt, pred, 3)
    assert cm.dtype == np.int64
    # rows = ground truth, columns = prediction; the 255 pixel is skipped
    assert cm.tolist() == [[1, 1, 0], [0, 3, 0], [1, 0, 1]]


def test_confusion_matrix_ignore_none_keeps_every_pixel():
    gt = np.array([0, 1, 1])
    pred = np.array([1, 1, 0])
    assert confusion_matrix(gt, pred, 2, ignore_index=None).tolist() == [[0, 1], [1, 1]]


def test_confusion_matrix_all_ignored_is_zero():
    gt = np.full((3, 3), 255, np.uint8)
    assert confusion_matrix(gt, np.zeros((3, 3), np.uint8), 4).sum() == 0


def test_confusion_matrix_rejects_out_of_range_ids():
    with pytest.raises(InputError, match="ground-truth class id.*found 5"):
        confusion_matrix(np.array([0, 5]), np.array([0, 1]), 3)
    with pytest.raises(InputError, match="predicted class id.*found 3"):
        confusion_matrix(np.array([0, 1]), np.array([0, 3]), 3)
    with pytest.raises(InputError, match="predicted class id.*found -1"):
        confusion_matrix(np.array([0, 1]), np.array([0, -1]), 3)


def test_confusion_matrix_rejects_bad_inputs():
    with pytest.raises(InputError, match="shape"):
        confusion_matrix(np.zeros((2, 2), np.uint8), np.zeros((2, 3), np.uint8), 2)
    with pytest.raises(InputError, match="integer array"):
        confusion_matrix(np.zeros(3, np.uint8), np.zeros(3, np.float32), 2)
    with pytest.raises(InputError, match="numpy array"):
        confusion_matrix([0, 1], np.zeros(2, np.uint8), 2)
    with pytest.raises(InputError, match="num_classes"):
        confusion_matrix(np.zeros(2, np.uint8), np.zeros(2, np.uint8), 0)


def test_scores_hand_computed_example():
    # gt class 0: 4 px (3 right, 1 -> class 1); gt class 1: 6 px (4 right, 2 -> class 0); class 2 absent
    s = scores_from_confusion(np.array([[3, 1, 0], [2, 4, 0], [0, 0, 0]]))
    assert s.pixel_accuracy == pytest.approx(7 / 10)
    assert s.mean_accuracy == pytest.approx((3 / 4 + 4 / 6) / 2)
    iu0, iu1 = 3 / (4 + 5 - 3), 4 / (6 + 5 - 4)
    assert s.per_class_iu[:2] == pytest.approx((iu0, iu1))
    assert math.isnan(s.per_class_iu[2]) and math.isnan(s.per_class_acc[2])
    assert s.mean_iu == pytest.approx((0.5 + 4 / 7) / 2)
    assert s.frequency_weighted_iu == pytest.approx((4 * iu0 + 6 * iu1) / 10)
    assert s.num_pixels == 10 and s.num_classes == 3


def test_class_predicted_but_absent_from_gt_counts_as_zero_iou():
    # class 2 never in gt but predicted once: IU 0 (counted in mean IU), accuracy NaN (not counted)
    cm = np.array([[2, 0, 1], [0, 3, 0], [0, 0, 0]])
    s = scores_from_confusion(cm)
    assert s.per_class_iu == pytest.approx((2 / 3, 1.0, 0.0))
    assert s.mean_iu == pytest.approx((2 / 3 + 1.0 + 0.0) / 3)
    assert math.isnan(s.per_class_acc[2])
    assert s.mean_accuracy == pytest.approx((2 / 3 + 1.0) / 2)
    assert s.frequency_weighted_iu == pytest.approx((3 * 2 / 3 + 3 * 1.0) / 6)


def test_scores_match_reference_formulas_on_random_labels():
    rng = np.random.default_rng(0)
    gt = rng.integers(0, 6, size=(37, 53)).astype(np.uint8)
    gt[rng.random(gt.shape) < 0.1] = 255
    gt[gt == 4] = 0  # class 4 absent from gt
    pred = np.where(rng.random(gt.shape) < 0.7, gt, rng.integers(0, 6, size=gt.shape)).astype(np.uint8)
    pred[pred == 255] = 1
    cm = confusion_matrix(gt, pred, 6)
    s = scores_from_confusion(cm)
    acc, acc_cls, mean_iu, fw = _reference_scores(cm)
    assert (s.pixel_accuracy, s.mean_accuracy, s.mean_iu, s.frequency_weighted_iu) == pytest.approx(
        (acc, acc_cls, mean_iu, fw)
    )


def test_perfect_prediction_scores_one():
    gt = np.array([[0, 1], [2, 255]], np.uint8)
    s = scores_from_confusion(confusion_matrix(gt, np.where(gt == 255, 0, gt).astype(np.uint8), 3))
    assert s.pixel_accuracy == s.mean_accuracy == s.mean_iu == s.frequency_weighted_iu == 1.0


def test_scores_reject_empty_or_malformed_matrix():
    with pytest.raises(InputError, match="at least one labelled pixel"):
        scores_from_confusion(np.zeros((3, 3), np.int64))
    with pytest.raises(InputError, match="square"):
        scores_from_confusion(np.zeros((2, 3)))


def test_accumulator_update_merge_reset():
    a = ConfusionMatrix(3)
    a.update(np.array([0, 1]), np.array([0, 1])).update(np.array([2, 255]), np.array([1, 0]))
    b = ConfusionMatrix(3).update(np.array([2]), np.array([2]))
    a.merge(b)
    assert a.matrix.tolist() == [[1, 0, 0], [0, 1, 0], [0, 1, 1]]
    assert a.num_pixels == 4
    m = a.matrix
    m[0, 0] = 99  # .matrix is a copy
    assert a.matrix[0, 0] == 1
    assert a.scores().pixel_accuracy == pytest.approx(3 / 4)
    with pytest.raises(InputError, match="3 classes"):
        a.merge(ConfusionMatrix(4))
    a.reset()
    assert a.num_pixels == 0


def test_scores_are_frozen_and_json_ready():
    s = scores_from_confusion(np.array([[1, 0], [0, 0]]))
    with pytest.raises(Exception):
        s.mean_iu = 0.0  # type: ignore[misc]
    d = s.to_dict()
    assert d["per_class_iu"] == [1.0, None] and d["per_class_acc"] == [1.0, None]
    assert isinstance(s, SegmentationScores)


def test_format_iou_table_lists_classes_and_four_metrics():
    s = scores_from_confusion(np.array([[3, 1, 0], [2, 4, 0], [0, 0, 0]]))
    text = format_iou_table(s, ["background", "cat", "dog"])
    lines = text.splitlines()
    assert lines[2].split() == ["background", "50.00", "75.00"]
    assert lines[3].split() == ["cat", "57.14", "66.67"]
    assert lines[4].split() == ["dog", "-", "-"]
    assert "mean IU                53.57" in text
    assert "f.w. IU                54.29" in text
    assert "class 1" in format_iou_table(s)
    with pytest.raises(InputError, match="3 names"):
        format_iou_table(s, ["a", "b"])
