"""The runtime package imports without its optional dependencies and stays Python 3.8 compatible."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

BLOCKER = """
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {'tensorrt', 'cuda', 'onnx', 'onnxruntime', 'cv2', 'torch', 'build_engine', 'tqdm', 'PIL', 'matplotlib'}:
            raise ImportError('blocked ' + name)
sys.meta_path.insert(0, Block())
"""


def test_runtime_imports_without_optional_dependencies():
    code = BLOCKER + "import fcn_trt, fcn_trt.cli, fcn_trt.segmenter; print(sorted(fcn_trt.__all__))"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "Segmenter" in p.stdout


def test_missing_onnxruntime_is_a_clear_error():
    code = BLOCKER + (
        "import fcn_trt\n"
        "from fcn_trt.errors import BackendUnavailableError\n"
        "try:\n"
        "    fcn_trt.Segmenter(sys.argv[1])\n"
        "except BackendUnavailableError as e:\n"
        "    print('OK', e)\n"
    )
    onnx_file = ROOT / "tests" / "_tmp_missing_ort.onnx"
    onnx_file.write_bytes(b"x")
    try:
        p = subprocess.run([sys.executable, "-c", code, str(onnx_file)], capture_output=True, text=True, cwd=ROOT, timeout=60)
    finally:
        onnx_file.unlink()
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("OK") and "pip install" in p.stdout


def test_runtime_package_is_python38_compatible():
    exe = Path(sys.executable).parent / "vermin"
    if not exe.exists():
        pytest.fail("vermin is not installed: pip install -e '.[test]'")
    p = subprocess.run(
        [str(exe), "--no-tips", "--violations", "-t=3.8-", "--eval-annotations", "--no-parse-comments", str(ROOT / "fcn_trt")],
        capture_output=True, text=True, timeout=300,
    )
    assert p.returncode == 0, p.stdout + p.stderr
