"""Files written through a temporary file + rename get the user's umask, not mkstemp's 0600."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from fcn_trt.metadata import PipelineMetadata
from fcn_trt.sidecar import EngineInfo, EngineSidecar, atomic_write_bytes, current_umask, write_sidecar

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


@pytest.fixture(params=[0o022, 0o077, 0o002])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_current_umask_reads_the_process_umask(umask):
    assert current_umask() == umask


def test_atomic_write_and_sidecar_follow_the_umask(tmp_path, umask):
    assert mode(atomic_write_bytes(tmp_path / "m.engine", b"plan")) == 0o666 & ~umask
    side = EngineSidecar(
        pipeline=PipelineMetadata(class_names=("bg",), palette=((0, 0, 0),)),
        engine=EngineInfo(tensorrt_version="10.3.0", gpu_name="Orin", compute_capability="8.7", precision="fp16",
                          onnx_sha256="0" * 64),
    )
    assert mode(write_sidecar(tmp_path / "m.engine", side)) == 0o666 & ~umask


def test_onnx_exports_and_weights_follow_the_umask(tmp_path, umask):
    onnx = pytest.importorskip("onnx")
    from onnx import helper

    from build_engine.pipeline import save_model
    from build_engine.weights import save_npz

    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    assert mode(save_model(model, tmp_path / "p.onnx")) == 0o666 & ~umask
    assert mode(save_npz({"fc7.bias": np.zeros(3, np.float32)}, tmp_path / "w.npz")) == 0o666 & ~umask
