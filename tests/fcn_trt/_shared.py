"""Data, fakes and marks that a library test module and the test module of its command (tests/fcn_trt/cli/)
both use; the fixtures built on them live in tests/fcn_trt/conftest.py."""

from __future__ import annotations

import types
from pathlib import Path

import numpy as np
import pytest

from fcn_trt.metadata import PipelineMetadata

# --- evaluate() and `fcn-trt eval`: a two-image VOC split scored by hand -------------------------
CLASSES = ("background", "cat", "dog")
PALETTE = ((0, 0, 0), (128, 0, 0), (0, 128, 0))

GT_A = np.array([[0, 0, 1, 1], [0, 0, 1, 255]], np.uint8)
PRED_A = np.array([[0, 1, 1, 1], [0, 0, 1, 2]], np.uint8)
GT_B = np.array([[2, 2], [2, 0], [255, 255]], np.uint8)
PRED_B = np.array([[2, 0], [2, 0], [1, 1]], np.uint8)
# by hand: rows = gt, cols = pred, void pixels skipped
EXPECTED_CM = [[4, 1, 0], [0, 3, 0], [1, 0, 2]]


class FakeSegmenter:
    """Returns the given label maps in call order; checks it is fed the right-sized images."""

    def __init__(self, preds, class_names=CLASSES):
        self.preds = list(preds)
        self.metadata = PipelineMetadata(class_names=tuple(class_names), palette=PALETTE[: len(class_names)])
        self.backend = types.SimpleNamespace(name="fake")
        self.calls = 0
        self.closed = False

    def run(self, frame):
        assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
        pred = self.preds[self.calls]
        self.calls += 1
        return types.SimpleNamespace(labels=pred)

    def close(self):
        self.closed = True


# --- fcn_trt.tools.profiling and `fcn-trt profile`: the keys of a report's JSON -----------------
REPORT_KEYS = {
    "schema", "created", "model", "model_sha256", "backend", "precision", "frame_hw", "batch", "frames", "warmup",
    "source", "stages", "unmeasured", "throughput_fps", "wall_s", "peak_rss_mb", "host_memory_note", "device_memory",
    "device_memory_note", "layers", "layers_source", "system", "warnings", "samples_ms",
}

# --- the demo and `fcn-trt demo`: the shipped demo model -----------------------------------------
MODELS = Path(__file__).resolve().parents[2] / "fcn_trt" / "models"
DEMO_ONNX = MODELS / "demo_fcn8s_w8.onnx"

needs_model = pytest.mark.skipif(not DEMO_ONNX.exists(), reason="demo model not shipped in this checkout")
