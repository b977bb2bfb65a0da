"""Segmenter("grpc://..."/"http://...") against a real tritonserver on 127.0.0.1: same results and API as a local one."""

from __future__ import annotations

import numpy as np
import pytest

import fcn_trt
from fcn_trt.backends.triton import TritonBackend, is_triton_url, parse_triton_url
from fcn_trt.errors import (
    ClosedError, ConfigError, FrameShapeError, ModelFormatError, RemoteModelNotFoundError, ServerTimeoutError,
    ServerUnreachableError,
)
from fcn_trt.serve.server import free_port
from tests._triton import tiny_frames


@pytest.fixture(scope="module", autouse=True)
def no_shared_memory_left_behind(triton_server):
    """After every test here, this process has no shared-memory region left registered on the server."""
    import os

    import tritonclient.grpc as tc

    yield
    client = tc.InferenceServerClient(f"127.0.0.1:{triton_server.grpc_port}")
    regions = client.get_system_shared_memory_status(as_json=True).get("regions", {}).values()
    client.close()
    left = sorted(r["name"] for r in regions if r["name"].startswith(f"fcn_trt_{os.getpid()}_"))
    assert not left


@pytest.fixture(scope="module")
def local(triton_pipeline):
    with fcn_trt.Segmenter(triton_pipeline) as seg:
        yield seg


def _url(server, scheme):
    return server.grpc_url if scheme == "grpc" else server.http_url


@pytest.mark.parametrize("shared_memory", ["auto", "none"])
@pytest.mark.parametrize("scheme", ["grpc", "http"])
def test_remote_segmenter_matches_local(triton_server, local, scheme, shared_memory):
    with fcn_trt.Segmenter(_url(triton_server, scheme), shared_memory=shared_memory) as seg:
        assert seg.backend.shared_memory is (shared_memory == "auto")  # the server is on 127.0.0.1
        assert seg.metadata == local.metadata and seg.class_names == local.class_names
        for h, w in [(48, 64), (61, 83), (97, 129)]:
            frames = tiny_frames(3, h, w, seed=h)
            remote = seg.run_batch(frames)
            expected = local.run_batch(frames)
            for r, e in zip(remote, expected):
                np.testing.assert_array_equal(r.labels, e.labels)
                np.testing.assert_allclose(r.confidence, e.confidence, rtol=1e-6)
                assert r.class_names == e.class_names and r.palette == e.palette
            one = seg.run(frames[0])
            np.testing.assert_array_equal(one.labels, expected[0].labels)
            assert set(one.timings) >= {"infer", "total"}


def test_batches_above_the_server_maximum_are_split(triton_server, local):
    frames = tiny_frames(11, 40, 56, seed=4)  # the server's max_batch_size is 8
    with fcn_trt.Segmenter(triton_server.grpc_url) as seg:
        assert seg.backend.max_batch == 8
        remote = seg.run_batch(frames)
    assert len(remote) == 11
    for r, e in zip(remote, local.run_batch(frames)):
        np.testing.assert_array_equal(r.labels, e.labels)


def test_shared_memory_grows_for_larger_frames(triton_server, local):
    with fcn_trt.Segmenter(triton_server.grpc_url, shared_memory="system") as seg:
        for h, w in [(40, 50), (500, 700), (60, 70)]:  # 2 x 500x700x3 needs more than the first 1 MiB region
            frames = tiny_frames(2, h, w, seed=w)
            for r, e in zip(seg.run_batch(frames), local.run_batch(frames)):
                np.testing.assert_array_equal(r.labels, e.labels)


def test_stream_over_the_server(triton_server, local):
    frames = list(tiny_frames(6, 52, 70, seed=5))
    with fcn_trt.Segmenter(triton_server.http_url) as seg, seg.stream(frames, live=False) as items:
        got = [(item.sequence, item.result.labels) for item in items]
    assert [s for s, _ in got] == list(range(6))
    for (_, labels), frame in zip(got, frames):
        np.testing.assert_array_equal(labels, local.run(frame).labels)


def test_submit_keeps_several_batches_in_flight(triton_server, local):
    frames = tiny_frames(4, 44, 60, seed=6)
    with TritonBackend(triton_server.grpc_url, max_in_flight=3) as backend:
        tickets = [backend.submit(frames[i:i + 1]) for i in range(4)]
        outs = [backend.result(t) for t in tickets]
    for out, e in zip(outs, local.run_batch(frames)):
        np.testing.assert_array_equal(out["labels"][0], e.labels)


def test_close_is_idempotent_and_frees_the_shared_memory(triton_server):
    import tritonclient.grpc as tc

    seg = fcn_trt.Segmenter(triton_server.grpc_url)
    seg.run(tiny_frames(1, 30, 40)[0])
    client = tc.InferenceServerClient(f"127.0.0.1:{triton_server.grpc_port}")
    names = lambda: [r["name"] for r in client.get_system_shared_memory_status(as_json=True).get("regions", {}).values()]  # noqa: E731
    backend = seg.backend
    ours = {r.name for r in backend._regions}
    assert ours and ours <= set(names())
    seg.close()
    seg.close()
    backend.close()
    assert not ours & set(names()), sorted(names())
    client.close()
    with pytest.raises(ClosedError):
        seg.run(tiny_frames(1, 30, 40)[0])
    with pytest.raises(ClosedError):
        backend.infer(tiny_frames(1, 30, 40))


def test_frames_are_validated_before_the_network(triton_server):
    with fcn_trt.Segmenter(triton_server.grpc_url) as seg:
        with pytest.raises(FrameShapeError):
            seg.run(np.zeros((30, 40), np.uint8))


@pytest.mark.parametrize("scheme", ["grpc", "http"])
def test_unreachable_server(scheme):
    with pytest.raises(ServerUnreachableError, match="fcn-trt serve"):
        fcn_trt.Segmenter(f"{scheme}://127.0.0.1:{free_port()}/fcn_trt", timeout=5)


@pytest.mark.parametrize("scheme", ["grpc", "http"])
def test_unknown_model_lists_the_served_ones(triton_server, scheme):
    url = _url(triton_server, scheme).rsplit("/", 1)[0] + "/nope"
    with pytest.raises(RemoteModelNotFoundError, match="found models seg"):
        fcn_trt.Segmenter(url)


@pytest.mark.parametrize("scheme", ["grpc", "http"])
def test_timeout_is_a_typed_error(triton_server, scheme):
    with TritonBackend(_url(triton_server, scheme), shared_memory="none") as backend:
        backend.timeout = 1e-4  # the server needs far longer than 0.1 ms for a 600x800 frame
        if scheme == "http":  # the HTTP client takes its timeout when it is made: use a fresh thread's client
            import threading
            errors = []
            t = threading.Thread(target=lambda: errors.append(_raises(backend)))
            t.start()
            t.join(60)
            assert errors == [ServerTimeoutError]
        else:
            assert _raises(backend) is ServerTimeoutError


def _raises(backend):
    try:
        backend.infer(tiny_frames(2, 600, 800))
    except Exception as e:
        return type(e)
    return None


_ECHO_MODEL = """
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def execute(self, requests):
        return [pb_utils.InferenceResponse([pb_utils.Tensor(OUT, pb_utils.get_input_tensor_by_name(r, IN).as_numpy())])
                for r in requests]
"""


def _echo_model(repo, name, inp, out, dtype, dims):
    (repo / name / "1").mkdir(parents=True)
    (repo / name / "1" / "model.py").write_text(f"IN, OUT = {inp!r}, {out!r}\n" + _ECHO_MODEL)
    (repo / name / "config.pbtxt").write_text(
        f'name: "{name}"\nbackend: "python"\nmax_batch_size: 4\n'
        f'input [ {{ name: "{inp}" data_type: {dtype} dims: {dims} }} ]\n'
        f'output [ {{ name: "{out}" data_type: {dtype} dims: {dims} }} ]\n'
        'instance_group [ { count: 1 kind: KIND_CPU } ]\n')


@pytest.fixture(scope="module")
def foreign_models_server(triton_pipeline):
    """A server with the pipeline plus two models that are not fcn_trt pipelines."""
    from fcn_trt.serve.server import TritonServer
    from tests._triton import server_python

    class WithForeignModels(TritonServer):
        def write_repository(self, repo):
            super().write_repository(repo)
            _echo_model(repo, "bare", "input", "scores", "TYPE_FP32", "[ 3, -1, -1 ]")   # a bare network's I/O
            _echo_model(repo, "nometa", "frame", "labels", "TYPE_UINT8", "[ -1, -1 ]")   # pipeline I/O, no metadata

    server = WithForeignModels(triton_pipeline, http_port=free_port(), grpc_port=free_port(), model_name="seg",
                               threads=1, server_python=server_python())
    with server:
        yield server


@pytest.mark.parametrize("scheme", ["grpc", "http"])
def test_non_pipeline_models_are_typed_errors(foreign_models_server, scheme):
    from fcn_trt.errors import MetadataError

    base = _url(foreign_models_server, scheme).rsplit("/", 1)[0]
    with pytest.raises(ModelFormatError, match="not a bare network") as e:
        fcn_trt.Segmenter(base + "/bare")
    assert "input" in str(e.value) and "FP32" in str(e.value)
    with pytest.raises(MetadataError, match="publishes no fcn_trt metadata"):
        fcn_trt.Segmenter(base + "/nometa")


def test_url_parsing():
    assert parse_triton_url("grpc://10.0.0.5/fcn8s") == parse_triton_url("grpc://10.0.0.5:8001/fcn8s")
    assert parse_triton_url("http://[::1]:9000/m").address == "[::1]:9000"
    assert parse_triton_url("http://localhost/m").is_local and not parse_triton_url("grpc://10.1.2.3/m").is_local
    assert is_triton_url("http://h:1/m") and not is_triton_url("demo") and not is_triton_url("rtsp://cam/1")
    for bad in ["grpc://host:8001", "grpc://host:8001/a/b", "https://h/m", "grpc://host:port/m", "grpc:///m"]:
        with pytest.raises(ConfigError):
            parse_triton_url(bad)


def test_a_file_backend_name_with_a_url_is_a_config_error():
    with pytest.raises(ConfigError, match="triton"):
        fcn_trt.Segmenter("grpc://127.0.0.1:1/m", backend="onnxruntime")


@pytest.fixture(scope="module")
def nv12_server(tmp_path_factory):
    """A second server: an nv12 pipeline that resizes to 64x80 inside and returns labels at that size."""
    from build_engine.fcn import structured_random_fcn_weights
    from build_engine.pipeline import export_fcn_pipeline
    from fcn_trt.serve.server import TritonServer
    from tests._triton import server_python

    weights = structured_random_fcn_weights("fcn32s", num_classes=3, width_divisor=32, seed=2)
    path = export_fcn_pipeline(tmp_path_factory.mktemp("nv12") / "nv12.onnx", "fcn32s", weights=weights,
                               input_format="nv12", inference_size=(64, 80), resize_back=False,
                               outputs=("labels", "confidence"))
    server = TritonServer(path, http_port=free_port(), grpc_port=free_port(), model_name="nv12", max_batch=4,
                          threads=1, server_python=server_python())
    with server:
        yield server, path


@pytest.mark.parametrize("shared_memory", ["auto", "none"])
def test_nv12_pipeline_with_labels_at_inference_size(nv12_server, shared_memory):
    server, path = nv12_server
    frames = np.random.default_rng(1).integers(0, 256, (2, 90, 100), dtype=np.uint8)  # nv12: 60x100 images
    with fcn_trt.Segmenter(path) as local_seg, fcn_trt.Segmenter(server.grpc_url, shared_memory=shared_memory) as seg:
        assert seg.metadata.input_format == "nv12"
        raw = seg.backend.infer(frames)
        assert raw["labels"].shape == (2, 64, 80)  # what the graph returns; the Segmenter resizes it back
        expected = local_seg.run_batch(frames)
        assert len(np.unique(np.stack([e.labels for e in expected]))) > 1
        for r, e in zip(seg.run_batch(frames), expected):
            assert r.labels.shape == (60, 100)
            np.testing.assert_array_equal(r.labels, e.labels)
            np.testing.assert_allclose(r.confidence, e.confidence, rtol=1e-6)
