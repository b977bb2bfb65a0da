"""fcn_trt: FCN-8s semantic segmentation as one TensorRT engine, with an ONNX Runtime CPU fallback.

The engine is the whole pipeline (preprocessing, network, argmax), so the same graph runs on
TensorRT on a GPU and on ONNX Runtime on a CPU.

Example:
    >>> import fcn_trt
    >>> with fcn_trt.Segmenter("demo") as seg:                  # doctest: +SKIP
    ...     result = seg.run(frame)                            # uint8 HxWx3 BGR
    ...     cv2.imshow("seg", result.overlay(frame))
"""

from __future__ import annotations

from . import errors
from .metadata import PipelineMetadata
from .result import SegmentationResult
from .segmenter import Segmenter

__version__ = "0.1.0"

__all__ = ["Segmenter", "SegmentationResult", "PipelineMetadata", "errors", "__version__"]
