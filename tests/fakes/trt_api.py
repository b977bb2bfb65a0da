"""Loader for the TensorRT Python API dumps (``trt_api_<version>.json``).

Each dump was taken from the real ``tensorrt`` module of one release and holds:

* ``module_dir``: ``dir(tensorrt)``;
* ``classes``: class name -> public member names (``"X.__bases__"`` keys give base classes);
* ``enums``: enum name -> ``{member: int}`` (TensorRT 11 renumbered several enums);
* ``docs``: ``"Class.method"`` -> signature/docstring (``"ABSENT"`` when the method does not exist).

The dumps are searched in, in order: ``$FCN_TRT_API_DUMPS``, ``<repo>/tests/fakes/trt_api_dumps``,
``<repo>/shared/trt-api``, ``<repo>/../shared/trt-api``.

Example:
    >>> dump = load_dump("10.3.0")
    >>> dump.has("BuilderFlag.FP16"), load_dump("11.4.0.106").has("BuilderFlag.FP16")
    (True, False)
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

__all__ = ["SUPPORTED_VERSIONS", "TrtApiDump", "dump_dir", "load_dump", "load_all_dumps"]

#: The TensorRT releases whose Python API fcn_trt supports (one dump each).
SUPPORTED_VERSIONS = ("8.6.1", "10.3.0", "10.16.1.11", "11.4.0.106")

_REPO = Path(__file__).resolve().parents[2]


def _candidates() -> list[Path]:
    out = []
    env = os.environ.get("FCN_TRT_API_DUMPS")
    if env:
        out.append(Path(env))
    out += [_REPO / "tests" / "fakes" / "trt_api_dumps", _REPO / "shared" / "trt-api", _REPO.parent / "shared" / "trt-api"]
    return out


def dump_dir() -> Path | None:
    """The first folder holding ``trt_api_<version>.json`` for every supported version, or None."""
    for cand in _candidates():
        if all((cand / f"trt_api_{v}.json").is_file() for v in SUPPORTED_VERSIONS):
            return cand
    return None


@dataclass(frozen=True)
class TrtApiDump:
    """One release's TensorRT Python API, as dumped from the real module."""

    version: str
    module_dir: frozenset
    classes: Mapping[str, tuple]
    enums: Mapping[str, Mapping[str, int]]
    docs: Mapping[str, str]

    def members(self, owner: str) -> frozenset:
        """Public members of class or enum ``owner`` (empty when absent)."""
        if owner in self.enums:
            return frozenset(self.enums[owner])
        return frozenset(self.classes.get(owner) or ())

    def bases(self, cls: str) -> tuple:
        return tuple(self.classes.get(cls + ".__bases__") or ())

    def has(self, dotted: str) -> bool:
        """Whether ``"X"`` or ``"X.Y"`` exists in this release (deeper parts are not dumped)."""
        parts = dotted.split(".")
        if parts[0] not in self.module_dir:
            return False
        if len(parts) == 1:
            return True
        owner, member = parts[0], parts[1]
        if member in self.members(owner):
            return True
        # inherited members (Logger -> ILogger, ...)
        return any(member in self.members(b) for b in self.bases(owner))

    def doc(self, key: str) -> str | None:
        text = self.docs.get(key)
        return None if text in (None, "ABSENT") else text


@functools.lru_cache(maxsize=None)
def load_dump(version: str) -> TrtApiDump:
    """Load the dump of TensorRT ``version`` (one of :data:`SUPPORTED_VERSIONS`)."""
    if version not in SUPPORTED_VERSIONS:
        raise ValueError(f"no TensorRT API dump for {version!r}; supported: {SUPPORTED_VERSIONS}")
    folder = dump_dir()
    if folder is None:
        raise FileNotFoundError(
            "TensorRT API dumps trt_api_<version>.json not found in any of "
            + ", ".join(str(c) for c in _candidates())
            + "; set FCN_TRT_API_DUMPS to their folder"
        )
    raw = json.loads((folder / f"trt_api_{version}.json").read_text())
    if str(raw.get("version")) != version:
        raise ValueError(f"dump {folder}/trt_api_{version}.json says version {raw.get('version')!r}")
    return TrtApiDump(
        version=version,
        module_dir=frozenset(raw["module_dir"]),
        classes={k: tuple(v or ()) for k, v in raw["classes"].items()},
        enums={k: dict(v) for k, v in raw["enums"].items()},
        docs=dict(raw.get("docs") or {}),
    )


def load_all_dumps() -> dict[str, TrtApiDump]:
    return {v: load_dump(v) for v in SUPPORTED_VERSIONS}
