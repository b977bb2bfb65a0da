"""Dataset readers and writers (PASCAL VOC segmentation layout).

Example:
    >>> from fcn_trt.datasets import VocDataset
    >>> ds = VocDataset("VOCdevkit/VOC2012", split="val")   # doctest: +SKIP
"""

from __future__ import annotations

from .voc import VocDataset, VocSample, read_label_png, save_label_png, write_split, write_voc_sample

__all__ = ["VocDataset", "VocSample", "read_label_png", "save_label_png", "write_split", "write_voc_sample"]
