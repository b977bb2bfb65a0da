"""fcn_trt.backends.base.Backend: the properties and the closed check it gives every backend."""

from __future__ import annotations

import numpy as np
import pytest

from fcn_trt.backends.base import Backend
from fcn_trt.errors import ClosedError
from fcn_trt.metadata import PipelineMetadata

META = PipelineMetadata(class_names=("bg", "fg"), palette=((0, 0, 0), (255, 255, 255)))


class _Minimal(Backend):
    name = "minimal"

    def __init__(self, max_batch=None) -> None:
        self._metadata = META
        if max_batch is not None:
            self._max_batch = max_batch
        self._closed = False

    def infer(self, frames):
        self._check_open()
        return {"labels": np.zeros(frames.shape[:3], np.uint8)}

    def close(self) -> None:
        self._closed = True


def test_metadata_and_max_batch_come_from_what_init_set():
    assert _Minimal().metadata is META
    assert _Minimal().max_batch == 0  # unbounded unless the backend says otherwise
    assert _Minimal(max_batch=4).max_batch == 4
    assert _Minimal().max_frame_hw == (0, 0) and _Minimal().min_frame_hw == (1, 1)  # unbounded frames


def test_use_after_close_names_the_backend_class():
    with _Minimal() as backend:
        backend.infer(np.zeros((1, 2, 2, 3), np.uint8))
    with pytest.raises(ClosedError) as e:
        backend.infer(np.zeros((1, 2, 2, 3), np.uint8))
    assert str(e.value) == "_Minimal: expected an open backend, found closed. Hint: create a new Segmenter"


def test_the_triton_backend_keeps_its_closed_message():
    from fcn_trt.backends.triton import TritonBackend

    backend = TritonBackend.__new__(TritonBackend)  # no server here: only the closed check runs
    backend._closed = True
    with pytest.raises(ClosedError) as e:
        backend.submit(np.zeros((1, 2, 2, 3), np.uint8))
    assert str(e.value) == "TritonBackend: expected an open backend, found closed. Hint: create a new Segmenter"


def test_the_onnxruntime_backend_keeps_its_closed_message(tmp_path):
    from build_engine.pipeline import export_fcn_pipeline
    from fcn_trt.backends.onnxruntime import OnnxRuntimeBackend

    path = export_fcn_pipeline(tmp_path / "tiny.onnx", "fcn8s", num_classes=3, width_divisor=16, seed=1)
    backend = OnnxRuntimeBackend(path)
    assert backend.metadata.num_classes == 3 and backend.max_batch == 0
    backend.close()
    with pytest.raises(ClosedError) as e:
        backend.infer(np.zeros((1, 32, 32, 3), np.uint8))
    assert str(e.value) == "OnnxRuntimeBackend: expected an open backend, found closed. Hint: create a new Segmenter"


@pytest.mark.parametrize("module,cls,title", [
    ("fcn_trt.backends.onnxruntime", "OnnxRuntimeBackend", "ONNX Runtime"),
    ("fcn_trt.backends.tensorrt", "TensorRTBackend", "TensorRT"),
    ("fcn_trt.backends.triton", "TritonBackend", "Triton Inference Server"),
])
def test_each_backend_has_a_title_for_report_sentences(module, cls, title):
    import importlib

    backend = getattr(importlib.import_module(module), cls)
    assert backend.title == title and backend.name and backend.title != backend.name
