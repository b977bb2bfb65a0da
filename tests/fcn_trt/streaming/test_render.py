"""Rendering: overlay/labels/side-by-side, legend, text, FPS meter, temporal smoothing, video writer."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from fcn_trt.errors import ConfigError, InputError, SourceOpenError
from fcn_trt.result import SegmentationResult
from fcn_trt.streaming.drawing import FpsMeter, LabelSmoother, draw_legend, draw_text, open_video_writer, render
from tests._helpers import read_video

NAMES = ("background", "floor", "person")
PALETTE = ((0, 0, 0), (0, 255, 0), (255, 0, 0))


def _result(labels: np.ndarray) -> SegmentationResult:
    return SegmentationResult(labels=labels.astype(np.uint8), class_names=NAMES, palette=PALETTE)


@pytest.fixture()
def scene():
    labels = np.zeros((120, 160), np.uint8)
    labels[60:, :] = 1
    labels[20:50, 100:130] = 2
    frame = np.full((120, 160, 3), 100, np.uint8)
    return frame, _result(labels)


def test_overlay_mode_blends_and_leaves_frame_untouched(scene):
    frame, result = scene
    before = frame.copy()
    out = render(frame, result, alpha=0.5, legend=False)
    assert np.array_equal(frame, before)
    assert out.shape == frame.shape and out.dtype == np.uint8
    assert out[100, 10].tolist() == [50, 178, 50]  # BGR: half grey, half green (rounded)
    assert out[30, 110].tolist() == [50, 50, 178]  # person is red in RGB -> BGR channel 2


def test_labels_mode_and_side_by_side(scene):
    frame, result = scene
    labels_only = render(frame, result, mode="labels", legend=False)
    assert labels_only[100, 10].tolist() == [0, 255, 0]
    assert labels_only[0, 0].tolist() == [0, 0, 0]
    sbs = render(frame, result, mode="side-by-side", legend=False)
    assert sbs.shape == (120, 320, 3)
    assert np.array_equal(sbs[:, :160], frame)
    with pytest.raises(ConfigError):
        render(frame, result, mode="heatmap")


def test_legend_lists_present_classes_only(scene):
    frame, result = scene
    plain = render(frame, result, mode="labels", legend=False)
    with_legend = render(frame, result, mode="labels", legend=True)
    changed = np.any(with_legend != plain, axis=2)
    assert changed[:, 80:].any() and not changed[:, :40].any()  # drawn at the top-right
    # A swatch in each present class colour is drawn; absent classes add no rows.
    only_bg = _result(np.zeros((120, 160), np.uint8))
    one_row = np.any(render(frame, only_bg, mode="labels") != render(frame, only_bg, mode="labels", legend=False), axis=2)
    assert one_row.any()
    assert np.flatnonzero(one_row.any(axis=1)).max() < np.flatnonzero(changed.any(axis=1)).max()
    greens = np.all(with_legend == [0, 255, 0], axis=2)[:40]
    assert greens.sum() > 10  # the floor swatch


def test_draw_legend_and_text_in_place():
    img = np.zeros((80, 200, 3), np.uint8)
    out = draw_legend(img, NAMES, PALETTE, classes=[2])
    assert out is img and np.all(img[10:20, :] == [255, 0, 0], axis=-1).sum() == 0  # red swatch is BGR (0,0,255)
    assert (np.all(img == [0, 0, 255], axis=-1)).sum() > 10
    img2 = np.full((80, 200, 3), 128, np.uint8)
    draw_text(img2, ["12.0 FPS", "latency 40 ms"])
    assert (img2[:40, :100] == 255).any() and (img2[:40, :100] < 128).any()
    assert (img2[60:, 150:] == 128).all()


def test_text_lines_from_fps_meter(scene):
    frame, result = scene
    meter = FpsMeter(smoothing=0.5)
    for i in range(5):
        meter.tick(latency_ms=40.0, now=i * 0.1)
    assert meter.fps == pytest.approx(10.0)
    assert meter.latency_ms == pytest.approx(40.0)
    assert meter.text(dropped=3) == ("10.0 FPS", "latency 40 ms", "dropped 3")
    out = render(frame, result, legend=False, text=meter.text())
    assert not np.array_equal(out, render(frame, result, legend=False))
    with pytest.raises(ConfigError):
        FpsMeter(smoothing=1.0)


def test_majority_smoothing_removes_single_frame_flicker():
    sm = LabelSmoother("majority", k=3)
    base = np.zeros((4, 4), np.uint8)
    flicker = base.copy()
    flicker[1, 1] = 2
    assert np.array_equal(sm.update(base), base)
    assert np.array_equal(sm.update(base), base)
    assert np.array_equal(sm.update(flicker), base)  # 2 votes for 0, 1 for 2
    moved = np.ones((4, 4), np.uint8)
    sm.update(moved)
    assert np.array_equal(sm.update(moved), moved)  # a lasting change wins after k//2 + 1 frames


def test_majority_ties_go_to_the_newest_frame():
    sm = LabelSmoother("majority", k=2)
    sm.update(np.zeros((2, 2), np.uint8))
    assert np.array_equal(sm.update(np.full((2, 2), 3, np.uint8)), np.full((2, 2), 3))


def test_ema_smoothing_lags_then_follows():
    sm = LabelSmoother("ema", alpha=0.6)
    a = np.zeros((3, 3), np.uint8)
    b = np.full((3, 3), 1, np.uint8)
    sm.update(a)
    assert np.array_equal(sm.update(b), a)  # 0.6 vs 0.4: the past still wins
    assert np.array_equal(sm.update(b), b)  # 0.36 vs 0.64


def test_smoothing_resets_on_size_change_and_new_classes():
    sm = LabelSmoother("ema", alpha=0.9)
    sm.update(np.zeros((3, 3), np.uint8))
    assert sm.update(np.full((5, 2), 4, np.uint8)).tolist() == np.full((5, 2), 4).tolist()
    sm2 = LabelSmoother("majority", k=4)
    sm2.update(np.zeros((3, 3), np.uint8))
    assert sm2.update(np.ones((2, 2), np.uint8)).tolist() == [[1, 1], [1, 1]]


def test_smooth_returns_a_new_result(scene):
    _, result = scene
    sm = LabelSmoother("majority", k=3)
    out = sm.smooth(result)
    assert isinstance(out, SegmentationResult) and out is not result
    assert np.array_equal(out.labels, result.labels) and out.class_names == NAMES
    assert not out.labels.flags.writeable


@pytest.mark.parametrize("bad", [dict(method="median"), dict(alpha=1.0), dict(k=0)])
def test_smoother_validation(bad):
    with pytest.raises(ConfigError):
        LabelSmoother(**bad)


def test_smoother_rejects_non_label_maps():
    with pytest.raises(InputError):
        LabelSmoother().update(np.zeros((2, 2, 3), np.uint8))


def test_video_writer_round_trip(tmp_path, scene):
    frame, result = scene
    path = tmp_path / "out" / "seg.mp4"
    writer = open_video_writer(path, 15.0, (160, 120))
    for _ in range(5):
        writer.write(render(frame, result))
    writer.release()
    assert len(read_video(path)) == 5
    with pytest.raises(SourceOpenError):
        open_video_writer(tmp_path / "x.mp4", 15.0, (160, 120), fourcc="ZZZZ")


def test_to_bgr_inverts_input_formats():
    from fcn_trt.streaming.drawing import to_bgr

    bgr = np.random.default_rng(1).integers(0, 255, (8, 10, 3), dtype=np.uint8)
    assert to_bgr(bgr, "bgr") is bgr
    assert np.array_equal(to_bgr(np.ascontiguousarray(bgr[..., ::-1]), "rgb"), bgr)
    nv12 = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420)  # same shape as nv12
    assert to_bgr(nv12, "nv12").shape == (8, 10, 3)
    with pytest.raises(ConfigError):
        to_bgr(bgr, "hsv")


def test_segment_files_returns_a_frozen_report_and_prints_nothing(tmp_path, capsys):
    import dataclasses

    import cv2

    import fcn_trt
    from build_engine.pipeline import export_fcn_pipeline
    from fcn_trt.errors import SourceOpenError
    from fcn_trt.streaming.drawing import segment_files

    model = export_fcn_pipeline(tmp_path / "m.onnx", "fcn32s", num_classes=3, width_divisor=32)
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"f{i}.png"), np.full((24, 32, 3), 60 * i, np.uint8))
    with fcn_trt.Segmenter(model, threads=1) as seg:
        report = segment_files(seg, folder, tmp_path / "out", save_labels=True)
        assert [Path(f.source).name for f in report.files] == ["f0.png", "f1.png", "f2.png"]
        assert all(Path(f.output).is_file() and Path(f.labels_png).is_file() for f in report.files)
        assert report.frames == 3 and not report.video and len(report.lines()) == 3
        with pytest.raises(dataclasses.FrozenInstanceError):
            report.files = ()
        (folder / "f3.png").write_bytes(b"not an image")
        with pytest.raises(SourceOpenError, match="could not decode"):
            segment_files(seg, folder, tmp_path / "out2")
    assert capsys.readouterr().out == ""
