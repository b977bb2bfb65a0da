"""``python -m build_engine quantize``: the command line writes an INT8 Q/DQ pipeline from a calibration folder."""

from __future__ import annotations

import numpy as np
import onnx

from build_engine.cli import make_parser
from build_engine.precision import pipeline_metadata
from tests.build_engine._precision_helpers import toy_pipeline


def test_quantize_cli(tmp_path, calib_dir, capsys):
    src = toy_pipeline(tmp_path / "toy.onnx", np.eye(3, dtype=np.float32))
    out = tmp_path / "toy.int8.onnx"
    args = make_parser().parse_args(["quantize", str(src), "--calib", str(calib_dir), "--method", "minmax",
                                     "--out", str(out), "--num-frames", "2", "--calib-size", "16x16", "--no-cache",
                                     "--no-progress"])
    assert args.func(args) == 0
    assert pipeline_metadata(onnx.load(str(out))).precision == "int8"
    assert "zero points all 0" in capsys.readouterr().out
