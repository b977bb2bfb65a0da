"""Smoke tests of samples/: each runs in a subprocess on a tiny generated model and video."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from build_engine.pipeline import export_fcn_pipeline

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"


def _run(script: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    # PYTHONPATH stands in for `pip install .`: the samples import the package, no sys.path hacks.
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, str(SAMPLES / script), *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=str(REPO))


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    d = tmp_path_factory.mktemp("samples")
    model = export_fcn_pipeline(d / "tiny.onnx", "fcn8s", num_classes=5, width_divisor=16)
    video = d / "in.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (64, 48))
    rng = np.random.default_rng(0)
    for _ in range(8):
        writer.write(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
    writer.release()
    return {"dir": d, "model": str(model), "video": str(video)}


def _count_frames(path) -> int:
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n


@pytest.mark.parametrize("script,option", [
    ("live_camera.py", "--headless"), ("segment_video.py", "--smooth"), ("profile_device.py", "--iters"),
])
def test_help(script, option):
    proc = _run(script, "--help")
    assert proc.returncode == 0, proc.stderr
    assert option in proc.stdout and "--model" in proc.stdout and "Examples:" in proc.stdout


def test_samples_do_not_touch_sys_path():
    for script in ("live_camera.py", "segment_video.py", "profile_device.py"):
        text = (SAMPLES / script).read_text()
        assert "sys.path" not in text and "import fcn_trt" in text


def test_live_camera_headless_on_a_fake_camera(assets):
    out = assets["dir"] / "live.mp4"
    proc = _run("live_camera.py", "--model", assets["model"], "--source", assets["video"], "--headless",
                "--output", str(out), "--max-frames", "4", "--smooth", "ema")
    assert proc.returncode == 0, proc.stderr
    assert "frames" in proc.stdout and "frame age ms" in proc.stdout
    assert 1 <= _count_frames(out) <= 4


def test_live_camera_bad_source_is_a_clear_error(assets):
    proc = _run("live_camera.py", "--model", assets["model"], "--source", "/dev/video57", "--headless",
                "--output", str(assets["dir"] / "x.mp4"))
    assert proc.returncode == 7
    assert proc.stderr.startswith("error: camera /dev/video57") and "Traceback" not in proc.stderr


def test_segment_video_every_frame(assets):
    out = assets["dir"] / "seg.mp4"
    proc = _run("segment_video.py", assets["video"], str(out), "--model", assets["model"], "--mode", "side-by-side")
    assert proc.returncode == 0, proc.stderr
    assert "8 frames" in proc.stdout
    assert _count_frames(out) == 8
    cap = cv2.VideoCapture(str(out))
    assert int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) == 128
    cap.release()


def test_profile_device_writes_percentiles(assets):
    out = assets["dir"] / "profile.json"
    proc = _run("profile_device.py", "--model", assets["model"], "--size", "48x64", "--size", "32x32",
                "--warmup", "1", "--iters", "5", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert [r["size"] for r in data["results"]] == ["48x64", "32x32"]
    lat = data["results"][0]["latency_ms"]
    assert 0 < lat["p50"] <= lat["p99"] <= lat["max"]
    assert data["device"]["backend"] == "onnxruntime"
    assert "p99" in proc.stdout and "p90" in proc.stdout  # the SDK profile's percentiles


def test_profile_device_rejects_bad_size():
    proc = _run("profile_device.py", "--size", "big")
    assert proc.returncode == 2 and "HxW" in proc.stderr


def test_default_demo_model_runs_or_fails_clearly(assets):
    from fcn_trt.models import BUILTIN_MODELS, models_dir

    proc = _run("profile_device.py", "--size", "48x64", "--warmup", "0", "--iters", "2")
    if "demo" in BUILTIN_MODELS and (models_dir() / BUILTIN_MODELS["demo"]).exists():
        assert proc.returncode == 0, proc.stderr
    else:
        assert proc.returncode == 3
        assert proc.stderr.startswith("error: model") and "Traceback" not in proc.stderr


def test_segment_video_with_an_nv12_model(assets):
    # BGR video frames are converted to nv12 on the capture thread and back to BGR for drawing.
    model = export_fcn_pipeline(assets["dir"] / "tiny_nv12.onnx", "fcn8s", num_classes=5, width_divisor=16,
                                input_format="nv12")
    out = assets["dir"] / "seg_nv12.mp4"
    proc = _run("segment_video.py", assets["video"], str(out), "--model", str(model), "--max-frames", "3")
    assert proc.returncode == 0, proc.stderr
    assert _count_frames(out) == 3
