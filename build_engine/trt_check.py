"""Will TensorRT's ONNX parser accept this graph? The parser's own rules, per TensorRT major, on a CPU.

``check_model`` runs every rule of :data:`RULES` over an ONNX model for the requested TensorRT majors
(:data:`TARGETS`: ``"8.6"`` covers 8.5/8.6, ``"10"`` every 10.x from 10.3, ``"11"`` 11.x) and returns a
:class:`CompatReport` listing each :class:`Violation`: the node, the rule, the majors whose parser
rejects it (or silently imports something else than ONNX Runtime runs), what the real parser says,
how to fix the graph, and where the rule comes from.

Each rule is one small function registered with :func:`_rule`, or a row of a table whose rules share
one check (the Resize attribute values, the constant Q/DQ values); its citation names the primary
source (repository@commit file:line) it was derived from. The parser commits are the ones NVIDIA's
TensorRT releases pin as their ``parsers/onnx`` submodule:

* TensorRT v8.6.1 -> onnx/onnx-tensorrt 6ba67d3 (release/8.6-GA);
* TensorRT v10.3.0 -> 62bdde2a, not readable here: the 10.x rules are read at the 10.1-GA release
  (96e7811), corrected by the parser changes the TensorRT 10.2/10.3 changelogs list, and cross-checked
  against the parser pinned by v10.16 (6bde659, ModelImporter.cpp);
* TensorRT v11.0 -> 5ab48c5 (ModelImporter.cpp, onnxOpCheckers.cpp, parts of onnxOpImporters.cpp read),
  v11.1 -> 7c51a63 (docs/operators.md read); plus the TensorRT 8.6.1 / 10.3.0 / 11.1 C++ headers.

What this proves and what it does not: see docs/TENSORRT_RULES.md. It needs neither TensorRT nor a GPU
(onnx + numpy only).

Example:
    >>> from onnx import TensorProto, helper
    >>> graph = helper.make_graph(
    ...     [helper.make_node("Cast", ["frame"], ["f"], to=TensorProto.FLOAT, name="to_float"),
    ...      helper.make_node("Cast", ["f"], ["u8"], to=TensorProto.UINT8, name="to_u8"),
    ...      helper.make_node("Identity", ["u8"], ["labels"], name="labels")],
    ...     "g", [helper.make_tensor_value_info("frame", TensorProto.UINT8, [1, 4])],
    ...     [helper.make_tensor_value_info("labels", TensorProto.UINT8, [1, 4])])
    >>> report = check_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
    >>> report.ok, [(v.rule, v.node, v.targets) for v in report.violations][:1]
    (False, [('uint8-intermediate', 'to_u8', ('8.6',))])
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Set, Tuple, Union

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from fcn_trt.errors import ConfigError, TensorRTCompatibilityError

from ._trt_ops import OP_TABLES
from .onnx_io import load_onnx

__all__ = [
    "TARGETS",
    "Violation",
    "CompatReport",
    "Rule",
    "RULES",
    "parse_targets",
    "target_for_version",
    "check_model",
    "ensure_compatible",
]

log = logging.getLogger("build_engine.trt_check")

#: The TensorRT majors the SDK supports; "8.6" stands for the 8.5/8.6 parsers (JetPack 5).
TARGETS: Tuple[str, ...] = ("8.6", "10", "11")

# Parser commits (onnx/onnx-tensorrt), see the module docstring.
_P86 = "onnx/onnx-tensorrt@6ba67d3"
_P10 = "onnx/onnx-tensorrt@96e7811"
_P1016 = "onnx/onnx-tensorrt@6bde659"
_P110 = "onnx/onnx-tensorrt@5ab48c5"
_P111 = "onnx/onnx-tensorrt@7c51a63"
# NVIDIA/TensorRT headers (shipped for the C++ runtime, tags v8.6.1 / v10.3.0 / v11.1).
_H86, _H103, _H111 = "TensorRT v8.6.1 include/", "TensorRT v10.3.0 include/", "TensorRT v11.1 include/"

_CODE_UNSUPPORTED_NODE = "UNSUPPORTED_NODE"
_CODE_INVALID_NODE = "INVALID_NODE"
_CODE_UNSUPPORTED_GRAPH = "UNSUPPORTED_GRAPH"

# ------------------------------------------------------------------------------------------------
# targets
# ------------------------------------------------------------------------------------------------
_TARGET_HINT = "comma-separated TensorRT majors out of 8.6, 10, 11 (8.5 counts as 8.6), e.g. 8.6,10,11"


def target_for_version(trt_version: str) -> str:
    """The :data:`TARGETS` entry whose parser rules apply to TensorRT ``trt_version``.

    Example:
        >>> target_for_version("8.6.1"), target_for_version("10.3.0"), target_for_version("11.4.0.106")
        ('8.6', '10', '11')
    """
    parts = str(trt_version).strip().split(".")
    try:
        major = int(parts[0])
        minor = int(parts[1]) if len(parts) > 1 and parts[1] not in ("", "x") else None
    except ValueError:
        major, minor = -1, None
    if major == 8 and minor in (5, 6):
        return "8.6"
    if major in (10, 11):
        return str(major)
    raise ConfigError(
        "TensorRT version", expected="8.5, 8.6, 10.x or 11.x", found=repr(trt_version),
        hint="fcn_trt supports the TensorRT 8.5/8.6 (JetPack 5), 10.x and 11.x parsers",
    )


def parse_targets(text: str) -> Tuple[str, ...]:
    """``"8.6,10,11"`` / ``"10"`` / ``"8.5"`` -> the matching :data:`TARGETS` in canonical order.

    Full versions work too (``"10.3.0"``). Raises :class:`~fcn_trt.errors.ConfigError` otherwise.

    Example:
        >>> parse_targets("11,8.5"), parse_targets("10")
        (('8.6', '11'), ('10',))
    """
    items = [t.strip() for t in str(text).split(",")]
    if not items or any(not t for t in items):
        raise ConfigError("--trt", expected=_TARGET_HINT, found=repr(text))
    chosen = set()
    for item in items:
        try:
            chosen.add(target_for_version(item))
        except ConfigError:
            raise ConfigError("--trt", expected=_TARGET_HINT, found=repr(text)) from None
    return tuple(t for t in TARGETS if t in chosen)


def _as_targets(targets: Union[str, Sequence[str], None]) -> Tuple[str, ...]:
    if targets is None:
        return TARGETS
    if isinstance(targets, str):
        return parse_targets(targets)
    return parse_targets(",".join(str(t) for t in targets))


# ------------------------------------------------------------------------------------------------
# results
# ------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Violation:
    """One place where a TensorRT parser rejects (or silently changes) the graph.

    Attributes:
        rule: stable rule id, e.g. ``"uint8-intermediate"`` (see :data:`RULES`).
        node: the node name (or tensor / graph element) that breaks the rule.
        op_type: its operator (``"opset_import"``, ``"graph input"``... for graph elements).
        targets: the TensorRT majors whose parser rejects it.
        message: what the real parser says (its literal error text where it has one).
        fix: how to fix the graph.
        source: where the rule comes from (repository@commit file:line).
        code: the ``nvonnxparser::ErrorCode`` name the parser reports (``ErrorCode.<code>``).
        node_index: index of the node in ``graph.node`` (-1 for graph elements), as ``IParserError.node()``.
        parser_error: True when the real parser fails with ``message``; False when it imports the graph
            without an error but builds something other than the ONNX graph (ignored attributes,
            dtype conversions, wrong quantization axes): the engine then fails later or computes
            different results.
    """

    rule: str
    node: str
    op_type: str
    targets: tuple
    message: str
    fix: str
    source: str
    code: str = _CODE_UNSUPPORTED_NODE
    node_index: int = -1
    parser_error: bool = True


@dataclasses.dataclass(frozen=True)
class CompatReport:
    """What :func:`check_model` found, for the majors in ``targets``.

    Example:
        >>> CompatReport(targets=("10",), violations=()).ok
        True
    """

    targets: tuple
    violations: tuple

    @property
    def ok(self) -> bool:
        """True when no parser of ``targets`` rejects the graph."""
        return not self.violations

    @property
    def expected(self) -> str:
        """What a compatible graph is, for error messages: "a graph that the TensorRT 8.6, 10 ONNX parsers accept"."""
        many = len(self.targets) > 1
        return "a graph that the TensorRT %s ONNX parser%s accept%s" % (", ".join(self.targets), "s" if many else "",
                                                                        "" if many else "s")

    def for_target(self, target: str) -> Tuple[Violation, ...]:
        """The violations that apply to one TensorRT major (``"8.6"``, ``"10"``, ``"11"`` or a version)."""
        t = target if target in TARGETS else target_for_version(target)
        return tuple(v for v in self.violations if t in v.targets)

    def summary(self) -> str:
        """One line: compatible or not, per target."""
        if self.ok:
            return "compatible with the TensorRT %s ONNX parser%s" % (
                ", ".join(self.targets), "s" if len(self.targets) > 1 else "")
        per = ", ".join("TensorRT %s: %d" % (t, len(self.for_target(t))) for t in self.targets)
        return "%d violation%s (%s)" % (len(self.violations), "" if len(self.violations) == 1 else "s", per)

    def format(self) -> str:
        """A readable table: one block per violation, then the summary line."""
        lines = []
        for i, v in enumerate(self.violations, 1):
            lines.append("[%d] %s  node %s (%s)  TensorRT %s" % (i, v.rule, v.node, v.op_type, ", ".join(v.targets)))
            lines.append("    %s %s" % ("parser:" if v.parser_error else "silent:", v.message))
            lines.append("    fix:    %s" % v.fix)
            lines.append("    source: %s" % v.source)
        lines.append(self.summary())
        return "\n".join(lines)


# ------------------------------------------------------------------------------------------------
# the graph as the rules see it
# ------------------------------------------------------------------------------------------------
_DTYPE_NAMES = {v: k for k, v in TensorProto.DataType.items()}
_FLOATS = (TensorProto.FLOAT, TensorProto.FLOAT16)
# Initializers above this many elements lose their data in the copy given to shape inference.
_STRIP_ABOVE = 4096


def _dtype_name(elem_type: int) -> str:
    return _DTYPE_NAMES.get(elem_type, str(elem_type))


class _Graph:
    """Index of a model's main graph: producers, consumers, constants and (inferred) dtypes."""

    def __init__(self, model: onnx.ModelProto) -> None:
        self.model = model
        self.graph = model.graph
        self.nodes = list(model.graph.node)
        self.opset = 0
        for o in model.opset_import:
            if o.domain in ("", "ai.onnx"):
                self.opset = int(o.version)
        self.functions = {f.name for f in model.functions}
        self.init_names = {t.name for t in model.graph.initializer}
        self.inputs = [vi for vi in model.graph.input if vi.name not in self.init_names]
        self.input_names = {vi.name for vi in self.inputs}
        self.outputs = list(model.graph.output)
        self.output_names = {vi.name for vi in self.outputs}
        self.producer: Dict[str, int] = {}
        self.consumers: Dict[str, List[Tuple[int, int]]] = {}
        for i, node in enumerate(self.nodes):
            for out in node.output:
                if out:
                    self.producer[out] = i
            for pos, name in enumerate(node.input):
                if name:
                    self.consumers.setdefault(name, []).append((i, pos))
        self.consts: Dict[str, np.ndarray] = {}
        self.dtypes: Dict[str, int] = {}
        for t in model.graph.initializer:
            self.dtypes[t.name] = t.data_type
        for i, node in enumerate(self.nodes):
            if node.op_type == "Constant" and node.output:
                for a in node.attribute:
                    if a.name == "value" and a.type == onnx.AttributeProto.TENSOR:
                        self.dtypes[node.output[0]] = a.t.data_type
        self._infer_dtypes()
        for vi in list(model.graph.input) + list(model.graph.output):
            if vi.type.tensor_type.elem_type:
                self.dtypes[vi.name] = vi.type.tensor_type.elem_type

    def _infer_dtypes(self) -> None:
        # A copy without the weights' data (a canonical FCN-8s carries 0.5 GB of them): shape
        # inference needs only their types and dims; small constants keep their values (shapes).
        light = onnx.ModelProto()
        light.ir_version = self.model.ir_version
        light.opset_import.extend(self.model.opset_import)
        light.functions.extend(self.model.functions)
        src = self.model.graph
        light.graph.node.extend(src.node)
        light.graph.input.extend(src.input)
        light.graph.output.extend(src.output)
        light.graph.value_info.extend(src.value_info)
        for t in src.initializer:
            if int(np.prod(t.dims, dtype=np.int64)) > _STRIP_ABOVE:
                light.graph.initializer.add(name=t.name, data_type=t.data_type, dims=t.dims)
            else:
                light.graph.initializer.append(t)
        try:
            inferred = onnx.shape_inference.infer_shapes(light, strict_mode=False)
        except Exception as exc:  # noqa: BLE001 - a graph onnx cannot type is checked with what is declared
            log.debug("shape inference failed (%s); checking declared types only", exc)
            inferred = light
        for vi in list(inferred.graph.value_info) + list(inferred.graph.output) + list(inferred.graph.input):
            if vi.type.HasField("tensor_type") and vi.type.tensor_type.elem_type:
                self.dtypes.setdefault(vi.name, vi.type.tensor_type.elem_type)
        self.ranks = {
            vi.name: len(vi.type.tensor_type.shape.dim)
            for vi in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output)
            if vi.type.HasField("tensor_type") and vi.type.tensor_type.HasField("shape")
        }

    # --- helpers -------------------------------------------------------------------------------
    def name(self, i: int) -> str:
        node = self.nodes[i]
        return node.name or (node.output[0] if node.output else "%s_%d" % (node.op_type, i))

    @staticmethod
    def attr(node: onnx.NodeProto, name: str, default: Any = None) -> Any:
        for a in node.attribute:
            if a.name == name:
                value = helper.get_attribute_value(a)
                return value.decode() if isinstance(value, bytes) else value
        return default

    def nodes_of(self, *op_types: str) -> Iterator[Tuple[int, onnx.NodeProto]]:
        """(index, node) of the nodes whose operator is one of ``op_types``, in graph order."""
        return ((i, node) for i, node in enumerate(self.nodes) if node.op_type in op_types)

    def io_of(self, elem_type: int) -> Iterator[Tuple[str, str]]:
        """(name, "graph input" / "graph output") of the graph inputs and outputs of type ``elem_type``."""
        for vi in list(self.inputs) + list(self.outputs):
            if self.dtype(vi.name) == elem_type:
                yield vi.name, "graph input" if vi.name in self.input_names else "graph output"

    def constants_of(self, elem_type: int) -> List[str]:
        """Names of the initializers, then of the Constant nodes' outputs, of type ``elem_type``."""
        names = [t.name for t in self.graph.initializer if t.data_type == elem_type]
        return names + [n.output[0] for n in self.nodes
                        if n.op_type == "Constant" and n.output and self.dtype(n.output[0]) == elem_type]

    def has_attr(self, node: onnx.NodeProto, name: str) -> bool:
        return any(a.name == name for a in node.attribute)

    def const(self, name: str) -> Optional[np.ndarray]:
        """The value of an initializer or a Constant node's output, else None."""
        if not name:
            return None
        if name in self.consts:
            return self.consts[name]
        value = None
        if name in self.init_names:
            for t in self.graph.initializer:
                if t.name == name:
                    value = numpy_helper.to_array(t)
                    break
        elif name in self.producer:
            node = self.nodes[self.producer[name]]
            if node.op_type == "Constant":
                for a in node.attribute:
                    if a.name == "value" and a.type == onnx.AttributeProto.TENSOR:
                        value = numpy_helper.to_array(a.t)
        if value is not None:
            self.consts[name] = value
        return value

    def is_const(self, name: str) -> bool:
        return name in self.init_names or (
            name in self.producer and self.nodes[self.producer[name]].op_type == "Constant")

    def dtype(self, name: str) -> Optional[int]:
        return self.dtypes.get(name)


_RuleFn = Callable[[_Graph, Tuple[str, ...]], Iterable[Violation]]


@dataclasses.dataclass(frozen=True)
class Rule:
    """A registered rule: its id, the majors it can apply to, one line, its sources, its check."""

    id: str
    targets: tuple
    summary: str
    source: str
    check: _RuleFn


#: Every rule, by id, in registration order.
RULES: Dict[str, Rule] = {}


def _per_major(sources: Mapping[str, str]) -> str:
    """One citation line from ``{major: source}``: ``"8.6: ...; 10: ...; 11: ..."``."""
    return "; ".join("%s: %s" % (t, src) for t, src in sources.items())


def _rule(rule_id: str, targets: Sequence[str], summary: str,
          source: Union[str, Mapping[str, str]]) -> Callable[[_RuleFn], _RuleFn]:
    """Register a check as rule ``rule_id``; ``source`` is one citation or ``{major: citation}``."""
    cited = source if isinstance(source, str) else _per_major(source)

    def register(fn: _RuleFn) -> _RuleFn:
        RULES[rule_id] = Rule(rule_id, tuple(targets), summary, cited, fn)
        return fn

    return register


def _v(rule: str, g: _Graph, i: int, targets: Iterable[str], message: str, fix: str, source: str,
       code: str = _CODE_UNSUPPORTED_NODE, parser_error: bool = True) -> Violation:
    """A violation on node ``i``."""
    return Violation(rule=rule, node=g.name(i), op_type=g.nodes[i].op_type, targets=tuple(targets),
                     message=message, fix=fix, source=source, code=code, node_index=i, parser_error=parser_error)


def _ve(rule: str, element: str, kind: str, targets: Iterable[str], message: str, fix: str, source: str,
        code: str = _CODE_UNSUPPORTED_GRAPH, parser_error: bool = True) -> Violation:
    """A violation on a graph element (input, output, initializer, the opset import)."""
    return Violation(rule=rule, node=element, op_type=kind, targets=tuple(targets), message=message, fix=fix,
                     source=source, code=code, node_index=-1, parser_error=parser_error)


# ------------------------------------------------------------------------------------------------
# graph-level rules
# ------------------------------------------------------------------------------------------------
# Opset ranges from docs/operators.md line 5 of each parser ("TensorRT 8.6 supports operators up to
# Opset 17", "10.0 ... inclusive range of opset 9 to opset 20", "11.1 ... opset 9 to opset 24"); the 8.6
# importer only warns below opset 7 (ModelImporter.cpp:558-565), so 7 is its floor.
_OPSETS = {"8.6": (7, 17), "10": (9, 20), "11": (9, 24)}
_OPSET_SOURCES = {
    "8.6": _P86 + " docs/operators.md:5, ModelImporter.cpp:558-565",
    "10": _P10 + " docs/operators.md:5 (10.0/10.1; the 10.3 page was not readable, 20 is kept as 10.x's floor)",
    "11": _P111 + " docs/operators.md:5",
}


@_rule("opset-range", TARGETS, "the default-domain opset is inside the parser's documented range", _OPSET_SOURCES)
def _check_opset(g: _Graph, targets: Tuple[str, ...]) -> Iterator[Violation]:
    for t in targets:
        low, high = _OPSETS[t]
        if not low <= g.opset <= high:
            yield _ve("opset-range", "opset_import", "model", (t,),
                      "TensorRT %s supports ONNX operators from opset %d to %d; the model imports opset %d "
                      "(documented range; newer node semantics are imported with older rules or not at all)"
                      % (t, low, high, g.opset),
                      "export at opset 17: the one opset every supported TensorRT parser reads",
                      _OPSET_SOURCES[t], parser_error=False)


_UNSUPPORTED_OP_SOURCES = {
    "8.6": _P86 + " ModelImporter.cpp:160-168, builtin_op_importers.cpp:5395-5405, docs/operators.md:17-197",
    "10": _P10 + " ModelImporter.cpp:155-167, onnxOpCheckers.cpp:772-782, onnxOpImporters.cpp:6438-6448, "
          "docs/operators.md:19-214",
    "11": _P110 + " ModelImporter.cpp parseNode (importer lookup, FallbackPluginImporter); "
          + _P111 + " docs/operators.md",
}


@_rule("unsupported-op", TARGETS, "every operator has an importer in that parser (docs/operators.md 'Y')",
       _UNSUPPORTED_OP_SOURCES)
def _check_ops(g: _Graph, targets: Tuple[str, ...]) -> Iterator[Violation]:
    for i, node in enumerate(g.nodes):
        bad = []
        for t in targets:
            if node.op_type in g.functions:
                if t == "8.6":  # model-local functions are imported from 10.0 on (LocalFunctionImporter)
                    bad.append(t)
                continue
            if OP_TABLES[t].get(node.op_type) is None:
                bad.append(t)
        for t in bad:
            yield _v("unsupported-op", g, i, (t,),
                     "No importer registered for op: %s. Attempting to import as plugin. -> Plugin not found, "
                     "are the plugin name, version, and namespace correct?" % node.op_type,
                     "replace %s with operators this TensorRT parser imports (docs/operators.md of "
                     "onnx-tensorrt), or register a TensorRT plugin of that name" % node.op_type,
                     _UNSUPPORTED_OP_SOURCES[t])


# convertDtype(): 6ba67d3 onnx2trt_utils.cpp:346-365; 96e7811 importerUtils.cpp:314-335 (10.x adds BF16,
# native INT64, FP8 E4M3FN, INT4); 11.1 docs/operators.md:7 adds FP4.
_DTYPES: Dict[str, Set[int]] = {
    "8.6": {TensorProto.DOUBLE, TensorProto.FLOAT, TensorProto.INT8, TensorProto.UINT8, TensorProto.FLOAT16,
            TensorProto.BOOL, TensorProto.INT32, TensorProto.INT64},
}
_DTYPES["10"] = _DTYPES["8.6"] | {TensorProto.BFLOAT16, TensorProto.FLOAT8E4M3FN, TensorProto.INT4}
_DTYPES["11"] = _DTYPES["10"] | {int(getattr(TensorProto, "FLOAT4E2M1", -1))}
_DTYPE_SOURCES = {
    "8.6": _P86 + " onnx2trt_utils.cpp:346-365, builtin_op_importers.cpp:294, ModelImporter.cpp:266",
    "10": _P10 + " importerUtils.cpp:314-335, onnxOpCheckers.cpp:178-185 (static check before the importer), "
          "ModelImporter.cpp:362",
    "11": _P110 + " onnxOpCheckers.cpp (Cast checker); " + _P111 + " docs/operators.md:7",
}


@_rule("unsupported-dtype", TARGETS, "every tensor type converts to a TensorRT DataType", _DTYPE_SOURCES)
def _check_dtypes(g: _Graph, targets: Tuple[str, ...]) -> Iterator[Violation]:
    for t in targets:
        ok = _DTYPES[t]
        for vi in g.inputs:
            dt = g.dtype(vi.name)
            if dt is not None and dt not in ok:
                yield _ve("unsupported-dtype", vi.name, "graph input", (t,),
                          "Failed to convert ONNX date type to TensorRT data type. (%s)" % _dtype_name(dt),
                          "give the input a type TensorRT has (float, float16, int32, int64, int8, uint8, bool)",
                          _DTYPE_SOURCES[t])
        for i, node in enumerate(g.nodes):
            if node.op_type == "Cast":
                to = g.attr(node, "to")
                if to is not None and to not in ok:
                    msg = "Unsupported data type for the Cast operator!"
                    yield _v("unsupported-dtype", g, i, (t,), msg + " (to %s)" % _dtype_name(to),
                             "cast to a type TensorRT has (float, float16, int32, int64, int8, uint8, bool)",
                             _DTYPE_SOURCES[t], _CODE_INVALID_NODE)
                    continue
            for out in node.output:
                dt = g.dtype(out)
                if out and dt is not None and dt not in ok:
                    yield _v("unsupported-dtype", g, i, (t,),
                             "Unsupported ONNX data type: %s (%d)" % (_dtype_name(dt), dt),
                             "compute in a type TensorRT has (float, float16, int32, int64, int8, bool)",
                             _DTYPE_SOURCES[t])
                    break
        for init in g.graph.initializer:
            if init.data_type not in ok:
                yield _ve("unsupported-dtype", init.name, "initializer", (t,),
                          "Unsupported ONNX data type: %s (%d)" % (_dtype_name(init.data_type), init.data_type),
                          "store the initializer as a type TensorRT has (float, float16, int32, int64, int8)",
                          _DTYPE_SOURCES[t],
                          _CODE_UNSUPPORTED_NODE)


_DOUBLE_SOURCE = (_P86 + " docs/operators.md:9, onnx2trt_utils.cpp:350; " + _P10
                  + " docs/operators.md:9, importerUtils.cpp:318; " + _P111 + " docs/operators.md:9")


@_rule("double-tensor", TARGETS, "no DOUBLE tensors: TensorRT has no FP64 and casts them down to FLOAT",
       _DOUBLE_SOURCE)
def _check_double(g: _Graph, targets: Tuple[str, ...]) -> Iterator[Violation]:
    msg = ("There is limited support for DOUBLE type. TensorRT will attempt to cast DOUBLE down to FLOAT, "
           "clamping values to +-FLT_MAX if necessary (the engine computes and binds float32)")
    fix = "use float32 (or float16) instead of double"
    for name, kind in g.io_of(TensorProto.DOUBLE):
        yield _ve("double-tensor", name, kind, targets, msg, fix, _DOUBLE_SOURCE, parser_error=False)
    for init in g.graph.initializer:
        if init.data_type == TensorProto.DOUBLE:
            yield _ve("double-tensor", init.name, "initializer", targets, msg, fix, _DOUBLE_SOURCE,
                      parser_error=False)
    for i, node in enumerate(g.nodes):
        if any(out and g.dtype(out) == TensorProto.DOUBLE and out not in g.output_names for out in node.output):
            yield _v("double-tensor", g, i, targets, msg, fix, _DOUBLE_SOURCE, parser_error=False)


_INT64_IO_SOURCE = _P86 + " onnx2trt_utils.cpp:357-358 (convertDtype: INT64 -> kINT32), docs/operators.md:9"


@_rule("int64-io", ("8.6",), "no INT64 graph inputs/outputs on 8.x: they become INT32 engine bindings",
       _INT64_IO_SOURCE)
def _check_int64_io(g: _Graph, targets: Tuple[str, ...]) -> Iterator[Violation]:
    for name, kind in g.io_of(TensorProto.INT64):
        yield _ve("int64-io", name, kind, targets,
                  "TensorRT 8.x does not natively support INT64: the tensor is imported as INT32, so the engine "
                  "binding is int32 where the ONNX graph says int64",
                  "make the graph input/output int32 (or float), casting inside the graph", _INT64_IO_SOURCE,
                  parser_error=False)


_INT64_CLAMP_SOURCE = _P86 + " onnx2trt_utils.cpp:367-404 (convertINT64), docs/operators.md:9"


@_rule("int64-clamped", ("8.6",), "INT64 constants fit in INT32 on 8.x (else they are clamped)",
       _INT64_CLAMP_SOURCE)
def _check_int64_clamp(g: _Graph, targets: Tuple[str, ...]) -> Iterator[Violation]:
    lo, hi = np.iinfo(np.int32).min, np.iinfo(np.int32).max
    for name in g.constants_of(TensorProto.INT64):
        value = g.const(name)
        if value is None or value.size == 0 or (value.min() >= lo and value.max() <= hi):
            continue
        # Slice starts/ends are clamped to the dimension anyway (decodeOnnxStartsAndEnds): INT64_MAX is fine.
        uses = g.consumers.get(name, [])
        if uses and all(g.nodes[i].op_type == "Slice" and pos in (1, 2) for i, pos in uses):
            continue
        yield _ve("int64-clamped", name, "initializer", targets,
                  "One or more weights outside the range of INT32 was clamped",
                  "keep integer constants inside the int32 range", _INT64_CLAMP_SOURCE, _CODE_UNSUPPORTED_NODE,
                  parser_error=False)


# ------------------------------------------------------------------------------------------------
# UINT8 placement
# ------------------------------------------------------------------------------------------------
# The 8.6 text as trtexec 8.6.1 prints it: NVIDIA/TensorRT#2809 ("ModelImporter.cpp:253 In function parseGraph:
# [8] Assertion failed: legalUINT8 && ..."); ASSERT/ASSERT_NODE formats: 6ba67d3 Status.hpp:29-36, 96e7811 :64-73.
_UINT8_INTERMEDIATE_SOURCES = {
    "8.6": _P86 + " ModelImporter.cpp:241-253, Status.hpp:29-36; NVIDIA/TensorRT#2809 (trtexec 8.6.1 output)",
    "10": _P10 + " ModelImporter.cpp:241-256, Status.hpp:64-73; " + _P1016 + " ModelImporter.cpp parseNode",
    "11": _P110 + " ModelImporter.cpp parseNode (UINT8 legal only as graph output or Constant)",
}
_UINT8_MESSAGES = {
    "8.6": 'Assertion failed: legalUINT8 && "TensorRT does not support UINT8 types for intermediate tensors!"',
    "10": "Assertion failed: legalUINT8: TensorRT does not support UINT8 types for intermediate tensors!",
    "11": "TensorRT does not support UINT8 types for intermediate tensors. For UINT8 quantization, the "
          "kIMPORT_UINT8_QUANTIZATION flag must be set. (DLA version >= 3.16 only)",
}


@_rule("uint8-intermediate", TARGETS, "no node produces a UINT8 tensor that is not a graph output",
       _UINT8_INTERMEDIATE_SOURCES)
def _check_uint8_intermediate(g: _Graph, targets: Tuple[str, ...]) -> Iterator[Violation]:
    for i, node in enumerate(g.nodes):
        if node.op_type == "QuantizeLinear":  # the importer turns it into INT8: rule qdq-uint8
            continue
        if not any(out and g.dtype(out) == TensorProto.UINT8 and out not in g.output_names for out in node.output):
            continue
        for t in targets:
            if t == "11" and node.op_type == "Constant":
                continue
            yield _v("uint8-intermediate", g, i, (t,), _UINT8_MESSAGES[t],
                     "let this node write the UINT8 graph output itself (e.g. Cast(to=UINT8) named like the "
                     "output, no Identity after it) or keep the tensor float/int32",
                     _UINT8_INTERMEDIATE_SOURCES[t])


# Importers that call notInvalidType(input, {..., "UINT8"}): 6ba67d3 onnx2trt_utils.cpp:32,62
# (activations, ArgMax/ArgMin) and builtin_op_importers.cpp (Clip 464, Concat 541, ConstantOfShape 627,
# DepthToSpace 1095, QDQ 1160, Einsum 1381, Expand 1441, EyeLike 1475, Gather 1551, GatherElements 1566,
# GatherND 1585, Mod 3064, OneHot 3214, Pad 3251, Resize 3734, ReverseSequence 3961, Slice 4471,
# SpaceToDepth 4588, Split 4632, Tile 4827, TopK 4850, Trilu 4945, Upsample 5043, Where 5136).
_UINT8_CHECKED_OPS = frozenset((
    "Clip", "Concat", "ConstantOfShape", "DepthToSpace", "QuantizeLinear", "DequantizeLinear", "Einsum", "Expand",
    "EyeLike", "Gather", "GatherElements", "GatherND", "Mod", "OneHot", "Pad", "Resize", "ReverseSequence", "Slice",
    "SpaceToDepth", "Split", "Tile", "TopK", "Trilu", "Upsample", "Where", "ArgMax", "ArgMin", "Relu", "Sigmoid",
    "Tanh", "LeakyRelu", "Elu", "Selu", "Softsign", "Softplus", "HardSigmoid", "ThresholdedRelu", "ScaledTanh",
))
_UINT8_INPUT_SOURCE = (
    _H86 + "NvInferRuntimeBase.h:136-148; " + _H103 + "NvInferRuntimeBase.h:151-163; " + _H111
    + "NvInferRuntimeBase.h:165-177 (kUINT8: convert network inputs with a cast before use by other layers); "
    "NVIDIA/TensorRT#3985 (kevinch-nv, 2025-02-11: 'All UINT8 inputs must directly feed into a cast layer'); "
    + _P86 + " onnx2trt_utils.cpp:18-27; " + _P10 + " importerUtils.cpp:21-32 (notInvalidType)")


@_rule("uint8-input-consumer", TARGETS, "a UINT8 graph input feeds only Cast nodes", _UINT8_INPUT_SOURCE)
def _check_uint8_inputs(g: _Graph, targets: Tuple[str, ...]) -> Iterator[Violation]:
    for vi in g.inputs:
        if g.dtype(vi.name) != TensorProto.UINT8:
            continue
        for i, pos in g.consumers.get(vi.name, []):
            node = g.nodes[i]
            if node.op_type == "Cast":
                continue  # the cast's target type is rule cast-uint8-type
            for t in targets:
                if node.op_type in _UINT8_CHECKED_OPS:
                    msg = ("Found invalid input type of UINT8" if t == "8.6" else "Found unsupported input type of UINT8")
                else:
                    msg = ("UINT8 network input '%s' feeds %s: TensorRT allows a UINT8 input only into a cast to "
                           "FLOAT/HALF (no other layer, not even Shape/Reshape/Transpose, takes UINT8)"
                           % (vi.name, node.op_type))
                yield _v("uint8-input-consumer", g, i, (t,), msg,
                         "cast '%s' to float first and take everything (shapes included) from the cast's output"
                         % vi.name, _UINT8_INPUT_SOURCE)


_UINT8_INIT_SOURCE = (_P86 + " onnx2trt_utils.cpp:617-621, 672-685 (UINT8 weights become INT32); " + _P1016
                      + " and " + _P110 + " ModelImporter.cpp parseNode ('UINT8 data ... is being converted to INT32')")


@_rule("uint8-initializer", TARGETS, "no UINT8 initializers/Constants (outside Q/DQ): they are imported as INT32",
       _UINT8_INIT_SOURCE)
def _check_uint8_init(g: _Graph, targets: Tuple[str, ...]) -> Iterator[Violation]:
    for name in g.constants_of(TensorProto.UINT8):
        uses = g.consumers.get(name, [])
        if uses and all(g.nodes[i].op_type in ("QuantizeLinear", "DequantizeLinear") for i, _ in uses):
            continue  # a Q/DQ zero point: rule qdq-uint8
        yield _ve("uint8-initializer", name, "initializer", targets,
                  "UINT8 data %s is being converted to INT32." % name,
                  "store the constant as float (or int32) and cast where a UINT8 output is needed",
                  _UINT8_INIT_SOURCE, _CODE_UNSUPPORTED_NODE, parser_error=False)


_CAST_UINT8_SOURCE = (_H86 + "NvInferRuntimeBase.h:141,147; " + _H103 + "NvInferRuntimeBase.h:156,162; " + _H111
                      + "NvInferRuntimeBase.h:170,176 (kUINT8 conversions are only supported for {kFLOAT, kHALF})")


@_rule("cast-uint8-type", TARGETS, "casts to/from UINT8 only from/to FLOAT or FLOAT16", _CAST_UINT8_SOURCE)
def _check_cast_uint8(g: _Graph, targets: Tuple[str, ...]) -> Iterator[Violation]:
    for i, node in g.nodes_of("Cast", "CastLike"):
        if not node.input:
            continue
        src = g.dtype(node.input[0])
        dst = g.attr(node, "to") if node.op_type == "Cast" else (g.dtype(node.input[1]) if len(node.input) > 1 else None)
        if src is None or dst is None:
            continue
        if (dst == TensorProto.UINT8 and src not in _FLOATS + (TensorProto.UINT8,)) or (
                src == TensorProto.UINT8 and dst not in _FLOATS + (TensorProto.UINT8,)):
            yield _v("cast-uint8-type", g, i, targets,
                     "kUINT8 conversions are only supported for {kFLOAT, kHALF}; kUINT8 conversions are not "
                     "supported for {kINT8, kINT32, kBOOL} (this cast: %s -> %s)" % (_dtype_name(src), _dtype_name(dst)),
                     "go through float: e.g. ArgMax -> Cast(FLOAT) -> Cast(UINT8)", _CAST_UINT8_SOURCE,
                     _CODE_INVALID_NODE)


# ------------------------------------------------------------------------------------------------
# per-operator input types (docs/operators.md "Supported Types")
# ------------------------------------------------------------------------------------------------
_ONNX_TO_DOC: Dict[int, str] = {
    TensorProto.FLOAT: "FP32", TensorProto.FLOAT16: "FP16", TensorProto.BFLOAT16: "BF16", TensorProto.INT32: "INT32",
    TensorProto.INT64: "INT64", TensorProto.INT8: "INT8", TensorProto.UINT8: "UINT8", TensorProto.BOOL: "BOOL",
    TensorProto.DOUBLE: "FP32", TensorProto.FLOAT8E4M3FN: "FP8", TensorProto.INT4: "INT4",
}
# Ops whose documented types are not those of input 0 (shape/condition inputs, generators).
_TYPE_CHECK_SKIP = frozenset(("Constant", "ConstantOfShape", "If", "Loop", "Scan", "Range", "RandomNormalLike",
                              "RandomUniformLike", "EyeLike", "OneHot"))
_OP_TYPES_SOURCES = {
    "8.6": _P86 + " docs/operators.md:17-197 ('Supported Types'), :9 (INT64 imported as INT32)",
    "10": _P10 + " docs/operators.md:19-214 ('Supported Types')",
    "11": _P111 + " docs/operators.md ('Supported Types')",
}


@_rule("op-input-dtype", TARGETS, "each operator's data input has a type listed for it in docs/operators.md",
       _OP_TYPES_SOURCES)
def _check_op_types(g: _Graph, targets: Tuple[str, ...]) -> Iterator[Violation]:
    for i, node in enumerate(g.nodes):
        if node.op_type in _TYPE_CHECK_SKIP or not node.input or not node.input[0]:
            continue
        dt = g.dtype(node.input[0])
        if dt is None or dt == TensorProto.UINT8 or dt not in _ONNX_TO_DOC:
            continue  # UINT8: rules uint8-*; unknown types: rule unsupported-dtype
        for t in targets:
            types = OP_TABLES[t].get(node.op_type)
            if not types:
                continue  # unsupported op: rule unsupported-op
            doc = _ONNX_TO_DOC[dt]
            if t == "8.6" and doc == "INT64":
                doc = "INT32"
            if doc not in types:
                yield _v("op-input-dtype", g, i, (t,),
                         "%s does not take %s inputs in TensorRT %s (supported: %s)"
                         % (node.op_type, _dtype_name(dt), t, ", ".join(types)),
                         "cast the input of %s to one of %s" % (node.op_type, ", ".join(types)),
                         _OP_TYPES_SOURCES[t])


# ------------------------------------------------------------------------------------------------
# Shape, Resize, ArgMax, Slice
# ------------------------------------------------------------------------------------------------
_SHAPE_SOURCE = (_P86 + " builtin_op_importers.cpp:4434-4440 (addShape(input), start/end never read); "
                 "attributes honoured from " + _P10 + " onnxOpImporters.cpp:5224-5258")


@_rule("shape-start-end", ("8.6",), "no Shape start/end on 8.x: the importer ignores them", _SHAPE_SOURCE)
def _check_shape(g: _Graph, targets: Tuple[str, ...]) -> Iterator[Violation]:
    for i, node in g.nodes_of("Shape"):
        start = g.attr(node, "start", 0)
        end = g.attr(node, "end")
        rank = g.ranks.get(node.input[0]) if node.input else None
        if start == 0 and (end is None or (rank is not None and end >= rank)):
            continue
        yield _v("shape-start-end", g, i, targets,
                 "no parser error: the TensorRT 8.x Shape importer ignores start=%s/end=%s and returns the whole "
                 "shape, so every node after it sees a different tensor than ONNX Runtime" % (start, end),
                 "use Shape without attributes followed by Slice (or Gather) of the wanted dims", _SHAPE_SOURCE,
                 parser_error=False)


@dataclasses.dataclass(frozen=True)
class _ResizeAttribute:
    """A Resize attribute the parser takes only with some values: one rule, checked by :func:`_check_resize_attribute`.

    ``message`` and ``source`` are one text or ``{major: text}``; on the majors of ``silent_on`` the importer
    never reads the attribute (no parser error, the engine computes something else), elsewhere the parser
    fails with ``code``."""

    rule: str
    summary: str
    attribute: str
    default: Any
    allowed: Tuple[Any, ...]
    message: Union[str, Mapping[str, str]]
    fix: str
    source: Mapping[str, str]
    min_opset: int = 0
    code: str = _CODE_UNSUPPORTED_NODE
    silent_on: Tuple[str, ...] = ()


_CTM_OK = ("half_pixel", "pytorch_half_pixel", "tf_half_pixel_for_nn", "asymmetric", "align_corners")
_RESIZE_OPSET18_SOURCES = {
    "8.6": _P86 + " builtin_op_importers.cpp:3732-3905 never reads antialias/keep_aspect_ratio_policy (opset 18 "
           "attributes; OnnxAttrs ignores attributes an importer does not read)",
    "10": _P10 + " onnxOpCheckers.cpp:585-594, docs/operators.md:161",
    "11": _P110 + " onnxOpCheckers.cpp (Resize checker); " + _P111 + " docs/operators.md (Resize restrictions)",
}
_RESIZE_ATTRIBUTES = (
    _ResizeAttribute(
        "resize-mode", "Resize mode is nearest, linear or cubic", "mode", "nearest", ("nearest", "linear", "cubic"),
        "Invalid Resize mode", "use mode linear (or nearest)",
        {"8.6": _P86 + " builtin_op_importers.cpp:3743-3757",
         "10": _P10 + " onnxOpCheckers.cpp:555-563",
         "11": _P110 + " onnxOpCheckers.cpp (Resize checker)"}),
    _ResizeAttribute(
        "resize-coordinate-mode",
        "Resize coordinate_transformation_mode is half_pixel, pytorch_half_pixel, tf_half_pixel_for_nn, "
        "asymmetric or align_corners", "coordinate_transformation_mode", "half_pixel", _CTM_OK,
        "TensorRT only supports half_pixel, pytorch_half_pixel, tf_half_pixel_for_nn, asymmetric and "
        "align_corners transformation modes!", "use half_pixel (matches cv2.INTER_LINEAR for linear) or asymmetric",
        {"8.6": _P86 + " builtin_op_importers.cpp:3808-3812",
         "10": _P10 + " onnxOpCheckers.cpp:579-582 (static check; the importer's own text at "
               "onnxOpImporters.cpp:4477 is not reached)",
         "11": _P110 + " onnxOpCheckers.cpp (Resize checker)"}, min_opset=11),
    _ResizeAttribute(
        "resize-antialias", "Resize antialias is 0", "antialias", 0, (0,),
        {"8.6": "no parser error: antialias is ignored, results differ from ONNX Runtime",
         "10": "Antialiasing is not supported currently.",
         "11": "Antialiasing is not supported currently."},
        "drop antialias (or blur explicitly before downscaling)", _RESIZE_OPSET18_SOURCES,
        code="UNSUPPORTED_NODE_ATTR", silent_on=("8.6",)),
    _ResizeAttribute(
        "resize-aspect-ratio", "Resize keep_aspect_ratio_policy is stretch", "keep_aspect_ratio_policy", "stretch",
        ("stretch",),
        {"8.6": "no parser error: keep_aspect_ratio_policy is ignored, the output size differs from ONNX Runtime",
         "10": "Only `stretch` is supported currently as `keep_aspect_ratio_policy`.",
         "11": "Only `stretch` is supported currently as `keep_aspect_ratio_policy`."},
        "compute the target sizes in the graph and use the default policy 'stretch'", _RESIZE_OPSET18_SOURCES,
        code="UNSUPPORTED_NODE_ATTR", silent_on=("8.6",)),
)


def _check_resize_attribute(spec: _ResizeAttribute, g: _Graph, targets: Tuple[str, ...]) -> Iterator[Violation]:
    if g.opset < spec.min_opset:
        return
    for i, node in g.nodes_of("Resize"):
        if g.attr(node, spec.attribute, spec.default) in spec.allowed:
            continue
        for t in targets:
            silent = t in spec.silent_on
            yield _v(spec.rule, g, i, (t,), spec.message if isinstance(spec.message, str) else spec.message[t],
                     spec.fix, spec.source[t], _CODE_UNSUPPORTED_NODE if silent else spec.code,
                     parser_error=not silent)


for _spec in _RESIZE_ATTRIBUTES:
    _rule(_spec.rule, TARGETS, _spec.summary, _spec.source)(functools.partial(_check_resize_attribute, _spec))


_TF_NN_SOURCE = (_P86 + " builtin_op_importers.cpp:3769-3772; " + _P10 + " onnxOpCheckers.cpp:575-577; " + _P110
                 + " onnxOpCheckers.cpp (Resize checker)")


@_rule("resize-tf-nearest-mode", TARGETS, "tf_half_pixel_for_nn only with nearest_mode round_prefer_floor",
       _TF_NN_SOURCE)
def _check_resize_tf_nn(g: _Graph, targets: Tuple[str, ...]) -> Iterator[Violation]:
    if g.opset < 11:
        return
    for i, node in g.nodes_of("Resize"):
        if (g.attr(node, "coordinate_transformation_mode") == "tf_half_pixel_for_nn"
                and g.attr(node, "nearest_mode", "round_prefer_floor") != "round_prefer_floor"):
            yield _v("resize-tf-nearest-mode", g, i, targets,
                     "This version of TensorRT only support round_prefer_floor nearest mode in tf_half_pixel_for_nn!",
                     "use nearest_mode round_prefer_floor or another coordinate transformation", _TF_NN_SOURCE)


_RESIZE_AXES_SOURCES = {
    "8.6": _P86 + " builtin_op_importers.cpp:3732-3905 (never reads the opset-18 axes attribute)",
    "10": _P10 + " onnxOpCheckers.cpp:596-600, onnxOpImporters.cpp:4413-4426, 4626-4632",
    "11": _P110 + " onnxOpCheckers.cpp (Resize checker: unique axes); " + _P111
          + " docs/operators.md (Resize: 'When scales is a tensor input, axes must be an iota vector')",
}


@_rule("resize-axes", TARGETS, "Resize axes (opset 18) unique, and the full iota when scales is not a constant",
       _RESIZE_AXES_SOURCES)
def _check_resize_axes(g: _Graph, targets: Tuple[str, ...]) -> Iterator[Violation]:
    for i, node in g.nodes_of("Resize"):
        axes = g.attr(node, "axes")
        if not axes:
            continue
        rank = g.ranks.get(node.input[0]) if node.input else None
        norm = [a + rank if (a < 0 and rank) else a for a in axes]
        iota = rank is not None and norm == list(range(rank))
        scales = node.input[2] if len(node.input) > 2 else ""
        dynamic_scales = bool(scales) and not g.is_const(scales) and not (len(node.input) > 3 and node.input[3])
        for t in targets:
            if t == "8.6":
                if not iota:
                    yield _v("resize-axes", g, i, (t,),
                             "no parser error: the 8.x importer ignores axes and resizes with the scales/sizes as "
                             "given for every dimension", "give scales/sizes for every dimension, without axes",
                             _RESIZE_AXES_SOURCES[t], parser_error=False)
            elif len(set(norm)) != len(norm):
                yield _v("resize-axes", g, i, (t,), "The input axes must have unique elements.",
                         "list each resized axis once", _RESIZE_AXES_SOURCES[t], _CODE_INVALID_NODE)
            elif dynamic_scales and not iota:
                yield _v("resize-axes", g, i, (t,),
                         "Currently, `axes` attribute is supported with `scales` tensor only when it's trivial i.e. "
                         "it's an iota vector of same length as input rank.",
                         "make scales an initializer, or give scales for every dimension without axes",
                         _RESIZE_AXES_SOURCES[t])


_RESIZE_DIMS_SOURCES = {
    "8.6": _P86 + " builtin_op_importers.cpp:3878-3891, onnx2trt_utils.cpp:299-313",
    "10": _P10 + " onnxOpImporters.cpp:4611-4620, importerUtils.cpp:265",
    "11": _P10 + " (same importer; 11.x source of this check not read)",
}


@_rule("resize-scales-dims", TARGETS, "constant Resize scales touch at most the last 3 (linear) / 2 (cubic) dims",
       _RESIZE_DIMS_SOURCES)
def _check_resize_dims(g: _Graph, targets: Tuple[str, ...]) -> Iterator[Violation]:
    for i, node in g.nodes_of("Resize"):
        mode = g.attr(node, "mode", "nearest")
        if mode not in ("linear", "cubic") or g.opset < 11 or len(node.input) < 3:
            continue
        n = 3 if mode == "linear" else 2
        scales = g.const(node.input[2])
        if scales is None or scales.size <= n or (len(node.input) > 3 and node.input[3]):
            continue
        if np.any(scales.reshape(-1)[: scales.size - n] != 1):
            for t in targets:
                yield _v("resize-scales-dims", g, i, (t,),
                         "This version of TensorRT only supports %s resizing on the outermost %d dimensions."
                         % (mode, n), "resize only the innermost (spatial) dimensions", _RESIZE_DIMS_SOURCES[t])


_ARGMAX_SOURCE = (_P86 + " onnx2trt_utils.cpp:76-81; " + _P10 + " onnxOpCheckers.cpp:76-84; " + _P110
                  + " onnxOpCheckers.cpp (argMinMaxCheckHelper)")


@_rule("argmax-select-last-index", TARGETS, "ArgMax/ArgMin select_last_index only at opset >= 12",
       _ARGMAX_SOURCE)
def _check_argmax(g: _Graph, targets: Tuple[str, ...]) -> Iterator[Violation]:
    for i, node in g.nodes_of("ArgMax", "ArgMin"):
        if g.attr(node, "select_last_index", 0) and g.opset < 12:
            yield _v("argmax-select-last-index", g, i, targets,
                     "Per-opset 12 ONNX does not support the select_last_index attribute.",
                     "export at opset >= 12 or drop select_last_index", _ARGMAX_SOURCE)


# 10.0-10.2 reject dynamic axes too (96e7811 onnxOpImporters.cpp:5322), but the "10" target starts at 10.3, whose
# parser accepts them: NVIDIA/TensorRT v10.3.0 CHANGELOG.md:13-14 ("Added support for tensor axes inputs for Slice").
_SLICE_SOURCES = {"8.6": _P86 + " builtin_op_importers.cpp:4493"}


@_rule("slice-axes-constant", ("8.6",), "Slice axes are a constant tensor (8.x; tensor axes from 10.3)",
       _SLICE_SOURCES["8.6"] + "; supported from NVIDIA/TensorRT v10.3.0 (CHANGELOG.md:13-14)")
def _check_slice_axes(g: _Graph, targets: Tuple[str, ...]) -> Iterator[Violation]:
    if g.opset < 10:
        return
    for i, node in g.nodes_of("Slice"):
        if len(node.input) > 3 and node.input[3] and not g.is_const(node.input[3]):
            for t in targets:
                yield _v("slice-axes-constant", g, i, (t,), "This version of TensorRT does not support dynamic axes.",
                         "give Slice its axes as an initializer", _SLICE_SOURCES[t])


_AXES_INPUT_SOURCES = {
    "8.6": _P86 + " builtin_op_importers.cpp:4749 (Squeeze), 5010 (Unsqueeze), onnx2trt_utils.cpp:1546 (Reduce*)",
    "10": _P10 + " onnxOpImporters.cpp:5619 (Squeeze), 5889 (Unsqueeze), importerUtils.cpp:1473-1474 (Reduce*); "
          "dynamic Squeeze/Unsqueeze axes only from 10.7 (onnx-tensorrt docs/Changelog.md, 10.7 GA)",
    "11": _P111 + " docs/operators.md (Reduce*: '`axes` must be an initializer')",
}
_AXES_MESSAGES = {"Squeeze": "Squeeze axes input must be an initializer!",
                  "Unsqueeze": "Axes input for unsqueeze operation should be a constant tensor."}
_REDUCE_OPS = frozenset(("ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean",
                         "ReduceMin", "ReduceProd", "ReduceSum", "ReduceSumSquare"))


@_rule("axes-input-constant", TARGETS,
       "Squeeze/Unsqueeze (8.6, 10) and Reduce* (all) take their axes input as a constant",
       _AXES_INPUT_SOURCES)
def _check_axes_inputs(g: _Graph, targets: Tuple[str, ...]) -> Iterator[Violation]:
    for i, node in enumerate(g.nodes):
        if node.op_type not in _AXES_MESSAGES and node.op_type not in _REDUCE_OPS:
            continue
        if len(node.input) < 2 or not node.input[1] or g.is_const(node.input[1]):
            continue
        for t in targets:
            if t == "11" and node.op_type in _AXES_MESSAGES:
                continue  # 11.1 docs: Squeeze/Unsqueeze axes need only be "resolvable to a constant"
            yield _v("axes-input-constant", g, i, (t,),
                     _AXES_MESSAGES.get(node.op_type, "Axis input must be an initializer!"),
                     "give %s its axes as an initializer" % node.op_type, _AXES_INPUT_SOURCES[t])


_POOL_SOURCES = {
    "8.6": _P86 + " onnx2trt_utils.cpp:1489-1497 (dilations), builtin_op_importers.cpp:2952-2955 (MaxPool indices)",
    "10": _P10 + " onnxOpCheckers.cpp:86-97 (dilations), 466-470 (MaxPool indices)",
    "11": _P110 + " onnxOpCheckers.cpp (poolingCheckHelper, MaxPool checker: emptyOutputChecker)",
}


@_rule("pooling-attributes", TARGETS, "pooling dilations are 1 and MaxPool has no Indices output", _POOL_SOURCES)
def _check_pooling(g: _Graph, targets: Tuple[str, ...]) -> Iterator[Violation]:
    for i, node in g.nodes_of("MaxPool", "AveragePool", "LpPool"):
        if node.op_type == "MaxPool" and len([o for o in node.output if o]) > 1:
            for t in targets:
                msg = ("This version of TensorRT doesn't support mode than 1 outputs for MaxPool nodes!" if t == "11"
                       else "TensorRT does not support the indices output in MaxPool!")
                yield _v("pooling-attributes", g, i, (t,), msg, "drop the Indices output of MaxPool", _POOL_SOURCES[t])
        if g.opset >= 10 and any(d != 1 for d in (g.attr(node, "dilations") or [])):
            for t in targets:
                yield _v("pooling-attributes", g, i, (t,),
                         "This version of TensorRT does not support dilations other than 1.",
                         "use pooling without dilations", _POOL_SOURCES[t])


# ------------------------------------------------------------------------------------------------
# Q/DQ (explicit quantization)
# ------------------------------------------------------------------------------------------------
_QDQ = ("QuantizeLinear", "DequantizeLinear")
@dataclasses.dataclass(frozen=True)
class _QdqValues:
    """A constant Q/DQ input (scale, zero point) whose values the importer checks: one rule, checked by
    :func:`_check_qdq_values`; the parser fails with ``message`` when ``bad(values)``."""

    rule: str
    summary: str
    position: int
    bad: Callable[[np.ndarray], bool]
    message: str
    fix: str
    source: Mapping[str, str]


_QDQ_VALUES = (
    _QdqValues(
        "qdq-zero-point", "Q/DQ zero points are all 0 (symmetric quantization)", 2,
        lambda zp: bool(np.any(zp.astype(np.int64) != 0)),
        "TensorRT only supports symmetric quantization. The zero point for the QuantizeLinear/DequantizeLinear "
        "operator must be all zeros.",
        "quantize symmetrically (onnxruntime: ActivationSymmetric/WeightSymmetric=True, QInt8)",
        {"8.6": _P86 + " builtin_op_importers.cpp:1215-1221, docs/operators.md:50,127",
         "10": _P10 + " onnxOpImporters.cpp:1489-1494",
         "11": _P111 + " docs/operators.md (QuantizeLinear 'y_zero_point must be 0', DequantizeLinear "
               "'x_zero_point must be zero'); " + _H111 + "NvOnnxParser.h:97-100 (asymmetric only with a DLA-only "
               "flag, off by default)"}),
    _QdqValues(
        "qdq-scale-positive", "constant Q/DQ scales are all positive", 1,
        lambda scale: scale.size == 0 or bool(np.any(scale.astype(np.float64) <= 0)),
        "Scale coefficients must all be positive", "recalibrate: a zero scale comes from an all-zero tensor or channel",
        {"8.6": _P86 + " builtin_op_importers.cpp:1192-1197",
         "10": _P10 + " onnxOpImporters.cpp:1385-1404",
         "11": _P10 + " onnxOpImporters.cpp:1385-1404 (11.x importer not read for this check)"}),
)


def _check_qdq_values(spec: _QdqValues, g: _Graph, targets: Tuple[str, ...]) -> Iterator[Violation]:
    for i, node in g.nodes_of(*_QDQ):
        values = g.const(node.input[spec.position]) if len(node.input) > spec.position else None
        if values is not None and spec.bad(values):
            for t in targets:
                yield _v(spec.rule, g, i, (t,), spec.message, spec.fix, spec.source[t], _CODE_INVALID_NODE)


for _qdq in _QDQ_VALUES:
    _rule(_qdq.rule, TARGETS, _qdq.summary, _qdq.source)(functools.partial(_check_qdq_values, _qdq))


_QDQ_UINT8_SOURCES = {
    "8.6": _P86 + " builtin_op_importers.cpp:1160-1166 (commit fd119fe 'Check that QuantizeLinear is not UINT8 "
           "type'); " + _H86 + "NvInferRuntimeBase.h:137",
    "10": _P10 + " onnxOpImporters.cpp:1455-1461; " + _H103 + "NvInferRuntimeBase.h:152",
    "11": _H111 + "NvInferRuntimeBase.h:166, NvOnnxParser.h:97-100; " + _P10 + " onnxOpImporters.cpp:1455-1461",
}


@_rule("qdq-uint8", TARGETS, "Q/DQ are INT8 (no UINT8 zero point / data)", _QDQ_UINT8_SOURCES)
def _check_qdq_uint8(g: _Graph, targets: Tuple[str, ...]) -> Iterator[Violation]:
    for i, node in g.nodes_of(*_QDQ):
        zp_type = g.dtype(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        data_type = g.dtype(node.input[0]) if node.op_type == "DequantizeLinear" else None
        if TensorProto.UINT8 not in (zp_type, data_type) and not (node.op_type == "QuantizeLinear" and zp_type is None):
            continue
        for t in targets:
            msg = ("Found invalid input type of UINT8" if t == "8.6" else
                   "TensorRT doesn't support QuantizeLinear/DequantizeLinear with UINT8 zero_point. TensorRT will "
                   "use INT8 instead. (ONNX Runtime quantizes to uint8 [0, 255]: results differ)")
            yield _v("qdq-uint8", g, i, (t,), msg,
                     "quantize to int8 with an int8 zero point of 0 (onnxruntime: QuantType.QInt8)",
                     _QDQ_UINT8_SOURCES[t], parser_error=t == "8.6")


_QDQ_CONST_SOURCES = {
    "8.6": _H86 + "NvInfer.h:6033-6034, 6061-6063 (IQuantizeLayer), 6119-6120, 6147-6149 (IDequantizeLayer)",
    "10": _H103 + "NvInfer.h:5338-5339, 5375-5377 (IQuantizeLayer), 5465-5466, 5505-5507 (IDequantizeLayer)",
    "11": _H111 + "NvInfer.h:5360, 5398-5400 (IQuantizeLayer), 5514, 5552-5554 (IDequantizeLayer): the zero point "
          "only; 11 lifts the rule for the scale",
}


def _const_subgraph(g: _Graph, name: str) -> bool:
    """A build-time constant in TensorRT's sense: Constant, or Constant -> Cast."""
    if g.is_const(name):
        return True
    node = g.nodes[g.producer[name]] if name in g.producer else None
    return node is not None and node.op_type == "Cast" and bool(node.input) and g.is_const(node.input[0])


@_rule("qdq-constant-params", TARGETS,
       "Q/DQ scale (8.6, 10) and zero point (all) come from a Constant (optionally through a Cast)",
       _QDQ_CONST_SOURCES)
def _check_qdq_constants(g: _Graph, targets: Tuple[str, ...]) -> Iterator[Violation]:
    for i, node in g.nodes_of(*_QDQ):
        for pos, what in ((1, "scale"), (2, "zero point")):
            if len(node.input) <= pos or not node.input[pos] or _const_subgraph(g, node.input[pos]):
                continue
            for t in targets:
                if t == "11" and pos == 1:
                    continue
                yield _v("qdq-constant-params", g, i, (t,),
                         "The subgraph which terminates with the %s tensor must be a build-time constant "
                         "(only Constant -> Quantize/Dequantize or Constant -> Cast -> Quantize/Dequantize)" % what,
                         "store the Q/DQ %s as an initializer" % what, _QDQ_CONST_SOURCES[t])


_QDQ_FP32_SOURCE = (_P86 + " builtin_op_importers.cpp:1194-1197 (scale values read as float); " + _H86
                    + "NvInfer.h:6040 ('IQuantizeLayer only supports DataType::kFLOAT precision')")


@_rule("qdq-scale-fp32", ("8.6",), "Q/DQ scales are float32 on 8.x", _QDQ_FP32_SOURCE)
def _check_qdq_fp32(g: _Graph, targets: Tuple[str, ...]) -> Iterator[Violation]:
    for i, node in g.nodes_of(*_QDQ):
        if len(node.input) > 1:
            dt = g.dtype(node.input[1])
            if dt is not None and dt != TensorProto.FLOAT:
                yield _v("qdq-scale-fp32", g, i, targets,
                         "no parser error: the 8.x importer reads the %s scale as float32 (IQuantizeLayer only "
                         "supports DataType::kFLOAT precision)" % _dtype_name(dt),
                         "keep Q/DQ scales float32 (quantize the float32 graph, then convert)", _QDQ_FP32_SOURCE,
                         parser_error=False)


def _weight_data(g: _Graph, name: str) -> bool:
    """True when ``name`` is a constant, possibly through QuantizeLinear/DequantizeLinear of a constant."""
    seen = 0
    while name and seen < 4:
        if g.is_const(name):
            return True
        if name not in g.producer:
            return False
        node = g.nodes[g.producer[name]]
        if node.op_type not in _QDQ:
            return False
        name, seen = node.input[0], seen + 1
    return False


def _per_channel(g: _Graph, node: onnx.NodeProto) -> Optional[int]:
    """The axis of a per-channel Q/DQ (scale with more than one element), else None."""
    scale = g.const(node.input[1]) if len(node.input) > 1 else None
    if scale is None or scale.size <= 1:
        return None
    axis = int(g.attr(node, "axis", 1))
    rank = g.ranks.get(node.input[0])
    if axis < 0 and rank:
        axis += rank
    return axis


_QDQ_ACT_SOURCE = (_P86 + " builtin_op_importers.cpp:1242-1255; " + _P10 + " onnxOpImporters.cpp:1524-1540 "
                   "('We assume this is weight-quantization ... Activations-quantization does not support per-axis "
                   "quantization')")


@_rule("qdq-per-tensor-activation", TARGETS, "per-channel Q/DQ only on constant weights; activations per-tensor",
       _QDQ_ACT_SOURCE)
def _check_qdq_activation(g: _Graph, targets: Tuple[str, ...]) -> Iterator[Violation]:
    for i, node in g.nodes_of(*_QDQ):
        if _per_channel(g, node) is not None and not _weight_data(g, node.input[0]):
            yield _v("qdq-per-tensor-activation", g, i, targets,
                     "Activations-quantization does not support per-axis quantization (the importer treats any "
                     "per-axis Q/DQ as weight quantization of a KCRS kernel)",
                     "quantize activations with one scale (per-tensor)", _QDQ_ACT_SOURCE, parser_error=False)


def _weight_dq_for(g: _Graph, op_type: str) -> Iterator[Tuple[int, onnx.NodeProto, int]]:
    """(index, DQ node, axis) of per-channel DequantizeLinear nodes feeding ``op_type``'s weight input."""
    for i, node in g.nodes_of("DequantizeLinear"):
        if not node.output:
            continue
        axis = _per_channel(g, node)
        if axis is None:
            continue
        if any(g.nodes[j].op_type == op_type and pos == 1 for j, pos in g.consumers.get(node.output[0], [])):
            yield i, node, axis


_CONV_AXIS_SOURCE = (_P86 + " builtin_op_importers.cpp:1242-1244; " + _P10 + " onnxOpImporters.cpp:1524-1526 "
                     "(per-channel weights are KCRS, K = output channels, axis 0)")


@_rule("qdq-conv-weight-axis", TARGETS, "per-channel Conv weight scales are on axis 0 (output channels)",
       _CONV_AXIS_SOURCE)
def _check_conv_axis(g: _Graph, targets: Tuple[str, ...]) -> Iterator[Violation]:
    for i, node, axis in _weight_dq_for(g, "Conv"):
        if axis != 0:
            yield _v("qdq-conv-weight-axis", g, i, targets,
                     "no parser error: per-channel Conv weight scales on axis %d; TensorRT quantizes "
                     "convolution weights per output channel (axis 0)" % axis,
                     "quantize Conv weights per output channel (axis 0)", _CONV_AXIS_SOURCE, parser_error=False)


#: the per-channel axis of ConvTranspose weight scales each TensorRT major reads (sources below)
DECONV_WEIGHT_AXIS = {"8.6": 0, "10": 1, "11": 1}
_DECONV_AXIS_SOURCES = {
    "8.6": ("NVIDIA/TensorRT#2380 (nvpohanh, 2022-12-02: 'We don't support per-output-channel quant for "
            "ConvTranspose'), #1694 (ttyio: 'try quant axis 0 for deconv'); NVIDIA/TensorRT v8.6.1 "
            "tools/pytorch-quantization/pytorch_quantization/tensor_quant.py:230 (axis 0)"),
    "10": ("NVIDIA/TensorRT 2332a719 ('10.2 GA release update') moved ConvTranspose weights to axis 1; v10.3.0 "
           "tools/pytorch-quantization/pytorch_quantization/tensor_quant.py:247 (axis 1)"),
    "11": ("NVIDIA/TensorRT v10.3.0 tools/pytorch-quantization/pytorch_quantization/tensor_quant.py:247 "
           "(axis 1, unchanged since 10.2)"),
}


@_rule("qdq-deconv-weight-axis", TARGETS,
       "per-channel ConvTranspose weight scales: axis 0 on 8.x (input channels), axis 1 on 10+ (output channels)",
       _DECONV_AXIS_SOURCES)
def _check_deconv_axis(g: _Graph, targets: Tuple[str, ...]) -> Iterator[Violation]:
    for i, node, axis in _weight_dq_for(g, "ConvTranspose"):
        for t in targets:
            want = DECONV_WEIGHT_AXIS[t]
            if axis != want:
                yield _v("qdq-deconv-weight-axis", g, i, (t,),
                         "no parser error: per-channel ConvTranspose weight scales on axis %d; TensorRT %s "
                         "deconvolution kernels take them on axis %d (results are wrong, not rejected)"
                         % (axis, "8.x" if want == 0 else "10+", want),
                         "quantize ConvTranspose weights on axis %d for TensorRT %s (or per-tensor: any major)"
                         % (want, "8.x" if want == 0 else "10+"),
                         _DECONV_AXIS_SOURCES[t], parser_error=False)


# ------------------------------------------------------------------------------------------------
# entry points
# ------------------------------------------------------------------------------------------------
def check_model(model: Union[onnx.ModelProto, str, Path], targets: Union[str, Sequence[str], None] = TARGETS) -> CompatReport:
    """Run every rule over ``model`` (a ModelProto or a path) for the TensorRT majors ``targets``.

    Only the main graph is walked (subgraphs of If/Loop are not; the SDK's graphs have none).

    Example:
        >>> from onnx import TensorProto, helper
        >>> graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
        ...     [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        ...     [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
        >>> check_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])).summary()
        'compatible with the TensorRT 8.6, 10, 11 ONNX parsers'
    """
    chosen = _as_targets(targets)
    g = _Graph(load_onnx(model, hint="pass the .onnx file written by `python -m build_engine export`"))
    found: List[Violation] = []
    for rule in RULES.values():
        applies = tuple(t for t in chosen if t in rule.targets)
        if applies:
            found.extend(rule.check(g, applies))
    return CompatReport(targets=chosen, violations=tuple(_merge(found)))


def _merge(violations: Iterable[Violation]) -> List[Violation]:
    """One entry per (rule, node, message, fix): the majors that share it, and their sources."""
    grouped: Dict[Tuple[str, str, int, str, str], Violation] = {}
    for v in violations:
        key = (v.rule, v.node, v.node_index, v.message, v.fix)
        old = grouped.get(key)
        if old is None:
            grouped[key] = v
            continue
        targets = tuple(t for t in TARGETS if t in old.targets or t in v.targets)
        source = old.source if v.source in old.source.split("; ") else "%s; %s" % (old.source, v.source)
        grouped[key] = dataclasses.replace(old, targets=targets, source=source)
    return sorted(grouped.values(), key=lambda v: (v.node_index, v.rule, TARGETS.index(v.targets[0])))


def ensure_compatible(model: Union[onnx.ModelProto, str, Path], targets: Union[str, Sequence[str], None] = TARGETS,
                      *, allow_incompatible: bool = False, what: str = "graph") -> CompatReport:
    """Raise :class:`~fcn_trt.errors.TensorRTCompatibilityError` unless ``model`` passes for ``targets``.

    With ``allow_incompatible=True`` every violation is logged as a WARNING instead and the report is
    returned: the graph is then known to fail (or compute differently) on those TensorRT parsers.

    Example:
        >>> from onnx import TensorProto, helper
        >>> graph = helper.make_graph([helper.make_node("Shape", ["x"], ["s"], start=1)], "g",
        ...     [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
        ...     [helper.make_tensor_value_info("s", TensorProto.INT64, [1])])
        >>> model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        >>> ensure_compatible(model, "10").ok
        True
        >>> ensure_compatible(model, "8.6")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        fcn_trt.errors.TensorRTCompatibilityError: graph: expected a graph that the TensorRT 8.6 ONNX parser accepts, found 2 violations: int64-io at s ...
    """
    report = check_model(model, targets)
    if report.ok:
        return report
    listed = " | ".join(
        "%s at %s (%s) for TensorRT %s: %s" % (v.rule, v.node, v.op_type, "/".join(v.targets), v.message)
        for v in report.violations)
    if allow_incompatible:
        for v in report.violations:
            log.warning("%s is NOT compatible with TensorRT %s: %s at node %s (%s): %s -- fix: %s",
                        what, "/".join(v.targets), v.rule, v.node, v.op_type, v.message, v.fix)
        return report
    n = len(report.violations)
    raise TensorRTCompatibilityError(
        what, expected=report.expected,
        found="%d violation%s: %s" % (n, "" if n == 1 else "s", listed),
        hint="run `python -m build_engine check MODEL.onnx --trt %s` for the fix of each, re-export the graph, "
        "or override knowingly (the engine build will fail or differ)" % ",".join(report.targets),
    )
