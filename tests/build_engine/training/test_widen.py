"""build_engine.widen: Net2WiderNet widening keeps the FCN's scores and gives the wider shapes.

The ``widen`` command line is tested in tests/build_engine/cli/test_widen.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from build_engine.fcn import build_fcn, fcn_parameter_shapes, random_fcn_weights
from build_engine.training.widen import widen_fcn_weights
from fcn_trt.errors import ConfigError


def _logits(variant: str, classes: int, divisor: int, weights, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    model = build_fcn(variant, classes, divisor, weights=weights)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})[0]


def _nontrivial_weights(variant: str, classes: int, divisor: int) -> dict:
    w = random_fcn_weights(variant, classes, divisor, seed=5)
    # positive biases keep most ReLUs open, so every widened channel matters to the scores
    return {k: (v + 0.05 if k.endswith(".bias") else v) for k, v in w.items()}


@pytest.mark.parametrize("variant", ["fcn8s", "fcn16s", "fcn32s"])
def test_widened_weights_have_the_wider_shapes_and_compute_the_same_scores(variant: str):
    small = _nontrivial_weights(variant, 4, 32)
    wide = widen_fcn_weights(small, 2, seed=1)
    assert {k: v.shape for k, v in wide.items()} == fcn_parameter_shapes(variant, 4, 16)
    x = np.random.default_rng(0).normal(size=(2, 3, 37, 45)).astype(np.float32)
    a = _logits(variant, 4, 32, small, x)
    b = _logits(variant, 4, 16, wide, x)
    assert np.abs(a).max() > 1e-3
    assert np.abs(a - b).max() <= 1e-4 * np.abs(a).max()
    assert np.array_equal(a.argmax(1), b.argmax(1))


def test_copies_of_a_channel_get_unequal_splits_that_sum_to_the_original_weight():
    small = _nontrivial_weights("fcn8s", 4, 32)
    wide = widen_fcn_weights(small, 4, seed=2)
    w2 = wide["conv1_2.weight"].reshape(wide["conv1_2.weight"].shape[0], -1, 4, 3, 3)
    assert np.allclose(w2.sum(axis=2)[::4], small["conv1_2.weight"], atol=1e-6)
    assert not np.allclose(w2[:, :, 0], w2[:, :, 1])
    assert np.array_equal(wide["conv1_1.weight"][0], wide["conv1_1.weight"][3])
    assert np.array_equal(wide["score_fr.bias"], small["score_fr.bias"])


def test_bad_factor_and_incomplete_weights_are_refused():
    small = random_fcn_weights("fcn8s", 4, 32)
    with pytest.raises(ConfigError, match="integer >= 1"):
        widen_fcn_weights(small, 0)
    with pytest.raises(ConfigError, match="conv1_1"):
        widen_fcn_weights({k: v for k, v in small.items() if not k.startswith("fc6")}, 2)
