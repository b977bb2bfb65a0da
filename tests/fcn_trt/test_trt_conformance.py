"""Every TensorRT name the code uses exists in every supported release, or sits behind a gate.

The source of ``fcn_trt/`` and ``build_engine/`` is scanned with :mod:`ast` for uses of the tensorrt
module object (``trt.X``, ``trt.X.Y``, ``getattr(trt.X, "Y")``, ``class L(trt.ILogger)``...) and for
gated look-ups (``compat.get(trt, "X.Y")`` / ``compat.has(...)``). Rules:

* a direct use must exist in the API dump of EVERY supported release (8.6.1, 10.3.0, 10.16.1.11,
  11.4.0.106): a name that exists only in some releases must go through ``fcn_trt._trt_compat``;
* a gated look-up must name an entry of ``_trt_compat.GATES``;
* every gate's declared release range must agree with the dumps (present exactly where declared);
* ``getattr(trt..., name, default)`` / ``hasattr(trt..., name)`` probes never raise, so they are
  allowed; a ``getattr`` without default on a computed name is not (it cannot be checked).

The strict fakes are checked against the same dumps (they may expose less than TensorRT, never more).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

from fcn_trt import _trt_compat as compat
from tests.fakes.trt_api import SUPPORTED_VERSIONS, dump_dir, load_dump

pytestmark = pytest.mark.skipif(dump_dir() is None, reason="TensorRT API dumps not found (FCN_TRT_API_DUMPS)")

REPO = Path(__file__).resolve().parents[2]
SCANNED = ("fcn_trt", "build_engine")
TRT_ROOTS = {"trt", "tensorrt"}  # plus aliases of `import tensorrt as X`
SELF_TRT_ATTRS = {"_trt", "trt"}  # self._trt.X
GATE_FUNCS = {"get", "has"}  # compat.get(trt, "X.Y"), compat.has(trt, "X.Y")
COMPAT_MODULE_NAMES = {"compat", "_trt_compat"}


@dataclass(frozen=True)
class Use:
    """One use of a TensorRT name in the source."""

    file: str
    line: int
    name: str  # "X" or "X.Y"
    kind: str  # "attr" (must be universal), "gate" (must be in GATES), "probe" (safe), "dynamic" (bad)

    def __str__(self) -> str:
        return "%s:%d: %s (%s)" % (self.file, self.line, self.name, self.kind)


def _chain(node: ast.AST, roots: set, allow_self: bool = True) -> list | None:
    """``trt.A.B`` -> ["A", "B"]; None when ``node`` is not rooted at the tensorrt module.

    The chain stops at the first dunder (``trt.ILogger.__init__`` -> ["ILogger"])."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
        if (allow_self and isinstance(node, ast.Attribute) and node.attr in SELF_TRT_ATTRS
                and isinstance(node.value, ast.Name) and node.value.id == "self"):
            break
    else:
        if not (isinstance(node, ast.Name) and node.id in roots):
            return None
    out = []
    for part in reversed(parts):
        if part.startswith("__"):
            break
        out.append(part)
    return out


def _shadowing_names(func: ast.AST) -> set:
    """Names a function binds to something that is not the tensorrt module
    (``with TensorRTBackend(...) as trt``, ``for trt in ...``, ``trt = SomeClass(...)``)."""
    out = set()
    for node in ast.walk(func):
        targets = []
        if isinstance(node, ast.withitem) and node.optional_vars is not None:
            targets.append(node.optional_vars)
        elif isinstance(node, (ast.For, ast.comprehension)):
            targets.append(node.target)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            callee = node.value.func
            callee_name = callee.attr if isinstance(callee, ast.Attribute) else getattr(callee, "id", "")
            if callee_name[:1].isupper():
                targets += node.targets
        for t in targets:
            out |= {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
    return out


def _const_str(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def scan_source(source: str, filename: str, in_compat_module: bool = False) -> list[Use]:
    """All TensorRT uses in one module's source."""
    tree = ast.parse(source, filename)
    roots = set(TRT_ROOTS)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "tensorrt":
                    roots.add(alias.asname or "tensorrt")
    uses: list[Use] = []
    seen_attr_nodes: set = set()
    # names shadowed inside a function: the attribute nodes there are not tensorrt uses
    for func in ast.walk(tree):
        if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            shadowed = _shadowing_names(func) & roots
            for node in ast.walk(func):
                if isinstance(node, ast.Attribute) and _chain(node, shadowed, allow_self=False) is not None:
                    seen_attr_nodes.add(id(node))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            # getattr / hasattr on a tensorrt object
            if isinstance(func, ast.Name) and func.id in ("getattr", "hasattr") and node.args:
                base = _chain(node.args[0], roots)
                if base is not None:
                    seen_attr_nodes.add(id(node.args[0]))
                    member = _const_str(node.args[1]) if len(node.args) > 1 else None
                    safe = func.id == "hasattr" or len(node.args) > 2
                    if member is None:
                        kind = "probe" if safe else "dynamic"
                        uses.append(Use(filename, node.lineno, ".".join(base + ["<computed>"]) or "<computed>", kind))
                    else:
                        uses.append(Use(filename, node.lineno, ".".join((base + [member])[:2]), "probe" if safe else "attr"))
                    if base:
                        uses.append(Use(filename, node.lineno, ".".join(base[:2]), "attr"))
                continue
            # gated look-ups
            is_gate_call = (
                isinstance(func, ast.Attribute) and func.attr in GATE_FUNCS
                and isinstance(func.value, ast.Name) and func.value.id in COMPAT_MODULE_NAMES
            ) or (in_compat_module and isinstance(func, ast.Name) and func.id in GATE_FUNCS)
            if is_gate_call and len(node.args) >= 2 and _chain(node.args[0], roots) == []:
                name = _const_str(node.args[1])
                uses.append(Use(filename, node.lineno, name if name is not None else "<computed>",
                                "gate" if name is not None else "gate-computed"))
        if isinstance(node, ast.Attribute) and id(node) not in seen_attr_nodes:
            chain = _chain(node, roots)
            if chain:
                # mark the inner nodes so that trt.A.B is reported once, as "A.B"
                inner = node.value
                while isinstance(inner, ast.Attribute):
                    seen_attr_nodes.add(id(inner))
                    inner = inner.value
                uses.append(Use(filename, node.lineno, ".".join(chain[:2]), "attr"))
    return uses


def scan_repo() -> list[Use]:
    uses = []
    for pkg in SCANNED:
        for path in sorted((REPO / pkg).rglob("*.py")):
            rel = str(path.relative_to(REPO))
            uses += scan_source(path.read_text(encoding="utf-8"), rel, in_compat_module=rel.endswith("_trt_compat.py"))
    return uses


def _missing_in(name: str) -> list[str]:
    return [v for v in SUPPORTED_VERSIONS if not load_dump(v).has(name)]


# --- the scanner itself -----------------------------------------------------------------------------
def test_scanner_sees_direct_gated_and_dynamic_uses():
    src = (
        "import tensorrt as T\n"
        "def f(trt, compat):\n"
        "    a = trt.BuilderFlag.FP16\n"
        "    b = T.Builder\n"
        "    c = getattr(trt.DataType, 'HALF')\n"
        "    d = getattr(trt.DataType, name, None)\n"
        "    e = getattr(trt.DataType, name)\n"
        "    g = compat.get(trt, 'IProgressMonitor')\n"
        "    class L(trt.ILogger): pass\n"
        "    return trt.__version__, self._trt.Runtime, trt.ILogger.__init__\n"
        "def g():\n"
        "    with Backend() as trt:\n"
        "        trt.infer(1)\n"
    )
    got = {(u.name, u.kind) for u in scan_source(src, "x.py")}
    assert {("BuilderFlag.FP16", "attr"), ("Builder", "attr"), ("DataType.HALF", "attr"),
            ("DataType.<computed>", "probe"), ("DataType.<computed>", "dynamic"),
            ("IProgressMonitor", "gate"), ("ILogger", "attr"), ("Runtime", "attr")} <= got
    assert not any("__" in n for n, _ in got)
    assert not any(n.startswith("infer") for n, _ in got)  # a local `trt` that is not the module


def test_scanner_finds_the_builder_uses():
    uses = scan_repo()
    names = {u.name for u in uses if u.file.endswith("trt_builder.py")}
    assert {"Builder", "OnnxParser", "MemoryPoolType.WORKSPACE", "BuilderFlag.GPU_FALLBACK",
            "IProgressMonitor"} <= names
    # the one TensorRT logger (shared by the builder) lives with the backend
    assert "ILogger.ERROR" in {u.name for u in uses if u.file.endswith("tensorrt.py")}


# --- the rules ----------------------------------------------------------------------------------------
def test_every_direct_tensorrt_name_exists_in_every_supported_release():
    problems = [
        "%s missing in TensorRT %s" % (u, ", ".join(_missing_in(u.name)))
        for u in scan_repo() if u.kind == "attr" and _missing_in(u.name)
    ]
    assert not problems, "use fcn_trt._trt_compat.get/has with a GATES entry for:\n" + "\n".join(problems)


def test_gated_lookups_name_declared_gates():
    bad = [str(u) for u in scan_repo() if u.kind in ("gate", "gate-computed") and u.name not in compat.GATES
           and u.kind == "gate"]
    assert not bad, "declare these in fcn_trt._trt_compat.GATES:\n" + "\n".join(bad)


def test_no_unchecked_dynamic_getattr_on_tensorrt():
    bad = [str(u) for u in scan_repo() if u.kind == "dynamic"]
    assert not bad, "getattr(trt..., computed) without a default can raise on some release:\n" + "\n".join(bad)


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_gate_ranges_agree_with_the_dumps(version):
    dump = load_dump(version)
    wrong = [
        "%s: declared %s in %s, dump says %s" % (name, "present" if gate.covers(version) else "absent", version,
                                                 "present" if dump.has(name) else "absent")
        for name, gate in compat.GATES.items() if gate.covers(version) != dump.has(name)
    ]
    assert not wrong, "\n".join(wrong)


def test_gates_are_really_version_dependent_or_versioned_features():
    for name in compat.HARDWARE_COMPATIBILITY_LEVELS.values():
        assert name in compat.GATES
    # the gate table is not a dumping ground: each entry is missing somewhere or has a lower bound
    for name, gate in compat.GATES.items():
        assert _missing_in(name) or gate.since, name


# --- the strict fakes ---------------------------------------------------------------------------------
@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_fake_exposes_nothing_the_release_lacks(version):
    from tests.fakes.fake_tensorrt import make_fake_tensorrt

    trt = make_fake_tensorrt(version)
    dump = load_dump(version)
    public = [n for n in vars(trt) if not n.startswith("_")]
    assert set(public) <= dump.module_dir
    for name in public:
        obj = getattr(trt, name)
        if name in dump.enums:
            assert {m: int(getattr(obj, m)) for m in dump.enums[name] if not m.startswith("_")} == dump.enums[name]
            continue
        if not isinstance(obj, type):
            continue
        for member in dir(obj):
            if member.startswith("_"):
                continue
            try:
                getattr(obj, member)
            except AttributeError:
                continue  # blocked: the fake implements it for other releases only
            assert dump.has("%s.%s" % (name, member)), "fake %s exposes %s.%s" % (version, name, member)


def test_fake_blocks_removed_names_like_the_real_release():
    from tests.fakes.fake_tensorrt import make_fake_tensorrt

    trt11, trt86 = make_fake_tensorrt("11.4.0.106"), make_fake_tensorrt("8.6.1")
    with pytest.raises(AttributeError):
        trt11.BuilderFlag.FP16
    with pytest.raises(AttributeError):
        trt86.IProgressMonitor
    logger = trt11.Logger()
    with pytest.raises(AttributeError):
        trt11.Builder(logger).platform_has_fast_fp16
    config = trt11.Builder(logger).create_builder_config()
    with pytest.raises(AttributeError):
        config.max_workspace_size = 1 << 30
    assert int(trt11.NetworkDefinitionCreationFlag.STRONGLY_TYPED) == 0  # renumbered in 11
    assert int(make_fake_tensorrt("10.3.0").NetworkDefinitionCreationFlag.STRONGLY_TYPED) == 1
    with pytest.raises(TypeError):  # enums are not ints
        config.set_flag(3)
