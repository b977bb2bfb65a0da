"""build_engine.training.train_demo: a tiny training run, --init, checkpoint/resume, BN folding."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from build_engine.fcn import random_fcn_weights  # noqa: E402
from build_engine.training.train_demo import train  # noqa: E402
from build_engine.weights import load_weights, save_npz  # noqa: E402
from fcn_trt.streaming import scenes  # noqa: E402

TINY = dict(sizes=((1, 48, 64),), width_divisor=32, threads=1, val_every=10**6, checkpoint_every=10**6,
            max_minutes=10.0)


def test_init_weights_are_where_training_starts(tmp_path: Path):
    init = save_npz(random_fcn_weights("fcn8s", scenes.NUM_CLASSES, 32, seed=9), tmp_path / "init.npz")
    summary = train(tmp_path / "run", steps=0, batchnorm=False, init=init, **TINY)
    final = torch.load(tmp_path / "run" / "final_state.pt")
    ref = load_weights(init)
    assert set(final) == set(ref)
    assert all(np.array_equal(final[k].numpy(), ref[k]) for k in ref)
    assert summary["init"] == str(init) and summary["steps"] == 0


def test_two_steps_change_the_weights_then_resume_continues_and_bn_folds(tmp_path: Path):
    out = tmp_path / "run"
    first = train(out, steps=2, batchnorm=True, **TINY)
    assert first["steps"] == 2 and first["frames_seen"] == 2 and first["train_batchnorm_folded"]
    state = torch.load(out / "final_state.pt")
    assert not any("bn" in k for k in state)  # folded back into the canonical parameter names
    again = train(out, steps=3, batchnorm=True, resume=True, **TINY)
    assert again["steps"] == 3 and again["frames_seen"] == 3
    saved = json.loads((out / "train_summary.json").read_text())
    assert saved["steps"] == 3 and saved["init"] == "randomize_fcn_"
