"""Real GStreamer pipelines (videotestsrc, a file through filesrc) through fcn_trt's sources and streams.

They need an OpenCV built with GStreamer, which pip's opencv-python(-headless) wheels never are:
.ci/gstreamer.sh installs Debian's python3-opencv and gstreamer1.0-* packages and runs this file in
a venv made with --system-site-packages from Debian's python3, so that it sees Debian's cv2.
Elsewhere every test here is skipped, with that reason.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2", reason="OpenCV is not installed")

import fcn_trt  # noqa: E402
from fcn_trt.errors import SourceEndedError, SourceOpenError  # noqa: E402
from fcn_trt.streaming.sources import gstreamer_available, missing_gst_elements, open_source, rtsp_pipeline  # noqa: E402
from tests._helpers import write_video  # noqa: E402

pytestmark = pytest.mark.skipif(
    not gstreamer_available(),
    reason="this cv2 (%s, %s) has no GStreamer; run .ci/gstreamer.sh (Debian python3-opencv + gstreamer1.0-*)"
    % (cv2.__version__, cv2.__file__),
)

CAMERA = ("videotestsrc is-live=true pattern=ball ! video/x-raw,width=64,height=48,framerate=30/1 ! videoconvert ! "
          "video/x-raw,format=BGR ! appsink drop=true max-buffers=1 sync=false")


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A 90-frame MJPG .avi whose frame i is filled with the value 2i (so order and loss are visible)."""
    frames = [np.full((48, 64, 3), 2 * i, np.uint8) for i in range(90)]
    return write_video(tmp_path_factory.mktemp("gst") / "clip90.avi", frames)


def test_live_test_source_streams_through_a_segmenter():
    with fcn_trt.Segmenter("demo") as seg:
        with seg.stream(CAMERA, max_frames=8) as frames:
            results = list(frames)
            assert frames.live and frames.source.name == "GStreamer pipeline"
    assert len(results) == 8
    assert all(r.frame.shape == (48, 64, 3) and r.labels.shape == (48, 64) for r in results)
    seqs = [r.sequence for r in results]
    assert seqs == sorted(set(seqs))  # newest wins: increasing, gaps are dropped frames


def test_end_of_a_live_pipeline_is_a_source_ended_error():
    src = open_source(CAMERA.replace("is-live=true", "is-live=true num-buffers=5"))
    with src, pytest.raises(SourceEndedError) as info:
        while src.read() is not None:
            pass
    assert "expected frames from a live source" in str(info.value) and "GStreamer pipeline" in str(info.value)


def test_file_pipeline_with_drop_true_keeps_every_frame_in_order(clip):
    # drop=true is right for a camera and wrong for a file: appsink throws away frames the reader
    # has not taken yet (88 of 90 were lost before the fix); a filesrc pipeline keeps them all.
    pipeline = (f"filesrc location={clip} ! avidemux ! jpegdec ! videoconvert ! video/x-raw,format=BGR ! "
                "appsink drop=true max-buffers=1 sync=false")
    src = open_source(pipeline)
    assert not src.live and src.finite and src.name == "GStreamer pipeline (file)"
    values = []
    with src:
        while True:
            frame = src.read()
            if frame is None:
                break
            values.append(int(np.median(frame)))
    assert len(values) == 90
    assert all(abs(v - 2 * i) <= 3 for i, v in enumerate(values)), values  # in order (JPEG error <= 3)


def test_file_pipeline_streams_every_frame(clip):
    pipeline = f"filesrc location={clip} ! avidemux ! jpegdec ! videoconvert ! video/x-raw,format=BGR ! appsink"
    with fcn_trt.Segmenter("demo") as seg:
        with seg.stream(pipeline) as frames:
            seqs = [r.sequence for r in frames]
            assert frames.end_reason == "end of source"
    assert seqs == list(range(90))


def test_missing_element_is_named():
    with pytest.raises(SourceOpenError) as info:
        open_source("videotestsrc ! fcntrtnosuchelement ! videoconvert ! appsink")
    e = info.value
    assert e.expected == "a pipeline GStreamer can start"
    assert e.found == "missing element fcntrtnosuchelement" and "gst-inspect-1.0" in e.hint


@pytest.mark.skipif(shutil.which("gst-inspect-1.0") is None, reason="gst-inspect-1.0 (gstreamer1.0-tools) missing")
def test_rtsp_pipeline_names_the_decoder_plugins_this_machine_lacks():
    pipeline = rtsp_pipeline("rtsp://127.0.0.1:9/none")  # nothing listens on port 9 (discard)
    missing = missing_gst_elements(pipeline)
    with pytest.raises(SourceOpenError) as info:
        open_source(pipeline)
    if missing:  # e.g. h264parse (plugins-bad) and avdec_h264 (gstreamer1.0-libav) not installed
        assert info.value.found.startswith("missing element") and all(m in info.value.found for m in missing)
    else:
        assert info.value.found == "cv2.VideoCapture could not open it"
