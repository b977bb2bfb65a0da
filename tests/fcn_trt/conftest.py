"""Fixtures that a library test module under tests/fcn_trt/ and the test module of its command
(tests/fcn_trt/cli/) both use. A test module that needs a different one of the same name defines its
own, which pytest uses in that module instead (test_segmenter.py's ``model_path``, test_voc.py's
``voc_root``)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.fcn_trt._shared import GT_A, GT_B, PALETTE


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    """A tiny FCN-8s pipeline (4 classes, width/32) on ONNX Runtime: the profiler's model."""
    from build_engine.pipeline import export_fcn_pipeline

    return export_fcn_pipeline(tmp_path_factory.mktemp("m") / "tiny.onnx", "fcn8s", num_classes=4, width_divisor=32,
                               seed=2)


@pytest.fixture
def voc_root(tmp_path):
    """A VOC folder in tmp_path: images "a" (GT_A) and "b" (GT_B) in split val, scored by hand in _shared.py."""
    from fcn_trt.eval.voc import write_split, write_voc_sample

    root = tmp_path / "VOC"
    for image_id, gt in (("a", GT_A), ("b", GT_B)):
        image = np.full(gt.shape + (3,), 90, np.uint8)
        write_voc_sample(root, image_id, image, gt, PALETTE)
    write_split(root, "val", ["a", "b"])
    return root
