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
import re
import tempfile
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Union

from ._util import read_proc_value
from ._version import __version__
from .errors import EngineCorruptError, EngineMismatchError, MetadataError, SidecarNotFoundError
from .metadata import PRECISIONS, PipelineMetadata, _found

__all__ = [
    "SIDECAR_SCHEMA",
    "EngineInfo",
    "EngineSidecar",
    "sidecar_path",
    "write_sidecar",
    "read_sidecar",
    "check_engine_compatible",
    "check_engine_fields",
    "rebuild_hint",
    "make_temp_file",
    "current_umask",
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
    def from_dict(cls, d: Mapping[str, Any], where: str = "engine") -> "EngineInfo":
        """Build from the JSON form after :func:`check_engine_fields` (:class:`EngineCorruptError`)."""
        check_engine_fields(d, where)
        known = {f.name for f in dataclasses.fields(cls)}
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
        """Build from the JSON form; :class:`EngineCorruptError` (or MetadataError for the pipeline
        record) names the first field that breaks ``fcn_trt/schemas/engine_sidecar.schema.json``."""
        if not isinstance(d, Mapping):
            raise EngineCorruptError("engine sidecar", expected="a JSON object", found=type(d).__name__)
        if d.get("schema") != SIDECAR_SCHEMA:
            raise EngineCorruptError("sidecar.schema", expected=repr(SIDECAR_SCHEMA), found=_found(d.get("schema")))
        missing = [k for k in ("pipeline", "engine") if k not in d]
        if missing:
            raise EngineCorruptError("engine sidecar", expected="fields schema, pipeline and engine",
                                     found="no " + ", ".join(missing))
        return cls(
            pipeline=PipelineMetadata.from_dict(d["pipeline"], "sidecar.pipeline"),
            engine=EngineInfo.from_dict(d["engine"], "sidecar.engine"),
            schema=SIDECAR_SCHEMA,
        )


# The rules of fcn_trt/schemas/engine_sidecar.schema.json ($defs.engine), encoded without a JSON
# Schema library; tests/fcn_trt/test_sidecar.py checks that both reject the same sidecars.
_VERSION = re.compile(r"^[0-9]+(\.[0-9]+)*$")
_CC = re.compile(r"^[0-9]+\.[0-9]+$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_REQUIRED = ("tensorrt_version", "gpu_name", "compute_capability", "precision", "onnx_sha256")
_FLAG_TYPES = {  # build_flags property -> (accepted types, what to say)
    "onnx": ((str,), "a string"), "command": ((str,), "a string"), "strongly_typed": ((bool,), "true or false"),
    "workspace_mib": ((int, type(None)), "an integer or null"),
    "optimization_level": ((int, type(None)), "an integer or null"),
    "timing_cache": ((str, type(None)), "a string or null"), "dla_core": ((int, type(None)), "an integer or null"),
    "gpu_fallback": ((bool, type(None)), "true, false or null"),
    "version_compatible": ((bool,), "true or false"), "exclude_lean_runtime": ((bool,), "true or false"),
}
_HW_COMPAT = ("none", "ampere_plus", "same_compute_capability")


def _corrupt(where: str, expected: str, value: Any) -> EngineCorruptError:
    return EngineCorruptError(where, expected=expected, found=_found(value))


def _typed(value: Any, types: tuple) -> bool:
    if isinstance(value, bool) and bool not in types:
        return False
    return isinstance(value, types)


def check_engine_fields(d: Mapping[str, Any], where: str = "engine") -> None:
    """Raise :class:`EngineCorruptError` naming the first field of an engine record that is missing
    or has the wrong type or form.

    Example:
        >>> check_engine_fields({"tensorrt_version": "ten", "gpu_name": "Orin", "compute_capability": "8.7",
        ...                      "precision": "fp16", "onnx_sha256": "0" * 64})
        Traceback (most recent call last):
        ...
        fcn_trt.errors.EngineCorruptError: engine.tensorrt_version: expected a version string such as "10.3.0", found 'ten' (str)
    """
    if not isinstance(d, Mapping):
        raise _corrupt(where, "a JSON object", d)
    missing = [k for k in _REQUIRED if k not in d]
    if missing:
        raise EngineCorruptError(where, expected="fields " + ", ".join(_REQUIRED), found="no " + ", ".join(missing))
    checks = (
        ("tensorrt_version", _VERSION, 'a version string such as "10.3.0"'),
        ("compute_capability", _CC, 'a string "major.minor" such as "8.7"'),
        ("onnx_sha256", _SHA256, "64 lowercase hex digits (sha256)"),
    )
    for key, pattern, expected in checks:
        if not isinstance(d[key], str) or not pattern.match(d[key]):
            raise _corrupt("%s.%s" % (where, key), expected, d[key])
    if not isinstance(d["gpu_name"], str):
        raise _corrupt(where + ".gpu_name", "a string", d["gpu_name"])
    if d["precision"] not in PRECISIONS or not isinstance(d["precision"], str):
        raise _corrupt(where + ".precision", " or ".join(repr(p) for p in PRECISIONS), d["precision"])
    for key in ("created", "fcn_trt_version"):
        if key in d and not isinstance(d[key], str):
            raise _corrupt("%s.%s" % (where, key), "a string", d[key])
    flags = d.get("build_flags", {})
    if not isinstance(flags, Mapping):
        raise _corrupt(where + ".build_flags", "a JSON object", flags)
    for key, (types, expected) in _FLAG_TYPES.items():
        if key in flags and not _typed(flags[key], types):
            raise _corrupt("%s.build_flags.%s" % (where, key), expected, flags[key])
    if "builder_flags" in flags and not (isinstance(flags["builder_flags"], list)
                                         and all(isinstance(f, str) for f in flags["builder_flags"])):
        raise _corrupt(where + ".build_flags.builder_flags", "a list of strings", flags["builder_flags"])
    if "hardware_compatibility" in flags and flags["hardware_compatibility"] not in _HW_COMPAT:
        raise _corrupt(where + ".build_flags.hardware_compatibility", " or ".join(repr(h) for h in _HW_COMPAT),
                       flags["hardware_compatibility"])
    profiles = d.get("profiles", {})
    if not isinstance(profiles, Mapping):
        raise _corrupt(where + ".profiles", "a JSON object {input: {min, opt, max}}", profiles)
    for name, prof in profiles.items():
        if not isinstance(prof, Mapping) or any(k not in prof for k in ("min", "opt", "max")):
            raise _corrupt("%s.profiles.%s" % (where, name), "an object with min, opt and max", prof)
        for k in ("min", "opt", "max"):
            dims = prof[k]
            if not isinstance(dims, list) or not all(_typed(v, (int,)) and v >= 0 for v in dims):
                raise _corrupt("%s.profiles.%s.%s" % (where, name, k), "a list of integers >= 0", dims)


def sidecar_path(engine_path: PathLike) -> Path:
    """``model.engine`` -> ``model.engine.json``."""
    p = Path(engine_path)
    return p.with_name(p.name + ".json")


def write_sidecar(engine_path: PathLike, sidecar: EngineSidecar) -> Path:
    """Write ``<engine>.json`` atomically (temporary file in the same folder + ``os.replace``)."""
    target = sidecar_path(engine_path)
    atomic_write_bytes(target, (sidecar.to_json() + "\n").encode("utf-8"))
    return target


def current_umask() -> int:
    """The process umask (read from /proc on Linux; elsewhere set and restored at once)."""
    mask = read_proc_value("/proc/self/status", "Umask", lambda word: int(word, 8))
    if mask is not None:
        return mask
    mask = os.umask(0o022)  # a brief window in which another thread's new files get 022
    os.umask(mask)
    return mask


def make_temp_file(target: PathLike) -> tuple:
    """``tempfile.mkstemp`` next to ``target``, with the mode ``open()`` would give (0644 under umask 022).

    mkstemp creates files 0600 whatever the umask; an engine, sidecar or ONNX file renamed over
    ``target`` would then be unreadable to the other users and services that load it.

    Returns:
        ``(fd, temp path)``, like :func:`tempfile.mkstemp`.
    """
    target = Path(target)
    fd, tmp = tempfile.mkstemp(prefix="." + target.name + ".", suffix=".tmp", dir=str(target.parent))
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
    except (AttributeError, OSError):  # no fchmod (Windows): mkstemp's mode stays
        pass
    return fd, tmp


def atomic_write_bytes(target: PathLike, data: bytes) -> Path:
    """Write ``data`` to ``target`` so that readers see either the old file or the whole new one.

    The file gets the mode ``open()`` would give it under the user's umask.
    """
    target = Path(target)
    fd, tmp = make_temp_file(target)
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
        SidecarNotFoundError: the sidecar does not exist (an engine built elsewhere, or renamed alone).
        EngineCorruptError: it is not valid JSON, or a field is missing or has the wrong type or
            form (the message names the field, e.g. ``engine.compute_capability``).
    """
    path = sidecar_path(engine_path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SidecarNotFoundError(
            "engine sidecar %s" % path,
            expected="the JSON metadata written next to the engine by `python -m build_engine build`",
            found="no such file",
            hint="copy %s together with %s, or %s" % (path.name, Path(engine_path).name, rebuild_hint(None, engine_path)),
        ) from None
    except (OSError, UnicodeDecodeError) as e:
        raise EngineCorruptError("engine sidecar %s" % path, expected="a readable UTF-8 JSON file", found=str(e),
                                 hint=rebuild_hint(None, engine_path)) from None
    try:
        d = json.loads(text)
    except ValueError as e:
        raise EngineCorruptError(
            "engine sidecar %s" % path, expected="valid JSON", found=str(e), hint=rebuild_hint(None, engine_path)
        ) from None
    try:
        return EngineSidecar.from_dict(d)
    except (EngineCorruptError, MetadataError) as e:
        raise EngineCorruptError(
            "engine sidecar %s: %s" % (path, e.what), expected=e.expected, found=e.found,
            hint=rebuild_hint(None, engine_path),
        ) from None


def _release(version: str) -> tuple:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(version).release
    except (InvalidVersion, TypeError):
        raise EngineMismatchError("TensorRT version", expected='a version string such as "10.3.0"',
                                  found=_found(version)) from None


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
