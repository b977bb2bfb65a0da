"""The one-release aliases at build_engine's pre-split paths (training / recipes)."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
OLD_TO_NEW = {
    "build_engine.train_demo": ("build_engine.training.train_demo", "export_demo_pipeline"),
    "build_engine.widen": ("build_engine.training.widen", "widen_fcn_weights"),
    "build_engine.torch_fcn": ("build_engine.training.torch_fcn", "build_torch_fcn"),
    "build_engine.make_scenes": ("build_engine.training.make_scenes", "write_scene_dataset"),
    "build_engine.mediapipe_selfie": ("build_engine.recipes.mediapipe_selfie", "extract_bare_network"),
}


@pytest.mark.parametrize("old", sorted(OLD_TO_NEW))
def test_old_path_warns_and_aliases_the_new_module(old, monkeypatch):
    pytest.importorskip("torch")
    new, name = OLD_TO_NEW[old]
    monkeypatch.delitem(sys.modules, old, raising=False)
    with pytest.warns(DeprecationWarning, match=new.replace(".", r"\.")):
        shim = importlib.import_module(old)
    assert getattr(shim, name) is getattr(importlib.import_module(new), name)


def test_python_dash_m_at_the_old_path_still_runs(tmp_path):
    p = subprocess.run([sys.executable, "-m", "build_engine.make_scenes", "--out", str(tmp_path / "s"), "--count", "1",
                        "--size", "32x48"], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert p.returncode == 0, p.stderr
    assert any((tmp_path / "s").rglob("*.png"))


def test_the_demo_weights_are_not_runtime_package_data():
    import fcn_trt.models

    assert not list(Path(fcn_trt.models.__file__).parent.glob("*.npz"))
    text = (REPO / "pyproject.toml").read_text()
    assert "npz" not in text.split("[tool.setuptools.package-data]")[1].split("[")[0]
