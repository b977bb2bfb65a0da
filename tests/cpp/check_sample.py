"""ctest smoke test of the C++ sample: its labels equal the Python SDK's, its errors are one line.

Usage: python check_sample.py SAMPLE_EXE DEMO_MODEL WORK_DIR   (exit 0 = pass; run by ctest)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np


def run(args, expect_ok=True):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300)
    if expect_ok and p.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (args, p.returncode, p.stderr))
    return p


def check_error(args, code, needle):
    p = run(args, expect_ok=False)
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert p.returncode == code, "%s: exit %d, expected %d (%s)" % (args[1:], p.returncode, code, p.stderr)
    assert len(lines) == 1, "%s: expected one line on stderr, got %r" % (args[1:], p.stderr)
    assert needle in lines[0], "%r not in %r" % (needle, lines[0])
    print("ok  exit %d: %s" % (code, lines[0][:140]))


def main(exe: Path, model: Path, work: Path) -> int:
    from fcn_trt import Segmenter
    from fcn_trt.streaming.scenes import generate_frame

    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    with Segmenter(model) as seg:
        # image in -> 8-bit single-channel PNG of class ids, equal to Python's labels
        for i, size in enumerate([(120, 160), (101, 143)]):
            image = generate_frame(seed=40 + i, size=size).image
            src, out = work / ("in%d.png" % i), work / ("labels%d.png" % i)
            assert cv2.imwrite(str(src), image)
            run([exe, model, src, out])
            got = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
            want = seg.run(cv2.imread(str(src), cv2.IMREAD_COLOR)).labels
            assert got is not None and got.dtype == np.uint8 and got.shape == want.shape, (None if got is None else got.shape)
            assert len(np.unique(want)) > 1, "a reference with one class proves little"
            assert np.array_equal(got, want), "%d of %d labels differ" % (int((got != want).sum()), want.size)
            print("ok  %s: labels equal Python's (%d classes present)" % (out.name, len(np.unique(want))))

        # --overlay: a colour image of the frame's size
        run([exe, model, work / "in0.png", work / "overlay.png", "--overlay"])
        ov = cv2.imread(str(work / "overlay.png"), cv2.IMREAD_UNCHANGED)
        assert ov.shape == (120, 160, 3), ov.shape
        print("ok  overlay.png", ov.shape)

        # video mode: a file of 3 frames -> a folder of 3 label PNGs, and an overlay video
        video = work / "clip.avi"
        writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (160, 120))
        assert writer.isOpened(), "OpenCV (Python) cannot write MJPG"
        for i in range(3):
            writer.write(generate_frame(seed=50 + i, size=(120, 160)).image)
        writer.release()
        p = run([exe, model, video, work / "frames"])
        pngs = sorted((work / "frames").glob("frame_*.png"))
        assert [f.name for f in pngs] == ["frame_%06d.png" % i for i in range(3)], (pngs, p.stderr)
        for f in pngs:
            lab = cv2.imread(str(f), cv2.IMREAD_UNCHANGED)
            assert lab.shape == (120, 160) and lab.max() < len(seg.metadata.class_names), (f, lab.shape)
        print("ok  video -> 3 label PNGs:", p.stderr.strip())
        run([exe, model, video, work / "overlay.avi", "--max-frames", "2"])
        cap = cv2.VideoCapture(str(work / "overlay.avi"))
        count = 0
        while cap.read()[0]:
            count += 1
        assert count == 2, count
        print("ok  video -> overlay.avi with 2 frames")

    # errors: one line, the Python CLI's exit codes
    check_error([exe, work / "in0.png", work / "in0.png", work / "x.png"], 2, "model file in0.png")
    check_error([exe, work / "nope.onnx", work / "in0.png", work / "x.png"], 3, "nope.onnx")
    (work / "bad.onnx").write_bytes(b"\x00garbage" * 64)
    check_error([exe, work / "bad.onnx", work / "in0.png", work / "x.png"], 3, "bad.onnx")
    check_error([exe, model, work / "missing.png", work / "x.png"], 7, "no such file")
    (work / "notimage.png").write_text("text, not pixels")
    check_error([exe, model, work / "notimage.png", work / "x.png"], 7, "notimage.png")
    check_error([exe, model, work / "in0.png"], 2, "MODEL INPUT OUTPUT")
    check_error([exe, model, work / "in0.png", work / "x.png", "--alpha", "3"], 2, "--alpha")
    check_error([exe, model, work / "in0.png", work / "no_dir" / "x.png"], 7, "no_dir")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: check_sample.py SAMPLE_EXE DEMO_MODEL WORK_DIR")
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])))
