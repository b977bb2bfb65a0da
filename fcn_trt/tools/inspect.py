"""``fcn-trt inspect ENGINE``: what an engine is (sidecar) and what it takes and gives (IO tensors).

The sidecar part needs nothing but the JSON file. The IO tensors need TensorRT and a CUDA device
(an engine is only deserialised after CUDA is known to work, and after the sidecar says this
TensorRT/GPU can load it); without them the report says why they are missing.

Example:
    >>> report = inspect_engine("fcn8s.engine")                # doctest: +SKIP
    >>> print(format_report(report))                           # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, List, Optional, Tuple

from .._imports import require_tensorrt
from ..backends.tensorrt import _acquire_engine, _release_engine
from ..errors import FcnTrtError, ModelNotFoundError
from ..sidecar import EngineSidecar, check_engine_compatible, read_sidecar, rebuild_hint

__all__ = ["TensorInfo", "EngineReport", "inspect_engine", "format_report"]


@dataclasses.dataclass(frozen=True)
class TensorInfo:
    """One IO tensor of an engine (shape -1 = dynamic; profile = (min, opt, max) for inputs)."""

    name: str
    mode: str
    dtype: str
    shape: Tuple[int, ...]
    profile: Optional[Tuple[Tuple[int, ...], Tuple[int, ...], Tuple[int, ...]]] = None


@dataclasses.dataclass(frozen=True)
class EngineReport:
    """Result of :func:`inspect_engine`."""

    path: Path
    size_bytes: int
    sidecar: EngineSidecar
    tensors: Tuple[TensorInfo, ...] = ()
    tensors_unavailable: str = ""  # why the IO tensors could not be read ("" when they were)


def _engine_tensors(path: Path, sidecar: EngineSidecar, trt_module: Any) -> Tuple[TensorInfo, ...]:
    from ..cuda import cuda_device_info

    device = cuda_device_info(0)  # CUDA first: TensorRT without a driver segfaults later
    trt = trt_module if trt_module is not None else require_tensorrt("inspecting a TensorRT engine")
    check_engine_compatible(sidecar, str(trt.__version__), device.compute_capability, path)
    # the backend's deserialiser and engine cache: one logger, one EngineCorruptError with TensorRT's words
    key, entry = _acquire_engine(trt, path, device.index, rebuild_hint(sidecar, path))
    try:
        return _describe_tensors(trt, entry.engine)
    finally:
        _release_engine(key)


def _describe_tensors(trt: Any, engine: Any) -> Tuple[TensorInfo, ...]:
    out: List[TensorInfo] = []
    for i in range(int(engine.num_io_tensors)):
        name = engine.get_tensor_name(i)
        mode = engine.get_tensor_mode(name)
        profile = None
        if mode == trt.TensorIOMode.INPUT:
            shapes = engine.get_tensor_profile_shape(name, 0)
            if len(shapes) == 3:
                profile = tuple(tuple(int(d) for d in s) for s in shapes)
        out.append(TensorInfo(
            name=name,
            mode=getattr(mode, "name", str(mode)),
            dtype=getattr(engine.get_tensor_dtype(name), "name", "?"),
            shape=tuple(int(d) for d in engine.get_tensor_shape(name)),
            profile=profile,  # type: ignore[arg-type]
        ))
    return tuple(out)


def inspect_engine(path: Any, *, trt_module: Any = None, tensors: bool = True) -> EngineReport:
    """Read the sidecar of ``path`` and, where TensorRT and a GPU are usable, the engine's IO tensors."""
    path = Path(path)
    if not path.is_file():
        raise ModelNotFoundError("engine %s" % path, expected="an existing engine file", found="no such file")
    sidecar = read_sidecar(path)
    found: Tuple[TensorInfo, ...] = ()
    why = "not requested"
    if tensors:
        try:
            found, why = _engine_tensors(path, sidecar, trt_module), ""
        except FcnTrtError as e:
            why = str(e)
    return EngineReport(path=path, size_bytes=path.stat().st_size, sidecar=sidecar, tensors=found,
                        tensors_unavailable=why)


def format_report(report: EngineReport) -> str:
    """Human-readable text of :func:`inspect_engine`'s report."""
    e, p = report.sidecar.engine, report.sidecar.pipeline
    lines = [
        "engine      %s (%.1f MiB)" % (report.path, report.size_bytes / 2.0 ** 20),
        "tensorrt    %s   built %s by fcn_trt %s" % (e.tensorrt_version, e.created, e.fcn_trt_version),
        "gpu         %s (sm_%s)" % (e.gpu_name, e.compute_capability.replace(".", "")),
        "precision   %s   onnx sha256 %s" % (e.precision, e.onnx_sha256[:16]),
        "model       %s %s, %d classes, input %s, outputs %s" % (
            p.model_name or "-", p.variant, p.num_classes, p.input_format, ", ".join(p.outputs)),
        "classes     %s" % ", ".join(p.class_names),
    ]
    for name, prof in sorted(e.profiles.items()):
        lines.append("profile     %s: min %s opt %s max %s" % (
            name, prof.get("min"), prof.get("opt"), prof.get("max")))
    flags = {k: v for k, v in sorted(e.build_flags.items()) if k != "command" and v not in (None, False, [], "")}
    lines.append("flags       %s" % ", ".join("%s=%s" % kv for kv in flags.items()))
    if e.build_flags.get("command"):
        lines.append("rebuild     %s" % e.build_flags["command"])
    if report.tensors:
        lines.append("io tensors")
        for t in report.tensors:
            extra = "  profile min %s opt %s max %s" % t.profile if t.profile else ""
            lines.append("  %-6s %-12s %-6s %s%s" % (t.mode.lower(), t.name, t.dtype, list(t.shape), extra))
    else:
        lines.append("io tensors  unavailable: %s" % report.tensors_unavailable)
    return "\n".join(lines)
