"""A real tritonserver (nvidia-pytriton's) on 127.0.0.1, checked with independent tritonclient clients."""

from __future__ import annotations

import importlib
import json
import socket
import sys
import threading
import time

import numpy as np
import pytest

import fcn_trt
from fcn_trt.errors import BackendUnavailableError, ConfigError
from fcn_trt.serve.server import TritonServer, free_port, probe_server_python
from tests._helpers import run_in_threads
from tests._triton import server_python, tiny_frames

SIZES = [(48, 64), (61, 83), (97, 129), (120, 90)]


@pytest.fixture(scope="module")
def local_labels(triton_pipeline):
    """Labels a local Segmenter gives for every (size, seed) the threads send."""
    with fcn_trt.Segmenter(triton_pipeline) as seg:
        return {(h, w, seed): np.stack([r.labels for r in seg.run_batch(tiny_frames(2, h, w, seed))])
                for (h, w) in SIZES for seed in range(3)}


@pytest.mark.parametrize("protocol", ["grpc", "http"])
def test_independent_tritonclient_gets_local_labels_from_several_threads(triton_server, local_labels, protocol):
    tc = importlib.import_module(f"tritonclient.{protocol}")  # tritonclient.grpc or tritonclient.http
    address = f"127.0.0.1:{getattr(triton_server, protocol + '_port')}"
    mismatches, errors, done = [], [], []

    def client_thread(index: int) -> None:
        try:
            client = tc.InferenceServerClient(address)  # one client per thread (the HTTP one is gevent-based)
            for seed in range(3):
                for h, w in SIZES[index % 2::2] if index < 2 else SIZES:
                    frames = tiny_frames(2, h, w, seed)
                    inp = tc.InferInput("frame", list(frames.shape), "UINT8")
                    inp.set_data_from_numpy(frames)
                    result = client.infer("seg", [inp], outputs=[tc.InferRequestedOutput("labels")])
                    labels = result.as_numpy("labels")
                    if labels.dtype != np.uint8 or not np.array_equal(labels, local_labels[(h, w, seed)]):
                        mismatches.append((index, h, w, seed))
                    done.append(1)
            client.close()
        except Exception as e:  # surfaced below
            errors.append(repr(e))

    run_in_threads(client_thread, 4, timeout=120)
    assert not errors and not mismatches
    assert len(done) == 2 * 3 * 2 + 2 * 3 * len(SIZES)


def test_labels_vary_over_the_image(local_labels):
    # the comparison above would prove little on a model that paints one class everywhere
    assert all(len(np.unique(v)) > 1 for v in local_labels.values())


def test_config_publishes_class_names_palette_and_dynamic_batching(triton_server, triton_pipeline):
    import tritonclient.grpc as tc

    client = tc.InferenceServerClient(f"127.0.0.1:{triton_server.grpc_port}")
    config = client.get_model_config("seg", as_json=True)["config"]
    meta = client.get_model_metadata("seg", as_json=True)
    client.close()
    with fcn_trt.Segmenter(triton_pipeline) as seg:
        local = seg.metadata
    params = {k: v["string_value"] for k, v in config["parameters"].items()}
    assert json.loads(params["class_names"]) == list(local.class_names)
    assert json.loads(params["palette"]) == [list(c) for c in local.palette]
    assert fcn_trt.PipelineMetadata.from_json(params["fcn_trt"]) == local
    assert config["backend"] == "python" and int(config["max_batch_size"]) == 8
    assert "dynamic_batching" in config
    assert [(i["name"], i["datatype"], i["shape"]) for i in meta["inputs"]] == [("frame", "UINT8", ["-1", "-1", "-1", "3"])]
    assert {o["name"]: o["datatype"] for o in meta["outputs"]} == {"labels": "UINT8", "confidence": "FP32"}


def test_dynamic_batcher_batches_concurrent_requests(triton_server):
    import tritonclient.grpc as tc

    client = tc.InferenceServerClient(f"127.0.0.1:{triton_server.grpc_port}")
    before = client.get_inference_statistics("seg", as_json=True)["model_stats"][0]
    frames = tiny_frames(1, 160, 200, seed=9)
    pending, results = [], []
    lock = threading.Condition()

    def callback(result, error):
        with lock:
            results.append(error)
            lock.notify_all()

    n = 24
    for _ in range(n):
        inp = tc.InferInput("frame", list(frames.shape), "UINT8")
        inp.set_data_from_numpy(frames)
        pending.append(client.async_infer("seg", [inp], callback, outputs=[tc.InferRequestedOutput("labels")]))
    with lock:
        lock.wait_for(lambda: len(results) == n, timeout=120)
    assert results == [None] * n
    deadline = time.monotonic() + 30  # the server updates its statistics after it has answered
    while True:
        after = client.get_inference_statistics("seg", as_json=True)["model_stats"][0]
        inferences = int(after.get("inference_count", 0)) - int(before.get("inference_count", 0))
        executions = int(after.get("execution_count", 0)) - int(before.get("execution_count", 0))
        if inferences >= n or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    client.close()
    assert inferences == n
    assert executions < n  # 24 requests queued at once on one instance: some ran as one batch


def test_a_busy_port_is_a_server_error_with_the_log(triton_pipeline):
    from fcn_trt.errors import ServerError

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        server = TritonServer(triton_pipeline, http_port=busy.getsockname()[1], grpc_port=free_port(),
                              server_python=server_python())
        with pytest.raises(ServerError, match="exited") as e:
            server.start(timeout=120)
    assert "Hint: its log ends with" in str(e.value)
    assert not server.running and server._workdir is None  # stopped and its files removed


def test_server_python_without_pytriton_is_a_clear_error():
    # this interpreter (the test venv) has numpy 2 and no nvidia-pytriton
    with pytest.raises(BackendUnavailableError, match="nvidia-pytriton|numpy") as e:
        probe_server_python(sys.executable)
    assert "fcn-trt[serve]" in str(e.value)


def test_missing_server_python_is_a_clear_error(tmp_path):
    with pytest.raises(BackendUnavailableError, match="does not exist"):
        probe_server_python(tmp_path / "nope" / "python")


def test_server_environment_has_numpy_below_2():
    env = probe_server_python(server_python())
    assert int(env.numpy.split(".")[0]) < 2 and env.tritonserver.exists() and env.stub.exists()


@pytest.mark.parametrize("kwargs", [{"http_port": 0}, {"grpc_port": 70000}, {"http_port": 9000, "grpc_port": 9000}])
def test_bad_ports_are_config_errors(kwargs):
    with pytest.raises(ConfigError):
        TritonServer("demo", **kwargs)


@pytest.mark.parametrize("host", ["::1", "::", "fe80::2"])
def test_ipv6_hosts_are_refused_in_one_line(host):
    with pytest.raises(ConfigError, match="IPv4 address or a host name") as exc:
        TritonServer("demo", host=host)
    assert "\n" not in str(exc.value) and "127.0.0.1" in str(exc.value)


def test_engine_cannot_be_served_by_the_python_backend(tmp_path):
    from fcn_trt.serve.repository import write_python_model

    engine = tmp_path / "m.engine"
    engine.write_bytes(b"plan")
    with pytest.raises(ConfigError, match="export-triton"):
        write_python_model(engine, tmp_path / "repo", "m")
