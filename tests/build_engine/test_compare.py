"""The accuracy gate: agreement, mean IU against ground truth, boundary band, budgets, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
from tests.build_engine._precision_helpers import toy_pipeline, write_image_folder

REPO = Path(__file__).resolve().parents[2]
EYE = np.eye(3, dtype=np.float32)  # label = argmax of (B, G, R)
SWAPPED = EYE[[2, 1, 0]]  # label = argmax of (R, G, B): blue and red classes swapped


def _frames(n=4, size=(32, 40), seed=0):
    """Random frames with one clearly dominant channel per pixel (no argmax ties)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        f = rng.integers(0, 100, size + (3,), dtype=np.uint8)
        winner = rng.integers(0, 3, size)
        np.put_along_axis(f, winner[..., None], 200, axis=2)
        out.append(f)
    return out


def _truth(frame):
    return frame.argmax(axis=2).astype(np.uint8)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("cmp")
    return toy_pipeline(d / "a.onnx", EYE), toy_pipeline(d / "b.onnx", SWAPPED)


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


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "build_engine", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=300)


def test_cli_exit_codes(models, tmp_path):
    a, b = models
    data = write_image_folder(tmp_path / "frames", _frames(2, (16, 16)))
    ok = _cli("compare", a, a, "--data", data, "--no-progress", "--json", tmp_path / "r.json")
    assert ok.returncode == 0, ok.stderr
    assert "PASS" in ok.stdout and json.loads((tmp_path / "r.json").read_text())["agreement"] == 1.0
    bad = _cli("compare", a, b, "--data", data, "--no-progress")
    assert bad.returncode == 6, bad.stderr
    assert "FAIL" in bad.stdout and "accuracy gate" in bad.stderr and "Traceback" not in bad.stderr
    # a looser budget on the command line lets it pass
    loose = _cli("compare", a, b, "--data", data, "--no-progress", "--min-agreement", "0")
    assert loose.returncode == 0, loose.stderr
