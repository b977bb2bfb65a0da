"""Per-layer times of a TensorRT engine through ``IExecutionContext.profiler`` (``trt.IProfiler``).

Used by :meth:`fcn_trt.backends.tensorrt.TensorRTBackend.profile_layers`, which times the layers
on a second backend on the same engine file (the deserialised engine is shared) with CUDA graphs
off: a replayed CUDA graph reports no layer times.
"""

from __future__ import annotations

from typing import Any, Dict, List

import numpy as np

from .._progress import progress
from .base import LayerTimes

__all__ = ["make_layer_profiler", "profile_layers"]


def make_layer_profiler(trt: Any) -> Any:
    """A ``trt.IProfiler`` that collects ``report_layer_time`` calls into ``.times`` (name -> [ms])."""

    class _LayerTimes(trt.IProfiler):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            trt.IProfiler.__init__(self)
            self.times: Dict[str, List[float]] = {}

        def report_layer_time(self, layer_name: str, ms: float) -> None:
            self.times.setdefault(str(layer_name), []).append(float(ms))

    return _LayerTimes()


def profile_layers(trt: Any, backend: Any, frames: np.ndarray, runs: int, show_progress: bool = False) -> LayerTimes:
    """Time each layer of ``backend``'s engine over ``runs`` runs of ``frames`` (after one warm-up).

    ``backend`` must enqueue plainly (CUDA graphs off): a replayed graph reports no layer times.
    """
    ctx = backend.execution_context
    collector = make_layer_profiler(trt)
    backend.infer(frames)  # warm-up, not profiled
    ctx.profiler = collector
    try:
        for _ in progress(range(runs), desc="layers", enabled=show_progress):
            backend.infer(frames)
    finally:
        ctx.profiler = None
    return collector.times, {}, (
        f"TensorRT IProfiler (IExecutionContext.profiler), mean of {runs} runs, CUDA graph off; layer names as "
        "the engine records them (build with detailed profiling verbosity for full names)")
