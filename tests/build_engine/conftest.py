"""Fixtures shared by build_engine's library tests and the tests of its command lines (tests/build_engine/cli/).

* ``pipeline`` / ``fp16_graph``: the tiny pipeline graph (tests/build_engine/_helpers.py), fp32 / fp16.
* ``dla_trt`` / ``no_dla_trt``: the strict TensorRT fake of each supported release with / without DLA.
* ``scenes`` / ``calib_dir``: synthetic scene frames and a folder of calibration images made of them.
* ``models``: two toy pipelines whose labels disagree (``EYE`` and ``SWAPPED`` weights).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.build_engine._helpers import tiny_pipeline
from tests.build_engine._precision_helpers import EYE, SWAPPED, scene_frames, toy_pipeline, write_image_folder
from tests.fakes.trt_api import SUPPORTED_VERSIONS


@pytest.fixture
def pipeline(tmp_path) -> Path:
    return tiny_pipeline(tmp_path / "tiny.onnx")


@pytest.fixture
def fp16_graph(tmp_path) -> Path:
    """The tiny pipeline as an fp16 graph (what a DLA build needs)."""
    return tiny_pipeline(tmp_path / "t.fp16.onnx", precision="fp16")


DLA_VERSIONS = [v for v in SUPPORTED_VERSIONS if int(v.split(".")[0]) < 11]
NO_DLA_VERSIONS = [v for v in SUPPORTED_VERSIONS if v not in DLA_VERSIONS]


def _install_fake(version: str, monkeypatch):
    from tests.fakes.fake_tensorrt import make_fake_tensorrt

    module = make_fake_tensorrt(version)
    monkeypatch.setitem(sys.modules, "tensorrt", module)
    return module


@pytest.fixture(params=DLA_VERSIONS, ids=lambda v: "trt" + v)
def dla_trt(request, monkeypatch):
    """The strict fake of each supported release that has DLA on Linux/Jetson."""
    return _install_fake(request.param, monkeypatch)


@pytest.fixture(params=NO_DLA_VERSIONS, ids=lambda v: "trt" + v)
def no_dla_trt(request, monkeypatch):
    """The strict fake of each supported release without DLA on Linux/Jetson (11.0-11.4.0)."""
    return _install_fake(request.param, monkeypatch)


@pytest.fixture(scope="module")
def scenes():
    return scene_frames(6, (64, 64))


@pytest.fixture(scope="module")
def calib_dir(tmp_path_factory, scenes):
    return write_image_folder(tmp_path_factory.mktemp("calib") / "frames", [s.image for s in scenes[:4]])


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("cmp")
    return toy_pipeline(d / "a.onnx", EYE), toy_pipeline(d / "b.onnx", SWAPPED)
