"""Measuring and checking a deployment (layer L5): profile, selfcheck, inspect, system info.

None of them builds engines (that is ``build_engine``); each returns a frozen report and prints
nothing (the ``fcn-trt`` commands print them).

Example:
    >>> from fcn_trt.tools import profile
    >>> print(profile("demo", frames=20).format_table())               # doctest: +SKIP
"""

from .check import LatencyStats, SelfcheckReport, latency_stats, selfcheck
from .inspect import EngineReport, TensorInfo, format_report, inspect_engine
from .profiling import ProfileReport, StageStats, profile, stage_stats, write_plots
from .sysinfo import system_info

__all__ = [
    "profile", "ProfileReport", "StageStats", "stage_stats", "write_plots",
    "selfcheck", "SelfcheckReport", "LatencyStats", "latency_stats",
    "inspect_engine", "EngineReport", "TensorInfo", "format_report",
    "system_info",
]
