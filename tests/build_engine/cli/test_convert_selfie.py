"""``python -m build_engine convert-selfie`` (build_engine/cli/convert_selfie.py): the parser wires the command;
a missing .tflite is a typed error."""

from __future__ import annotations

import pytest

from build_engine.cli import convert_selfie as convert_selfie_cli
from fcn_trt.errors import SourceOpenError


def test_cli_parser_and_missing_file(tmp_path):
    from build_engine.cli import make_parser

    argv = ["convert-selfie", "--out", str(tmp_path / "o.onnx"), "--tflite", str(tmp_path / "m.tflite")]
    args = make_parser().parse_args(argv)
    assert args.func is convert_selfie_cli.command and not args.landscape
    with pytest.raises(SourceOpenError):
        args.func(args)
