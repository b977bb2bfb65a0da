"""fcn_trt: FCN-8s semantic segmentation as one TensorRT engine, with an ONNX Runtime CPU fallback.

The engine is the whole pipeline (preprocessing, network, argmax), so the same graph runs on
TensorRT on a GPU and on ONNX Runtime on a CPU. ``import fcn_trt`` needs numpy alone; OpenCV,
ONNX Runtime and TensorRT are imported where they are used.

The runtime core sits flat in this package (segmenter, result, metadata, sidecar, palettes,
tiling, errors); ``backends``, ``streaming``, ``eval``, ``demo``, ``tools`` and ``cli`` are
subpackages, each importing only from the layers below it (docs/DESIGN.md).

Example:
    >>> import fcn_trt
    >>> with fcn_trt.Segmenter("demo") as seg:                  # doctest: +SKIP
    ...     result = seg.run(frame)                            # uint8 HxWx3 BGR
    ...     cv2.imshow("seg", result.overlay(frame))
"""

from __future__ import annotations

from . import errors
from ._version import __version__
from .metadata import PipelineMetadata
from .result import SegmentationResult
from .segmenter import Segmenter
from .streaming.sources import open_source
from .streaming.stream import Stream, StreamResult
from .tiling import segment_tiled

__all__ = [
    "Segmenter", "SegmentationResult", "PipelineMetadata", "Stream", "StreamResult", "open_source", "segment_tiled",
    "errors", "__version__",
]
