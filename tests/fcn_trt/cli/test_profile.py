"""`fcn-trt profile` (fcn_trt/cli/profile.py) on a tiny real model: the JSON report on stdout."""

from __future__ import annotations

import json

from fcn_trt.cli import make_parser
from tests.fcn_trt._shared import REPORT_KEYS


def test_cli_json(model_path, capsys):
    args = make_parser().parse_args(["profile", str(model_path), "--size", "24x32", "--frames", "3", "--warmup", "1",
                                     "--json"])
    assert args.func(args) == 0
    d = json.loads(capsys.readouterr().out)
    assert set(d) == REPORT_KEYS and d["frames"] == 3 and d["frame_hw"] == [24, 32]
