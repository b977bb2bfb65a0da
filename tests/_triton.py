"""Fixtures for tests that start a real Triton server (tritonserver from nvidia-pytriton) on 127.0.0.1.

The server runs in its own interpreter (nvidia-pytriton pins numpy<2; the test venv has numpy 2):
``$FCN_TRT_SERVE_PYTHON``, else ``.venv-serve/bin/python`` in the checkout (what ``.ci/run`` makes).
Without one the tests are skipped with that reason, except under CI (``$CI`` set), where they fail.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def server_python() -> Path:
    """The server interpreter, or skip (fail under CI) saying how to make one."""
    from fcn_trt.serve.server import SERVE_HINT, SERVE_PYTHON_ENV

    candidate = os.environ.get(SERVE_PYTHON_ENV) or str(ROOT / ".venv-serve" / "bin" / "python")
    if Path(candidate).exists():
        return Path(candidate)
    message = f"no Triton server environment ({candidate} does not exist): {SERVE_HINT}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def tiny_frames(n: int, h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, 3), dtype=np.uint8)


@pytest.fixture(scope="session")
def triton_pipeline(tmp_path_factory) -> Path:
    """A small FCN-8s pipeline (5 classes, labels + confidence) whose labels vary over the image."""
    from build_engine.fcn import structured_random_fcn_weights
    from build_engine.pipeline import export_fcn_pipeline

    weights = structured_random_fcn_weights("fcn8s", num_classes=5, width_divisor=16, seed=3)
    return export_fcn_pipeline(tmp_path_factory.mktemp("triton") / "fcn8s_w16.onnx", "fcn8s", weights=weights,
                               class_names=("bg", "floor", "marking", "obstacle", "person"),
                               outputs=("labels", "confidence"), model_name="triton-test")


@pytest.fixture(scope="session")
def triton_server(triton_pipeline):
    """A running server for ``triton_pipeline`` on free loopback ports (stopped at the end of the session)."""
    from fcn_trt.serve.server import TritonServer, free_port

    python = server_python()
    server = TritonServer(triton_pipeline, http_port=free_port(), grpc_port=free_port(), host="127.0.0.1",
                          model_name="seg", max_batch=8, instances=1, threads=1, server_python=python)
    server.start(timeout=180)
    try:
        yield server
    finally:
        server.stop()
