"""`fcn-trt eval` (fcn_trt/cli/eval.py) on a VOC folder written in tmp_path, with a fake segmenter of known output."""

from __future__ import annotations

import json

import pytest

from fcn_trt.cli import make_parser
from fcn_trt.cli.eval import command as run_eval_command
from tests.fcn_trt._shared import EXPECTED_CM, PRED_A, PRED_B, FakeSegmenter


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
