"""PASCAL VOC layout: write with our writers, read back with VocDataset (Pillow, OpenCV, and fallbacks)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from fcn_trt import _imageio
from fcn_trt.errors import InputError, SourceOpenError
from fcn_trt.eval import voc
from fcn_trt.eval.voc import VocDataset, VocSample, read_label_png, save_label_png, write_split, write_voc_sample
from fcn_trt.palettes import VOC_CLASSES, voc_palette


def _labels(h=12, w=16, seed=0):
    rng = np.random.default_rng(seed)
    lab = rng.integers(0, 21, size=(h, w)).astype(np.uint8)
    lab[0, :] = 255  # void border, as in VOC
    return lab


def _image(h=12, w=16, seed=0):
    """A smooth colour gradient (JPEG keeps it within a few levels, unlike random noise)."""
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 8 + seed * 10, y * 10, 128 + 0 * x], axis=-1).clip(0, 255).astype(np.uint8)


@pytest.fixture
def voc_root(tmp_path):
    ids = ["2007_000001", "2007_000002", "2008_000003"]
    for k, i in enumerate(ids):
        write_voc_sample(tmp_path, i, _image(12 + k, 16, k), _labels(12 + k, 16, k))
    write_split(tmp_path, "val", ids)
    write_split(tmp_path, "train", ids[:1])
    return tmp_path, ids


def test_written_layout_matches_voc(voc_root):
    root, ids = voc_root
    assert (root / "JPEGImages" / "2007_000001.jpg").is_file()
    png = root / "SegmentationClass" / "2007_000001.png"
    with Image.open(png) as img:  # a real palette PNG with the VOC colours, 255 = void colour
        assert img.mode == "P"
        pal = img.getpalette()
        assert tuple(pal[15 * 3:15 * 3 + 3]) == (192, 128, 128)
        assert tuple(pal[255 * 3:255 * 3 + 3]) == (224, 224, 192)
    assert (root / "ImageSets" / "Segmentation" / "val.txt").read_text() == "".join(i + "\n" for i in ids)


def test_dataset_reads_back_exact_labels_and_close_images(voc_root):
    root, ids = voc_root
    ds = VocDataset(root, "val")
    assert len(ds) == 3 and ds.ids == tuple(ids) and ds.class_names == VOC_CLASSES
    samples = list(ds)
    assert [s.image_id for s in samples] == ids
    for k, s in enumerate(samples):
        assert isinstance(s, VocSample)
        assert s.labels.dtype == np.uint8 and s.image.dtype == np.uint8
        np.testing.assert_array_equal(s.labels, _labels(12 + k, 16, k))  # indices, not colours
        assert s.image.shape == (12 + k, 16, 3)
    # JPEG is lossy, but a smooth image comes back within a few levels, channels in BGR order
    assert np.abs(samples[0].image.astype(int) - _image(12, 16, 0).astype(int)).mean() < 4
    assert len(VocDataset(root, "train")) == 1
    assert ds[-1].image_id == ids[-1]
    with pytest.raises(IndexError):
        ds[3]


def test_cv2_imread_gives_colours_but_read_label_png_gives_indices(tmp_path):
    lab = _labels()
    path = save_label_png(tmp_path / "x.png", lab)
    colours = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert colours.shape == (12, 16, 3)  # why Pillow (or colour mapping) is needed
    np.testing.assert_array_equal(read_label_png(path), lab)


def test_numpy_png_writer_is_a_valid_palette_png(tmp_path, monkeypatch):
    lab = _labels(9, 23)
    monkeypatch.setattr(voc, "_pil_image", lambda: None)  # force the numpy + zlib writer
    path = save_label_png(tmp_path / "np.png", lab)
    monkeypatch.undo()
    with Image.open(path) as img:
        assert img.mode == "P" and img.size == (23, 9)
        np.testing.assert_array_equal(np.array(img), lab)
        assert tuple(img.getpalette()[3:6]) == voc_palette(2)[1]


def test_without_pillow_colours_map_back_through_palette(voc_root, monkeypatch):
    root, _ = voc_root
    monkeypatch.setattr(voc, "_pil_image", lambda: None)  # OpenCV only: colours -> indices
    ds = VocDataset(root, "val")
    for k, s in enumerate(ds):
        np.testing.assert_array_equal(s.labels, _labels(12 + k, 16, k))


def test_without_opencv_images_read_with_pillow(voc_root, monkeypatch):
    root, _ = voc_root
    with_cv2 = VocDataset(root, "val")[0]
    monkeypatch.setattr(voc, "_cv2", lambda: None)
    monkeypatch.setattr(_imageio, "_cv2_module", lambda: None)  # the one image reader falls back to Pillow
    without = VocDataset(root, "val")[0]
    np.testing.assert_array_equal(without.labels, with_cv2.labels)
    # same JPEG, two decoders: BGR order kept, values within decoder rounding
    assert np.abs(without.image.astype(int) - with_cv2.image.astype(int)).max() <= 3


def test_custom_palette_roundtrip_and_rgb_label_images(tmp_path, monkeypatch):
    palette = [(10, 20, 30), (200, 100, 50), (0, 255, 0)]
    lab = np.array([[0, 1, 2], [2, 1, 0]], np.uint8)
    path = save_label_png(tmp_path / "c.png", lab, palette)
    np.testing.assert_array_equal(read_label_png(path), lab)
    monkeypatch.setattr(voc, "_pil_image", lambda: None)
    np.testing.assert_array_equal(read_label_png(path, palette), lab)
    monkeypatch.undo()
    # an RGB label image (some tools save colour masks) is mapped through the palette too
    rgb_path = tmp_path / "rgb.png"
    Image.fromarray(np.asarray(palette, np.uint8)[lab]).save(rgb_path)
    np.testing.assert_array_equal(read_label_png(rgb_path, palette), lab)
    with pytest.raises(InputError, match=r"label colour.*\(10, 20, 30\)"):
        read_label_png(rgb_path)  # VOC colours do not include (10, 20, 30)


def test_grayscale_label_png_is_read_as_ids(tmp_path):
    lab = np.array([[0, 7, 18], [255, 3, 1]], np.uint8)
    Image.fromarray(lab).save(tmp_path / "l.png")  # Cityscapes *_labelTrainIds.png style
    np.testing.assert_array_equal(read_label_png(tmp_path / "l.png"), lab)


def test_missing_root_folders_split_and_files(tmp_path, voc_root):
    root, ids = voc_root
    with pytest.raises(SourceOpenError, match="no folder"):
        VocDataset(tmp_path / "nope")
    empty = tmp_path / "empty"
    (empty / "VOCdevkit" / "VOC2012" / "JPEGImages").mkdir(parents=True)
    with pytest.raises(SourceOpenError, match="use --data .*VOC2012"):
        VocDataset(empty)
    with pytest.raises(SourceOpenError, match=r"split 'test'.*found splits train, val"):
        VocDataset(root, "test")
    (root / "SegmentationClass" / (ids[1] + ".png")).unlink()
    with pytest.raises(SourceOpenError, match=r"1 of 3 ids incomplete \(first: 2007_000002\)"):
        VocDataset(root, "val")
    with pytest.raises(SourceOpenError, match="label PNG"):
        read_label_png(root / "missing.png")


def test_writer_input_validation(tmp_path):
    with pytest.raises(InputError, match="image id"):
        write_voc_sample(tmp_path, "a b", _image(), _labels())
    with pytest.raises(InputError, match="uint8 array of shape"):
        write_voc_sample(tmp_path, "a", _image().astype(np.float32), _labels())
    with pytest.raises(InputError, match="labels"):
        write_voc_sample(tmp_path, "a", _image(), _labels(5, 5))
    with pytest.raises(InputError, match="0..255"):
        save_label_png(tmp_path / "x.png", np.full((2, 2), 300, np.int32))
    with pytest.raises(InputError, match="split name"):
        write_split(tmp_path, "a/b", ["x"])
    with pytest.raises(InputError, match="single string"):
        write_split(tmp_path, "val", "2007_000001")
