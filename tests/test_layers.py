"""The import contract of docs/DESIGN.md, enforced by scanning the code (like the TensorRT conformance test).

Every ``import``/``from ... import`` in fcn_trt and build_engine, at module level or deferred inside
a function, is an edge. The rules:

* no cycle between modules (counting deferred imports: deferring an import hides nothing here);
* no import from a higher layer (same layer is fine, without cycles);
* fcn_trt below its command line never imports build_engine;
* build_engine's core (its top-level modules) never imports its torch / TensorFlow tooling;
* nothing in the libraries imports a deprecated alias module.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set, Tuple

ROOT = Path(__file__).resolve().parents[1]

#: fcn_trt layers (docs/DESIGN.md, "Layers"): a module's layer is that of its longest listed prefix.
FCN_TRT_LAYERS = {
    "fcn_trt.errors": 0, "fcn_trt._version": 0, "fcn_trt._deprecated": 0, "fcn_trt._util": 0, "fcn_trt._imports": 0,
    "fcn_trt._hashing": 0, "fcn_trt._progress": 0,
    "fcn_trt.metadata": 1, "fcn_trt.palettes": 1, "fcn_trt.sidecar": 1, "fcn_trt.result": 1, "fcn_trt._frames": 1,
    "fcn_trt._outputs": 1, "fcn_trt._imageio": 1, "fcn_trt.preflight": 1, "fcn_trt.models": 1,
    "fcn_trt.backends": 2,
    "fcn_trt.segmenter": 3, "fcn_trt.tiling": 3,
    "fcn_trt.streaming": 4, "fcn_trt.eval": 4,
    "fcn_trt.demo": 5, "fcn_trt.tools": 5, "fcn_trt.serve": 5,
    "fcn_trt.cli": 6,
    "fcn_trt": 7,  # the root package: a facade over the layers
}
#: one-release aliases at the pre-0.2 paths: importable by users, never by the libraries.
ALIASES = {
    "fcn_trt.validation", "fcn_trt.stream", "fcn_trt.sources", "fcn_trt.render", "fcn_trt.scenes", "fcn_trt.metrics",
    "fcn_trt.profile", "fcn_trt.selfcheck", "fcn_trt.inspect_engine", "fcn_trt.sysinfo", "fcn_trt.datasets",
    "fcn_trt.datasets.voc", "build_engine.train_demo", "build_engine.widen", "build_engine.torch_fcn",
    "build_engine.make_scenes", "build_engine.mediapipe_selfie", "fcn_trt.cuda", "fcn_trt._trt_compat",
}
#: build_engine: core (0) < training/recipes (1) < command line and maintenance (2)
BUILD_ENGINE_LAYERS = {"build_engine.training": 1, "build_engine.recipes": 1, "build_engine.cli": 2,
                       "build_engine.__main__": 2, "build_engine.refresh_models": 2, "build_engine": 3}
#: the highest fcn_trt layer build_engine may use: core and tooling the libraries (L0-L4), its
#: command line also fcn_trt's command-line helpers (L6)
BUILD_ENGINE_MAY_USE = 4
BUILD_ENGINE_CLI_MAY_USE = 6
#: the command-line modules: the only ones that may use argparse (and the only ones a module's
#: ``if __name__ == "__main__":`` block may import)
COMMAND_LINE = ("fcn_trt.cli", "build_engine.cli", "build_engine.cli_args", "build_engine.__main__")
#: deliberate upward edges, each a convenience method that keeps the public API in one object
ALLOWED_UPWARD = {
    # Segmenter.stream(): sugar for fcn_trt.streaming.stream(seg, ...); streaming never imports
    # the segmenter (it is handed one), so this is no cycle.
    ("fcn_trt.segmenter", "fcn_trt.streaming.stream"),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def library_files() -> Iterator[Path]:
    for pkg in ("fcn_trt", "build_engine"):
        yield from sorted((ROOT / pkg).rglob("*.py"))


def imports_of(path: Path, modules: Set[str]) -> Iterator[Tuple[str, int]]:
    """(imported project module, line) for every import in ``path`` (submodule imports resolved)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(), str(path))
    yield from _imports_in([n for n in tree.body if not _is_main_block(n)], package, modules)


def script_imports_of(path: Path, modules: Set[str]) -> Iterator[Tuple[str, int]]:
    """The imports of ``path``'s ``if __name__ == "__main__":`` block: the code ``python -m`` runs,
    which is a script, not part of the module other modules import (so not an edge of it)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(), str(path))
    yield from _imports_in([n for n in tree.body if _is_main_block(n)], package, modules)


def _is_main_block(node: ast.stmt) -> bool:
    return (isinstance(node, ast.If) and isinstance(node.test, ast.Compare)
            and isinstance(node.test.left, ast.Name) and node.test.left.id == "__name__"
            and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in node.test.comparators))


def _imports_in(nodes: List[ast.stmt], package: str, modules: Set[str]) -> Iterator[Tuple[str, int]]:
    for node in (n for top in nodes for n in ast.walk(top)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield _known(alias.name, modules), node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:  # `from pkg import submodule` imports the submodule
                sub = target + "." + alias.name
                yield (sub if sub in modules else _known(target, modules)), node.lineno


def _known(name: str, modules: Set[str]) -> str:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name


def layer(module: str, table: Dict[str, int]) -> Optional[int]:
    best = None
    for prefix, value in table.items():
        if module == prefix or ("." in prefix and module.startswith(prefix + ".")):  # a root package: itself only
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, value)
    return None if best is None else best[1]


def graph() -> Dict[str, Set[Tuple[str, int]]]:
    files = list(library_files())
    modules = {module_name(p) for p in files}
    return {module_name(p): {(m, line) for m, line in imports_of(p, modules) if m} for p in files}


def test_no_import_cycles():
    edges = {m: {t for t, _ in ts if t != m} for m, ts in graph().items()}
    # a package's __init__ importing its own submodules is how packages work; the cycle rule is
    # about modules importing each other, so edges into a package __init__ from inside it don't count
    edges = {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in edges.items()}
    cycles: List[List[str]] = []
    state: Dict[str, int] = {}
    stack: List[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(edges.get(m, ())):
            if state.get(t) == 1:
                cycles.append(stack[stack.index(t):] + [t])
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def _imports_of(package: str):
    """(module, its imports) for every module of ``package`` except the deprecated aliases."""
    return [(m, targets) for m, targets in graph().items() if m.startswith(package) and m not in ALIASES]


def test_no_upward_imports_in_fcn_trt():
    bad = []
    for m, targets in _imports_of("fcn_trt"):
        mine = layer(m, FCN_TRT_LAYERS)
        assert mine is not None, f"{m} is in no layer: add it to FCN_TRT_LAYERS and docs/DESIGN.md"
        for t, line in targets:
            if t.startswith("build_engine"):
                if mine < FCN_TRT_LAYERS["fcn_trt.cli"]:
                    bad.append(f"{m}:{line} imports {t} (the runtime never imports build_engine)")
                continue
            theirs = layer(t, FCN_TRT_LAYERS)
            if t in ALIASES:
                bad.append(f"{m}:{line} imports the deprecated alias {t}")
            elif theirs is not None and theirs > mine and (m, t) not in ALLOWED_UPWARD:
                bad.append(f"{m}:{line} (layer {mine}) imports {t} (layer {theirs})")
    assert not bad, "\n".join(bad)


def test_build_engine_layers():
    bad = []
    for m, targets in _imports_of("build_engine"):
        mine = layer(m, BUILD_ENGINE_LAYERS) or 0
        for t, line in targets:
            if t in ALIASES:
                bad.append(f"{m}:{line} imports the deprecated alias {t}")
            elif t.startswith("build_engine"):
                theirs = layer(t, BUILD_ENGINE_LAYERS) or 0
                if theirs > mine:
                    bad.append(f"{m}:{line} (build_engine layer {mine}) imports {t} (layer {theirs})")
            elif t.startswith("fcn_trt") and (layer(t, FCN_TRT_LAYERS) or 0) > (
                    BUILD_ENGINE_CLI_MAY_USE if mine >= 2 else BUILD_ENGINE_MAY_USE):
                bad.append(f"{m}:{line} imports {t}, above the fcn_trt layers build_engine may use")
    assert not bad, "\n".join(bad)


def test_python_dash_m_blocks_only_call_a_command_line():
    """``python -m <library module>`` may run its command line (the one upward edge a script has);
    the module itself stays free of argparse and of imports from the command line."""
    files = list(library_files())
    modules = {module_name(p) for p in files}
    bad = []
    for path in files:
        for t, line in script_imports_of(path, modules):
            if t and not _is_cli(t):
                bad.append(f"{module_name(path)}:{line}: its __main__ block imports {t}, not a command-line module")
    assert not bad, "\n".join(bad)


def _is_cli(module: str) -> bool:
    return module in COMMAND_LINE or any(module.startswith(m + ".") for m in COMMAND_LINE)


def test_argparse_only_in_command_line_modules():
    """No library module imports argparse or adds arguments to a parser (docs/DESIGN.md section 6)."""
    bad = []
    for path in library_files():
        if _is_cli(module_name(path)):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if "argparse" in names or (isinstance(node, ast.Attribute) and node.attr in ("add_argument", "add_parser")):
                bad.append(f"{module_name(path)}:{node.lineno}")
    assert not bad, "argparse outside the command-line modules: " + ", ".join(bad)


def test_the_scanner_sees_deferred_and_relative_imports(tmp_path):
    modules = {"fcn_trt", "fcn_trt.segmenter", "fcn_trt.streaming", "fcn_trt.streaming.stream", "fcn_trt.backends"}
    src = "from .backends import base\n\ndef f():\n    from .streaming.stream import stream\n    import fcn_trt.streaming\n"
    path = ROOT / "fcn_trt" / "segmenter.py"
    real = path.read_text()
    found = {m for m, _ in imports_of(_Fake(path, src), modules)}
    assert found == {"fcn_trt.backends", "fcn_trt.streaming.stream", "fcn_trt.streaming"}
    assert path.read_text() == real


class _Fake(type(Path())):  # a path whose text is given (the scanner reads files through read_text)
    def __new__(cls, path: Path, text: str):
        self = super().__new__(cls, path)
        self._text = text
        return self

    def read_text(self, *args, **kwargs):  # noqa: D401
        return self._text
