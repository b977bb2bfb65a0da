"""A careless, hostile user: every mistake gets a typed error that says what was expected and what
was found (or, where the input is legitimate, the correct result), never a raw traceback.

Each case names the exception type it must raise and words its message must contain. Cases about
metadata and sidecar fields live next to their modules (tests/fcn_trt/test_metadata.py,
tests/fcn_trt/test_sidecar.py); this file covers frames, model files, the command lines, sources
and lifecycles end to end.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import threading
from pathlib import Path

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")
onnx = pytest.importorskip("onnx")

import fcn_trt  # noqa: E402
from build_engine.pipeline import export_fcn_pipeline  # noqa: E402
from fcn_trt import errors  # noqa: E402
from fcn_trt.streaming.sources import RetryPolicy, open_source  # noqa: E402
from tests._helpers import raises_with, write_video  # noqa: E402

F = np.zeros((48, 64, 3), np.uint8)


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    from build_engine.fcn import structured_random_fcn_weights  # labels vary over the frame

    return export_fcn_pipeline(tmp_path_factory.mktemp("hostile") / "tiny.onnx", "fcn8s", 5, 16,
                               structured_random_fcn_weights("fcn8s", 5, 16), outputs=("labels", "logits"))


@pytest.fixture(scope="module")
def seg(model):
    with fcn_trt.Segmenter(model, threads=1) as s:
        yield s


def with_metadata(model: Path, out: Path, **changes) -> Path:
    """``model`` with its fcn_trt metadata JSON edited (what a hand-edited or foreign model looks like)."""
    m = onnx.load(str(model))
    for prop in m.metadata_props:
        if prop.key == "fcn_trt":
            d = json.loads(prop.value)
            d.update(changes)
            prop.value = json.dumps(d)
    onnx.save(m, str(out))
    return out


@contextlib.contextmanager
def raises(exc, *words):
    """A context manager asserting the exception type, that it is an FcnTrtError and that its message
    contains every word."""
    with raises_with(exc, *words) as info:
        yield info
    assert isinstance(info.value, errors.FcnTrtError), type(info.value)


# --- frames ---------------------------------------------------------------------------------------
class _Tensor:  # what a torch tensor looks like to the validator (a foreign type with a module)
    __module__ = "torch"


FRAMES = [
    ("none", None, errors.FrameTypeError, ["expected a numpy array", "found None", "read() returned ok=False"]),
    ("list", F.tolist(), errors.FrameTypeError, ["expected a numpy array", "found list"]),
    ("string", "img.png", errors.FrameTypeError, ["found str"]),
    ("bytes", F.tobytes(), errors.FrameTypeError, ["found bytes"]),
    ("torch", _Tensor(), errors.FrameTypeError, ["found _Tensor", "permute(1, 2, 0)"]),
    ("float32", F.astype(np.float32), errors.FrameDtypeError, ["expected uint8", "dtype float32", "0..1"]),
    ("float64", F.astype(np.float64), errors.FrameDtypeError, ["dtype float64"]),
    ("uint16", F.astype(np.uint16), errors.FrameDtypeError, ["dtype uint16", "astype(np.uint8)"]),
    ("int64", F.astype(np.int64), errors.FrameDtypeError, ["dtype int64"]),
    ("bool", F.astype(bool), errors.FrameDtypeError, ["dtype bool"]),
    ("gray", F[..., 0], errors.FrameShapeError, ["shape (H, W, 3)", "found shape (48, 64)", "GRAY2BGR"]),
    ("one_channel", F[..., :1], errors.FrameShapeError, ["found shape (48, 64, 1)", "single-channel"]),
    ("two_channels", F[..., :2], errors.FrameShapeError, ["found shape (48, 64, 2)", "YUYV"]),
    ("bgra", np.zeros((48, 64, 4), np.uint8), errors.FrameShapeError, ["found shape (48, 64, 4)", "BGRA2BGR"]),
    ("chw", np.zeros((3, 48, 64), np.uint8), errors.FrameShapeError, ["found shape (3, 48, 64)", "transpose"]),
    ("batch", F[None], errors.FrameShapeError, ["found shape (1, 48, 64, 3)", "run_batch"]),
    ("five_d", F[None, None], errors.FrameShapeError, ["found shape (1, 1, 48, 64, 3)", "one HxWx3"]),
    ("six_channels", np.zeros((48, 64, 6), np.uint8), errors.FrameShapeError, ["found shape (48, 64, 6)"]),
    ("zero_rows", np.zeros((0, 64, 3), np.uint8), errors.EmptyFrameError, ["empty array of shape (0, 64, 3)"]),
    ("zero_cols", np.zeros((48, 0, 3), np.uint8), errors.EmptyFrameError, ["empty array of shape (48, 0, 3)"]),
    ("scalar", np.uint8(3), errors.FrameTypeError, ["found uint8"]),
    ("zero_d", np.array(3, np.uint8), errors.FrameShapeError, ["found shape ()"]),
    ("huge", np.zeros((40000, 40000, 3), np.uint8), errors.FrameTooLargeError,
     ["frame of 40000x40000", "GiB", "fcn_trt.tiling.segment_tiled"]),
]


@pytest.mark.parametrize("frame,exc,words", [c[1:] for c in FRAMES], ids=[c[0] for c in FRAMES])
def test_bad_frame(seg, frame, exc, words):
    with raises(exc, "frame", *words):
        seg.run(frame)


def test_pil_image_hint_swaps_rgb_to_bgr(seg):
    Image = pytest.importorskip("PIL.Image")
    with raises(errors.FrameTypeError, "found Image", "COLOR_RGB2BGR"):
        seg.run(Image.new("RGB", (64, 48)))


BATCHES = [
    ("empty_list", [], errors.EmptyFrameError, ["expected at least one frame", "found an empty list"]),
    ("none_inside", [F, None], errors.FrameTypeError, ["frames[1]", "found None"]),
    ("float_inside", [F, F.astype(np.float32)], errors.FrameDtypeError, ["frames[1]", "dtype float32"]),
    ("mixed_sizes", [F, F[:40]], errors.FrameShapeError, ["frames of one size", "(40, 64, 3)", "(48, 64, 3)"]),
    ("dict", {"a": F}, errors.FrameTypeError, ["found dict"]),
    ("single_frame_array", F, errors.FrameShapeError, ["a batch of shape (N, H, W, 3)", "found shape (48, 64, 3)"]),
    ("none", None, errors.FrameTypeError, ["found None"]),
]


@pytest.mark.parametrize("frames,exc,words", [c[1:] for c in BATCHES], ids=[c[0] for c in BATCHES])
def test_bad_batch(seg, frames, exc, words):
    with raises(exc, *words):
        seg.run_batch(frames)


def test_views_and_odd_sizes_are_fine(seg):
    view = np.ascontiguousarray(np.zeros((97, 131, 3), np.uint8))[::-1, ::2]
    assert seg.run(view).labels.shape == view.shape[:2]
    assert seg.run(np.zeros((1, 1, 3), np.uint8)).labels.shape == (1, 1)


# --- model files ----------------------------------------------------------------------------------
def _model_case(tmp_path, model, case):
    if case == "garbage":
        p = tmp_path / "bad.onnx"
        p.write_bytes(b"\x00garbage" * 10)
        return fcn_trt.Segmenter(p)
    if case == "empty":
        p = tmp_path / "empty.onnx"
        p.write_bytes(b"")
        return fcn_trt.Segmenter(p)
    if case == "text_suffix":
        p = tmp_path / "model.txt"
        p.write_text("x")
        return fcn_trt.Segmenter(p)
    if case == "bare_network":
        from onnx import TensorProto, helper

        g = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.UINT8, [1, 4, 4, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.UINT8, [1, 4, 4, 3])])
        p = tmp_path / "bare.onnx"
        onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(p))
        return fcn_trt.Segmenter(p)
    if case == "nv12_on_bgr_graph":
        return fcn_trt.Segmenter(with_metadata(model, tmp_path / "nv12.onnx", input_format="nv12"))
    if case == "two_names_five_classes":
        return fcn_trt.Segmenter(with_metadata(model, tmp_path / "two.onnx", class_names=["a", "b"],
                                               palette=[[0, 0, 0], [1, 1, 1]]))
    if case == "palette_strings":
        return fcn_trt.Segmenter(with_metadata(model, tmp_path / "ps.onnx",
                                               palette=[["0", 0, 0]] * 5))
    if case == "class_names_int":
        return fcn_trt.Segmenter(with_metadata(model, tmp_path / "ci.onnx", class_names=5))
    if case == "confidence_declared_not_in_graph":
        return fcn_trt.Segmenter(with_metadata(model, tmp_path / "co.onnx", outputs=["labels", "confidence"]))
    raise AssertionError(case)


# Broken or foreign model files, each written by _model_case(tmp_path, model, case): (case, error, words).
MODEL_FILES = [
    ("garbage", errors.ModelFormatError, ["expected an ONNX model ONNX Runtime can load", "found"]),
    ("empty", errors.ModelFormatError, ["expected an ONNX model"]),
    ("text_suffix", errors.ConfigError, ["expected a .onnx pipeline graph", "found suffix .txt"]),
    ("bare_network", errors.MetadataError, ["has no fcn_trt pipeline metadata", "build_engine export --onnx"]),
    ("nv12_on_bgr_graph", errors.MetadataError,
     ["metadata input_format 'nv12'", "expected a graph input 'frame' of rank 3", "found shape"]),
    ("palette_strings", errors.MetadataError, ["palette[0][0]", "expected an integer 0..255", "found '0' (str)"]),
    ("class_names_int", errors.MetadataError, ["class_names", "found 5 (int)"]),
    ("two_names_five_classes", errors.MetadataError,
     ["class_names", "one name per class of the network (5", "found 2 names"]),
    ("confidence_declared_not_in_graph", errors.MetadataError,
     ["expected graph outputs ['labels', 'confidence']", "(no confidence)"]),
]

MODELS = [
    ("none", lambda t, m: fcn_trt.Segmenter(None), errors.ConfigTypeError, ["model: expected", "found None"]),
    ("int", lambda t, m: fcn_trt.Segmenter(5), errors.ConfigTypeError, ["found 5 (int)", "built-in name"]),
    ("float", lambda t, m: fcn_trt.Segmenter(3.5), errors.ConfigTypeError, ["found 3.5 (float)"]),
    ("list", lambda t, m: fcn_trt.Segmenter(["demo"]), errors.ConfigTypeError, ["found ['demo'] (list)"]),
    ("array", lambda t, m: fcn_trt.Segmenter(F), errors.ConfigTypeError, ["(ndarray)"]),
    ("empty_string", lambda t, m: fcn_trt.Segmenter(""), errors.ModelNotFoundError, ["found an empty string"]),
    ("folder", lambda t, m: fcn_trt.Segmenter(t), errors.ModelNotFoundError, ["found folder"]),
    ("missing", lambda t, m: fcn_trt.Segmenter(t / "missing.onnx"), errors.ModelNotFoundError, ["missing.onnx"]),
    ("typo_builtin", lambda t, m: fcn_trt.Segmenter("dmeo"), errors.ModelNotFoundError, ["found 'dmeo'", "demo"]),
] + [(case, functools.partial(_model_case, case=case), exc, words) for case, exc, words in MODEL_FILES] + [
    ("unknown_backend", lambda t, m: fcn_trt.Segmenter(m, backend="cuda"), errors.ConfigError,
     ["expected 'onnxruntime' or 'tensorrt'", "found 'cuda'"]),
    ("unknown_option", lambda t, m: fcn_trt.Segmenter(m, thread=2), errors.ConfigError,
     ["unknown option 'thread'", "did you mean 'threads'"]),
    ("threads_negative", lambda t, m: fcn_trt.Segmenter(m, threads=-1), errors.ConfigError,
     ["threads: expected an integer in 0..1024", "found -1"]),
    ("threads_string", lambda t, m: fcn_trt.Segmenter(m, threads="2"), errors.ConfigTypeError, ["found '2' (str)"]),
    ("threads_bool", lambda t, m: fcn_trt.Segmenter(m, threads=True), errors.ConfigTypeError, ["found True (bool)"]),
    ("threads_huge", lambda t, m: fcn_trt.Segmenter(m, threads=10 ** 6), errors.ConfigError, ["found 1000000"]),
    ("providers_int", lambda t, m: fcn_trt.Segmenter(m, providers=5), errors.ConfigTypeError, ["providers", "5 (int)"]),
    ("provider_missing", lambda t, m: fcn_trt.Segmenter(m, providers="TensorrtExecutionProviderX"),
     errors.BackendUnavailableError, ["found TensorrtExecutionProviderX"]),
]


@pytest.mark.parametrize("make,exc,words", [c[1:] for c in MODELS], ids=[c[0] for c in MODELS])
def test_bad_model(tmp_path, model, make, exc, words):
    with raises(exc, *words):
        make(tmp_path, model)


def test_labels_beyond_the_class_names_are_refused_not_invented(tmp_path, model):
    """A labels-only graph gives no class count at load: the first result tells (no 'class_2' invented)."""
    m = onnx.load(str(model))
    keep = [o for o in m.graph.output if o.name == "labels"]
    del m.graph.output[:]
    m.graph.output.extend(keep)
    for prop in m.metadata_props:
        if prop.key == "fcn_trt":
            d = json.loads(prop.value)
            d.update(class_names=["a", "b"], palette=[[0, 0, 0], [9, 9, 9]], outputs=["labels"])
            prop.value = json.dumps(d)
    onnx.save(m, str(tmp_path / "labels_only.onnx"))
    rng = np.random.default_rng(0)
    with fcn_trt.Segmenter(tmp_path / "labels_only.onnx", threads=1) as s:
        with raises(errors.MetadataError, "a name for every class id", "with 2 names"):
            for _ in range(8):  # random frames: some pixel gets a class id >= 2
                s.run(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))


def test_errors_are_caught_by_their_builtin_kind(tmp_path):
    with pytest.raises(ValueError):
        _model_case(tmp_path, None, "garbage")
    with pytest.raises(OSError):
        fcn_trt.Segmenter(tmp_path / "missing.onnx")
    with pytest.raises(TypeError):
        fcn_trt.Segmenter(None)


# --- command lines --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    frames = [np.full((48, 64, 3), 40 * i, np.uint8) for i in range(6)]
    return write_video(tmp_path_factory.mktemp("clip") / "clip.avi", frames)


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("images")
    for name in ("a.png", "b.png"):
        cv2.imwrite(str(d / name), F)
    return d


def fcn_trt_cli(capsys, *args):
    from fcn_trt.cli import main

    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


def build_cli(capsys, *args):
    from build_engine.cli import main

    try:
        code = main([str(a) for a in args])
    except SystemExit as e:  # argparse: usage + one error line, exit 2
        code = e.code
    return code, capsys.readouterr().err


CLI = [
    ("video_to_png", lambda m, c, i, t: ("run", m, "-i", c, "-o", t / "out.png"), 2,
     ["output for a video input: expected a video file (.mp4, .avi)", "out.png"]),
    ("video_to_xyz", lambda m, c, i, t: ("run", m, "-i", c, "-o", t / "o.xyz"), 2, ["expected a video file"]),
    ("video_to_folder", lambda m, c, i, t: ("run", m, "-i", c, "-o", t / "outdir"), 2, ["expected a video file"]),
    ("image_to_xyz", lambda m, c, i, t: ("run", m, "-i", i / "a.png", "-o", t / "o.xyz"), 2,
     ["expected an image file", "(unknown suffix)"]),
    ("image_to_mp4", lambda m, c, i, t: ("run", m, "-i", i / "a.png", "-o", t / "o.mp4"), 2,
     ["(a video name for image input)"]),
    ("images_to_png", lambda m, c, i, t: ("run", m, "-i", i, "-o", t / "o.png"), 2,
     ["output for 2 input images: expected a folder", "image file name"]),
    ("alpha", lambda m, c, i, t: ("run", m, "-i", i / "a.png", "-o", t / "o.png", "--alpha", "3"), 2,
     ["--alpha: expected a value in [0, 1], found 3.0"]),
    ("missing_input", lambda m, c, i, t: ("run", m, "-i", t / "nothing.png", "-o", t / "o.png"), 7,
     ["nothing.png: expected an image, a folder of images or a glob", "found no such file or folder"]),
    ("missing_model", lambda m, c, i, t: ("run", t / "no.onnx", "-i", i, "-o", t / "o"), 3, ["model", "no.onnx"]),
    ("profile_huge_size", lambda m, c, i, t: ("profile", m, "--size", "99999x99999", "--no-progress"), 2,
     ["99999x99999", "GiB", "profile a smaller --size or --batch"]),
    ("profile_frames_1e12", lambda m, c, i, t: ("profile", m, "--frames", str(10 ** 12), "--no-progress"), 2,
     ["expected frames 1..10000000", "found frames=1000000000000"]),
    ("profile_batch_0", lambda m, c, i, t: ("profile", m, "--batch", "0", "--no-progress"), 2, ["batch=0"]),
    ("profile_warmup_negative", lambda m, c, i, t: ("profile", m, "--warmup", "-1", "--no-progress"), 2,
     ["warmup=-1"]),
    ("profile_size_text", lambda m, c, i, t: ("profile", m, "--size", "big", "--no-progress"), 2,
     ["--size: expected HxW", "with positive integers", "found 'big'"]),
    ("demo_frames_1e12", lambda m, c, i, t: ("demo", "--frames", str(10 ** 12), "--out", t / "d"), 2,
     ["expected a number of frames in 1..100000"]),
    ("demo_size", lambda m, c, i, t: ("demo", "--size", "99999x99999", "--out", t / "d"), 2,
     ["--size: expected H and W between"]),
    ("inspect_missing", lambda m, c, i, t: ("inspect", t / "x.engine"), 3, ["expected an existing engine file"]),
]


@pytest.mark.parametrize("args,code,words", [c[1:] for c in CLI], ids=[c[0] for c in CLI])
def test_fcn_trt_cli_mistake_is_one_line(capsys, tmp_path, model, clip, images, args, code, words):
    rc, err = fcn_trt_cli(capsys, *args(model, clip, images, tmp_path))
    assert rc == code, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and re.match(r"fcn-trt( \w+)?: error: ", lines[0]), err
    for w in words:
        assert w in lines[0], (w, lines[0])
    assert not (tmp_path / "o.xyz").exists() and not (tmp_path / "o.png").is_dir()  # no silent folder


SIDECAR_EDITS = [
    ("compute_capability_87", {"compute_capability": 87}, ["engine.compute_capability", "87 (int)"]),
    ("tensorrt_version_ten", {"tensorrt_version": "ten"}, ["engine.tensorrt_version", "'ten' (str)"]),
    ("gpu_name_list", {"gpu_name": ["Orin"]}, ["engine.gpu_name", "expected a string"]),
    ("profiles_text", {"profiles": "1x480x640"}, ["engine.profiles", "expected a JSON object"]),
    ("build_flags_list", {"build_flags": ["fp16"]}, ["engine.build_flags", "expected a JSON object"]),
]


@pytest.mark.parametrize("edit,words", [c[1:] for c in SIDECAR_EDITS], ids=[c[0] for c in SIDECAR_EDITS])
def test_inspect_never_tracebacks_on_a_bad_sidecar(capsys, tmp_path, edit, words):
    from fcn_trt.metadata import PipelineMetadata
    from fcn_trt.sidecar import EngineInfo, EngineSidecar

    side = EngineSidecar(
        pipeline=PipelineMetadata(class_names=("bg", "fg"), palette=((0, 0, 0), (255, 0, 0))),
        engine=EngineInfo(tensorrt_version="10.3.0", gpu_name="Orin", compute_capability="8.7", precision="fp16",
                          onnx_sha256="0" * 64),
    ).to_dict()
    side["engine"].update(edit)
    (tmp_path / "m.engine").write_bytes(b"plan")
    (tmp_path / "m.engine.json").write_text(json.dumps(side))
    rc, err = fcn_trt_cli(capsys, "inspect", tmp_path / "m.engine", "--no-tensors")
    assert rc == errors.EngineCorruptError("x").exit_code
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    for w in words:
        assert w in err, (w, err)


def test_run_fails_when_the_video_writer_drops_frames(capsys, tmp_path, model, clip, monkeypatch):
    real = cv2.VideoWriter

    class LossyWriter:
        def __init__(self, *a):
            self._w = real(*a)
            self._n = 0

        def isOpened(self):
            return self._w.isOpened()

        def write(self, img):  # OpenCV's writer fails silently per frame (a full disk, a codec error)
            self._n += 1
            if self._n <= 2:
                self._w.write(img)

        def release(self):
            self._w.release()

    monkeypatch.setattr(cv2, "VideoWriter", LossyWriter)
    rc, err = fcn_trt_cli(capsys, "run", model, "-i", clip, "-o", tmp_path / "out.avi")
    assert rc == errors.SourceError("x").exit_code, err
    assert "expected 6 frames written, found 2 frames in it" in err


def test_run_video_to_video_writes_every_frame(capsys, tmp_path, model, clip):
    rc, err = fcn_trt_cli(capsys, "run", model, "-i", clip, "-o", tmp_path / "out.mp4")
    assert rc == 0, err
    cap = cv2.VideoCapture(str(tmp_path / "out.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 6
    cap.release()


EXPORT = [
    ("num_classes_0", ["--num-classes", "0"], ["--num-classes: expected an integer in 1..256, found 0"]),
    ("num_classes_300", ["--num-classes", "300"], ["expected an integer in 1..256, found 300"]),
    ("num_classes_text", ["--num-classes", "many"], ["expected an integer in 1..256, found 'many'"]),
    ("width_divisor_0", ["--width-divisor", "0"], ["--width-divisor: expected an integer in 1..64, found 0"]),
    ("width_divisor_negative", ["--width-divisor", "-8"], ["found -8"]),
    ("palette_missing_file", ["--palette", "colours.txt"],
     ["--palette: expected voc, cityscapes or an existing file", "found 'colours.txt' (no such file)"]),
    ("palette_unknown_name", ["--palette", "ade20k"], ["found 'ade20k' (no such file)"]),
    ("class_names_missing_file", ["--class-names", "names.txt"],
     ["--class-names: expected comma-separated names or an existing file", "'names.txt' (no such file)"]),
    ("class_names_empty", ["--class-names", ",,"], ["--class-names: expected at least one name"]),
    ("size_text", ["--size", "big"], ["--size: expected HxW"]),
]


@pytest.mark.parametrize("args,words", [c[1:] for c in EXPORT], ids=[c[0] for c in EXPORT])
def test_export_refuses_nonsense_before_writing(capsys, tmp_path, monkeypatch, args, words):
    monkeypatch.chdir(tmp_path)
    rc, err = build_cli(capsys, "export", "--width-divisor", "16", *args, "--out", tmp_path / "x.onnx")
    assert rc == 2, err
    assert "Traceback" not in err and err.strip().splitlines()[-1].count("error") == 1
    for w in words:
        assert w in err, (w, err)
    assert not (tmp_path / "x.onnx").exists()


def test_export_palette_file_is_checked_line_by_line(capsys, tmp_path):
    pal = tmp_path / "pal.txt"
    pal.write_text("0,0,0\n255,0,300\n")
    rc, err = build_cli(capsys, "export", "--width-divisor", "16", "--num-classes", "2", "--palette", pal,
                        "--out", tmp_path / "x.onnx")
    assert rc == 2 and "line 2: expected 'R,G,B' with integers 0..255, found '255,0,300'" in err, err


# --- sources and streams --------------------------------------------------------------------------
class DeadCamera:
    def __init__(self, frames: int) -> None:
        self.left = frames

    def read(self):
        self.left -= 1
        return (True, F) if self.left >= 0 else (False, None)


class ClosedCapture:
    def isOpened(self):
        return False

    def read(self):
        return False, None


SOURCES = [
    ("bool", lambda t: open_source(True), errors.ConfigError, ["source: expected a camera index", "found True"]),
    ("array", lambda t: open_source(F), errors.ConfigError, ["found a numpy array", "Segmenter.run(frame)"]),
    ("object", lambda t: open_source(object()), errors.ConfigError, ["found object"]),
    ("missing_file", lambda t: open_source(t / "clip.mp4"), errors.SourceOpenError, ["no such file or folder"]),
    ("empty_folder", lambda t: open_source(t), errors.SourceOpenError, ["found no image files"]),
    ("glob_nothing", lambda t: open_source(str(t / "*.png")), errors.SourceOpenError, ["found no matches"]),
    ("synthetic_seed", lambda t: open_source("synthetic:abc"), errors.ConfigError,
     ["expected 'synthetic' or 'synthetic:SEED'", "found 'synthetic:abc'"]),
    ("closed_capture", lambda t: open_source(ClosedCapture()), errors.SourceOpenError,
     ["expected an opened capture", "isOpened() is False"]),
    ("retry_negative", lambda t: RetryPolicy(max_retries=-1), errors.ConfigError, ["an integer >= 0", "found -1"]),
    ("retry_backoff", lambda t: RetryPolicy(backoff=0.5), errors.ConfigError, ["backoff >= 1", "backoff=0.5"]),
]


@pytest.mark.parametrize("make,exc,words", [c[1:] for c in SOURCES], ids=[c[0] for c in SOURCES])
def test_bad_source(tmp_path, make, exc, words):
    with raises(exc, *words):
        make(tmp_path)


STREAM_OPTIONS = [
    ("max_frames_0", {"max_frames": 0}, ["max_frames: expected a positive integer or None", "found 0"]),
    ("max_frames_float", {"max_frames": 2.5}, ["found 2.5"]),
    ("queue_size_0", {"queue_size": 0}, ["queue_size: expected a positive integer", "found 0"]),
    ("in_flight_3", {"in_flight": 3}, ["in_flight: expected 1 or 2", "found 3"]),
    ("on_source_error", {"on_source_error": "ignore"}, ["expected 'raise' or 'stop'", "found 'ignore'"]),
    ("stall_timeout_0", {"stall_timeout_s": 0}, ["stall_timeout_s: expected a positive number", "found 0"]),
    ("transform_string", {"transform": "rgb"}, ["transform: expected a function", "found str"]),
]


@pytest.mark.parametrize("options,words", [c[1:] for c in STREAM_OPTIONS], ids=[c[0] for c in STREAM_OPTIONS])
def test_bad_stream_option(seg, options, words):
    with raises(errors.ConfigError, *words):
        seg.stream([F], **options)


def test_none_inside_a_list_of_frames_is_an_error_not_an_end(seg):
    results = []
    with raises(errors.FrameTypeError, "frames[1]", "found None", "f is not None"):
        for r in seg.stream([F, None, F]):
            results.append(r)
    assert len(results) <= 1


def test_capture_of_a_video_file_is_read_in_order_to_its_end(seg, clip):
    cap = cv2.VideoCapture(str(clip))
    try:
        with seg.stream(cap) as frames:
            seqs = [r.sequence for r in frames]
            assert not frames.live and frames.end_reason == "end of source"
    finally:
        cap.release()
    assert seqs == list(range(6))


def test_dead_live_camera_is_a_source_ended_error_after_its_frames(seg):
    got = []
    with raises(errors.SourceEndedError, "expected frames from a live source", "after 3 frames", "RetryPolicy"):
        for r in seg.stream(DeadCamera(3)):
            got.append(r)
    assert 1 <= len(got) <= 3


# --- lifecycle ------------------------------------------------------------------------------------
def test_everything_after_close_is_a_closed_error(model):
    s = fcn_trt.Segmenter(model, threads=1)
    s.close()
    s.close()  # idempotent
    for call in (lambda: s.run(F), lambda: s.run_batch([F]), lambda: s.metadata, lambda: s.stream([F])):
        with raises(errors.ClosedError, "Segmenter: expected an open Segmenter", "found it was closed"):
            call()
    assert repr(s) == "Segmenter(closed)"


def test_break_out_of_a_stream_joins_its_threads(seg):
    for i, _ in enumerate(seg.stream([F] * 20)):
        if i == 2:
            break
    import gc

    gc.collect()
    deadline = threading.Event()
    for _ in range(100):
        if not [t for t in threading.enumerate() if t.name.startswith("fcn_trt-")]:
            break
        deadline.wait(0.05)
    assert not [t.name for t in threading.enumerate() if t.name.startswith("fcn_trt-")]


def test_stream_close_twice_and_iterate_after_close(seg):
    s = seg.stream([F] * 5)
    next(s)
    s.close()
    s.close()
    assert s.closed and s.end_reason == "closed"
    with pytest.raises(StopIteration):
        next(s)


def test_unclosed_segmenter_warns(model):
    s = fcn_trt.Segmenter(model, threads=1)
    with pytest.warns(ResourceWarning, match="Segmenter was not closed"):
        s.__del__()
    s.close()


def test_export_palette_of_the_wrong_length_writes_nothing(capsys, tmp_path):
    pal = tmp_path / "pal.txt"
    pal.write_text("0,0,0\n255,0,0\n0,255,0\n")
    out = tmp_path / "x.onnx"
    rc, err = build_cli(capsys, "export", "--width-divisor", "16", "--num-classes", "2", "--palette", pal, "--out", out)
    assert rc == 2 and "expected one colour per class (2 lines), found 3 lines" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pal.txt"]  # neither the output nor a staged file
    pal.write_text("0,0,0\n255,0,0\n")
    rc, err = build_cli(capsys, "export", "--width-divisor", "16", "--num-classes", "2", "--palette", pal, "--out", out)
    assert rc == 0, err
    import onnx

    from fcn_trt.metadata import read_model_metadata

    assert read_model_metadata(onnx.load(str(out))).palette == ((0, 0, 0), (255, 0, 0))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pal.txt", "x.onnx"]
