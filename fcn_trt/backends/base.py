"""The interface every inference backend implements (ONNX Runtime, TensorRT).

A backend runs the *whole pipeline graph*: uint8 frames in, uint8 labels (+ optional confidence
and logits) out. It does no validation of its own: :class:`fcn_trt.Segmenter` validates frames
before they reach it.
"""

from __future__ import annotations

import abc
from typing import Dict, Tuple

import numpy as np

from ..metadata import PipelineMetadata

__all__ = ["Backend"]


class Backend(abc.ABC):
    """A loaded pipeline graph that can segment batches of frames.

    Subclasses acquire everything in ``__init__`` and release it in :meth:`close`, which must be
    idempotent.
    """

    #: short backend name, e.g. ``"onnxruntime"`` or ``"tensorrt"``.
    name: str = ""

    @property
    @abc.abstractmethod
    def metadata(self) -> PipelineMetadata:
        """The pipeline metadata of the loaded graph."""

    @property
    def max_batch(self) -> int:
        """Largest batch one :meth:`infer` call accepts (0 = unbounded)."""
        return 0

    @property
    def max_frame_hw(self) -> Tuple[int, int]:
        """Largest (H, W) of a frame one :meth:`infer` accepts ((0, 0) = unbounded)."""
        return (0, 0)

    @property
    def min_frame_hw(self) -> Tuple[int, int]:
        """Smallest (H, W) of a frame one :meth:`infer` accepts."""
        return (1, 1)

    @abc.abstractmethod
    def infer(self, frames: np.ndarray) -> Dict[str, np.ndarray]:
        """Run the pipeline on a C-contiguous uint8 batch (``[N,H,W,3]`` or nv12 ``[N,H*3/2,W]``).

        Returns the graph outputs by name (``"labels"`` always), as arrays owned by the caller.
        """

    def describe(self) -> Dict[str, str]:
        """Backend name, version and device, for reports."""
        return {"backend": self.name}

    @abc.abstractmethod
    def close(self) -> None:
        """Release every resource. Idempotent."""
