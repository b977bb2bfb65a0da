"""Every bad frame gets a typed error saying what was expected, what was found and the fix."""

from __future__ import annotations

import numpy as np
import pytest

from fcn_trt._frames import validate_batch, validate_frame
from fcn_trt.errors import EmptyFrameError, FrameDtypeError, FrameShapeError, FrameTypeError

BAD_FRAMES = [
    (None, FrameTypeError, "None"),
    ([[1, 2, 3]], FrameTypeError, "list"),
    ("image.png", FrameTypeError, "str"),
    (np.zeros((4, 4, 3), np.float32), FrameDtypeError, "float32"),
    (np.zeros((4, 4, 3), np.uint16), FrameDtypeError, "uint16"),
    (np.zeros((4, 4), np.uint8), FrameShapeError, "COLOR_GRAY2BGR"),
    (np.zeros((4, 4, 4), np.uint8), FrameShapeError, "COLOR_BGRA2BGR"),
    (np.zeros((4, 4, 1), np.uint8), FrameShapeError, "single-channel"),
    (np.zeros((3, 4, 5), np.uint8), FrameShapeError, "transpose"),
    (np.zeros((1, 4, 4, 3), np.uint8), FrameShapeError, "run_batch"),
    (np.zeros((0, 4, 3), np.uint8), EmptyFrameError, "empty"),
    (np.zeros((0,), np.uint8), EmptyFrameError, "empty"),
]


@pytest.mark.parametrize("frame,error,needle", BAD_FRAMES)
def test_bad_frames(frame, error, needle):
    with pytest.raises(error) as info:
        validate_frame(frame, "bgr")
    msg = str(info.value)
    assert "expected" in msg and "found" in msg and needle in msg


def test_errors_subclass_builtin_types():
    with pytest.raises(TypeError):
        validate_frame(None)
    with pytest.raises(ValueError):
        validate_frame(np.zeros((4, 4), np.uint8))


def test_views_are_made_contiguous_without_changing_pixels():
    f = np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3)
    for view in (f[:, ::-1], f[::2], f[1:4, 2:6], np.asfortranarray(f)):
        out = validate_frame(view)
        assert out.flags.c_contiguous
        np.testing.assert_array_equal(out, view)


def test_nv12_frames():
    assert validate_frame(np.zeros((6, 4), np.uint8), "nv12").shape == (6, 4)
    for shape in [(5, 4), (6, 3), (4, 4, 3), (6, 5)]:
        with pytest.raises(FrameShapeError, match="nv12"):
            validate_frame(np.zeros(shape, np.uint8), "nv12")


def test_batches():
    frames = [np.zeros((4, 6, 3), np.uint8), np.ones((4, 6, 3), np.uint8)]
    assert validate_batch(frames).shape == (2, 4, 6, 3)
    assert validate_batch(np.zeros((3, 4, 6, 3), np.uint8)).shape == (3, 4, 6, 3)
    assert validate_batch(np.zeros((3, 4, 6, 3), np.uint8)[:, :, ::-1]).flags.c_contiguous
    with pytest.raises(FrameShapeError, match="one size"):
        validate_batch([np.zeros((4, 6, 3), np.uint8), np.zeros((5, 6, 3), np.uint8)])
    with pytest.raises(EmptyFrameError):
        validate_batch([])
    with pytest.raises(FrameShapeError, match=r"frames\[1\]|shape"):
        validate_batch([np.zeros((4, 6, 3), np.uint8), np.zeros((4, 6), np.uint8)])
    with pytest.raises(FrameShapeError, match="run\\(frame\\)"):
        validate_batch(np.zeros((4, 6, 3), np.uint8))
    with pytest.raises(FrameTypeError):
        validate_batch(None)
    with pytest.raises(FrameDtypeError):
        validate_batch(np.zeros((2, 4, 6, 3), np.float64))
