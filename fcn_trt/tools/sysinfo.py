"""What makes a latency number reproducible: the machine, the software, and (on Jetson) power/clocks.

Everything here only *reads*: it never changes clocks, power modes or any system setting. Each probe
that cannot run on this machine gives ``None`` (or is left out) instead of raising.

Example:
    >>> info = system_info()
    >>> sorted(k for k in ("python", "numpy", "os", "cpu_count") if k in info)
    ['cpu_count', 'numpy', 'os', 'python']
"""

from __future__ import annotations

import glob
import logging
import os
import platform
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Optional

__all__ = ["system_info", "package_version", "cpu_model", "jetson_info", "gpu_info", "TEGRA_RELEASE"]

log = logging.getLogger(__name__)

#: File whose presence identifies an NVIDIA Jetson (L4T) system.
TEGRA_RELEASE = "/etc/nv_tegra_release"


def package_version(dist: str) -> Optional[str]:
    """Installed version of distribution ``dist`` (no import of the package), or None."""
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover - Python < 3.8
        return None
    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def _first_version(*dists: str) -> Optional[str]:
    for d in dists:
        v = package_version(d)
        if v:
            return v
    return None


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, ``platform.processor()`` elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Model", "Hardware", "cpu model") and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _read(path: str) -> Optional[str]:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


def _read_int(path: str) -> Optional[int]:
    text = _read(path)
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _clock_domains(root: str = "/sys/devices") -> List[Dict[str, Any]]:
    """cur/max (and min) frequencies of every devfreq domain (GPU, EMC...) and CPU core, read-only."""
    domains: List[Dict[str, Any]] = []
    for cur in sorted(glob.glob(os.path.join(root, "**", "devfreq", "*", "cur_freq"), recursive=True))[:16]:
        d = os.path.dirname(cur)
        domains.append({"name": os.path.basename(d), "cur": _read_int(cur), "max": _read_int(os.path.join(d, "max_freq")),
                        "min": _read_int(os.path.join(d, "min_freq"))})
    for cur in sorted(glob.glob(os.path.join(root, "system", "cpu", "cpu[0-9]*", "cpufreq", "scaling_cur_freq")))[:64]:
        d = os.path.dirname(cur)
        domains.append({"name": os.path.basename(os.path.dirname(d)), "cur": _read_int(cur),
                        "max": _read_int(os.path.join(d, "scaling_max_freq")) or _read_int(os.path.join(d, "cpuinfo_max_freq")),
                        "min": _read_int(os.path.join(d, "scaling_min_freq"))})
    return domains


def _nvpmodel_mode() -> Optional[str]:
    """``nvpmodel -q`` (query only, never a set), or None when it is not available."""
    try:
        out = subprocess.run(["nvpmodel", "-q"], capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    text = (out.stdout or out.stderr or "").strip()
    return " | ".join(line.strip() for line in text.splitlines() if line.strip()) or None


def jetson_info(tegra_release: str = TEGRA_RELEASE, sys_root: str = "/sys/devices") -> Optional[Dict[str, Any]]:
    """L4T release, power mode and whether clocks are locked at their maximum, on a Jetson; else None.

    ``clocks_locked`` is True when every clock domain found runs at its maximum frequency (what
    ``jetson_clocks`` does); it is read from sysfs, never changed.
    """
    release = _read(tegra_release)
    if release is None:
        return None
    domains = _clock_domains(sys_root)
    known = [d for d in domains if d["cur"] is not None and d["max"]]
    locked: Optional[bool] = all(d["cur"] >= d["max"] for d in known) if known else None
    return {
        "l4t_release": release.splitlines()[0] if release else "",
        "power_mode": _nvpmodel_mode(),
        "clocks_locked": locked,
        "clocks": domains,
    }


def gpu_info(device: int = 0) -> Optional[Dict[str, Any]]:
    """GPU name, compute capability, memory and driver/CUDA runtime versions via cuda-python, or None."""
    try:
        from ..backends._cuda import _cuda_version_text, _version_call, cuda_device_info, cuda_runtime

        dev = cuda_device_info(device)
        rt = cuda_runtime()
        info: Dict[str, Any] = {
            "gpu_name": dev.name,
            "compute_capability": dev.compute_capability,
            "gpu_memory_mb": round(dev.total_memory / 2**20, 1),
        }
        for key, call in (("driver_version", "cudaDriverGetVersion"), ("cuda_runtime_version", "cudaRuntimeGetVersion")):
            v = _version_call(rt, call)  # -1 when the probe fails: a version probe must not fail a report
            info[key] = _cuda_version_text(v) if v >= 0 else None
        return info
    except Exception as e:  # noqa: BLE001 - no cuda-python, no driver, no device: all mean "no GPU info"
        log.debug("no GPU info: %s", e)
        return None


def system_info(device: Optional[int] = 0) -> Dict[str, Any]:
    """Machine and software versions for a benchmark or profile report (JSON-serialisable).

    ``device=None`` skips the GPU probe.
    """
    import numpy

    info: Dict[str, Any] = {
        "os": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "onnxruntime": _first_version("onnxruntime", "onnxruntime-gpu"),
        "opencv": _first_version("opencv-python-headless", "opencv-python", "opencv-contrib-python"),
        "onnx": package_version("onnx"),
        "tensorrt": _first_version("tensorrt", "tensorrt-cu12", "tensorrt-cu13", "tensorrt-lean"),
        "cuda_python": _first_version("cuda-python", "cuda-bindings"),
        "fcn_trt": _first_version("fcn-trt", "fcn_trt"),
    }
    if hasattr(os, "getloadavg"):
        try:
            info["loadavg"] = [round(x, 2) for x in os.getloadavg()]
        except OSError:
            info["loadavg"] = None
    gpu = gpu_info(device) if device is not None else None
    info["gpu"] = gpu
    info["jetson"] = jetson_info()
    return info
