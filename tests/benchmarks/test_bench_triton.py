"""benchmarks.bench_triton.run_cameras: how frames, latency, age and drops are counted."""

from __future__ import annotations

import threading
import time

import numpy as np

from benchmarks.bench_triton import run_cameras


class SlowSegmenter:
    """Takes at least ``seconds`` per frame; one call at a time, like a Segmenter's lock."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.calls = 0
        self._lock = threading.Lock()

    def run(self, frame):
        with self._lock:
            time.sleep(self.seconds)
            self.calls += 1


def test_a_slow_segmenter_drops_frames_and_ages_them_at_least_its_own_time():
    seg = SlowSegmenter(0.1)  # 10 frames/s at most against a 30 FPS camera
    r = run_cameras([seg, seg], np.zeros((4, 4, 3), np.uint8), seconds=1.0, fps=30.0, warmup_s=0.2)
    assert r["cameras"] == 2 and 0 < r["frames"] <= seg.calls
    assert r["lat_p50"] >= 100.0 and r["age_p50"] >= r["lat_p50"] * 0.999
    assert r["lat_p50"] <= r["lat_p95"] <= r["lat_p99"]
    assert 0.0 < r["drop_pct"] < 100.0  # two cameras share at most 10 frames/s out of 60 captured
    assert r["errors"] == 0


def test_errors_are_counted_not_raised():
    class Broken:
        def run(self, frame):
            raise RuntimeError("server gone")

    r = run_cameras([Broken()], np.zeros((4, 4, 3), np.uint8), seconds=0.3, warmup_s=0.0)
    assert r["errors"] == 1 and "server gone" in r["first_error"] and r["frames"] == 0
