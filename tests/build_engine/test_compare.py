"""The accuracy gate: agreement, mean IU against ground truth, boundary band, budgets.

Its exit codes on the command line are tested in cli/test_compare.py.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from build_engine.compare import (
    AccuracyBudget,
    ComparisonReport,
    boundary_mask,
    compare_labels,
    compare_models,
    default_budget,
)
from build_engine.precision import to_fp16_pipeline
from fcn_trt import Segmenter
from fcn_trt.errors import AccuracyGateError, ConfigError
from tests.build_engine._precision_helpers import EYE, toy_pipeline
from tests.build_engine._precision_helpers import dominant_channel_frames as _frames


def _truth(frame):
    return frame.argmax(axis=2).astype(np.uint8)


def test_identical_models_agree_fully(models):
    a, _ = models
    frames = _frames()
    report = compare_models(a, a, frames, [_truth(f) for f in frames])
    assert isinstance(report, ComparisonReport)
    assert report.agreement == 1.0 and report.boundary_error == 0.0 and report.passed
    assert report.mean_iu_a == report.mean_iu_b == pytest.approx(1.0)
    assert report.miou_drop == pytest.approx(0.0)
    assert report.pixels == 4 * 32 * 40 and report.frames == 4
    assert report.check() is report
    with pytest.raises(Exception):
        report.agreement = 0.5  # frozen


def test_different_model_is_detected_and_fails_the_gate(models):
    a, b = models
    frames = _frames()
    truth = [_truth(f) for f in frames]
    report = compare_models(a, b, frames, truth)
    labels_b = [np.where(t == 0, 2, np.where(t == 2, 0, t)) for t in truth]
    expected = np.mean([(t == lb).mean() for t, lb in zip(truth, labels_b)])
    assert report.agreement == pytest.approx(expected) and report.agreement < 0.5
    assert not report.passed and report.failures
    assert report.mean_iu_a == pytest.approx(1.0) and report.mean_iu_b < 0.5
    assert report.per_class_iou_delta[1] == pytest.approx(0.0)  # green is unchanged
    assert report.per_class_iou_delta[0] < -50 and report.per_class_iou_delta[2] < -50
    with pytest.raises(AccuracyGateError) as e:
        report.check()
    assert e.value.exit_code == 6 and "agreement" in str(e.value)
    text = report.format()
    assert "FAIL" in text and "mean IU" in text and "c0" in text
    d = report.to_dict()
    json.dumps(d)
    assert d["passed"] is False and d["budget"]["min_agreement"] == 0.995


def test_int8_budget_checks_miou_drop():
    truth = [np.zeros((10, 10), np.uint8)]
    truth[0][:, 5:] = 1
    b = truth[0].copy()
    b[0, 0] = 1  # 1 % disagreement: agreement 99 % passes 97 %, but the mean-IU drop is large
    r = compare_labels([truth[0]], [b], 2, truth, budget=default_budget("int8"))
    assert r.agreement == pytest.approx(0.99)
    assert r.miou_drop == pytest.approx(100 * (1 - np.mean([49 / 50, 50 / 51])))
    assert r.miou_drop > 1.0 and not r.passed and "mean-IU drop" in r.failures[0]
    # without ground truth only the agreement is checked, and the report says so
    r2 = compare_labels([truth[0]], [b], 2, None, budget=default_budget("int8"))
    assert r2.passed and r2.mean_iu_a is None and any("not checked" in n for n in r2.notes)


def test_boundary_band():
    lab = np.zeros((9, 9), np.uint8)
    lab[:, 5:] = 1
    band = boundary_mask(lab, k=1)
    assert band[:, 3:7].all() and not band[:, :3].any() and not band[:, 7:].any()
    assert boundary_mask(lab, k=0)[:, 4:6].all() and boundary_mask(lab, k=0).sum() == 18
    # disagreement on the boundary only: all of it lies in the band, interior agreement stays 100 %
    b = lab.copy()
    b[:, 4] = 1
    r = compare_labels([lab], [b], 2, boundary_px=1)
    assert r.disagreement_in_band == 1.0 and r.interior_agreement == 1.0
    assert r.boundary_error == pytest.approx(9 / 36)


def test_fp16_toy_passes_and_notes_cpu(models, tmp_path):
    a, _ = models
    a16 = tmp_path / "a16.onnx"
    to_fp16_pipeline(a, a16)
    with Segmenter(a) as sa, Segmenter(a16) as sb:
        report = compare_models(sa, sb, _frames())
        assert not sa.closed  # caller-owned segmenters stay open
    assert report.precision_b == "fp16" and report.budget == default_budget("fp16")
    assert report.agreement >= 0.995 and report.passed
    assert any("fp16 storage" in n for n in report.notes)


def test_compare_errors(models, tmp_path):
    a, _ = models
    four = toy_pipeline(tmp_path / "four.onnx", np.vstack([EYE, EYE[:1]]))
    with pytest.raises(ConfigError):
        compare_models(a, four, _frames(1))
    with pytest.raises(ConfigError):
        compare_models(a, a, _frames(1), boundary_px=-1)
    with pytest.raises(ConfigError):
        AccuracyBudget(1.5)
