"""The one-release aliases at the module paths that moved (fcn_trt and build_engine alike).

Each old path warns (DeprecationWarning naming the new path) and gives the new module's public
names; ``python -m`` at an old path still runs. The test suite itself turns these warnings into
errors (pyproject.toml), so nothing else in the repository uses an old path.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from fcn_trt._deprecated import MOVED_NAMES

REPO = Path(__file__).resolve().parents[1]

#: old path -> (new module, a name both must give)
OLD_TO_NEW = {
    "fcn_trt.validation": ("fcn_trt._frames", "validate_frame"),
    "fcn_trt.stream": ("fcn_trt.streaming.stream", "Stream"),
    "fcn_trt.sources": ("fcn_trt.streaming.sources", "open_source"),
    "fcn_trt.render": ("fcn_trt.streaming.drawing", "render"),
    "fcn_trt.scenes": ("fcn_trt.streaming.scenes", "generate_clip"),
    "fcn_trt.metrics": ("fcn_trt.eval.metrics", "ConfusionMatrix"),
    "fcn_trt.datasets": ("fcn_trt.eval.voc", "VocDataset"),
    "fcn_trt.datasets.voc": ("fcn_trt.eval.voc", "save_label_png"),
    "fcn_trt.profile": ("fcn_trt.tools.profiling", "profile"),
    "fcn_trt.selfcheck": ("fcn_trt.tools.check", "selfcheck"),
    "fcn_trt.inspect_engine": ("fcn_trt.tools.inspect", "inspect_engine"),
    "fcn_trt.sysinfo": ("fcn_trt.tools.sysinfo", "system_info"),
    "fcn_trt.cuda": ("fcn_trt.backends._cuda", "DeviceBuffer"),
    "fcn_trt._trt_compat": ("fcn_trt.backends._trt", "GATES"),
    "build_engine.train_demo": ("build_engine.training.train_demo", "export_demo_pipeline"),
    "build_engine.widen": ("build_engine.training.widen", "widen_fcn_weights"),
    "build_engine.torch_fcn": ("build_engine.training.torch_fcn", "build_torch_fcn"),
    "build_engine.make_scenes": ("build_engine.training.make_scenes", "write_scene_dataset"),
    "build_engine.mediapipe_selfie": ("build_engine.recipes.mediapipe_selfie", "extract_bare_network"),
}


@pytest.mark.parametrize("old", sorted(OLD_TO_NEW))
def test_old_path_warns_and_gives_the_new_modules_names(old, monkeypatch):
    new, name = OLD_TO_NEW[old]
    if new.endswith("torch_fcn"):
        pytest.importorskip("torch")
    for mod in [m for m in sys.modules if m == old or m.startswith(old + ".")]:
        monkeypatch.delitem(sys.modules, mod)
    with pytest.warns(DeprecationWarning, match=new.replace(".", r"\.")):
        alias = importlib.import_module(old)
    target = importlib.import_module(new)
    assert getattr(alias, name) is getattr(target, name)
    assert alias.__all__ == list(target.__all__)


MOVED = sorted((module, name, target) for module, names in MOVED_NAMES.items() for name, target in names.items())


@pytest.mark.parametrize("module,name,target", MOVED, ids=[f"{m}.{n}" for m, n, _ in MOVED])
def test_moved_command_line_names_warn_and_are_the_new_functions(module, name, target):
    new_module, _, new_name = target.partition(":")
    if "convert_selfie" in new_module:
        pytest.importorskip("onnx")
    with warnings.catch_warnings():  # an alias module also warns when first imported: not the point here
        warnings.simplefilter("ignore", DeprecationWarning)
        mod = importlib.import_module(module)
    with pytest.warns(DeprecationWarning, match=rf"{module}\.{name} moved to {new_module}\.{new_name}"):
        old = getattr(mod, name)
    assert old is getattr(importlib.import_module(new_module), new_name)
    with pytest.raises(AttributeError, match="no attribute 'not_a_moved_name'"):
        getattr(mod, "not_a_moved_name")


def test_an_old_parser_helper_still_builds_a_working_command_line():
    import argparse

    import fcn_trt.demo
    import fcn_trt.segmenter

    parser = argparse.ArgumentParser()
    with pytest.warns(DeprecationWarning):
        fcn_trt.segmenter.add_model_arguments(parser)
    assert parser.parse_args([]).model == "demo"
    sub = argparse.ArgumentParser().add_subparsers()
    with pytest.warns(DeprecationWarning):
        demo = fcn_trt.demo.add_demo_parser(sub)
    args = demo.parse_args(["--frames", "3"])
    with pytest.warns(DeprecationWarning):
        assert args.func is fcn_trt.demo.run_demo_command and args.frames == 3


def test_modules_that_became_packages_keep_their_names():
    import fcn_trt.demo
    import fcn_trt.eval

    assert callable(fcn_trt.eval.evaluate) and fcn_trt.eval.EvalReport.__name__ == "EvalReport"
    assert callable(fcn_trt.demo.run_demo) and fcn_trt.demo.DEMO_CLIP_SEED == 2024


def test_python_dash_m_at_an_old_path_still_runs(tmp_path):
    p = subprocess.run([sys.executable, "-m", "build_engine.make_scenes", "--out", str(tmp_path / "s"), "--count", "1",
                        "--size", "32x48"], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert p.returncode == 0, p.stderr
    assert any((tmp_path / "s").rglob("*.png"))


def test_the_demo_weights_are_not_runtime_package_data():
    import fcn_trt.models

    assert not list(Path(fcn_trt.models.__file__).parent.glob("*.npz"))
    text = (REPO / "pyproject.toml").read_text()
    assert "npz" not in text.split("[tool.setuptools.package-data]")[1].split("[")[0]
