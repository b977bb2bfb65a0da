"""`fcn-trt` and `python -m build_engine` end to end, in subprocesses like a user would run them."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests._helpers import run_module


def cli(*args, module="fcn_trt.cli"):
    return run_module(module, *args)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "m.onnx"
    p = cli("export", "--variant", "fcn8s", "--width-divisor", "16", "--num-classes", "4", "--confidence", "--out", out,
            module="build_engine")
    assert p.returncode == 0, p.stderr
    assert out.exists()
    return out


def test_run_on_image_writes_overlay_and_labels(model, tmp_path):
    img = tmp_path / "in.png"
    cv2.imwrite(str(img), np.random.default_rng(0).integers(0, 256, (50, 70, 3), dtype=np.uint8))
    out = tmp_path / "out.png"
    p = cli("run", model, "--input", img, "--output", out, "--save-labels")
    assert p.returncode == 0, p.stderr
    overlay = cv2.imread(str(out))
    assert overlay.shape == (50, 70, 3)
    labels = cv2.imread(str(tmp_path / "out_labels.png"))
    assert labels is not None and labels.shape[:2] == (50, 70)


def test_run_on_folder_and_video(model, tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(2):
        cv2.imwrite(str(folder / f"{i}.jpg"), np.full((40, 60, 3), 40 * i, np.uint8))
    p = cli("run", model, "-i", folder, "-o", tmp_path / "outdir")
    assert p.returncode == 0, p.stderr
    assert sorted(x.name for x in (tmp_path / "outdir").iterdir()) == ["0_overlay.png", "1_overlay.png"]
    video = tmp_path / "v.avi"
    w = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for i in range(5):
        w.write(np.full((48, 64, 3), 30 * i, np.uint8))
    w.release()
    p = cli("run", model, "-i", video, "-o", tmp_path / "out.avi")
    assert p.returncode == 0, p.stderr
    cap = cv2.VideoCapture(str(tmp_path / "out.avi"))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == 5


@pytest.mark.parametrize("args,needle", [
    (["run", "missing.onnx", "-i", "x.png", "-o", "y.png"], "model"),
    (["run", "{model}", "-i", "nothing/*.png", "-o", "y.png"], "input nothing/*.png"),
    (["run", "{model}", "-i", "{model}", "-o", "y.png", "--alpha", "3"], "--alpha"),
])
def test_user_mistakes_give_one_line_and_nonzero_exit(model, args, needle):
    p = cli(*[a.format(model=model) for a in args])
    assert p.returncode != 0
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fcn-trt: error:") and needle in lines[0], p.stderr
    assert "Traceback" not in p.stderr


def test_corrupt_image_is_one_line(model, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG garbage")
    p = cli("run", model, "-i", bad, "-o", tmp_path / "o.png")
    assert p.returncode != 0 and "Traceback" not in p.stderr and "could not decode" in p.stderr


def test_every_subcommand_is_wired():
    from build_engine.cli import make_parser as build_parser
    from fcn_trt.cli import make_parser as runtime_parser

    def commands(parser):
        sub = next(a for a in parser._actions if a.dest == "command")
        return set(sub.choices)

    assert commands(runtime_parser()) == {"run", "eval", "demo", "inspect", "selfcheck", "profile", "serve", "export-triton"}
    assert commands(build_parser()) >= {"export", "quantize", "compare", "fp16", "build", "convert-selfie"}
