"""Memory pre-flight: refuse a frame that cannot fit in memory *before* the backend tries.

Without it an 8000x8000 frame on ONNX Runtime fails after ~24 s with a raw allocation error at
6+ GB (or wakes the OOM killer), while :func:`fcn_trt.tiling.segment_tiled` segments the same
image tile by tile in a fraction of the memory. TensorRT engines are bounded by their optimization
profile instead (:class:`~fcn_trt.errors.FrameShapeError` names the profile's maximum).

The estimate is deliberately rough and on the high side: bytes of activations per network pixel
(measured on the demo model: 170-230 B/px for an FCN-8s of width divisor 8 on ONNX Runtime, peak
RSS over a 1000x1000 and a 2000x2000 frame) scaled with the network width, plus the frame-sized
tensors around the network (frame, resized scores, labels, confidence).

Example:
    >>> from fcn_trt.metadata import PipelineMetadata
    >>> meta = PipelineMetadata(class_names=("bg", "fg"), palette=((0, 0, 0), (1, 1, 1)), variant="fcn8s", width_divisor=8)
    >>> estimate_frame_bytes(meta, 1, 480, 640) < 100 * 2 ** 20
    True
"""

from __future__ import annotations

import os
from typing import Optional

from ._util import read_proc_value
from .errors import FrameTooLargeError
from .metadata import PipelineMetadata

__all__ = ["estimate_frame_bytes", "available_memory_bytes", "check_frame_memory"]

#: activation bytes per network pixel of a canonical-width FCN (8 x the 230 B/px measured at divisor 8).
FCN_BYTES_PER_PIXEL = 8 * 230
#: for networks of unknown architecture ("custom").
CUSTOM_BYTES_PER_PIXEL = 256


def estimate_frame_bytes(meta: PipelineMetadata, n: int, h: int, w: int) -> int:
    """Rough upper estimate of the memory one inference of ``n`` frames of ``h`` x ``w`` needs."""
    if meta.variant.startswith("fcn"):
        per_net_px = FCN_BYTES_PER_PIXEL / max(1, meta.width_divisor)
    else:
        per_net_px = CUSTOM_BYTES_PER_PIXEL
    net_px = (meta.inference_size[0] * meta.inference_size[1]) if meta.inference_size else h * w
    per_frame_px = 3 + 1 + 4 + 4 * meta.num_classes  # frame, labels, confidence, scores at frame size
    return int(n * (net_px * per_net_px + h * w * per_frame_px))


def available_memory_bytes() -> Optional[int]:
    """``MemAvailable`` of /proc/meminfo (Linux), else physical memory, else None (unknown)."""
    kib = read_proc_value("/proc/meminfo", "MemAvailable", int)
    if kib is not None:
        return kib * 1024
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def check_frame_memory(meta: PipelineMetadata, n: int, h: int, w: int, backend: str = "the backend",
                       available: Optional[int] = None, hint: Optional[str] = None) -> None:
    """Raise :class:`~fcn_trt.errors.FrameTooLargeError` when ``n`` frames of ``h`` x ``w`` need more
    memory than is available, naming :func:`fcn_trt.tiling.segment_tiled` (or ``hint``, where tiling
    is not the way out, e.g. a profile of a chosen size).

    Example:
        >>> meta = PipelineMetadata(class_names=("bg",), palette=((0, 0, 0),), variant="fcn8s")
        >>> check_frame_memory(meta, 1, 99999, 99999, "onnxruntime", available=8 * 2 ** 30)
        Traceback (most recent call last):
        ...
        fcn_trt.errors.FrameTooLargeError: frame of 99999x99999 on onnxruntime: expected at most 6.8 GiB of memory (what is available), found about 17247.7 GiB needed. Hint: segment it tile by tile with fcn_trt.tiling.segment_tiled(segmenter, frame), or downscale it
    """
    need = estimate_frame_bytes(meta, n, h, w)
    have = available_memory_bytes() if available is None else available
    if have is None:
        return
    budget = int(have * 0.85)  # leave room for the interpreter, the caller's own frames and the OS
    if need <= budget:
        return
    what = "%s of %dx%d on %s" % ("frame" if n == 1 else "batch of %d frames" % n, h, w, backend)
    raise FrameTooLargeError(
        what, expected="at most %.1f GiB of memory (what is available)" % (budget / 2 ** 30),
        found="about %.1f GiB needed" % (need / 2 ** 30),
        hint=hint or ("segment it tile by tile with fcn_trt.tiling.segment_tiled(segmenter, frame)"
                      + (", or split the batch" if n > 1 else ", or downscale it")),
    )
