"""``python -m build_engine compare``: the accuracy gate's exit codes, run as a user would, in a subprocess."""

from __future__ import annotations

import json

from tests._helpers import run_module
from tests.build_engine._precision_helpers import dominant_channel_frames as _frames
from tests.build_engine._precision_helpers import write_image_folder


def _cli(*args):
    return run_module("build_engine", *args)


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
