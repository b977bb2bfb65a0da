"""`fcn-trt export-triton` (fcn_trt/cli/export_triton.py) run as a user would, in a subprocess."""

from __future__ import annotations

import subprocess
import sys

from tests._triton import ROOT


def test_export_triton_cli_writes_the_repository_and_prints_the_container_command(tmp_path):
    p = subprocess.run([sys.executable, "-m", "fcn_trt.cli", "export-triton", "demo", "--out", str(tmp_path / "repo"),
                        "--name", "demo", "--max-batch", "4", "--instances", "2"],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "repo" / "demo" / "config.pbtxt").is_file()
    assert "nvcr.io/nvidia/tritonserver" in p.stdout and "--model-repository=/models" in p.stdout


def test_export_triton_cli_bad_suffix_is_one_line(tmp_path):
    bad = tmp_path / "model.pt"
    bad.write_bytes(b"x")
    p = subprocess.run([sys.executable, "-m", "fcn_trt.cli", "export-triton", str(bad), "--out", str(tmp_path / "r")],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode != 0 and "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1
