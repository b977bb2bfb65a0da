from __future__ import annotations

import numpy as np
import pytest

from fcn_trt.errors import ConfigError
from fcn_trt.palettes import (
    CITYSCAPES_CLASSES,
    CITYSCAPES_PALETTE,
    VOC_CLASSES,
    VOC_IGNORE_COLOR,
    get_palette,
    make_palette,
    palette_to_bgr_lut,
    voc_palette,
)


def test_voc_palette_known_entries():
    p = voc_palette()
    assert len(p) == 256 and len(set(p)) == 256
    assert p[:4] == ((0, 0, 0), (128, 0, 0), (0, 128, 0), (128, 128, 0))
    assert p[15] == (192, 128, 128)  # person
    assert p[20] == (0, 64, 128)  # tvmonitor
    assert p[255] == VOC_IGNORE_COLOR == (224, 224, 192)
    assert voc_palette(21) == p[:21]


def test_class_lists():
    assert len(VOC_CLASSES) == 21 and VOC_CLASSES[0] == "background" and VOC_CLASSES[15] == "person"
    assert len(CITYSCAPES_CLASSES) == len(CITYSCAPES_PALETTE) == 19
    assert CITYSCAPES_PALETTE[0] == (128, 64, 128) and CITYSCAPES_PALETTE[13] == (0, 0, 142)


@pytest.mark.parametrize("n", [1, 2, 7, 40, 256])
def test_make_palette_distinct_and_deterministic(n):
    p = make_palette(n)
    assert len(p) == n and len(set(p)) == n and p[0] == (0, 0, 0)
    assert all(0 <= v <= 255 for c in p for v in c)
    assert make_palette(n) == p
    if n > 2:
        assert make_palette(n, seed=1) != p


def test_get_palette_by_name_and_count():
    assert get_palette("voc") == voc_palette(21)
    assert get_palette("Pascal-VOC") == voc_palette(21)
    assert get_palette("cityscapes") == CITYSCAPES_PALETTE
    assert get_palette(5) == make_palette(5)
    with pytest.raises(ConfigError, match="palette name"):
        get_palette("ade20k")
    with pytest.raises(ConfigError, match="1..256"):
        get_palette(300)


def test_bgr_lut_swaps_channels_and_blacks_unused_ids():
    lut = palette_to_bgr_lut(get_palette("voc"))
    assert lut.shape == (256, 3) and lut.dtype == np.uint8
    assert lut[1].tolist() == [0, 0, 128]
    assert lut[15].tolist() == [128, 128, 192]
    assert lut[21:].max() == 0
    labels = np.array([[0, 1], [15, 200]], np.uint8)
    img = lut[labels]
    assert img.shape == (2, 2, 3) and img[1, 0].tolist() == [128, 128, 192]


def test_bgr_lut_rejects_bad_palettes():
    with pytest.raises(ConfigError, match="0..255"):
        palette_to_bgr_lut([(0, 0, 300)])
    with pytest.raises(ConfigError, match="shape"):
        palette_to_bgr_lut([(0, 0)])
    with pytest.raises(ConfigError, match="shape"):
        palette_to_bgr_lut([(0, 0, 0)] * 257)
