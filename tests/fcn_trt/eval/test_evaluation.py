"""evaluate() on a VOC folder written in tmp_path, with a fake segmenter of known output."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from fcn_trt.cli import make_parser
from fcn_trt.cli.eval import command as run_eval_command
from fcn_trt.errors import InputError
from fcn_trt.eval.evaluation import EvalReport, evaluate
from fcn_trt.eval.voc import write_split, write_voc_sample
from tests.fcn_trt._shared import CLASSES, EXPECTED_CM, PALETTE, PRED_A, PRED_B, FakeSegmenter


def test_evaluate_known_metrics(voc_root):
    seg = FakeSegmenter([PRED_A, PRED_B])
    report = evaluate(seg, voc_root, split="val", progress=False)
    assert isinstance(report, EvalReport)
    assert seg.calls == 2 and report.num_images == 2
    assert report.class_names == CLASSES and report.split == "val"
    assert [list(r) for r in report.confusion] == EXPECTED_CM
    s = report.scores
    assert s.num_pixels == 11
    assert s.pixel_accuracy == pytest.approx(9 / 11)
    assert s.mean_accuracy == pytest.approx((4 / 5 + 3 / 3 + 2 / 3) / 3)
    assert s.per_class_iu == pytest.approx((4 / 6, 3 / 4, 2 / 3))
    assert s.mean_iu == pytest.approx((4 / 6 + 3 / 4 + 2 / 3) / 3)
    assert s.frequency_weighted_iu == pytest.approx((5 * 4 / 6 + 3 * 3 / 4 + 3 * 2 / 3) / 11)
    assert math.isfinite(report.mean_latency_ms) and report.mean_latency_ms >= 0
    assert "mean IU                69.44" in report.table()


def test_evaluate_limit_uses_first_images(voc_root):
    report = evaluate(FakeSegmenter([PRED_A]), voc_root, limit=1, progress=False)
    assert report.num_images == 1
    assert [list(r) for r in report.confusion] == [[3, 1, 0], [0, 3, 0], [0, 0, 0]]
    assert report.scores.pixel_accuracy == pytest.approx(6 / 7)
    # dog is predicted in image a only on a void pixel, which is ignored: absent from gt and pred
    assert math.isnan(report.scores.per_class_acc[2]) and math.isnan(report.scores.per_class_iu[2])
    assert report.scores.mean_iu == pytest.approx((3 / (4 + 3 - 3) + 3 / (3 + 4 - 3)) / 2)
    with pytest.raises(InputError, match="limit"):
        evaluate(FakeSegmenter([PRED_A]), voc_root, limit=0)


def test_labels_of_wrong_size_raise_with_hint(voc_root):
    with pytest.raises(InputError, match=r"labels of image a.*\(2, 4\).*found \(4, 8\).*Hint: .*resize_back"):
        evaluate(FakeSegmenter([np.zeros((4, 8), np.uint8)]), voc_root, progress=False)


def test_dataset_with_more_classes_than_model(voc_root):
    two = FakeSegmenter([PRED_A * 0, PRED_B * 0], class_names=CLASSES[:2])
    with pytest.raises(InputError, match=r"ground-truth class id \(image b\).*found 2"):
        evaluate(two, voc_root, progress=False)


def test_not_a_segmenter():
    with pytest.raises(InputError, match="segmenter"):
        evaluate(object(), "unused")


def test_real_segmenter_on_tiny_exported_pipeline(tmp_path, capsys):
    """End to end: a width/16 FCN-8s pipeline on ONNX Runtime, scored against labels counted here."""
    pytest.importorskip("onnxruntime")
    pipeline = pytest.importorskip("build_engine.pipeline")
    import fcn_trt
    from fcn_trt.eval.voc import VocDataset

    model = pipeline.export_fcn_pipeline(
        tmp_path / "tiny.onnx", variant="fcn8s", num_classes=3, width_divisor=16,
        class_names=CLASSES, palette=PALETTE, seed=3,
    )
    root = tmp_path / "VOC"
    rng = np.random.default_rng(7)
    for i, (h, w) in enumerate(((24, 32), (20, 28))):
        y, x = np.mgrid[0:h, 0:w]
        image = np.stack([x * 7, y * 9, (x + y) * 4], -1).astype(np.uint8)
        gt = rng.integers(0, 3, size=(h, w)).astype(np.uint8)
        gt[:, 0] = 255
        write_voc_sample(root, "img%d" % i, image, gt, PALETTE)
    write_split(root, "val", ["img0", "img1"])

    expected = np.zeros((3, 3), np.int64)
    with fcn_trt.Segmenter(model) as seg:
        for _, image, gt in VocDataset(root, "val"):
            pred = seg.run(image).labels
            keep = gt != 255
            np.add.at(expected, (gt[keep].astype(int), pred[keep].astype(int)), 1)
        report = evaluate(seg, root, progress=False)
    assert np.array_equal(np.array(report.confusion), expected)
    assert report.scores.num_pixels == int(expected.sum()) == 24 * 31 + 20 * 27
    assert report.scores.pixel_accuracy == pytest.approx(np.trace(expected) / expected.sum())

    args = make_parser().parse_args(["eval", str(model), "--data", str(root), "--no-progress",
                                     "--json", str(tmp_path / "r.json")])
    assert run_eval_command(args) == 0  # default factory: fcn_trt.Segmenter
    assert "onnxruntime" in capsys.readouterr().out
    assert json.loads((tmp_path / "r.json").read_text())["confusion"] == expected.tolist()
