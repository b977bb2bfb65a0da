"""The one latency-statistics record of the tools: percentiles of millisecond samples.

``fcn-trt profile`` reports one per pipeline stage, ``fcn-trt selfcheck`` one per backend; the
example is :func:`stage_stats`'s.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, Sequence

import numpy as np

from ..errors import InputError

__all__ = ["StageStats", "stage_stats"]


@dataclasses.dataclass(frozen=True)
class StageStats:
    """Latency statistics of one stage over ``count`` timed frames, in milliseconds.

    ``std_ms`` is the population standard deviation (jitter); ``cv`` = std / mean.
    Percentiles interpolate linearly between samples (numpy's default).
    """

    name: str
    count: int
    min_ms: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    std_ms: float

    @property
    def cv(self) -> float:
        return self.std_ms / self.mean_ms if self.mean_ms > 0 else 0.0

    def to_dict(self) -> Dict[str, Any]:
        d = dataclasses.asdict(self)
        d["cv"] = self.cv
        return d


def stage_stats(name: str, samples_ms: Sequence[float]) -> StageStats:
    """Statistics of ``samples_ms`` (at least one finite value).

    Example:
        >>> s = stage_stats("total", [float(v) for v in range(1, 101)])
        >>> tuple(round(v, 2) for v in (s.p50_ms, s.p90_ms, s.p99_ms, s.min_ms, s.max_ms, s.mean_ms))
        (50.5, 90.1, 99.01, 1.0, 100.0, 50.5)
    """
    a = np.asarray(list(samples_ms), dtype=np.float64)
    if a.size == 0 or not np.all(np.isfinite(a)):
        raise InputError(f"{name} latency samples", expected="at least one finite value",
                         found=f"{a.size} samples" if a.size == 0 else "NaN or inf values")
    p50, p90, p99 = (float(v) for v in np.percentile(a, [50, 90, 99]))
    return StageStats(name=name, count=int(a.size), min_ms=float(a.min()), p50_ms=p50, p90_ms=p90, p99_ms=p99,
                      max_ms=float(a.max()), mean_ms=float(a.mean()), std_ms=float(a.std()))
