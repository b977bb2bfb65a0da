"""Read and write the PASCAL VOC segmentation layout.

::

    root/
      JPEGImages/<id>.jpg                 colour images
      SegmentationClass/<id>.png          palette ("P" mode) PNGs whose pixel values ARE class ids
                                          (255 = void, ignored by the metrics)
      ImageSets/Segmentation/<split>.txt  one image id per line (train, val, trainval, ...)

Label PNGs store class *indices* with a colour palette. ``cv2.imread`` expands the palette and
returns colours, so labels are read with Pillow (mode ``"P"`` gives the indices). Without Pillow,
the colours OpenCV returns are mapped back to indices through a palette (the VOC colormap unless
another is given). Label PNGs are written with Pillow, or without it by a small numpy + zlib
palette-PNG writer.

Example:
    >>> import tempfile
    >>> root = tempfile.mkdtemp()
    >>> img = np.zeros((4, 6, 3), np.uint8)
    >>> lab = np.zeros((4, 6), np.uint8); lab[1:3, 2:5] = 15; lab[0, 0] = 255
    >>> _ = write_voc_sample(root, "2007_000001", img, lab)
    >>> _ = write_split(root, "val", ["2007_000001"])
    >>> ds = VocDataset(root, "val")
    >>> len(ds)
    1
    >>> image_id, image, labels = ds[0]
    >>> image_id, image.shape, bool((labels == lab).all())
    ('2007_000001', (4, 6, 3), True)
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from pathlib import Path
from typing import Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from .._imageio import _cv2_module as _cv2  # module attributes: tests swap them for a missing package
from .._imageio import _pil_image, read_image
from ..errors import BackendUnavailableError, InputError, SourceOpenError
from ..palettes import VOC_CLASSES, voc_palette

__all__ = [
    "VocSample",
    "VocDataset",
    "read_label_png",
    "save_label_png",
    "write_voc_sample",
    "write_split",
    "IMAGE_DIR",
    "LABEL_DIR",
    "SPLIT_DIR",
]

log = logging.getLogger(__name__)

PathLike = Union[str, "os.PathLike[str]"]
PaletteLike = Sequence[Sequence[int]]

IMAGE_DIR = "JPEGImages"
LABEL_DIR = "SegmentationClass"
SPLIT_DIR = os.path.join("ImageSets", "Segmentation")

_IMAGE_HINT = "pip install opencv-python-headless (or pillow)"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class VocSample(NamedTuple):
    """One dataset item: ``image_id``, ``image`` (BGR uint8 HxWx3), ``labels`` (uint8 HxW)."""

    image_id: str
    image: np.ndarray
    labels: np.ndarray


# --- palettes -----------------------------------------------------------------------------------
def _full_palette(palette: Optional[PaletteLike]) -> np.ndarray:
    """A [256, 3] uint8 RGB palette: ``palette`` first, the VOC colormap for the remaining entries."""
    full = np.asarray(voc_palette(256), dtype=np.int64)
    if palette is not None:
        try:
            arr = np.asarray(palette, dtype=np.int64)
        except (TypeError, ValueError):
            raise InputError(
                "palette", expected="a sequence of (r, g, b) integer triples", found=type(palette).__name__
            ) from None
        if arr.ndim != 2 or arr.shape[1] != 3 or not 1 <= arr.shape[0] <= 256:
            raise InputError("palette", expected="1..256 (r, g, b) triples", found="shape %s" % (arr.shape,))
        if arr.min() < 0 or arr.max() > 255:
            raise InputError("palette", expected="channel values in 0..255", found="%d..%d" % (arr.min(), arr.max()))
        full[: arr.shape[0]] = arr
    return full.astype(np.uint8)


def _colours_to_indices(rgb: np.ndarray, palette: Optional[PaletteLike], source: str) -> np.ndarray:
    """Map an RGB image back to class ids through ``palette`` (first matching entry wins)."""
    pal = _full_palette(palette).astype(np.int64)
    pal_keys = (pal[:, 0] << 16) | (pal[:, 1] << 8) | pal[:, 2]
    keys, first = np.unique(pal_keys, return_index=True)
    rgb = rgb.astype(np.int64)
    img_keys = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    pos = np.clip(np.searchsorted(keys, img_keys), 0, len(keys) - 1)
    found = keys[pos] == img_keys
    if not found.all():
        k = int(img_keys[~found].flat[0])
        raise InputError(
            "label colour in %s" % source,
            expected="colours of the label palette",
            found="(%d, %d, %d) at %d pixels" % (k >> 16, (k >> 8) & 255, k & 255, int((~found).sum())),
            hint="pass the palette the labels were drawn with (palette=...), or install pillow to read "
            "palette PNGs as indices",
        )
    return first[pos].astype(np.uint8)


# --- label PNGs ---------------------------------------------------------------------------------
def _check_labels(labels: np.ndarray, what: str = "labels") -> np.ndarray:
    if not isinstance(labels, np.ndarray):
        raise InputError(what, expected="a numpy array of class ids", found=type(labels).__name__)
    if labels.ndim != 2 or labels.size == 0:
        raise InputError(what, expected="a non-empty 2-D array (H, W)", found="shape %s" % (labels.shape,))
    if labels.dtype != np.uint8:
        if not np.issubdtype(labels.dtype, np.integer):
            raise InputError(what, expected="integer class ids", found="dtype %s" % labels.dtype)
        if labels.min() < 0 or labels.max() > 255:
            raise InputError(
                what, expected="class ids in 0..255", found="%d..%d" % (labels.min(), labels.max())
            )
        labels = labels.astype(np.uint8)
    return np.ascontiguousarray(labels)


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def _encode_palette_png(labels: np.ndarray, palette_rgb: np.ndarray) -> bytes:
    """An 8-bit palette PNG (colour type 3, filter 0 on every row), numpy + zlib only."""
    h, w = labels.shape
    raw = np.zeros((h, w + 1), dtype=np.uint8)  # each row: filter byte 0, then the indices
    raw[:, 1:] = labels
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 3, 0, 0, 0)
    return b"".join(
        (
            _PNG_SIGNATURE,
            _png_chunk(b"IHDR", ihdr),
            _png_chunk(b"PLTE", palette_rgb.astype(np.uint8).tobytes()),
            _png_chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)),
            _png_chunk(b"IEND", b""),
        )
    )


def save_label_png(path: PathLike, labels: np.ndarray, palette: Optional[PaletteLike] = None) -> Path:
    """Write ``labels`` (uint8 HxW class ids) as a VOC-style palette PNG; returns the path.

    The file holds a 256-entry palette: ``palette`` (RGB triples, default the VOC colours), then
    the VOC colormap for the remaining entries, so id 255 is drawn in the VOC "void" colour.
    Uses Pillow when installed, else a built-in numpy + zlib writer (same pixels, same palette).
    """
    labels = _check_labels(labels)
    pal = _full_palette(palette)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image = _pil_image()
    try:
        if Image is not None:
            img = Image.fromarray(labels)  # mode "L"; putpalette() turns it into "P", indices kept
            img.putpalette(pal.tobytes())
            img.save(str(path), format="PNG")
        else:
            path.write_bytes(_encode_palette_png(labels, pal))
    except OSError as e:
        raise SourceOpenError("label PNG %s" % path, expected="a writable path", found=str(e)) from None
    return path


def read_label_png(path: PathLike, palette: Optional[PaletteLike] = None) -> np.ndarray:
    """Read a label PNG as uint8 HxW class ids (255 = void).

    Palette (``"P"``) and grayscale PNGs give their pixel values directly (with Pillow). An RGB
    PNG, or any PNG when only OpenCV is installed, is mapped back to ids through ``palette``
    (default: the 256-entry VOC colormap, whose entry 255 is the void colour).
    """
    path = Path(path)
    if not path.is_file():
        raise SourceOpenError(
            "label PNG", expected="an existing file", found="no file %s" % path,
            hint="check the dataset root and the SegmentationClass folder",
        )
    Image = _pil_image()
    if Image is not None:
        try:
            with Image.open(str(path)) as img:
                img.load()
                mode = img.mode
                if mode in ("P", "L"):
                    return np.array(img, dtype=np.uint8)
                if mode in ("I", "I;16", "I;16B", "I;16L"):
                    arr = np.array(img)
                    if arr.size and (arr.min() < 0 or arr.max() > 255):
                        raise InputError(
                            "label PNG %s" % path, expected="class ids in 0..255",
                            found="values %d..%d" % (arr.min(), arr.max()),
                        )
                    return arr.astype(np.uint8)
                if mode in ("RGB", "RGBA"):
                    rgb = np.array(img.convert("RGB"))
                    return _colours_to_indices(rgb, palette, str(path))
                raise InputError(
                    "label PNG %s" % path, expected="a palette (P), grayscale (L) or RGB image",
                    found="mode %s" % mode,
                )
        except OSError as e:
            raise SourceOpenError("label PNG %s" % path, expected="a readable PNG", found=str(e)) from None
    cv2 = _cv2()
    if cv2 is None:
        raise BackendUnavailableError(
            "reading label PNGs", expected="pillow or opencv-python installed", found="neither",
            hint="pip install pillow",
        )
    arr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if arr is None:
        raise SourceOpenError("label PNG %s" % path, expected="a readable PNG", found="OpenCV could not decode it")
    if arr.ndim == 2:
        return arr.astype(np.uint8)
    rgb = arr[..., 2::-1] if arr.shape[2] >= 3 else arr  # BGR(A) -> RGB
    return _colours_to_indices(rgb, palette, str(path))


# --- images -------------------------------------------------------------------------------------
def _write_bgr(path: Path, bgr: np.ndarray, jpeg_quality: int) -> None:
    cv2 = _cv2()
    if cv2 is not None:
        if not cv2.imwrite(str(path), bgr, [int(cv2.IMWRITE_JPEG_QUALITY), int(jpeg_quality)]):
            raise SourceOpenError("image %s" % path, expected="a writable path", found="cv2.imwrite failed")
        return
    Image = _pil_image()
    if Image is None:
        raise BackendUnavailableError(
            "writing images", expected="opencv-python or pillow installed", found="neither", hint=_IMAGE_HINT
        )
    try:
        Image.fromarray(np.ascontiguousarray(bgr[..., ::-1])).save(str(path), quality=int(jpeg_quality))
    except OSError as e:
        raise SourceOpenError("image %s" % path, expected="a writable path", found=str(e)) from None


# --- dataset ------------------------------------------------------------------------------------
def _layout_hint(root: Path) -> str:
    for sub in (Path("VOCdevkit") / "VOC2012", Path("VOC2012"), Path("VOCdevkit") / "VOC2007"):
        if (root / sub / IMAGE_DIR).is_dir():
            return "use --data %s" % (root / sub)
    return "point at the folder holding JPEGImages/, SegmentationClass/ and ImageSets/Segmentation/ (e.g. VOCdevkit/VOC2012)"


class VocDataset:
    """The samples of one PASCAL VOC segmentation split, read lazily in split-file order.

    Iterating yields :class:`VocSample` ``(image_id, bgr_image, labels)``; ``len()`` and indexing
    work. Folders, the split file and every listed image/label file are checked up front, so a
    broken dataset fails at construction with one clear message.

    Args:
        root: the VOC root (``.../VOCdevkit/VOC2012``).
        split: split name, a file ``ImageSets/Segmentation/<split>.txt``.
        label_dir: folder of label PNGs (``"SegmentationClass"``; ``"SegmentationClassAug"`` for SBD).
        image_dir: folder of images.
        palette: colours used to map RGB label images back to ids (default: VOC colormap).

    Example:
        >>> ds = VocDataset("VOCdevkit/VOC2012", "val")           # doctest: +SKIP
        >>> for image_id, bgr, labels in ds: ...                   # doctest: +SKIP
    """

    class_names: Tuple[str, ...] = VOC_CLASSES

    def __init__(
        self,
        root: PathLike,
        split: str = "val",
        label_dir: str = LABEL_DIR,
        image_dir: str = IMAGE_DIR,
        palette: Optional[PaletteLike] = None,
    ) -> None:
        self.root = Path(root)
        self.split = str(split)
        self._palette = palette
        if not self.root.is_dir():
            raise SourceOpenError(
                "VOC dataset root", expected="an existing folder", found="no folder %s" % self.root,
                hint=_layout_hint(self.root) if self.root.parent.is_dir() else "check the path",
            )
        self.image_dir = self.root / image_dir
        self.label_dir = self.root / label_dir
        split_dir = self.root / SPLIT_DIR
        for folder in (self.image_dir, self.label_dir, split_dir):
            if not folder.is_dir():
                raise SourceOpenError(
                    "VOC dataset %s" % self.root,
                    expected="a folder %s" % folder.relative_to(self.root),
                    found="none", hint=_layout_hint(self.root),
                )
        split_file = split_dir / (self.split + ".txt")
        if not split_file.is_file():
            available = sorted(p.stem for p in split_dir.glob("*.txt"))
            raise SourceOpenError(
                "VOC split %r" % self.split,
                expected="a file %s" % split_file.relative_to(self.root),
                found="splits %s" % (", ".join(available) or "none"),
                hint="pass one of the available splits" if available else "write one with write_split()",
            )
        ids = [line.split()[0] for line in split_file.read_text().splitlines() if line.strip()]
        if not ids:
            raise SourceOpenError("VOC split file %s" % split_file, expected="one image id per line", found="no ids")
        missing = [
            i for i in ids
            if not (self.image_dir / (i + ".jpg")).is_file() or not (self.label_dir / (i + ".png")).is_file()
        ]
        if missing:
            raise SourceOpenError(
                "VOC split %r" % self.split,
                expected="%s/<id>.jpg and %s/<id>.png for every id" % (image_dir, label_dir),
                found="%d of %d ids incomplete (first: %s)" % (len(missing), len(ids), ", ".join(missing[:3])),
                hint="re-download or re-extract the dataset, or remove these ids from the split file",
            )
        self._ids: List[str] = ids
        log.debug("VOC %s/%s: %d images", self.root, self.split, len(ids))

    @property
    def ids(self) -> Tuple[str, ...]:
        """The split's image ids, in file order."""
        return tuple(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def __getitem__(self, index: int) -> VocSample:
        image_id = self._ids[index]  # IndexError past the end, as a sequence should
        image = read_image(self.image_dir / (image_id + ".jpg"))
        labels = read_label_png(self.label_dir / (image_id + ".png"), self._palette)
        if image.shape[:2] != labels.shape:
            raise InputError(
                "VOC sample %s" % image_id,
                expected="label PNG of the image's size %dx%d" % (image.shape[1], image.shape[0]),
                found="%dx%d" % (labels.shape[1], labels.shape[0]),
                hint="the dataset is corrupt or mixes two releases",
            )
        return VocSample(image_id, image, labels)

    def __iter__(self) -> Iterator[VocSample]:
        for i in range(len(self._ids)):
            yield self[i]

    def __repr__(self) -> str:
        return "VocDataset(root=%r, split=%r, images=%d)" % (str(self.root), self.split, len(self))


# --- writing ------------------------------------------------------------------------------------
def _check_image_id(image_id: str) -> str:
    if not isinstance(image_id, str) or not image_id or any(c.isspace() for c in image_id) or "/" in image_id or "\\" in image_id:
        raise InputError(
            "image id", expected="a non-empty file stem without spaces or slashes", found=repr(image_id)
        )
    return image_id


def write_voc_sample(
    root: PathLike,
    image_id: str,
    bgr: np.ndarray,
    labels: np.ndarray,
    palette: Optional[PaletteLike] = None,
    jpeg_quality: int = 95,
) -> Tuple[Path, Path]:
    """Write one sample in the VOC layout: ``JPEGImages/<id>.jpg`` + ``SegmentationClass/<id>.png``.

    ``bgr`` is a uint8 HxWx3 image (JPEG, so pixel values change slightly; the labels do not).
    Folders are created as needed. Returns ``(image_path, label_path)``.
    """
    image_id = _check_image_id(image_id)
    if not isinstance(bgr, np.ndarray) or bgr.dtype != np.uint8 or bgr.ndim != 3 or bgr.shape[2] != 3:
        raise InputError(
            "image", expected="uint8 array of shape (H, W, 3), BGR",
            found=("dtype %s shape %s" % (bgr.dtype, bgr.shape)) if isinstance(bgr, np.ndarray) else type(bgr).__name__,
        )
    labels = _check_labels(labels)
    if labels.shape != bgr.shape[:2]:
        raise InputError("labels", expected="the image's shape %s" % (bgr.shape[:2],), found="%s" % (labels.shape,))
    root = Path(root)
    image_path = root / IMAGE_DIR / (image_id + ".jpg")
    label_path = root / LABEL_DIR / (image_id + ".png")
    image_path.parent.mkdir(parents=True, exist_ok=True)
    _write_bgr(image_path, np.ascontiguousarray(bgr), jpeg_quality)
    save_label_png(label_path, labels, palette)
    return image_path, label_path


def write_split(root: PathLike, split: str, ids: Sequence[str]) -> Path:
    """Write ``ImageSets/Segmentation/<split>.txt`` listing ``ids`` (one per line); returns its path."""
    if not isinstance(split, str) or not split or any(c.isspace() or c in "/\\" for c in split):
        raise InputError("split name", expected="a non-empty name like 'train' or 'val'", found=repr(split))
    if isinstance(ids, str):
        raise InputError("ids", expected="a sequence of image ids", found="a single string")
    checked = [_check_image_id(i) for i in ids]
    path = Path(root) / SPLIT_DIR / (split + ".txt")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(i + "\n" for i in checked))
    return path
