"""The ``python -m`` scripts whose command lines moved to build_engine/cli/ still run at their library paths."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("module, cli", [
    ("build_engine.refresh_models", "build_engine.cli.refresh_models"),
    ("build_engine.training.widen", "build_engine.cli.widen"),
    ("build_engine.training.make_scenes", "build_engine.cli.make_scenes"),
])
def test_python_dash_m_at_the_library_path_runs_its_command_line(module, cli):
    p = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("usage: python -m %s" % module)
    assert p.stdout == subprocess.run([sys.executable, "-m", cli, "--help"], capture_output=True, text=True,
                                      cwd=REPO, timeout=120).stdout


def test_a_user_mistake_is_one_line_and_a_non_zero_exit(tmp_path):
    p = subprocess.run([sys.executable, "-m", "build_engine.training.make_scenes", "--out", str(tmp_path / "s"),
                        "--size", "big"], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert p.returncode != 0 and "Traceback" not in p.stderr
    assert p.stderr.startswith("make_scenes: error: ") and len(p.stderr.strip().splitlines()) == 1
