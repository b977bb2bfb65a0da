"""Engine sidecar: ``<name>.engine.json`` written next to a plain TensorRT engine.

The engine file stays a plain TensorRT plan (``trtexec --loadEngine`` still works); everything
fcn_trt needs to use it (the pipeline metadata) and to check it *before* deserialising (TensorRT
version, GPU compute capability, source ONNX hash, build flags) lives in the sidecar::

    {"schema": "fcn_trt.engine/1", "pipeline": {...PipelineMetadata...}, "engine": {...EngineInfo...}}

Example:
    >>> side = read_sidecar("fcn8s.engine")                    # doctest: +SKIP
    >>> check_engine_compatible(side, "10.3.0", "8.7")         # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Union

from ._version import __version__
from .errors import EngineCorruptError, EngineError, EngineMismatchError, MetadataError
from .metadata import PipelineMetadata

__all__ = [
    "SIDECAR_SCHEMA",
    "EngineInfo",
    "EngineSidecar",
    "sidecar_path",
    "write_sidecar",
    "read_sidecar",
    "check_engine_compatible",
    "rebuild_hint",
]

SIDECAR_SCHEMA = "fcn_trt.engine/1"

PathLike = Union[str, "os.PathLike[str]"]


def _now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def _fcn_trt_version() -> str:
    return str(__version__)


@dataclasses.dataclass(frozen=True)
class EngineInfo:
    """How and for what an engine was built.

    Attributes:
        tensorrt_version: ``tensorrt.__version__`` of the builder ("10.3.0").
        gpu_name: CUDA device name of the build machine ("Orin").
        compute_capability: "major.minor" of that device ("8.7").
        precision: "fp32", "fp16" or "int8" (a property of the ONNX graph).
        onnx_sha256: sha256 of the ONNX file the engine was built from.
        build_flags: builder options (workspace, optimization level, DLA core, hardware and version
            compatibility, timing cache, the ONNX path and the exact rebuild command...).
        profiles: ``{input: {"min": [...], "opt": [...], "max": [...]}}`` of the optimization profile.
        created: ISO-8601 build time (UTC).
        fcn_trt_version: version of fcn_trt that built it.
    """

    tensorrt_version: str
    gpu_name: str
    compute_capability: str
    precision: str
    onnx_sha256: str
    build_flags: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    profiles: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    created: str = dataclasses.field(default_factory=_now_iso)
    fcn_trt_version: str = dataclasses.field(default_factory=_fcn_trt_version)

    def to_dict(self) -> Dict[str, Any]:
        d = dataclasses.asdict(self)
        d["build_flags"] = dict(self.build_flags)
        d["profiles"] = {k: dict(v) for k, v in self.profiles.items()}
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "EngineInfo":
        known = {f.name for f in dataclasses.fields(cls)}
        required = ("tensorrt_version", "gpu_name", "compute_capability", "precision", "onnx_sha256")
        missing = [k for k in required if k not in d]
        if missing:
            raise KeyError(", ".join(missing))
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclasses.dataclass(frozen=True)
class EngineSidecar:
    """Pipeline metadata + engine build information (the content of ``<engine>.json``)."""

    pipeline: PipelineMetadata
    engine: EngineInfo
    schema: str = SIDECAR_SCHEMA

    def to_dict(self) -> Dict[str, Any]:
        return {"schema": self.schema, "pipeline": self.pipeline.to_dict(), "engine": self.engine.to_dict()}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "EngineSidecar":
        return cls(
            pipeline=PipelineMetadata.from_dict(d["pipeline"]),
            engine=EngineInfo.from_dict(d["engine"]),
            schema=str(d.get("schema", SIDECAR_SCHEMA)),
        )


def sidecar_path(engine_path: PathLike) -> Path:
    """``model.engine`` -> ``model.engine.json``."""
    p = Path(engine_path)
    return p.with_name(p.name + ".json")


def write_sidecar(engine_path: PathLike, sidecar: EngineSidecar) -> Path:
    """Write ``<engine>.json`` atomically (temporary file in the same folder + ``os.replace``)."""
    target = sidecar_path(engine_path)
    atomic_write_bytes(target, (sidecar.to_json() + "\n").encode("utf-8"))
    return target


def atomic_write_bytes(target: PathLike, data: bytes) -> Path:
    """Write ``data`` to ``target`` so that readers see either the old file or the whole new one."""
    target = Path(target)
    fd, tmp = tempfile.mkstemp(prefix="." + target.name + ".", suffix=".tmp", dir=str(target.parent))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, str(target))
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return target


def rebuild_hint(sidecar: Optional[EngineSidecar], engine_path: PathLike) -> str:
    """The command that rebuilds ``engine_path`` on this machine."""
    flags = dict(sidecar.engine.build_flags) if sidecar is not None else {}
    if flags.get("command"):
        return "rebuild on this machine with: %s" % flags["command"]
    onnx = flags.get("onnx") or "MODEL.onnx"
    precision = sidecar.engine.precision if sidecar is not None else "fp16"
    return "rebuild on this machine with: python -m build_engine build %s --precision %s --out %s" % (
        onnx, precision, engine_path)


def read_sidecar(engine_path: PathLike) -> EngineSidecar:
    """Read ``<engine>.json``.

    Raises:
        EngineError: the sidecar does not exist (an engine built elsewhere, or renamed alone).
        EngineCorruptError: it is not valid JSON or lacks required fields.
    """
    path = sidecar_path(engine_path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EngineError(
            "engine sidecar %s" % path,
            expected="the JSON metadata written next to the engine by `python -m build_engine build`",
            found="no such file",
            hint="copy %s together with %s, or %s" % (path.name, Path(engine_path).name, rebuild_hint(None, engine_path)),
        ) from None
    except OSError as e:
        raise EngineError("engine sidecar %s" % path, expected="a readable file", found=str(e)) from None
    try:
        d = json.loads(text)
    except ValueError as e:
        raise EngineCorruptError(
            "engine sidecar %s" % path, expected="valid JSON", found=str(e), hint=rebuild_hint(None, engine_path)
        ) from None
    if not isinstance(d, dict) or not str(d.get("schema", "")).startswith("fcn_trt.engine/"):
        raise EngineCorruptError(
            "engine sidecar %s" % path,
            expected="a JSON object with schema %s" % SIDECAR_SCHEMA,
            found="schema %r" % (d.get("schema") if isinstance(d, dict) else type(d).__name__),
            hint=rebuild_hint(None, engine_path),
        )
    try:
        return EngineSidecar.from_dict(d)
    except (KeyError, TypeError) as e:
        raise EngineCorruptError(
            "engine sidecar %s" % path,
            expected="fields pipeline and engine (tensorrt_version, gpu_name, compute_capability, precision, "
            "onnx_sha256)",
            found="missing %s" % e,
            hint=rebuild_hint(None, engine_path),
        ) from None
    except MetadataError as e:
        raise EngineCorruptError(
            "engine sidecar %s: pipeline metadata" % path, expected="valid fcn_trt metadata", found=str(e),
            hint=rebuild_hint(None, engine_path),
        ) from None


def _release(version: str) -> tuple:
    from packaging.version import Version

    return Version(version).release


def _cc(cc: str) -> tuple:
    try:
        major, minor = str(cc).split(".")
        return int(major), int(minor)
    except ValueError:
        raise EngineMismatchError("compute capability", expected='"major.minor" such as "8.7"', found=repr(cc))


def _short(version: str) -> str:
    return ".".join(str(p) for p in _release(version)[:2])


def check_engine_compatible(
    sidecar: EngineSidecar,
    trt_version: str,
    compute_capability: str,
    engine_path: PathLike = "MODEL.engine",
) -> None:
    """Raise EngineMismatchError unless this machine (TensorRT ``trt_version``, GPU
    ``compute_capability``) can deserialise the engine described by ``sidecar``.

    Rules (TensorRT's): the TensorRT release must match exactly, unless the engine was built
    version-compatible (then any release of the same major version that is not older); the compute
    capability must match, unless the engine was built hardware-compatible ("ampere_plus": any
    GPU of compute capability >= 8.0).
    """
    info = sidecar.engine
    flags = dict(info.build_flags)
    built_v, here_v = _release(info.tensorrt_version), _release(trt_version)
    if flags.get("version_compatible"):
        version_ok = built_v[:1] == here_v[:1] and here_v >= built_v
    else:
        version_ok = built_v == here_v
    hw = str(flags.get("hardware_compatibility") or "none")
    if hw == "ampere_plus":
        cc_ok = _cc(compute_capability) >= (8, 0)
    else:
        cc_ok = _cc(compute_capability) == _cc(info.compute_capability)
    if version_ok and cc_ok:
        return
    built = "TensorRT %s for sm_%s" % (_short(info.tensorrt_version), info.compute_capability.replace(".", ""))
    here = "TensorRT %s on sm_%s" % (_short(trt_version), str(compute_capability).replace(".", ""))
    if not version_ok and _short(info.tensorrt_version) == _short(trt_version):
        built = built.replace(_short(info.tensorrt_version), info.tensorrt_version, 1)
        here = here.replace(_short(trt_version), str(trt_version), 1)
    raise EngineMismatchError(
        "engine %s built with %s (%s), this machine has %s" % (Path(engine_path).name, built, info.gpu_name, here),
        hint=rebuild_hint(sidecar, engine_path),
    )
