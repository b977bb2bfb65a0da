"""``python -m build_engine.refresh_models`` (build_engine/cli/refresh_models.py): ``--check`` exit codes."""

from __future__ import annotations

from build_engine.cli.refresh_models import main as refresh_main


def test_cli_check_exit_codes(capsys):
    assert refresh_main(["demo", "--check"]) == 0
    assert "demo: up to date" in capsys.readouterr().out
    assert refresh_main(["nope", "--check"]) != 0
    assert "error:" in capsys.readouterr().err
