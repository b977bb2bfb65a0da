"""Frame sources: specs, files, folders, globs, reader objects, failures, reconnects."""

from __future__ import annotations

import dataclasses
import threading
import time

import cv2
import numpy as np
import pytest

from fcn_trt.errors import ConfigError, FcnTrtError, SourceEndedError, SourceOpenError
from fcn_trt.streaming.sources import (
    RetryPolicy,
    Source,
    jetson_csi_pipeline,
    open_source,
    rtsp_pipeline,
)
from tests._helpers import write_video


def _frame(i: int, h: int = 48, w: int = 64) -> np.ndarray:
    f = np.zeros((h, w, 3), np.uint8)
    f[:, : (i * 7) % w] = 200  # a bar whose width encodes the index (survives lossy codecs)
    return f


def _bar(frame: np.ndarray) -> int:
    return int((frame[frame.shape[0] // 2, :, 1] > 100).sum())


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    return write_video(tmp_path_factory.mktemp("src") / "clip.mp4", [_frame(i) for i in range(12)], fourcc="mp4v")


@pytest.fixture()
def folder(tmp_path):
    for i in (3, 1, 2):
        cv2.imwrite(str(tmp_path / f"img_{i}.png"), _frame(i))
    (tmp_path / "notes.txt").write_text("not an image")
    return tmp_path


def _read_all(src: Source) -> list:
    frames = []
    while True:
        f = src.read()
        if f is None:
            return frames
        frames.append(f)


def test_video_file_every_frame_in_order(video):
    with open_source(str(video)) as src:
        assert not src.live and src.fps == pytest.approx(30.0)
        frames = _read_all(src)
    assert len(frames) == 12
    assert [_bar(f) for f in frames] == [(i * 7) % 64 for i in range(12)]
    assert src.closed


def test_folder_sorted_images_only(folder):
    with open_source(folder) as src:
        frames = _read_all(src)
    assert [_bar(f) for f in frames] == [7, 14, 21]


def test_glob_and_single_image(folder):
    with open_source(str(folder / "img_[12].png")) as src:
        assert [_bar(f) for f in _read_all(src)] == [7, 14]
    with open_source(folder / "img_3.png") as src:
        assert [_bar(f) for f in _read_all(src)] == [21]


@pytest.mark.parametrize(
    "spec,match",
    [
        ("/nonexistent/clip.mp4", "no such file"),
        ("/nonexistent/*.png", "no matches"),
        ("57", "camera 57"),
        ("/dev/video57", "camera /dev/video57"),
        ("rtsp://127.0.0.1:9/stream", "rtsp://127.0.0.1:9/stream"),
    ],
)
def test_unopenable_sources_raise_source_open_error(spec, match):
    with pytest.raises(SourceOpenError, match=match) as info:
        open_source(spec, timeout_s=1.0)
    assert "Hint:" in str(info.value) or "expected" in str(info.value)


def test_url_credentials_are_not_in_messages():
    with pytest.raises(SourceOpenError) as info:
        open_source("rtsp://admin:secret@127.0.0.1:9/stream", timeout_s=1.0)
    assert "secret" not in str(info.value)


def test_empty_folder_and_broken_video(tmp_path):
    with pytest.raises(SourceOpenError, match="no image files"):
        open_source(tmp_path)
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all")
    with pytest.raises(SourceOpenError, match="bad.mp4"):
        open_source(bad)


def test_gstreamer_pipeline_without_gstreamer_is_a_clear_error(monkeypatch):
    import fcn_trt.streaming.sources as sources

    monkeypatch.setattr(sources, "gstreamer_available", lambda: False)  # what pip's cv2 wheels say
    with pytest.raises(SourceOpenError) as info:
        open_source("videotestsrc ! videoconvert ! appsink")
    e = info.value
    assert e.expected == "an OpenCV built with GStreamer" and "says GStreamer: NO" in e.found
    assert "pip uninstall opencv-python-headless" in e.hint and "--system-site-packages" in e.hint


@pytest.mark.parametrize("pipeline,reads_file", [
    ("filesrc location=a.mp4 ! qtdemux ! avdec_h264 ! videoconvert ! appsink", True),
    ("uridecodebin uri=file:///videos/a.mp4 ! videoconvert ! appsink", True),
    ("multifilesrc location=img%05d.png ! pngdec ! videoconvert ! appsink", True),
    ("videotestsrc ! videoconvert ! appsink", False),
    ("rtspsrc location=rtsp://cam/file.mp4 ! rtph264depay ! appsink", False),
    ("uridecodebin uri=http://host/file.mp4 ! appsink", False),
])
def test_gstreamer_file_pipelines_are_recognised(pipeline, reads_file):
    from fcn_trt.streaming.sources import gst_pipeline_reads_file

    assert gst_pipeline_reads_file(pipeline) is reads_file


def test_pipeline_helpers():
    csi = jetson_csi_pipeline(sensor_id=1, width=1920, height=1080, fps=60, flip=2)
    assert csi.startswith("nvarguscamerasrc sensor-id=1 ")
    assert "framerate=60/1" in csi and "flip-method=2" in csi and "format=BGR !" in csi
    assert csi.endswith("appsink drop=true max-buffers=1 sync=false")
    assert "format=NV12 ! appsink" in jetson_csi_pipeline(output="nv12")
    rtsp = rtsp_pipeline("rtsp://cam/1", latency_ms=0)
    assert "rtspsrc location=rtsp://cam/1 latency=0" in rtsp and "drop=true max-buffers=1" in rtsp
    assert "nvv4l2decoder" in rtsp_pipeline("rtsp://cam/1", codec="h265", jetson=True)
    with pytest.raises(ConfigError):
        rtsp_pipeline("rtsp://cam/1", codec="vp9")
    with pytest.raises(ConfigError):
        jetson_csi_pipeline(output="rgb")


@dataclasses.dataclass(eq=False)
class FakeCamera:
    """A cv2.VideoCapture look-alike: frames until ``fail_after``, then ok=False ``fail_times`` times."""

    fail_after: int = 10 ** 9
    fail_times: int = 10 ** 9
    raise_error: bool = False
    n: int = dataclasses.field(default=0, init=False)
    fails: int = dataclasses.field(default=0, init=False)
    released: bool = dataclasses.field(default=False, init=False)

    def read(self):
        if self.n >= self.fail_after and self.fails < self.fail_times:
            self.fails += 1
            if self.raise_error:
                raise OSError("device unplugged")
            return False, None
        self.n += 1
        return True, _frame(self.n)

    def release(self):
        self.released = True


def test_reader_object_is_live_and_not_released_by_default():
    cam = FakeCamera()
    src = open_source(cam)
    assert src.live and src.name == "FakeCamera"
    assert src.read() is not None and src.frames_read == 1
    src.close()
    assert not cam.released
    assert src.read() is None
    owned = FakeCamera()
    open_source(owned, release=True).close()
    assert owned.released


@pytest.mark.parametrize("raise_error", [False, True])
def test_dead_live_source_raises_source_ended_with_reason(raise_error):
    src = open_source(FakeCamera(fail_after=3, raise_error=raise_error))
    for _ in range(3):
        assert src.read() is not None
    with pytest.raises(SourceEndedError) as info:
        src.read()
    msg = str(info.value)
    assert "after 3 frames" in msg and "RetryPolicy" in msg
    if raise_error:
        assert "device unplugged" in msg


def test_retry_policy_reconnects_transient_failures():
    cam = FakeCamera(fail_after=2, fail_times=2)
    src = open_source(cam, retry=RetryPolicy(max_retries=3, delay_s=0.0))
    frames = [src.read() for _ in range(4)]
    assert all(f is not None for f in frames)
    assert src.reconnects == 1 and cam.fails == 2


def test_retry_policy_gives_up_after_max_retries():
    src = open_source(FakeCamera(fail_after=0), retry=RetryPolicy(max_retries=2, delay_s=0.0))
    with pytest.raises(SourceEndedError, match="2 reconnect attempts"):
        src.read()


def test_reconnect_reopens_spec_sources(video):
    # A file opened as a live source reconnects by reopening the file: it starts over.
    src = open_source(str(video), live=True, retry=RetryPolicy(max_retries=1, delay_s=0.0))
    frames = [src.read() for _ in range(14)]
    src.close()
    assert all(f is not None for f in frames) and src.reconnects == 1
    assert _bar(frames[12]) == _bar(frames[0])


def test_close_interrupts_a_reconnect_wait():
    src = open_source(FakeCamera(fail_after=0), retry=RetryPolicy(max_retries=3, delay_s=30.0))
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("frame", src.read()))
    t.start()
    time.sleep(0.1)
    t0 = time.perf_counter()
    src.close()
    t.join(2.0)
    assert not t.is_alive() and time.perf_counter() - t0 < 1.0
    assert out["frame"] is None


def test_retry_policy_validation_and_delays():
    assert list(RetryPolicy(max_retries=4, delay_s=1.0, backoff=3.0, max_delay_s=5.0).delays()) == [1.0, 3.0, 5.0, 5.0]
    for bad in (dict(max_retries=-1), dict(delay_s=-1.0), dict(backoff=0.5), dict(max_retries=True)):
        with pytest.raises(ConfigError):
            RetryPolicy(**bad)
    with pytest.raises(Exception):
        RetryPolicy().max_retries = 3  # frozen


def test_lists_and_generators_of_frames():
    frames = [_frame(i) for i in range(3)]
    with open_source(frames) as src:
        assert not src.live
        assert len(_read_all(src)) == 3
    with open_source(iter(frames), live=True) as src:
        assert src.live


@pytest.mark.parametrize("bad", [True, 3.5, np.zeros((4, 4, 3), np.uint8), object()])
def test_unusable_source_objects_raise_config_error(bad):
    with pytest.raises(FcnTrtError):
        open_source(bad)


def test_synthetic_camera_is_paced_and_live():
    with open_source("synthetic:3", width=64, height=48, fps=50) as src:
        assert src.live and src.fps == 50
        t0 = time.perf_counter()
        frames = [src.read() for _ in range(4)]
        elapsed = time.perf_counter() - t0
    assert all(f.shape == (48, 64, 3) for f in frames)
    assert elapsed >= 3 / 50 * 0.9


def test_to_input_format_nv12_matches_opencv_i420():
    from fcn_trt.streaming.sources import to_input_format

    rng = np.random.default_rng(0)
    bgr = cv2.GaussianBlur(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8), (7, 7), 0)
    nv12 = to_input_format(bgr, "nv12")
    assert nv12.shape == (72, 64) and nv12.dtype == np.uint8
    via_i420 = cv2.cvtColor(cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420), cv2.COLOR_YUV2BGR_I420)
    assert np.array_equal(cv2.cvtColor(nv12, cv2.COLOR_YUV2BGR_NV12), via_i420)
    assert np.array_equal(to_input_format(bgr, "rgb"), bgr[..., ::-1])
    assert to_input_format(bgr, "bgr") is bgr
    with pytest.raises(ConfigError, match="even"):
        to_input_format(bgr[:47], "nv12")
    with pytest.raises(ConfigError):
        to_input_format(bgr, "yuv")
