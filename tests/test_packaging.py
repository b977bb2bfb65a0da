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


def test_cuda_extras_pin_cuda_python_to_one_cuda_major():
    """cuda-python 13.x needs a driver >= 580: the default GPU extras must not resolve to it on a
    CUDA 12 machine (JetPack 6), and the CUDA 13 extras must not drift to a 14.x."""
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    from packaging.requirements import Requirement

    extras = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]

    def spec(extra: str, name: str):
        reqs = [Requirement(r) for r in extras[extra]]
        return next(r.specifier for r in reqs if r.name == name)

    for extra, major in (("tensorrt", 12), ("cuda12", 12), ("tensorrt-cu13", 13), ("cuda13", 13)):
        s = spec(extra, "cuda-python")
        assert "%d.9.10" % major in s and "%d.0" % (major + 1) not in s and "%d.0" % (major - 1) not in s, extra
    assert "11.4.0.106" in spec("tensorrt", "tensorrt-cu12") and "12.0" not in spec("tensorrt", "tensorrt-cu12")
