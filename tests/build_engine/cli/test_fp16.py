"""``python -m build_engine fp16``: the command line writes the fp16 pipeline graph."""

from __future__ import annotations

import numpy as np
import onnx

from build_engine.cli import make_parser
from build_engine.precision import pipeline_metadata
from tests.build_engine._precision_helpers import toy_pipeline


def test_fp16_cli(tmp_path, capsys):
    src = toy_pipeline(tmp_path / "m.onnx", np.eye(3, dtype=np.float32))
    args = make_parser().parse_args(["fp16", str(src), "--out", str(tmp_path / "m16.onnx")])
    assert args.func(args) == 0
    assert pipeline_metadata(onnx.load(str(tmp_path / "m16.onnx"))).precision == "fp16"
    assert "m16.onnx" in capsys.readouterr().out
