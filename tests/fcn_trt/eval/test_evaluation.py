"""evaluate() and `fcn-trt eval` on a VOC folder written in tmp_path, with a fake segmenter of known output."""

from __future__ import annotations

import json
import math
import types

import numpy as np
import pytest

from fcn_trt.cli import make_parser
from fcn_trt.cli.eval import command as run_eval_command
from fcn_trt.errors import InputError
from fcn_trt.eval.evaluation import EvalReport, evaluate
from fcn_trt.eval.voc import write_split, write_voc_sample
from fcn_trt.metadata import PipelineMetadata

CLASSES = ("background", "cat", "dog")
PALETTE = ((0, 0, 0), (128, 0, 0), (0, 128, 0))

GT_A = np.array([[0, 0, 1, 1], [0, 0, 1, 255]], np.uint8)
PRED_A = np.array([[0, 1, 1, 1], [0, 0, 1, 2]], np.uint8)
GT_B = np.array([[2, 2], [2, 0], [255, 255]], np.uint8)
PRED_B = np.array([[2, 0], [2, 0], [1, 1]], np.uint8)
# by hand: rows = gt, cols = pred, void pixels skipped
EXPECTED_CM = [[4, 1, 0], [0, 3, 0], [1, 0, 2]]


class FakeSegmenter:
    """Returns the given label maps in call order; checks it is fed the right-sized images."""

    def __init__(self, preds, class_names=CLASSES):
        self.preds = list(preds)
        self.metadata = PipelineMetadata(class_names=tuple(class_names), palette=PALETTE[: len(class_names)])
        self.backend = types.SimpleNamespace(name="fake")
        self.calls = 0
        self.closed = False

    def run(self, frame):
        assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
        pred = self.preds[self.calls]
        self.calls += 1
        return types.SimpleNamespace(labels=pred)

    def close(self):
        self.closed = True


@pytest.fixture
def voc_root(tmp_path):
    root = tmp_path / "VOC"
    for image_id, gt in (("a", GT_A), ("b", GT_B)):
        image = np.full(gt.shape + (3,), 90, np.uint8)
        write_voc_sample(root, image_id, image, gt, PALETTE)
    write_split(root, "val", ["a", "b"])
    return root


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


def test_cli_prints_table_and_writes_json(voc_root, tmp_path, capsys):
    out = tmp_path / "reports" / "eval.json"
    args = make_parser().parse_args(["eval", "model.onnx", "--data", str(voc_root), "--json", str(out),
                                     "--no-progress"])
    assert args.func is run_eval_command and args.split == "val" and args.limit is None
    seg = FakeSegmenter([PRED_A, PRED_B])
    assert run_eval_command(args, segmenter_factory=lambda a: seg) == 0
    assert seg.closed
    text = capsys.readouterr().out
    assert "split val, 2 images" in text
    assert [line.split() for line in text.splitlines() if line.startswith("cat ")] == [["cat", "75.00", "100.00"]]
    assert "pixel acc. 81.82  mean acc. 82.22  mean IU 69.44  f.w. IU 68.94" in text
    data = json.loads(out.read_text())
    assert data["num_images"] == 2 and data["backend"] == "fake" and data["model"] == "model.onnx"
    assert data["confusion"] == EXPECTED_CM
    assert data["scores"]["mean_iu"] == pytest.approx((4 / 6 + 3 / 4 + 2 / 3) / 3)


def test_cli_limit_and_errors(voc_root, tmp_path, capsys):
    args = make_parser().parse_args(["eval", "m.onnx", "--data", str(voc_root), "--limit", "1", "--no-progress"])
    assert args.limit == 1
    assert run_eval_command(args, segmenter_factory=lambda a: FakeSegmenter([PRED_A])) == 0
    assert "1 images" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        make_parser().parse_args(["eval", "m.onnx", "--data", str(voc_root), "--limit", "0"])
    capsys.readouterr()
    seg = FakeSegmenter([PRED_A])
    args = make_parser().parse_args(["eval", "m.onnx", "--data", str(tmp_path / "missing"), "--no-progress"])
    assert run_eval_command(args, segmenter_factory=lambda a: seg) == 7  # SourceOpenError exit code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("fcn-trt eval: error: VOC dataset root")
    assert seg.closed


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
