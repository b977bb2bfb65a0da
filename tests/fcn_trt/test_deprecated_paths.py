"""The one-release aliases at the pre-0.2 import paths: they warn and give the same objects."""

from __future__ import annotations

import importlib
import sys

import pytest

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
}


@pytest.mark.parametrize("old", sorted(OLD_TO_NEW))
def test_old_path_warns_and_aliases_the_new_module(old, monkeypatch):
    new, name = OLD_TO_NEW[old]
    for mod in [m for m in sys.modules if m == old or m.startswith(old + ".")]:
        monkeypatch.delitem(sys.modules, mod)
    with pytest.warns(DeprecationWarning, match=new.replace(".", r"\.")):
        shim = importlib.import_module(old)
    target = importlib.import_module(new)
    assert getattr(shim, name) is getattr(target, name)
    assert set(shim.__all__) == set(target.__all__)


def test_moved_modules_that_became_packages_keep_their_names():
    import fcn_trt.demo
    import fcn_trt.eval

    assert callable(fcn_trt.eval.evaluate) and fcn_trt.eval.EvalReport.__name__ == "EvalReport"
    assert callable(fcn_trt.demo.run_demo) and fcn_trt.demo.DEMO_CLIP_SEED == 2024
