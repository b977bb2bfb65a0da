"""The ONE place where TensorRT releases differ (8.6 .. 11.x).

Rules:

* versions are compared with :mod:`packaging.version`;
* enum members are referenced by NAME (TensorRT 11 renumbered its enums), never by int;
* a TensorRT name that does not exist in every supported release is only reached through
  :func:`has` / :func:`get` with a dotted name declared in :data:`GATES`, which records the release
  range where the name exists. ``tests/fcn_trt/test_trt_conformance.py`` checks every ``trt.X`` /
  ``trt.X.Y`` the code uses against the API dumps of every supported release, and checks every gate's
  range against the same dumps.

The ``trt`` argument of every function is the imported ``tensorrt`` module (or a test fake); this
module never imports TensorRT itself.

Example:
    >>> import tensorrt as trt                                  # doctest: +SKIP
    >>> flags = network_creation_flags(trt)                     # doctest: +SKIP
    >>> network = builder.create_network(flags)                 # doctest: +SKIP
    >>> for flag in precision_builder_flags(trt, "fp16"):       # doctest: +SKIP
    ...     config.set_flag(flag)
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Optional, Tuple

from .errors import ConfigError, TensorRTError

__all__ = [
    "SUPPORTED_VERSIONS",
    "Gate",
    "GATES",
    "HARDWARE_COMPATIBILITY_LEVELS",
    "trt_version",
    "version_string",
    "has",
    "get",
    "network_creation_flags",
    "strongly_typed",
    "precision_builder_flags",
    "supports_progress_monitor",
    "hardware_compatibility_level",
    "parser_error_text",
    "allow_engine_host_code",
    "dla_unavailable_reason",
]

#: TensorRT releases whose API dumps the tests check the code against.
SUPPORTED_VERSIONS = ("8.6.1", "10.3.0", "10.16.1.11", "11.4.0.106")


@dataclasses.dataclass(frozen=True)
class Gate:
    """A TensorRT name that exists only in ``[since, until)`` (None: unbounded on that side).

    ``name`` is ``"Class"`` or ``"Class.member"`` / ``"Enum.MEMBER"``. Where the exact release that
    added or removed a name is not documented, the bound is the first dumped release that shows the
    change (conservative: the feature is offered only where it is known to exist).
    """

    name: str
    since: Optional[str] = None
    until: Optional[str] = None
    note: str = ""

    def covers(self, version: Any) -> bool:
        from packaging.version import Version

        v = version if isinstance(version, Version) else Version(str(version))
        if self.since is not None and v < Version(self.since):
            return False
        if self.until is not None and v >= Version(self.until):
            return False
        return True


def _gates(*gates: Gate) -> Dict[str, Gate]:
    return {g.name: g for g in gates}


#: Every version-dependent TensorRT name the code touches, with the releases that have it.
GATES: Dict[str, Gate] = _gates(
    # weak typing: precision builder flags, removed in 11 (strong typing only)
    Gate("BuilderFlag.FP16", until="11", note="TensorRT 11 removed weak typing; fp16 is in the graph"),
    Gate("BuilderFlag.INT8", until="11", note="TensorRT 11 removed weak typing; int8 is Q/DQ in the graph"),
    # network creation flags
    Gate("NetworkDefinitionCreationFlag.EXPLICIT_BATCH", until="11",
         note="required on 8.x, ignored on 10.x (implicit batch removed), gone in 11"),
    Gate("NetworkDefinitionCreationFlag.STRONGLY_TYPED", since="10",
         note="opt-in on 10.x; on 11 every network is strongly typed and the flag is ignored"),
    # build progress
    Gate("IProgressMonitor", since="10", note="added in TensorRT 10.0"),
    Gate("IBuilderConfig.progress_monitor", since="10", note="added in TensorRT 10.0"),
    # hardware compatibility levels
    Gate("HardwareCompatibilityLevel.NONE", since="8.6"),
    Gate("HardwareCompatibilityLevel.AMPERE_PLUS", since="8.6"),
    Gate("HardwareCompatibilityLevel.SAME_COMPUTE_CAPABILITY", since="10.16",
         note="first dumped release that has it (absent in 10.3)"),
    # version-compatible engines (embedded lean runtime = host code). "Version compatibility is
    # supported from version 8.6" (TensorRT developer guide, Version Compatibility,
    # https://docs.nvidia.com/deeplearning/tensorrt/10.16.1/inference-library/version-compatibility.html);
    # IRuntime::setEngineHostCodeAllowed: "The default value is false" (NvInferRuntime.h, TensorRT OSS
    # v8.6.1 line ~931, v10.3.0 line ~1652, v11.1 line ~2137). Present in every dumped release.
    Gate("BuilderFlag.VERSION_COMPATIBLE", since="8.6", note="version-compatible engines arrived in TensorRT 8.6"),
    Gate("BuilderFlag.EXCLUDE_LEAN_RUNTIME", since="8.6", note="version-compatible engines arrived in TensorRT 8.6"),
    Gate("Runtime.engine_host_code_allowed", since="8.6",
         note="loading a version-compatible engine needs TensorRT >= 8.6"),
    # richer parser errors
    Gate("ParserError.node_name", since="10"),
    Gate("ParserError.node_operator", since="10"),
)

#: User-facing hardware-compatibility names -> gated enum member.
HARDWARE_COMPATIBILITY_LEVELS: Dict[str, str] = {
    "none": "HardwareCompatibilityLevel.NONE",
    "ampere_plus": "HardwareCompatibilityLevel.AMPERE_PLUS",
    "same_compute_capability": "HardwareCompatibilityLevel.SAME_COMPUTE_CAPABILITY",
}

_INSTALL_HINT = 'install TensorRT\'s Python bindings for your CUDA (e.g. pip install "fcn-trt[tensorrt]")'


def version_string(trt: Any) -> str:
    """``trt.__version__`` as a string ("10.3.0")."""
    return str(getattr(trt, "__version__", ""))


def trt_version(trt: Any) -> Any:
    """The TensorRT version as a :class:`packaging.version.Version`."""
    from packaging.version import InvalidVersion, Version

    raw = version_string(trt)
    try:
        return Version(raw)
    except InvalidVersion:
        raise TensorRTError(
            "tensorrt.__version__", expected="a release number such as 10.3.0", found=repr(raw), hint=_INSTALL_HINT
        ) from None


def _gate(name: str) -> Gate:
    try:
        return GATES[name]
    except KeyError:
        raise KeyError(
            "TensorRT name %r is not declared in fcn_trt._trt_compat.GATES; declare the releases that have it" % name
        ) from None


def _resolve(trt: Any, name: str) -> Any:
    obj = trt
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def has(trt: Any, name: str) -> bool:
    """Whether gated TensorRT name ``name`` ("Class", "Class.member") exists in this release."""
    gate = _gate(name)
    if not gate.covers(trt_version(trt)):
        return False
    try:
        _resolve(trt, name)
    except AttributeError:
        return False
    return True


def get(trt: Any, name: str) -> Any:
    """The object behind gated name ``name``; TensorRTError naming the releases that have it."""
    if not has(trt, name):
        gate = _gate(name)
        span = []
        if gate.since:
            span.append(">= " + gate.since)
        if gate.until:
            span.append("< " + gate.until)
        raise TensorRTError(
            "tensorrt.%s" % name,
            expected="TensorRT %s" % " and ".join(span) if span else "a TensorRT release that has it",
            found="TensorRT %s" % version_string(trt),
            hint=gate.note or "install a TensorRT release that has it",
        )
    return _resolve(trt, name)


# --- network creation -----------------------------------------------------------------------------
def strongly_typed(trt: Any) -> bool:
    """Whether networks built by :func:`network_creation_flags` are strongly typed (>= 10)."""
    from packaging.version import Version

    return trt_version(trt) >= Version("10")


def network_creation_flags(trt: Any) -> int:
    """Bit mask for ``Builder.create_network``.

    * 8.x: ``EXPLICIT_BATCH`` (the ONNX parser needs it; types are hints, see
      :func:`precision_builder_flags`);
    * 10.x: ``STRONGLY_TYPED`` (the graph's fp16 / Q/DQ types are obeyed exactly);
    * >= 11: 0, every network is strongly typed (the flag is accepted and ignored).
    """
    from packaging.version import Version

    v = trt_version(trt)
    if v < Version("10"):
        return 1 << int(get(trt, "NetworkDefinitionCreationFlag.EXPLICIT_BATCH"))
    if v < Version("11"):
        return 1 << int(get(trt, "NetworkDefinitionCreationFlag.STRONGLY_TYPED"))
    return 0


def precision_builder_flags(trt: Any, precision: str) -> List[Any]:
    """``BuilderFlag`` members that let the (weakly typed) 8.x builder honour the graph's precision.

    On >= 10 the network is strongly typed, so no precision flag is set (TensorRT 10 rejects them on
    strongly typed networks; TensorRT 11 removed them).
    """
    if precision not in ("fp32", "fp16", "int8"):
        raise ConfigError("precision", expected="fp32, fp16 or int8", found=repr(precision))
    if strongly_typed(trt) or precision == "fp32":
        return []
    if precision == "fp16":
        return [get(trt, "BuilderFlag.FP16")]
    return [get(trt, "BuilderFlag.INT8")]


# --- build options --------------------------------------------------------------------------------
def supports_progress_monitor(trt: Any) -> bool:
    """Whether ``IBuilderConfig.progress_monitor`` and ``IProgressMonitor`` exist (>= 10)."""
    return has(trt, "IProgressMonitor") and has(trt, "IBuilderConfig.progress_monitor")


def hardware_compatibility_level(trt: Any, level: str) -> Any:
    """``HardwareCompatibilityLevel`` member for ``level`` ("none", "ampere_plus",
    "same_compute_capability"); ConfigError for unknown names or releases without it."""
    key = level.strip().lower().replace("-", "_")
    if key not in HARDWARE_COMPATIBILITY_LEVELS:
        raise ConfigError(
            "hardware compatibility level",
            expected=" or ".join(sorted(HARDWARE_COMPATIBILITY_LEVELS)),
            found=repr(level),
        )
    name = HARDWARE_COMPATIBILITY_LEVELS[key]
    if not has(trt, name):
        available = sorted(k for k, n in HARDWARE_COMPATIBILITY_LEVELS.items() if has(trt, n))
        raise ConfigError(
            "hardware compatibility level %r" % level,
            expected="one of %s on TensorRT %s" % (", ".join(available), version_string(trt)),
            found=repr(level),
            hint="use a newer TensorRT for %s" % key,
        )
    return _resolve(trt, name)


# --- runtime options --------------------------------------------------------------------------------
def allow_engine_host_code(trt: Any, runtime: Any) -> None:
    """Let ``runtime`` deserialise an engine that carries host code (a version-compatible plan with
    its embedded lean runtime). TensorRT refuses such plans while the flag has its default, False.

    Call it only for engines whose sidecar says they were built ``--version-compatible``: the flag
    tells TensorRT to trust and run code from the plan file. Polygraphy does the same for the same
    reason (NVIDIA/TensorRT, tools/Polygraphy/polygraphy/backend/trt/loader.py, EngineFromBytes and
    EngineFromPath: "To deserialize version compatible engines, we must signal the runtime that
    host code is allowed").
    """
    get(trt, "Runtime.engine_host_code_allowed")  # TensorRTError naming the releases that have it
    runtime.engine_host_code_allowed = True


# --- DLA ------------------------------------------------------------------------------------------
#: TensorRT releases without DLA on Linux/Jetson. TensorRT 11.4.1 "Working with DLA"
#: (https://docs.nvidia.com/deeplearning/tensorrt/11.4.1/inference-library/work-with-dla.html):
#: "DLA was unavailable in TensorRT 11.0 through 11.3, including TensorRT 11.3.1 for DriveOS.
#: TensorRT 11.4.0 supported DLA only on Windows on ARM"; 11.4.1 restores it on Jetson AGX Orin with
#: JetPack >= 7.2.2 only; "Jetson Orin on NVIDIA JetPack 6.x, which must remain on a TensorRT 10.x
#: release"; Jetson Thor has no DLA.
_NO_DLA_SINCE, _NO_DLA_UNTIL = "11.0", "11.4.1"


def dla_unavailable_reason(trt: Any, platform: Optional[str] = None) -> str:
    """Why this TensorRT release cannot build for DLA on this platform ("" when it may).

    Only the release is judged here; the builder's ``num_DLA_cores`` (0 on a GPU without DLA, e.g.
    every desktop GPU and Jetson Thor) is the other half of the check.
    """
    import sys

    from packaging.version import Version

    v = trt_version(trt)
    plat = sys.platform if platform is None else platform
    if Version(_NO_DLA_SINCE) <= v < Version(_NO_DLA_UNTIL) and not plat.startswith("win"):
        return (
            "TensorRT %s has no DLA support on Linux/Jetson (DLA was removed in 11.0 and came back in 11.4.1, "
            "on Jetson AGX Orin with JetPack >= 7.2.2 only; JetPack 6 stays on TensorRT 10.x)" % version_string(trt)
        )
    return ""


# --- parser errors --------------------------------------------------------------------------------
def parser_error_text(trt: Any, error: Any) -> str:
    """One line for an ``OnnxParser.get_error(i)`` result: node, operator, code and description."""
    parts: List[str] = []
    try:
        node = int(error.node())
    except Exception:  # noqa: BLE001 - a binding quirk must not hide the real parser message
        node = -1
    where = "node %d" % node if node >= 0 else ""
    if has(trt, "ParserError.node_name") and has(trt, "ParserError.node_operator"):
        name, op = _call_str(error, "node_name"), _call_str(error, "node_operator")
        detail = " ".join(p for p in (op, repr(name) if name else "") if p)
        if detail:
            where = (where + " " if where else "") + "(%s)" % detail
    if where:
        parts.append(where)
    code = _call_str(error, "code")
    if code:
        parts.append(code.split(".")[-1])
    desc = _call_str(error, "desc")
    return ": ".join(parts + [desc or "unknown parser error"])


def _call_str(obj: Any, method: str) -> str:
    try:
        value = getattr(obj, method)()
    except Exception:  # noqa: BLE001
        return ""
    name = getattr(value, "name", None)
    return str(name if name is not None else value)


def describe_gates(version: str) -> List[Tuple[str, bool]]:
    """``[(gated name, available in version)]`` (for ``fcn-trt inspect``/diagnostics)."""
    return [(name, gate.covers(version)) for name, gate in sorted(GATES.items())]
