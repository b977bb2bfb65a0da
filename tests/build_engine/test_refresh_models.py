"""The shipped built-in models are what the current graph builder produces, with the same labels.

The ``refresh_models`` command line is tested in cli/test_refresh_models.py.
"""

import numpy as np
import pytest

from build_engine import refresh_models
from fcn_trt.errors import BuildError, ConfigError
from fcn_trt.models import BUILTIN_MODELS, models_dir
from tests._helpers import with_argmin_labels


@pytest.mark.parametrize("name", sorted(BUILTIN_MODELS))
def test_shipped_model_is_up_to_date_with_the_builder(name, tmp_path):
    report = refresh_models.refresh_builtin(name, out_dir=tmp_path, check_only=True)
    assert report.identical_labels and report.frames == len(refresh_models.reference_frames())
    assert not report.graph_changed, f"run `python -m build_engine.refresh_models {name}` and commit the model"
    assert not (tmp_path / BUILTIN_MODELS[name]).exists()  # check_only writes nothing


def test_reference_frames_cover_odd_sizes_and_noise():
    frames = refresh_models.reference_frames()
    sizes = {f.shape[:2] for f in frames}
    assert (97, 131) in sizes and all(f.dtype == np.uint8 and f.shape[2] == 3 for f in frames)
    assert len(sizes) == len(frames)


def test_a_builder_change_that_alters_labels_is_refused(tmp_path, monkeypatch):
    shipped = models_dir() / BUILTIN_MODELS["demo"]
    monkeypatch.setattr(refresh_models, "_rebuild", lambda name, old, tmp: with_argmin_labels(old, tmp / "bad.onnx"))
    with pytest.raises(BuildError, match="labels identical"):
        refresh_models.refresh_builtin("demo", out_dir=tmp_path)
    assert not (tmp_path / BUILTIN_MODELS["demo"]).exists()
    assert shipped.exists()


def test_unknown_model_name_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="built-in model"):
        refresh_models.refresh_builtin("nope", out_dir=tmp_path)
