"""``python -m build_engine check``: the TensorRT ONNX-parser rules on the command line (exit codes, output)."""

from __future__ import annotations

import pytest

from build_engine import cli
from tests.build_engine._helpers import compliant_pipeline, uint8_identity
from tests.build_engine._helpers import save as _save


def test_cli_check_compatible_exits_0(tmp_path, capsys):
    path = _save(compliant_pipeline(), tmp_path / "ok.onnx")
    assert cli.main(["check", str(path)]) == 0
    out = capsys.readouterr()
    assert out.out.strip() == "compatible with the TensorRT 8.6, 10, 11 ONNX parsers" and out.err == ""


def test_cli_check_incompatible_prints_each_violation_and_exits_3(tmp_path, capsys):
    path = _save(uint8_identity(), tmp_path / "bad.onnx")
    assert cli.main(["check", str(path), "--trt", "8.6,10"]) == 3
    out = capsys.readouterr()
    assert "[1] uint8-intermediate  node n (Cast)  TensorRT 8.6\n" in out.out
    assert 'parser: Assertion failed: legalUINT8 && "TensorRT does not support UINT8 types for intermediate' in out.out
    assert "[2] uint8-intermediate  node n (Cast)  TensorRT 10\n" in out.out
    assert "fix:" in out.out and "source:" in out.out
    assert out.out.strip().splitlines()[-1] == "2 violations (TensorRT 8.6: 1, TensorRT 10: 1)"
    err = out.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("build_engine: error: ") and "Traceback" not in out.err


@pytest.mark.parametrize("args,code", [(["--trt", "9"], 2), ([], 3)])
def test_cli_check_user_mistakes_are_one_line(tmp_path, capsys, args, code):
    target = tmp_path / ("missing.onnx" if not args else "ok.onnx")
    if args:
        _save(compliant_pipeline(), target)
    assert cli.main(["check", str(target)] + args) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "error:" in err[0]
