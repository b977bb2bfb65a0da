"""Segmenter over the real ONNX Runtime backend on tiny generated pipelines."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import fcn_trt
from fcn_trt.backends.base import Backend
from build_engine.pipeline import export_fcn_pipeline
from fcn_trt.errors import (
    ClosedError,
    ConfigError,
    EmptyFrameError,
    FrameDtypeError,
    FrameShapeError,
    FrameTooLargeError,
    InputError,
    MetadataError,
    ModelFormatError,
    ModelNotFoundError,
)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return export_fcn_pipeline(tmp_path_factory.mktemp("m") / "fcn8s_w16.onnx", "fcn8s", num_classes=5,
                               width_divisor=16, outputs=("labels", "confidence"), seed=1)


@pytest.fixture
def seg(model_path):
    with fcn_trt.Segmenter(model_path) as s:
        yield s


def frames(n, h=61, w=83, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, 3), dtype=np.uint8)


def test_run_matches_raw_session(seg, model_path):
    f = frames(1)[0]
    r = seg.run(f)
    raw = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"]).run(None, {"frame": f[None]})
    np.testing.assert_array_equal(r.labels, raw[0][0])
    np.testing.assert_allclose(r.confidence, raw[1][0])
    assert r.labels.dtype == np.uint8 and r.labels.shape == (61, 83)
    assert set(r.timings) == {"validate", "infer", "postprocess", "total"}
    assert r.timings["total"] >= r.timings["infer"] > 0
    assert r.class_names == seg.metadata.class_names and len(r.palette) == 5


def test_result_is_immutable(seg):
    r = seg.run(frames(1)[0])
    with pytest.raises(ValueError):
        r.labels[0, 0] = 1
    with pytest.raises(AttributeError):
        r.labels = None
    assert abs(sum(r.class_fractions().values()) - 1.0) < 1e-9


def test_overlay_and_colorize(seg):
    f = frames(1)[0]
    r = seg.run(f)
    color = r.colorize()
    assert color.shape == f.shape and color.dtype == np.uint8
    np.testing.assert_array_equal(r.overlay(f, alpha=0.0), f)
    np.testing.assert_array_equal(r.overlay(f, alpha=1.0), color)
    with pytest.raises(FrameShapeError, match="overlay"):
        r.overlay(f[:10])


def test_run_batch_equals_single_runs(seg):
    fs = frames(3, seed=2)
    batch = seg.run_batch(fs)
    assert len(batch) == 3
    for f, r in zip(fs, batch):
        np.testing.assert_array_equal(r.labels, seg.run(f).labels)
    assert len(seg.run_batch(list(fs))) == 3


def test_non_contiguous_views_give_the_same_labels(seg):
    f = frames(1, seed=3)[0]
    for view in (f[:, ::-1], f[::-1], f[5:50, 3:70]):
        np.testing.assert_array_equal(seg.run(view).labels, seg.run(view.copy()).labels)


@pytest.mark.parametrize("bad,error", [
    (None, TypeError), ([], TypeError), (np.zeros((10, 10, 3), np.float32), FrameDtypeError),
    (np.zeros((10, 10), np.uint8), FrameShapeError), (np.zeros((10, 10, 4), np.uint8), FrameShapeError),
    (np.zeros((0, 10, 3), np.uint8), EmptyFrameError), (np.zeros((2, 10, 10, 3), np.uint8), FrameShapeError),
])
def test_bad_frames_raise_typed_errors(seg, bad, error):
    with pytest.raises(error):
        seg.run(bad)
    assert seg.run(frames(1)[0]).labels.shape == (61, 83)  # still usable afterwards


def test_close_is_idempotent_and_use_after_close_raises(model_path):
    s = fcn_trt.Segmenter(model_path)
    s.close()
    s.close()
    assert s.closed
    with pytest.raises(ClosedError):
        s.run(frames(1)[0])
    with pytest.raises(ClosedError):
        _ = s.metadata


def test_unclosed_segmenter_warns(model_path):
    s = fcn_trt.Segmenter(model_path)
    with pytest.warns(ResourceWarning):
        s.__del__()
    s.close()


def test_model_errors(tmp_path, model_path):
    with pytest.raises(ModelNotFoundError):
        fcn_trt.Segmenter(tmp_path / "missing.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model at all")
    with pytest.raises(ModelFormatError):
        fcn_trt.Segmenter(junk)
    with pytest.raises(ConfigError, match="suffix"):
        import shutil

        fcn_trt.Segmenter(shutil.copy(model_path, tmp_path / "m.bin"))


def test_bare_network_without_metadata_is_explained(tmp_path):
    from build_engine.fcn import build_fcn

    path = tmp_path / "bare.onnx"
    onnx.save(build_fcn("fcn32s", 3, 32), str(path))
    with pytest.raises(MetadataError, match="build_engine export --onnx"):
        fcn_trt.Segmenter(path)


def test_no_resize_back_labels_come_back_at_frame_size(tmp_path):
    path = export_fcn_pipeline(tmp_path / "small.onnx", "fcn32s", num_classes=3, width_divisor=32,
                               inference_size=(32, 32), resize_back=False)
    with fcn_trt.Segmenter(path) as s:
        r = s.run(frames(1, 70, 50)[0])
    assert r.labels.shape == (70, 50)


def test_explicit_backend_override(model_path):
    with fcn_trt.Segmenter(model_path, backend="onnxruntime", providers="CPUExecutionProvider", threads=1) as s:
        assert s.backend.describe()["backend"] == "onnxruntime"
    with pytest.raises(ConfigError):
        fcn_trt.Segmenter(model_path, backend="tflite")


# --- the one frame path and the backend seam ------------------------------------------------------
def test_run_is_collect_of_submit(seg):
    fs = frames(3, seed=4)
    tickets = [seg.submit(f) for f in fs]
    for f, t in zip(fs, tickets):
        r = seg.collect(t)
        np.testing.assert_array_equal(r.labels, seg.run(f).labels)
        assert set(r.timings) == {"validate", "infer", "postprocess", "total"}
        assert r.timings["total"] >= r.timings["infer"] + r.timings["validate"] > 0
    batch = seg.collect_batch(seg.submit_batch(fs))
    assert [r.labels.tolist() for r in batch] == [seg.run(f).labels.tolist() for f in fs]


def test_a_ticket_is_collected_once_and_only_by_its_segmenter(seg, model_path):
    t = seg.submit(frames(1)[0])
    seg.collect(t)
    with pytest.raises(InputError, match="not yet collected"):
        seg.collect(t)
    with fcn_trt.Segmenter(model_path) as other:
        with pytest.raises(InputError, match="this Segmenter"):
            other.collect(seg.submit(frames(1)[0]))
    with pytest.raises(InputError, match="collect_batch"):
        seg.collect(seg.submit_batch(frames(2)))


def test_segmenter_accepts_an_opened_backend_and_owns_it(model_path):
    from fcn_trt.backends.onnxruntime import OnnxRuntimeBackend

    backend = OnnxRuntimeBackend(model_path, threads=1)
    with fcn_trt.Segmenter(backend) as s:
        assert s.backend is backend and s.model_path == model_path and not s.asynchronous
        assert s.run(frames(1)[0]).labels.shape == (61, 83)
    assert backend._closed  # closed with the Segmenter
    with pytest.raises(InputError, match="no backend name or options"):
        fcn_trt.Segmenter(OnnxRuntimeBackend(model_path), threads=2)


def test_a_custom_backend_plugs_in_without_a_name_switch(seg):
    from fcn_trt.backends.base import AsyncBackend, Backend, LayerProfiled, StageTimed

    class Constant(Backend):  # a minimal third-party backend: no submit, no stage timings
        def __init__(self, meta):
            self._meta, self.closed = meta, False

        @property
        def metadata(self):
            return self._meta

        def infer(self, frames):
            return {"labels": np.full(frames.shape[:3], 2, np.uint8)}

        def close(self):
            self.closed = True

    backend = Constant(seg.metadata)
    assert not isinstance(backend, (AsyncBackend, StageTimed, LayerProfiled))
    with fcn_trt.Segmenter(backend) as s:
        assert s.model_path is None and "Constant" in repr(s)
        assert (s.run(frames(1)[0]).labels == 2).all()
        assert [r.sequence for r in s.stream([frames(1)[0]] * 3)] == [0, 1, 2]
    assert backend.closed


def test_open_backend_table():
    from fcn_trt.backends import BACKEND_SPECS, backend_for_path, backend_spec

    assert backend_for_path("a.PLAN") == "tensorrt" and backend_for_path("a.onnx") == "onnxruntime"
    assert backend_spec("a.engine").on_device and not backend_spec("a.engine", "onnxruntime").on_device
    assert {s.name for s in BACKEND_SPECS} == {"onnxruntime", "tensorrt"}
    with pytest.raises(ConfigError, match="suffix"):
        backend_for_path("a.bin")


class _Zeros(Backend):
    """A backend no profile bounds (like ONNX Runtime), labels all zero, running here or not."""

    def __init__(self, meta, computes_locally):
        self._metadata, self.computes_locally = meta, computes_locally

    def infer(self, frames):
        return {"labels": np.zeros(frames.shape[:3], np.uint8)}

    def close(self):
        pass


def test_the_memory_preflight_runs_once_per_frame_size_not_per_frame(seg, monkeypatch):
    from fcn_trt import preflight

    reads = []
    monkeypatch.setattr(preflight, "available_memory_bytes", lambda: reads.append(1) or 64 * 2 ** 30)
    with fcn_trt.Segmenter(_Zeros(seg.metadata, computes_locally=True)) as s:
        for _ in range(3):
            s.run(frames(1)[0])
        assert len(reads) == 1
        s.run(np.zeros((40, 56, 3), np.uint8))  # a new size is checked again
        assert len(reads) == 2
    monkeypatch.setattr(preflight, "available_memory_bytes", lambda: 2 ** 20)  # 1 MiB free: far too little
    with fcn_trt.Segmenter(_Zeros(seg.metadata, computes_locally=True)) as s:
        with pytest.raises(FrameTooLargeError):
            s.run(np.zeros((2000, 2000, 3), np.uint8))


def test_a_served_model_is_not_checked_against_this_machines_memory(seg, monkeypatch):
    from fcn_trt import preflight

    monkeypatch.setattr(preflight, "available_memory_bytes", lambda: 2 ** 20)  # a tiny client
    with fcn_trt.Segmenter(_Zeros(seg.metadata, computes_locally=False)) as s:
        assert s.run(np.zeros((2000, 2000, 3), np.uint8)).labels.shape == (2000, 2000)


def test_a_misspelt_server_option_is_a_config_error_before_connecting():
    with pytest.raises(ConfigError, match="did you mean 'timeout'") as exc:
        fcn_trt.Segmenter("grpc://127.0.0.1:1/seg", timout=3)  # nothing listens on port 1: never reached
    assert "triton backend options" in str(exc.value) and "url" not in str(exc.value).split("expected")[1]
