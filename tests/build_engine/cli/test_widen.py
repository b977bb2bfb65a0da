"""``python -m build_engine.training.widen`` (build_engine/cli/widen.py): writes the widened weights; a user
mistake exits non-zero."""

from __future__ import annotations

from pathlib import Path

from build_engine.cli.widen import main
from build_engine.fcn import fcn_parameter_shapes, random_fcn_weights
from build_engine.weights import load_weights, save_npz


def test_cli_writes_the_widened_npz(tmp_path: Path, capsys):
    src = save_npz(random_fcn_weights("fcn8s", 4, 32), tmp_path / "small.npz")
    assert main([str(src), "--factor", "2", "--out", str(tmp_path / "wide.npz")]) == 0
    assert load_weights(tmp_path / "wide.npz")["fc6.weight"].shape == fcn_parameter_shapes("fcn8s", 4, 16)["fc6.weight"]
    assert "wrote" in capsys.readouterr().out
    assert main([str(tmp_path / "missing.npz"), "--out", str(tmp_path / "x.npz")]) != 0
    assert "error:" in capsys.readouterr().err
