"""A strict, CPU-only fake of the ``tensorrt`` Python module, one per supported release.

``make_fake_tensorrt(version)`` returns a module that exposes ONLY the classes, members and enum
members present in that release's API dump (``tests/fakes/trt_api.py``): touching anything else
raises ``AttributeError`` exactly like the real module would. Enum members carry the dump's integer
values (TensorRT 11 renumbered them), so code that uses ints instead of names breaks here too.

Builder side: ``Builder``/``INetworkDefinition``/``OnnxParser``/``IBuilderConfig``/
``IOptimizationProfile``/``ITimingCache``/``IHostMemory`` record everything that reaches them
(flags, pools, profiles, timing cache, progress monitor...). ``OnnxParser.parse`` really checks the
bytes with ``onnx`` (bad bytes or unknown operators -> ``False`` + one ``ParserError`` per problem) and
applies the ONNX-parser rules of the release's major (``build_engine.trt_check``): a graph the real
parser rejects fails here with the real parser's message.
``Builder.build_serialized_network`` validates what real TensorRT validates (profiles cover every
dynamic input, strongly typed networks reject precision flags, DLA core exists...) and returns::

    b"FAKETRT1" + uint32 little-endian header length + JSON header + the ONNX model bytes

Runtime side: ``Runtime(logger).deserialize_cuda_engine(blob)`` gives ``None`` (after logging an
error) for anything that is not a fake engine of THIS version; ``ICudaEngine`` has the named-tensor
API; ``IExecutionContext.execute_async_v3`` reads inputs from ``tests.fakes.fake_cuda.DEVICE_MEMORY``,
runs the embedded ONNX with ONNX Runtime and writes the outputs back to device memory.

Everything the fake records is kept under the private ``module._fake`` (a :class:`FakeState`) so that
tests can assert what reached TensorRT; code under test must never touch it (the conformance test
rejects ``trt._fake`` because it is not in any dump).

Example:
    >>> trt = make_fake_tensorrt("11.4.0.106")
    >>> int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED), hasattr(trt.BuilderFlag, "FP16")
    (0, False)
"""

from __future__ import annotations

import enum
import json
import operator
import struct
import sys
import types
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from tests.fakes.trt_api import SUPPORTED_VERSIONS, TrtApiDump, load_dump

__all__ = ["make_fake_tensorrt", "FakeState", "ENGINE_MAGIC", "parse_fake_engine", "SUPPORTED_VERSIONS"]

ENGINE_MAGIC = b"FAKETRT1"
_CACHE_MAGIC = b"FAKETRTCACHE1"

# Builder flags that ask TensorRT to pick reduced-precision kernels by itself ("weak typing"):
# forbidden together with a strongly typed network (TensorRT 10 docs), gone in TensorRT 11.
_WEAK_TYPING_FLAGS = ("FP16", "BF16", "INT8", "FP8", "INT4", "FP4")

_SEVERITIES = (("INTERNAL_ERROR", 0), ("ERROR", 1), ("WARNING", 2), ("INFO", 3), ("VERBOSE", 4))


def _major(version: str) -> int:
    return int(version.split(".")[0])


# ------------------------------------------------------------------------------------------------
# strictness machinery
# ------------------------------------------------------------------------------------------------
def _is_fake_class(klass: type) -> bool:
    return klass is object or klass is bytes or klass.__module__ in ("tensorrt", __name__)


def _defined_outside_fake(cls: type, name: str) -> bool:
    """True when a user subclass (a logger, a progress monitor...) defines ``name`` itself."""
    for klass in type.__getattribute__(cls, "__mro__"):
        if name in klass.__dict__:
            return not _is_fake_class(klass)
    return False


class _StrictMeta(type):
    """Class-level guard (``trt.Builder.build_engine`` on 10.x raises AttributeError) and pybind11's
    rule that a Python subclass must call the TensorRT base ``__init__``."""

    def __getattribute__(cls, name: str) -> Any:
        if not name.startswith("_"):
            blocked = type.__getattribute__(cls, "_BLOCKED")
            if name in blocked and not _defined_outside_fake(cls, name):
                raise AttributeError(
                    "type object 'tensorrt.%s' has no attribute '%s' (TensorRT %s)"
                    % (type.__getattribute__(cls, "_TRT_NAME"), name, type.__getattribute__(cls, "_VERSION"))
                )
        return type.__getattribute__(cls, name)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        obj = super().__call__(*args, **kwargs)
        if not obj.__dict__.get("_trt_init"):
            raise TypeError("%s.__init__() must be called when overriding __init__"
                            % type.__getattribute__(cls, "_TRT_NAME"))
        return obj


class _Strict(metaclass=_StrictMeta):
    """Instance-level guard. Fake classes keep their state in ``_underscore`` attributes."""

    _BLOCKED: frozenset = frozenset()
    _ALLOWED: frozenset = frozenset()
    _TRT_NAME = "?"
    _VERSION = "?"
    _state: "FakeState"

    def __getattribute__(self, name: str) -> Any:
        if not name.startswith("_"):
            cls = object.__getattribute__(self, "__class__")
            if name in cls._BLOCKED and not _defined_outside_fake(cls, name):
                raise AttributeError(
                    "'tensorrt.%s' object has no attribute '%s' (TensorRT %s)" % (cls._TRT_NAME, name, cls._VERSION)
                )
        return object.__getattribute__(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_"):
            cls = type(self)
            user_class = not all(_is_fake_class(k) for k in cls.__mro__)
            if name in cls._BLOCKED or (not user_class and name not in cls._ALLOWED):
                raise AttributeError(
                    "'tensorrt.%s' object has no attribute '%s' (TensorRT %s)" % (cls._TRT_NAME, name, cls._VERSION)
                )
        object.__setattr__(self, name, value)

    def __enter__(self):  # real TensorRT objects are context managers (common_enter/common_exit)
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def _created(self) -> None:
        self._state.created.append(type(self)._TRT_NAME)
        self._state.objects.append(self)


# ------------------------------------------------------------------------------------------------
# plain TensorRT attributes
# ------------------------------------------------------------------------------------------------
def _stored(slot: str, convert: Callable[[Any, Any], Any] | None = None) -> property:
    """A TensorRT attribute the fake keeps in ``self.<slot>``: read-only, or assignable through
    ``convert(self, value)``, which checks the value (raising the real binding's TypeError) and returns
    what to store."""

    def get(self: Any) -> Any:
        return getattr(self, slot)

    if convert is None:
        return property(get)

    def put(self: Any, value: Any) -> None:
        setattr(self, slot, convert(self, value))

    return property(get, put)


def _count_of(slot: str) -> property:
    """A read-only TensorRT count (``num_inputs``...): the length of ``self.<slot>``."""
    return property(lambda self: len(getattr(self, slot)))


def _fixed(value: Any) -> property:
    """A read-only TensorRT attribute whose value the fake never changes."""
    return property(lambda self: value)


def _reads(slot: str) -> Callable[[Any], Any]:
    """A TensorRT getter method (not a property) returning ``self.<slot>``."""
    return lambda self: getattr(self, slot)


def _reads_fixed(value: Any) -> Callable[[Any], Any]:
    """A TensorRT getter method whose answer the fake never changes."""
    return lambda self: value


def _buffer(data: Any, error: str) -> bytes:
    """The bytes of a buffer argument; anything else raises the binding's TypeError ``error``."""
    try:
        return bytes(memoryview(data))
    except TypeError:
        raise TypeError(error)


def _as_is(self: Any, value: Any) -> Any:
    return value


def _as_index(self: Any, value: Any) -> int:
    return operator.index(value)


def _enum_of(enum_name: str, attribute: str) -> Callable[[Any, Any], Any]:
    """A ``convert`` for :func:`_stored` that takes only members of ``tensorrt.<enum_name>``."""

    def convert(self: Any, value: Any) -> Any:
        if not isinstance(value, self._state.enum(enum_name)):
            raise TypeError("%s: expected tensorrt.%s" % (attribute, enum_name))
        return value

    return convert


class _TrtEnum(enum.Enum):
    """pybind11-style enum: members by name, ``int(member)``, no arithmetic or int equality."""

    def __int__(self) -> int:
        return int(self.value)

    def __index__(self) -> int:
        return int(self.value)

    def __repr__(self) -> str:
        return "<%s.%s: %d>" % (type(self).__name__, self.name, self.value)

    def __str__(self) -> str:
        return "%s.%s" % (type(self).__name__, self.name)


def _make_enum(name: str, members: dict) -> type:
    items = sorted(((k, v) for k, v in members.items() if not k.startswith("_")), key=lambda kv: (kv[1], kv[0]))
    return _TrtEnum(name, items, module="tensorrt")


# ------------------------------------------------------------------------------------------------
# recorded state
# ------------------------------------------------------------------------------------------------
@dataclass
class FakeState:
    """What reached the fake TensorRT (private test hook, ``trt._fake``)."""

    version: str
    dump: TrtApiDump
    created: list = field(default_factory=list)  # TensorRT class names, in creation order
    objects: list = field(default_factory=list)
    num_dla_cores: int = 0
    builds: list = field(default_factory=list)  # engine headers of successful builds
    build_failures: list = field(default_factory=list)  # error strings of failed builds
    executions: list = field(default_factory=list)  # (stream_handle, {input: shape})
    log: list = field(default_factory=list)  # (severity name, message) logged through any logger
    enums: dict = field(default_factory=dict)  # enum name -> per-version enum class
    classes: dict = field(default_factory=dict)  # TensorRT class name -> per-version fake class

    def enum(self, name: str) -> Any:
        return self.enums[name]

    def last(self, trt_name: str) -> Any:
        """The most recently created object of TensorRT class ``trt_name``."""
        for obj in reversed(self.objects):
            if type(obj)._TRT_NAME == trt_name:
                return obj
        raise LookupError("no %s was created" % trt_name)


# ------------------------------------------------------------------------------------------------
# small value classes
# ------------------------------------------------------------------------------------------------
class _Dims(_Strict):
    _TRT_NAME = "Dims"
    MAX_DIMS = 8

    def __init__(self, shape: Any = ()) -> None:
        self._trt_init = True
        self._d = tuple(int(v) for v in shape)

    def __len__(self) -> int:
        return len(self._d)

    def __getitem__(self, i: Any) -> Any:
        return self._d[i]

    def __iter__(self):
        return iter(self._d)

    def __eq__(self, other: Any) -> bool:
        try:
            return tuple(self._d) == tuple(int(v) for v in other)
        except TypeError:
            return NotImplemented

    def __hash__(self) -> int:
        return hash(self._d)

    def __repr__(self) -> str:
        return "(" + ", ".join(str(v) for v in self._d) + ("," if len(self._d) == 1 else "") + ")"


def _as_shape(value: Any, what: str) -> tuple:
    try:
        return tuple(operator.index(v) for v in value)
    except TypeError:
        raise TypeError("%s: incompatible function arguments, expected Dims/tuple/list of int, got %r" % (what, value))


class _IHostMemory(_Strict, bytes):
    """Serialized engine/cache bytes. Supports the buffer protocol like the real class (it IS bytes
    here; the bytes methods are blocked like every other name the dump does not list)."""

    _TRT_NAME = "IHostMemory"

    def __new__(cls, data: bytes = b"") -> Any:
        return bytes.__new__(cls, bytes(data))

    def __init__(self, data: bytes = b"") -> None:
        self._trt_init = True

    @property
    def nbytes(self) -> int:
        return bytes.__len__(self)

    @property
    def dtype(self) -> Any:
        return self._state.enum("DataType").UINT8


# ------------------------------------------------------------------------------------------------
# loggers, monitors (user-subclassable interfaces)
# ------------------------------------------------------------------------------------------------
class _ILogger(_Strict):
    _TRT_NAME = "ILogger"

    def __init__(self) -> None:
        self._trt_init = True
        pass

    def log(self, severity: Any, msg: str) -> None:  # pure virtual in the real ILogger
        raise RuntimeError("Tried to call pure virtual function \"ILogger::log\"")


class _Logger(_ILogger):
    _TRT_NAME = "Logger"

    def __init__(self, min_severity: Any = None) -> None:
        self._trt_init = True
        self._min = min_severity if min_severity is not None else type(self).WARNING

    min_severity = _stored("_min", _as_is)

    def log(self, severity: Any, msg: str) -> None:
        if int(severity.value) <= int(self._min.value):
            sys.stderr.write("[TRT] [%s] %s\n" % (severity.name[0], msg))


class _IProgressMonitor(_Strict):
    _TRT_NAME = "IProgressMonitor"

    def __init__(self) -> None:
        self._trt_init = True
        pass

    def phase_start(self, phase_name: str, parent_phase: Any, num_steps: int) -> None:
        raise RuntimeError("Tried to call pure virtual function \"IProgressMonitor::phase_start\"")

    def step_complete(self, phase_name: str, step: int) -> bool:
        raise RuntimeError("Tried to call pure virtual function \"IProgressMonitor::step_complete\"")

    def phase_finish(self, phase_name: str) -> None:
        raise RuntimeError("Tried to call pure virtual function \"IProgressMonitor::phase_finish\"")


def _log(state: FakeState, logger: Any, severity_name: str, msg: str) -> None:
    state.log.append((severity_name, msg))
    if logger is not None:
        severity = getattr(state.classes["ILogger"].Severity, severity_name)
        logger.log(severity, msg)


# ------------------------------------------------------------------------------------------------
# network + parser
# ------------------------------------------------------------------------------------------------
_ONNX_TO_TRT = {1: "FLOAT", 10: "HALF", 3: "INT8", 2: "UINT8", 6: "INT32", 7: "INT64", 9: "BOOL", 16: "BF16"}
_TRT_TO_NP = {
    "FLOAT": np.float32, "HALF": np.float16, "INT8": np.int8, "UINT8": np.uint8, "INT32": np.int32,
    "INT64": np.int64, "BOOL": np.bool_,
}


def _trt_dtype_name(state: FakeState, elem_type: int) -> str:
    name = _ONNX_TO_TRT.get(elem_type)
    if name is None or name not in state.dump.enums["DataType"]:
        if name == "INT64":  # TensorRT 8.6 casts INT64 to INT32
            return "INT32"
        raise ValueError("unsupported ONNX element type %d" % elem_type)
    return name


def _value_info_shape(vi: Any) -> tuple:
    dims = []
    for d in vi.type.tensor_type.shape.dim:
        dims.append(int(d.dim_value) if d.HasField("dim_value") else -1)
    return tuple(dims)


class _ITensor(_Strict):
    _TRT_NAME = "ITensor"

    def __init__(self, name: str, shape: tuple, dtype: Any, is_input: bool) -> None:
        self._trt_init = True
        self._name, self._shape, self._dtype, self._is_input = name, shape, dtype, is_input

    name = _stored("_name")

    @property
    def shape(self) -> Any:
        return self._state.classes["Dims"](self._shape)

    dtype = _stored("_dtype")
    is_network_input = _stored("_is_input")

    @property
    def is_network_output(self) -> bool:
        return not self._is_input

    is_shape_tensor = _fixed(False)
    is_execution_tensor = _fixed(True)


class _INetworkDefinition(_Strict):
    _TRT_NAME = "INetworkDefinition"

    def __init__(self, flags: int) -> None:
        self._trt_init = True
        self._flags = flags
        self._inputs: list = []
        self._outputs: list = []
        self._onnx: bytes | None = None
        self._num_nodes = 0
        self._created()

    # strong typing: opt-in flag on 9.x/10.x, always on in 11 (the flag is accepted and ignored)
    @property
    def _strongly_typed(self) -> bool:
        if _major(self._state.version) >= 11:
            return True
        members = self._state.dump.enums["NetworkDefinitionCreationFlag"]
        return "STRONGLY_TYPED" in members and bool(self._flags & (1 << members["STRONGLY_TYPED"]))

    @property
    def _explicit_batch(self) -> bool:
        members = self._state.dump.enums["NetworkDefinitionCreationFlag"]
        if _major(self._state.version) >= 10:
            return True  # implicit batch was removed in TensorRT 10
        return bool(self._flags & (1 << members["EXPLICIT_BATCH"]))

    flags = _stored("_flags")

    def get_flag(self, flag: Any) -> bool:
        return bool(self._flags & (1 << int(flag)))

    num_inputs = _count_of("_inputs")

    num_outputs = _count_of("_outputs")

    num_layers = _stored("_num_nodes")

    def get_layer(self, index: int) -> Any:
        layers = self._layers()
        return layers[index] if 0 <= index < len(layers) else None

    def _layers(self) -> list:
        """One ILayer per node of the parsed ONNX graph (built on first use)."""
        if getattr(self, "_layer_list", None) is None:
            import onnx

            nodes = list(onnx.load_from_string(self._onnx).graph.node) if self._onnx else []
            kinds = self._state.enum("LayerType")
            layers = []
            for i, node in enumerate(nodes[: self._num_nodes or len(nodes)]):
                kind = _ONNX_LAYER_TYPES.get(node.op_type, "PLUGIN_V2")
                layers.append(self._state.classes["ILayer"](node.name or "%s_%d" % (node.op_type, i), kinds[kind]))
            self._layer_list = layers
        return self._layer_list

    def get_input(self, index: int) -> Any:
        return self._inputs[index] if 0 <= index < len(self._inputs) else None

    def get_output(self, index: int) -> Any:
        return self._outputs[index] if 0 <= index < len(self._outputs) else None

    @property
    def has_implicit_batch_dimension(self) -> bool:
        return not self._explicit_batch

    name = _fixed("fake_network")


# ONNX operator -> the TensorRT layer type its importer makes (one layer per node here; the real
# parser sometimes makes several, e.g. constants and shuffles around a node)
_ONNX_LAYER_TYPES = {
    "Conv": "CONVOLUTION", "ConvTranspose": "DECONVOLUTION", "Relu": "ACTIVATION", "Sigmoid": "ACTIVATION",
    "Tanh": "ACTIVATION", "Clip": "ACTIVATION", "LeakyRelu": "ACTIVATION", "MaxPool": "POOLING",
    "AveragePool": "POOLING", "GlobalAveragePool": "POOLING", "Add": "ELEMENTWISE", "Sub": "ELEMENTWISE",
    "Mul": "ELEMENTWISE", "Div": "ELEMENTWISE", "Max": "ELEMENTWISE", "Min": "ELEMENTWISE", "Pow": "ELEMENTWISE",
    "Greater": "ELEMENTWISE", "Less": "ELEMENTWISE", "Equal": "ELEMENTWISE", "Cast": "CAST", "ArgMax": "TOPK",
    "ArgMin": "TOPK", "TopK": "TOPK", "Transpose": "SHUFFLE", "Reshape": "SHUFFLE", "Flatten": "SHUFFLE",
    "Squeeze": "SHUFFLE", "Unsqueeze": "SHUFFLE", "Slice": "SLICE", "Resize": "RESIZE", "Concat": "CONCATENATION",
    "Shape": "SHAPE", "Gather": "GATHER", "Constant": "CONSTANT", "QuantizeLinear": "QUANTIZE",
    "DequantizeLinear": "DEQUANTIZE", "ReduceMax": "REDUCE", "ReduceMean": "REDUCE", "ReduceSum": "REDUCE",
    "ReduceMin": "REDUCE", "Softmax": "SOFTMAX", "Identity": "IDENTITY", "Pad": "PADDING",
    "BatchNormalization": "SCALE", "MatMul": "MATRIX_MULTIPLY", "Gemm": "MATRIX_MULTIPLY", "Sqrt": "UNARY",
    "Exp": "UNARY", "Abs": "UNARY", "Neg": "UNARY", "Floor": "UNARY", "Ceil": "UNARY", "Where": "SELECT",
}

# Layer types DLA runs ("DLA Supported Layers and Restrictions", Table "DLA Layer Support Summary":
# Activation, Concatenation, Convolution/Fully Connected, Deconvolution, ElementWise, LRN, Parametric
# ReLU, Pooling, Reduce, Resize, Scale, Shuffle, Slice, Softmax, Unary;
# https://docs.nvidia.com/deeplearning/tensorrt/latest/inference-library/dla-layer-restrictions.html).
# Everything else (Cast, TopK/ArgMax, Shape, Gather, Constant, Identity, Q/DQ...) falls back to the GPU.
# The per-layer restrictions of that page (2D only, kernel limits, resize modes...) are not modelled.
_DLA_LAYER_TYPES = frozenset((
    "ACTIVATION", "CONCATENATION", "CONVOLUTION", "FULLY_CONNECTED", "DECONVOLUTION", "ELEMENTWISE", "LRN",
    "PARAMETRIC_RELU", "POOLING", "REDUCE", "RESIZE", "SCALE", "SHUFFLE", "SLICE", "SOFTMAX", "UNARY",
))


class _ILayer(_Strict):
    _TRT_NAME = "ILayer"

    def __init__(self, name: str, layer_type: Any) -> None:
        self._trt_init = True
        self._name = name
        self._type = layer_type
        self._created()

    name = _stored("_name")
    type = _stored("_type")


class _ParserError(_Strict):
    _TRT_NAME = "ParserError"

    def __init__(self, code: Any, desc: str, node: int = -1, node_name: str = "", node_operator: str = "") -> None:
        self._trt_init = True
        self._code, self._desc, self._node, self._node_name, self._op = code, desc, node, node_name, node_operator

    # IParserError's getters are methods (err.code(), err.desc()...), not properties
    code = _reads("_code")
    desc = _reads("_desc")
    file = _reads_fixed("ModelImporter.cpp")
    func = _reads_fixed("parseGraph")
    line = _reads_fixed(0)
    node = _reads("_node")
    node_name = _reads("_node_name")
    node_operator = _reads("_op")

    def __str__(self) -> str:
        return "In node %d with name: %s and operator: %s (%s): %s: %s" % (
            self._node, self._node_name, self._op, self.func(), self._code.name, self._desc)


def _parser_rule_violations(proto: Any, version: str) -> tuple:
    """The ONNX-parser rules of this release's major (``build_engine.trt_check``) broken by ``proto``.

    Violations the real parser reports fail the fake parse with the real parser's text. The "silent"
    ones (the real parser imports the node but builds something else, e.g. Shape start/end on 8.x)
    fail it too: the fake cannot compute what TensorRT would compute instead, and a real build of
    such a graph fails later or gives different results.
    """
    from build_engine.trt_check import check_model, target_for_version

    return check_model(proto, (target_for_version(version),)).violations


class _OnnxParser(_Strict):
    _TRT_NAME = "OnnxParser"

    def __init__(self, network: Any, logger: Any) -> None:
        self._trt_init = True
        if not isinstance(network, self._state.classes["INetworkDefinition"]):
            raise TypeError("OnnxParser(): incompatible function arguments (network)")
        self._network, self._logger = network, logger
        self._errors: list = []
        self._flags = 0
        self._created()

    num_errors = _count_of("_errors")

    def get_error(self, index: int) -> Any:
        return self._errors[index] if 0 <= index < len(self._errors) else None

    def clear_errors(self) -> None:
        self._errors = []

    flags = _stored("_flags")

    def set_flag(self, flag: Any) -> None:
        self._flags |= 1 << int(flag)

    def clear_flag(self, flag: Any) -> None:
        self._flags &= ~(1 << int(flag))

    def get_flag(self, flag: Any) -> bool:
        return bool(self._flags & (1 << int(flag)))

    def _error(self, code: str, desc: str, node: int = -1, node_name: str = "", op: str = "") -> None:
        err = self._state.classes["ParserError"](self._state.enum("ErrorCode")[code], desc, node, node_name, op)
        self._errors.append(err)
        _log(self._state, self._logger, "ERROR", "ModelImporter.cpp: " + str(err))

    def parse(self, model: Any, path: str | None = None) -> bool:
        import onnx
        import onnx.checker
        import onnx.defs

        data = _buffer(model, "parse(): incompatible function arguments, model must be a buffer")
        try:
            proto = onnx.load_from_string(data)
        except Exception as exc:  # noqa: BLE001 - protobuf raises DecodeError and friends
            self._error("MODEL_DESERIALIZE_FAILED", "Failed to parse ONNX model from file/buffer: %s" % exc)
            return False
        if not proto.graph.node and not proto.graph.input:
            self._error("MODEL_DESERIALIZE_FAILED", "Failed to parse ONNX model: empty graph")
            return False
        if not self._network._explicit_batch:
            self._error("INVALID_VALUE", "Assertion failed: !mImporterCtx.network()->hasImplicitBatchDimension() "
                        "&& \"This version of the ONNX parser only supports TensorRT INetworkDefinitions with an "
                        "explicit batch dimension.\"")
            return False
        ok = True
        # a call of a function the model defines is the parser rules' business (10.0+ import them)
        local_functions = {(f.domain, f.name) for f in proto.functions}
        for i, node in enumerate(proto.graph.node):
            if not onnx.defs.has(node.op_type, node.domain or "") and (node.domain, node.op_type) not in local_functions:
                self._error("UNSUPPORTED_NODE", "No importer registered for op: %s" % node.op_type, i,
                            node.name, node.op_type)
                ok = False
        if not ok:
            return False
        try:
            onnx.checker.check_model(proto)
        except Exception as exc:  # noqa: BLE001 - onnx raises ValidationError
            self._error("INVALID_GRAPH", str(exc).splitlines()[0] if str(exc) else "invalid model")
            return False
        violations = _parser_rule_violations(proto, self._state.version)
        if violations:
            for v in violations:
                on_node = v.node_index >= 0
                self._error(v.code, v.message, v.node_index, v.node if on_node else "", v.op_type if on_node else "")
            return False
        init_names = {t.name for t in proto.graph.initializer}
        dtype_enum = self._state.enum("DataType")
        tensor_cls = self._state.classes["ITensor"]
        net = self._network
        try:
            net._inputs = [
                tensor_cls(vi.name, _value_info_shape(vi),
                           dtype_enum[_trt_dtype_name(self._state, vi.type.tensor_type.elem_type)], True)
                for vi in proto.graph.input if vi.name not in init_names
            ]
            net._outputs = [
                tensor_cls(vi.name, _value_info_shape(vi),
                           dtype_enum[_trt_dtype_name(self._state, vi.type.tensor_type.elem_type)], False)
                for vi in proto.graph.output
            ]
        except ValueError as exc:
            self._error("UNSUPPORTED_GRAPH", str(exc))
            return False
        net._onnx = data
        net._num_nodes = len(proto.graph.node)
        return True

    def parse_from_file(self, model: str) -> bool:
        with open(model, "rb") as f:
            return self.parse(f.read(), model)

    def supports_operator(self, op_name: str) -> bool:
        import onnx.defs

        return onnx.defs.has(op_name)


# ------------------------------------------------------------------------------------------------
# builder config, profiles, timing cache
# ------------------------------------------------------------------------------------------------
class _IOptimizationProfile(_Strict):
    _TRT_NAME = "IOptimizationProfile"

    def __init__(self) -> None:
        self._trt_init = True
        self._shapes: dict = {}
        self._valid = True
        self._created()

    def set_shape(self, input: str, min: Any, opt: Any, max: Any) -> None:  # noqa: A002 - TRT names
        shapes = [_as_shape(s, "set_shape") for s in (min, opt, max)]
        ok = len({len(s) for s in shapes}) == 1 and all(
            0 <= a <= b <= c for a, b, c in zip(*shapes)
        )
        if not ok:
            self._valid = False
            _log(self._state, None, "ERROR", "IOptimizationProfile::setDimensions: Error Code 3: API Usage Error "
                 "(min <= opt <= max violated or rank mismatch for %s: %s)" % (input, shapes))
            return
        self._shapes[input] = tuple(shapes)

    def get_shape(self, input: str) -> list:  # noqa: A002
        dims = self._state.classes["Dims"]
        return [dims(s) for s in self._shapes[input]] if input in self._shapes else []

    def __bool__(self) -> bool:
        return self._valid


class _ITimingCache(_Strict):
    _TRT_NAME = "ITimingCache"

    def __init__(self, entries: dict) -> None:
        self._trt_init = True
        self._entries = dict(entries)
        self._created()

    def serialize(self) -> Any:
        blob = _CACHE_MAGIC + json.dumps({"version": self._state.version, "entries": self._entries},
                                         sort_keys=True).encode()
        return self._state.classes["IHostMemory"](blob)

    def combine(self, input_cache: Any, ignore_mismatch: bool) -> bool:
        self._entries.update(input_cache._entries)
        return True

    def reset(self) -> bool:
        self._entries = {}
        return True


def _monitor_or_none(self: Any, value: Any) -> Any:
    if value is not None and not isinstance(value, self._state.classes["IProgressMonitor"]):
        raise TypeError("progress_monitor: expected tensorrt.IProgressMonitor")
    return value


class _IBuilderConfig(_Strict):
    _TRT_NAME = "IBuilderConfig"

    def __init__(self) -> None:
        self._trt_init = True
        self._flags = 0
        self._pools: dict = {}
        self._profiles: list = []
        self._opt_level = 3
        self._hw_level = self._state.enum("HardwareCompatibilityLevel").NONE
        self._dla_core = -1
        self._device_type = self._state.enum("DeviceType").GPU
        self._timing_cache = None
        self._timing_cache_ignore_mismatch = None
        self._progress_monitor = None
        self._profiling_verbosity = self._state.enum("ProfilingVerbosity").LAYER_NAMES_ONLY
        self._created()

    # flags ---------------------------------------------------------------------------------
    def _check_flag(self, flag: Any) -> None:
        if not isinstance(flag, self._state.enum("BuilderFlag")):
            raise TypeError("set_flag(): incompatible function arguments, expected tensorrt.BuilderFlag, got %r"
                            % (flag,))

    def set_flag(self, flag: Any) -> None:
        self._check_flag(flag)
        self._flags |= 1 << int(flag)

    def clear_flag(self, flag: Any) -> None:
        self._check_flag(flag)
        self._flags &= ~(1 << int(flag))

    def get_flag(self, flag: Any) -> bool:
        self._check_flag(flag)
        return bool(self._flags & (1 << int(flag)))

    flags = _stored("_flags", _as_index)

    def _flag_names(self) -> list:
        return sorted(n for n, v in self._state.dump.enums["BuilderFlag"].items() if self._flags & (1 << v))

    # memory pools ---------------------------------------------------------------------------
    def set_memory_pool_limit(self, pool: Any, pool_size: int) -> None:
        if not isinstance(pool, self._state.enum("MemoryPoolType")):
            raise TypeError("set_memory_pool_limit(): expected tensorrt.MemoryPoolType, got %r" % (pool,))
        self._pools[pool.name] = operator.index(pool_size)

    def get_memory_pool_limit(self, pool: Any) -> int:
        return self._pools.get(pool.name, 1 << 40)

    # profiles --------------------------------------------------------------------------------
    def add_optimization_profile(self, profile: Any) -> int:
        if not isinstance(profile, self._state.classes["IOptimizationProfile"]) or not profile:
            return -1
        self._profiles.append(profile)
        return len(self._profiles) - 1

    num_optimization_profiles = _count_of("_profiles")

    # properties ------------------------------------------------------------------------------
    builder_optimization_level = _stored("_opt_level", _as_index)
    hardware_compatibility_level = _stored(
        "_hw_level", _enum_of("HardwareCompatibilityLevel", "hardware_compatibility_level"))
    DLA_core = _stored("_dla_core", _as_index)
    default_device_type = _stored("_device_type", _enum_of("DeviceType", "default_device_type"))
    profiling_verbosity = _stored("_profiling_verbosity", _as_is)
    progress_monitor = _stored("_progress_monitor", _monitor_or_none)

    def can_run_on_DLA(self, layer: Any) -> bool:  # noqa: N802 - TensorRT's name
        if not isinstance(layer, self._state.classes["ILayer"]):
            raise TypeError("can_run_on_DLA(): incompatible function arguments, expected tensorrt.ILayer")
        return layer.type.name in _DLA_LAYER_TYPES

    # timing cache ----------------------------------------------------------------------------
    def create_timing_cache(self, serialized_timing_cache: Any) -> Any:
        data = bytes(memoryview(serialized_timing_cache))
        if not data:
            return self._state.classes["ITimingCache"]({})
        if not data.startswith(_CACHE_MAGIC):
            _log(self._state, None, "ERROR", "Error Code 1: Serialization (Serialized timing cache is corrupted)")
            return None
        try:
            payload = json.loads(data[len(_CACHE_MAGIC):])
        except ValueError:
            _log(self._state, None, "ERROR", "Error Code 1: Serialization (Serialized timing cache is corrupted)")
            return None
        return self._state.classes["ITimingCache"](payload.get("entries", {}))

    def set_timing_cache(self, cache: Any, ignore_mismatch: bool) -> bool:
        if not isinstance(cache, self._state.classes["ITimingCache"]):
            raise TypeError("set_timing_cache(): expected tensorrt.ITimingCache")
        self._timing_cache = cache
        self._timing_cache_ignore_mismatch = bool(ignore_mismatch)
        return True

    def get_timing_cache(self) -> Any:
        return self._timing_cache


# ------------------------------------------------------------------------------------------------
# builder
# ------------------------------------------------------------------------------------------------
class _WithLogger(_Strict):
    """``trt.Builder`` / ``trt.Runtime``: constructed from an ``ILogger``; ``logger``, ``num_DLA_cores``."""

    def __init__(self, logger: Any) -> None:
        self._trt_init = True
        if not isinstance(logger, self._state.classes["ILogger"]):
            raise TypeError("%s(): incompatible constructor arguments, expected tensorrt.ILogger" % self._TRT_NAME)
        self._logger = logger
        self._created()

    logger = _stored("_logger")

    @property
    def num_DLA_cores(self) -> int:  # noqa: N802
        return self._state.num_dla_cores


class _Builder(_WithLogger):
    _TRT_NAME = "Builder"

    platform_has_fast_fp16 = _fixed(True)
    platform_has_fast_int8 = _fixed(True)
    platform_has_tf32 = _fixed(True)

    def create_network(self, flags: int = 0) -> Any:
        flags = operator.index(flags)
        known = 0
        for v in self._state.dump.enums["NetworkDefinitionCreationFlag"].values():
            known |= 1 << v
        if flags & ~known:
            _log(self._state, self._logger, "ERROR", "createNetworkV2: Error Code 3: API Usage Error "
                 "(invalid NetworkDefinitionCreationFlag bits 0x%x)" % flags)
            return None
        return self._state.classes["INetworkDefinition"](flags)

    def create_builder_config(self) -> Any:
        return self._state.classes["IBuilderConfig"]()

    def create_optimization_profile(self) -> Any:
        return self._state.classes["IOptimizationProfile"]()

    def is_network_supported(self, network: Any, config: Any) -> bool:
        return not self._validate(network, config)

    def _validate(self, network: Any, config: Any) -> list:
        errors = []
        state = self._state
        if network._onnx is None:
            errors.append("Network must have at least one output (nothing was parsed into the network)")
            return errors
        flags = config._flag_names()
        if network._strongly_typed:
            bad = [f for f in flags if f in _WEAK_TYPING_FLAGS]
            if bad:
                errors.append("Error Code 3: API Usage Error (BuilderFlag::k%s is not allowed when the network is "
                              "strongly typed)" % bad[0])
        dynamic = [t for t in network._inputs if any(d < 0 for d in t._shape)]
        if dynamic and not config._profiles:
            errors.append("Error Code 4: API Usage Error (Network has dynamic or shape inputs, but no optimization "
                          "profile has been defined.)")
        for idx, profile in enumerate(config._profiles):
            for t in dynamic:
                if t.name not in profile._shapes:
                    errors.append("Error Code 4: API Usage Error (%s: dynamic input is missing dimensions in "
                                  "profile %d.)" % (t.name, idx))
            for t in network._inputs:
                if t.name not in profile._shapes:
                    continue
                for shape in profile._shapes[t.name]:
                    if len(shape) != len(t._shape) or any(
                        d >= 0 and d != s for d, s in zip(t._shape, shape)
                    ):
                        errors.append("Error Code 4: API Usage Error (%s: profile %d dimensions %s do not match "
                                      "network dimensions %s)" % (t.name, idx, shape, t._shape))
                        break
        if config._device_type.name == "DLA":
            if config._dla_core < 0 or config._dla_core >= state.num_dla_cores:
                errors.append("Error Code 3: API Usage Error (DLA core %d requested, this device has %d DLA cores)"
                              % (config._dla_core, state.num_dla_cores))
            elif "GPU_FALLBACK" not in config._flag_names():
                # without GPU fallback every layer must run on DLA, with a static profile. The
                # wording is the fake's own (the rules: "DLA Supported Layers and Restrictions").
                if not self._dla_static(config):
                    errors.append("Error Code 2: Internal Error (DLA does not support dynamic dimensions: the "
                                  "profile's min, opt and max must be equal, and GPU fallback is not enabled)")
                bad = [layer for layer in network._layers() if not config.can_run_on_DLA(layer)]
                if bad:
                    errors.append("Error Code 2: Internal Error (layer %s (%s) is not supported on DLA and GPU "
                                  "fallback is not enabled)" % (bad[0].name, bad[0].type.name))
        if not 0 <= config._opt_level <= 5:
            errors.append("Error Code 3: API Usage Error (builder optimization level %d is outside [0, 5])"
                          % config._opt_level)
        return errors

    @staticmethod
    def _dla_static(config: Any) -> bool:
        """DLA "does not support dynamic dimensions, so the profile's min, max, and opt values must be
        equal for wildcard dimensions" (DLA Supported Layers and Restrictions, General Restrictions)."""
        return all(s[0] == s[1] == s[2] for p in config._profiles for s in p._shapes.values())

    def _dla_placement(self, network: Any, config: Any) -> tuple:
        """``(layers on DLA, layers on the GPU)`` as the build would place them."""
        layers = network._layers()
        if config._device_type.name != "DLA":
            return [], [layer.name for layer in layers]
        if not self._dla_static(config):
            # with GPU fallback a dynamic profile puts every layer on the GPU (fake's wording)
            _log(self._state, self._logger, "WARNING", "DLA does not support dynamic dimensions (profile min, opt "
                 "and max differ): all DLA layers fall back to the GPU")
            return [], [layer.name for layer in layers]
        # per-layer fallback message as real TensorRT logs it (ultralytics/ultralytics#18012, TensorRT 10
        # on Jetson AGX Orin: "Layer '...' (CONCATENATION): Unsupported on DLA. Switching this layer's
        # device type to GPU.")
        on_dla = [layer.name for layer in layers if config.can_run_on_DLA(layer)]
        for layer in layers:
            if not config.can_run_on_DLA(layer):
                _log(self._state, self._logger, "WARNING", "Layer '%s' (%s): Unsupported on DLA. Switching this "
                     "layer's device type to GPU." % (layer.name, layer.type.name))
        return on_dla, [layer.name for layer in layers if layer.name not in set(on_dla)]

    def build_serialized_network(self, network: Any, config: Any) -> Any:
        state = self._state
        if not isinstance(network, state.classes["INetworkDefinition"]) or not isinstance(
            config, state.classes["IBuilderConfig"]
        ):
            raise TypeError("build_serialized_network(): incompatible function arguments")
        errors = self._validate(network, config)
        if not errors and config._progress_monitor is not None:
            errors = self._report_progress(config._progress_monitor)
        if errors:
            for e in errors:
                _log(state, self._logger, "ERROR", e)
            state.build_failures.append(errors)
            return None
        if config._timing_cache is not None:
            key = "fake-tactics-%d-nodes" % network._num_nodes
            config._timing_cache._entries[key] = config._timing_cache._entries.get(key, 0) + 1
        on_dla, on_gpu = self._dla_placement(network, config)
        header = {
            "dla_layers": on_dla,
            "gpu_layers": on_gpu,
            "trt_version": state.version,
            "flags": config._flag_names(),
            "precision_flags": [f for f in config._flag_names() if f in _WEAK_TYPING_FLAGS],
            "strongly_typed": network._strongly_typed,
            "network_flags": network._flags,
            "profiles": [
                {name: {"min": list(s[0]), "opt": list(s[1]), "max": list(s[2])} for name, s in p._shapes.items()}
                for p in config._profiles
            ],
            "memory_pools": dict(config._pools),
            "builder_optimization_level": config._opt_level,
            "hardware_compatibility_level": config._hw_level.name,
            "default_device_type": config._device_type.name,
            "dla_core": config._dla_core,
            "timing_cache": config._timing_cache is not None,
            "io": [
                {"name": t.name, "mode": "INPUT" if t._is_input else "OUTPUT", "dtype": t._dtype.name,
                 "shape": list(t._shape)}
                for t in network._inputs + network._outputs
            ],
        }
        state.builds.append(header)
        head = json.dumps(header, sort_keys=True).encode()
        blob = ENGINE_MAGIC + struct.pack("<I", len(head)) + head + network._onnx
        _log(state, self._logger, "INFO", "Engine generation completed (fake)")
        return state.classes["IHostMemory"](blob)

    def _report_progress(self, monitor: Any) -> list:
        phases = [("Building engine", None, 3), ("Tactic selection", "Building engine", 2)]
        monitor.phase_start(phases[0][0], None, phases[0][2])
        for step in range(phases[0][2]):
            if step == 1:
                monitor.phase_start(phases[1][0], phases[1][1], phases[1][2])
                for sub in range(phases[1][2]):
                    if monitor.step_complete(phases[1][0], sub) is False:
                        monitor.phase_finish(phases[1][0])
                        monitor.phase_finish(phases[0][0])
                        return ["Error Code 2: Internal Error (Build was cancelled by the progress monitor)"]
                monitor.phase_finish(phases[1][0])
            if monitor.step_complete(phases[0][0], step) is False:
                monitor.phase_finish(phases[0][0])
                return ["Error Code 2: Internal Error (Build was cancelled by the progress monitor)"]
        monitor.phase_finish(phases[0][0])
        return []


# ------------------------------------------------------------------------------------------------
# runtime
# ------------------------------------------------------------------------------------------------
def parse_fake_engine(blob: bytes) -> tuple:
    """Split a fake engine into ``(header dict, onnx bytes)``; ValueError when it is not one."""
    blob = bytes(blob)
    if not blob.startswith(ENGINE_MAGIC) or len(blob) < len(ENGINE_MAGIC) + 4:
        raise ValueError("not a fake TensorRT engine (magic)")
    (n,) = struct.unpack_from("<I", blob, len(ENGINE_MAGIC))
    start = len(ENGINE_MAGIC) + 4
    if len(blob) < start + n:
        raise ValueError("truncated fake TensorRT engine")
    header = json.loads(blob[start:start + n].decode())
    return header, blob[start + n:]


def _bool_of(attribute: str) -> Callable[[Any, Any], bool]:
    """A ``convert`` for :func:`_stored` that takes only ``True``/``False`` (no ints, like pybind11)."""

    def convert(self: Any, value: Any) -> bool:
        if not isinstance(value, bool):
            raise TypeError("%s: expected bool, got %s" % (attribute, type(value).__name__))
        return value

    return convert


class _Runtime(_WithLogger):
    _TRT_NAME = "Runtime"

    def __init__(self, logger: Any) -> None:
        super().__init__(logger)
        self._host_code_allowed = False
        self._dla_core = -1

    DLA_core = _stored("_dla_core", _as_index)
    # IRuntime::setEngineHostCodeAllowed: "The default value is false." (NvInferRuntime.h,
    # TensorRT OSS v8.6.1 line ~931, v10.3.0 line ~1652, v11.1 line ~2137)
    engine_host_code_allowed = _stored("_host_code_allowed", _bool_of("engine_host_code_allowed"))

    def deserialize_cuda_engine(self, serialized_engine: Any) -> Any:
        state = self._state
        data = _buffer(serialized_engine, "deserialize_cuda_engine(): incompatible function arguments, expected a buffer")
        try:
            header, onnx_bytes = parse_fake_engine(data)
        except (ValueError, UnicodeDecodeError):
            _log(state, self._logger, "ERROR", "1: [runtime.cpp::parsePlan::314] Error Code 1: Serialization "
                 "(Serialization assertion plan->header.magicTag == rt::kPLAN_MAGIC_TAG failed.)")
            return None
        built = header.get("trt_version")
        compatible = built == state.version or (
            "VERSION_COMPATIBLE" in header.get("flags", ()) and _major(built) == _major(state.version)
            and tuple(int(p) for p in built.split(".")) <= tuple(int(p) for p in state.version.split("."))
        )
        if not compatible:
            _log(state, self._logger, "ERROR", "1: [stdArchiveReader.cpp::StdArchiveReader::42] Error Code 1: "
                 "Serialization (Serialization assertion stdVersionRead == serializationVersion failed. Version tag "
                 "does not match. Note: Current Version: %s, Serialized Engine Version: %s)" % (state.version, built))
            return None
        if "VERSION_COMPATIBLE" in header.get("flags", ()) and not self._host_code_allowed:
            # A version-compatible plan embeds the lean runtime (host code); TensorRT only loads it
            # when the runtime allows engine host code (NvInferRuntime.h, default false). The
            # wording is the fake's own: no verbatim TensorRT log line for this refusal was found in
            # the headers, docs or NVIDIA/TensorRT issues available here.
            _log(state, self._logger, "ERROR", "1: [runtime.cpp::deserializeCudaEngine] Error Code 1: Serialization "
                 "(the plan is version-compatible and carries host code (the lean runtime), but the runtime does "
                 "not allow engine host code: set IRuntime::setEngineHostCodeAllowed(true) / "
                 "runtime.engine_host_code_allowed = True)")
            return None
        return state.classes["ICudaEngine"](header, onnx_bytes, data)


class _ICudaEngine(_Strict):
    _TRT_NAME = "ICudaEngine"

    def __init__(self, header: dict, onnx_bytes: bytes, blob: bytes) -> None:
        self._trt_init = True
        self._header, self._onnx, self._blob = header, onnx_bytes, blob
        self._io = header["io"]
        self._by_name = {t["name"]: t for t in self._io}
        self._session = None
        self._shape_cache: dict = {}
        self._created()

    def _tensor(self, name: str) -> dict:
        if name not in self._by_name:
            _log(self._state, None, "ERROR", "3: Cannot find binding of given name: %s" % name)
            return {}
        return self._by_name[name]

    def _ort(self) -> Any:
        if self._session is None:
            import onnxruntime as ort

            opts = ort.SessionOptions()
            opts.intra_op_num_threads = 1
            opts.inter_op_num_threads = 1
            self._session = ort.InferenceSession(self._onnx, opts, providers=["CPUExecutionProvider"])
        return self._session

    num_io_tensors = _count_of("_io")

    def get_tensor_name(self, index: int) -> str:
        return self._io[index]["name"]

    def get_tensor_mode(self, name: str) -> Any:
        t = self._tensor(name)
        return self._state.enum("TensorIOMode")[t["mode"] if t else "NONE"]

    def get_tensor_dtype(self, name: str) -> Any:
        t = self._tensor(name)
        return self._state.enum("DataType")[t["dtype"]] if t else self._state.enum("DataType").FLOAT

    def get_tensor_shape(self, name: str) -> Any:
        t = self._tensor(name)
        return self._state.classes["Dims"](t["shape"] if t else ())

    def get_tensor_location(self, name: str) -> Any:
        return self._state.enum("TensorLocation").DEVICE

    def get_tensor_profile_shape(self, name: str, profile_index: int) -> list:
        profiles = self._header["profiles"]
        if not 0 <= profile_index < len(profiles) or name not in profiles[profile_index]:
            _log(self._state, None, "ERROR", "3: [engine.cpp::getProfileShape] Error Code 3: API Usage Error "
                 "(%s is not an input with a profile %d)" % (name, profile_index))
            return []
        p = profiles[profile_index][name]
        dims = self._state.classes["Dims"]
        return [dims(p["min"]), dims(p["opt"]), dims(p["max"])]

    @property
    def num_optimization_profiles(self) -> int:
        return max(1, len(self._header["profiles"]))

    @property
    def num_layers(self) -> int:
        return 1

    @property
    def name(self) -> str:
        return "fake_engine"

    @property
    def has_implicit_batch_dimension(self) -> bool:
        return False

    @property
    def device_memory_size(self) -> int:
        return 1 << 20

    @property
    def device_memory_size_v2(self) -> int:
        return 1 << 20

    @property
    def hardware_compatibility_level(self) -> Any:
        return self._state.enum("HardwareCompatibilityLevel")[self._header["hardware_compatibility_level"]]

    @property
    def refittable(self) -> bool:
        return False

    def serialize(self) -> Any:
        return self._state.classes["IHostMemory"](self._blob)

    def create_execution_context(self, *args: Any) -> Any:
        return self._state.classes["IExecutionContext"](self)

    def _output_shapes(self, input_shapes: dict) -> dict:
        key = tuple(sorted(input_shapes.items()))
        if key not in self._shape_cache:
            feeds = {
                name: np.zeros(shape, dtype=_TRT_TO_NP[self._by_name[name]["dtype"]])
                for name, shape in input_shapes.items()
            }
            outs = self._ort().run(None, feeds)
            names = [o.name for o in self._ort().get_outputs()]
            self._shape_cache[key] = {n: tuple(o.shape) for n, o in zip(names, outs)}
        return self._shape_cache[key]


class _IExecutionContext(_Strict):
    _TRT_NAME = "IExecutionContext"

    def __init__(self, engine: Any) -> None:
        self._trt_init = True
        self._engine = engine
        self._input_shapes: dict = {}
        self._addresses: dict = {}
        self._profile = 0
        self._created()

    engine = _stored("_engine")
    name = _fixed("fake_context")

    active_optimization_profile = _stored("_profile")

    def set_optimization_profile_async(self, profile_index: int, stream_handle: int) -> bool:
        operator.index(stream_handle)
        if not 0 <= profile_index < self._engine.num_optimization_profiles:
            return False
        self._profile = profile_index
        return True

    def _inputs(self) -> list:
        return [t for t in self._engine._io if t["mode"] == "INPUT"]

    def set_input_shape(self, name: str, shape: Any) -> bool:
        shape = _as_shape(shape, "set_input_shape")
        t = self._engine._by_name.get(name)
        if t is None or t["mode"] != "INPUT":
            _log(self._state, None, "ERROR", "3: setInputShape: Error Code 3: API Usage Error (%s is not an input "
                 "tensor)" % name)
            return False
        profile = (self._engine._header["profiles"] or [{}])[self._profile].get(name)
        ok = len(shape) == len(t["shape"]) and all(d < 0 or d == s for d, s in zip(t["shape"], shape))
        if ok and profile is not None:
            ok = all(lo <= s <= hi for lo, s, hi in zip(profile["min"], shape, profile["max"]))
        if not ok:
            _log(self._state, None, "ERROR", "3: [executionContext.cpp::setInputShape] Error Code 3: API Usage "
                 "Error (Parameter check failed, condition: satisfyProfile. Set dimension %s for tensor %s does "
                 "not satisfy any optimization profiles.)" % (list(shape), name))
            return False
        self._input_shapes[name] = shape
        return True

    def get_tensor_shape(self, name: str) -> Any:
        dims = self._state.classes["Dims"]
        t = self._engine._by_name.get(name)
        if t is None:
            return dims(())
        if t["mode"] == "INPUT":
            return dims(self._input_shapes.get(name, t["shape"]))
        if not self.all_binding_shapes_specified:
            return dims(t["shape"])
        return dims(self._engine._output_shapes(self._input_shapes)[name])

    @property
    def all_binding_shapes_specified(self) -> bool:
        return all(t["name"] in self._input_shapes or min(t["shape"]) >= 0 for t in self._inputs())

    @property
    def all_shape_inputs_specified(self) -> bool:
        return True

    def infer_shapes(self) -> list:
        return [t["name"] for t in self._inputs() if t["name"] not in self._input_shapes and min(t["shape"]) < 0]

    def set_tensor_address(self, name: str, memory: int) -> bool:
        memory = operator.index(memory)
        if name not in self._engine._by_name:
            _log(self._state, None, "ERROR", "3: setTensorAddress given invalid tensor name: %s" % name)
            return False
        self._addresses[name] = memory
        return True

    def get_tensor_address(self, name: str) -> int:
        return self._addresses.get(name, 0)

    def execute_async_v3(self, stream_handle: int) -> bool:
        """Check addresses, shapes and buffer bounds now; queue the ONNX Runtime run on the stream
        (``fake_cuda.run_on_stream``: it runs when the host waits for the stream, or at graph launch
        while the stream captures; its reads of the inputs and writes of the outputs are checked for
        races with other streams). The addresses are taken now, as TensorRT does at enqueue."""
        stream_handle = operator.index(stream_handle)
        state = self._state
        from tests.fakes import fake_cuda  # the strict CUDA fake owns device memory and streams

        mem = fake_cuda.DEVICE_MEMORY
        missing = [t["name"] for t in self._engine._io if not self._addresses.get(t["name"])]
        if missing:
            _log(state, None, "ERROR", "3: [executionContext.cpp::enqueueV3] Error Code 3: API Usage Error "
                 "(Parameter check failed, condition: mContext.profileObliviousBindings.at(profileObliviousIndex) "
                 "|| getPtrOrNull(mOutputAllocators, profileObliviousIndex). Neither address or allocator is set "
                 "for tensor %s.)" % missing[0])
            return False
        if not self.all_binding_shapes_specified:
            _log(state, None, "ERROR", "3: [executionContext.cpp::enqueueV3] Error Code 3: API Usage Error "
                 "(input shapes not specified: %s)" % self.infer_shapes())
            return False
        shapes = {t["name"]: tuple(self._input_shapes.get(t["name"], t["shape"])) for t in self._inputs()}
        out_shapes = self._engine._output_shapes(shapes)
        spans = {}
        for t in self._engine._io:
            shape = shapes[t["name"]] if t["mode"] == "INPUT" else out_shapes[t["name"]]
            dtype = np.dtype(_TRT_TO_NP[t["dtype"]])
            nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            try:
                mem.view(self._addresses[t["name"]], nbytes)
            except ValueError as exc:
                _log(state, None, "ERROR", "1: [executionContext.cpp::enqueueV3] Error Code 1: Cuda Runtime "
                     "(illegal memory access: %s %s needs %d bytes at 0x%x: %s)"
                     % (t["mode"].lower(), t["name"], nbytes, self._addresses[t["name"]], exc))
                return False
            spans[t["name"]] = (self._addresses[t["name"]], nbytes, dtype, shape)
        session = self._engine._ort()

        def work() -> None:
            feeds = {}
            for t in self._inputs():
                ptr, nbytes, dtype, shape = spans[t["name"]]
                feeds[t["name"]] = np.array(mem.view(ptr, nbytes), copy=True).view(dtype).reshape(shape)
            outs = session.run(None, feeds)
            for o, value in zip(session.get_outputs(), outs):
                ptr, nbytes, dtype, _ = spans[o.name]
                mem.view(ptr, nbytes)[:] = np.ascontiguousarray(value, dtype=dtype).view(np.uint8).reshape(-1)

        reads = [spans[t["name"]][:2] for t in self._inputs()]
        writes = [spans[t["name"]][:2] for t in self._engine._io if t["mode"] == "OUTPUT"]
        err = fake_cuda.run_on_stream(stream_handle, work, reads=reads, writes=writes, label="execute_async_v3")
        if int(err) != 0:
            _log(state, None, "ERROR", "1: [executionContext.cpp::enqueueV3] Error Code 1: Cuda Runtime "
                 "(%s)" % getattr(err, "name", err))
            return False
        state.executions.append((stream_handle, shapes))
        return True


# ------------------------------------------------------------------------------------------------
# module factory
# ------------------------------------------------------------------------------------------------
_IMPLEMENTATIONS = {
    "Dims": _Dims,
    "IHostMemory": _IHostMemory,
    "ILogger": _ILogger,
    "Logger": _Logger,
    "IProgressMonitor": _IProgressMonitor,
    "ITensor": _ITensor,
    "ILayer": _ILayer,
    "INetworkDefinition": _INetworkDefinition,
    "ParserError": _ParserError,
    "OnnxParser": _OnnxParser,
    "IOptimizationProfile": _IOptimizationProfile,
    "ITimingCache": _ITimingCache,
    "IBuilderConfig": _IBuilderConfig,
    "Builder": _Builder,
    "Runtime": _Runtime,
    "ICudaEngine": _ICudaEngine,
    "IExecutionContext": _IExecutionContext,
}


def _public_names(impl: type) -> set:
    names = set()
    for klass in impl.__mro__:
        if klass is bytes:
            names |= {n for n in dir(bytes) if not n.startswith("_")}
        if klass in (object, _Strict) or not klass.__module__.startswith(__name__):
            continue
        names |= {n for n in vars(klass) if not n.startswith("_")}
    return names


def _fake_classes_for(state: FakeState) -> dict:
    """Per-version subclasses; their parents are the per-version classes of their parents."""
    dump = state.dump
    made: dict = {}

    def build(trt_name: str) -> type:
        if trt_name in made:
            return made[trt_name]
        impl = _IMPLEMENTATIONS[trt_name]
        parent_names = [p for p in dump.bases(trt_name) if p in _IMPLEMENTATIONS]
        bases = tuple(build(p) for p in parent_names) + (impl,)
        allowed = set(dump.members(trt_name))
        for p in dump.bases(trt_name):
            allowed |= set(dump.members(p))
        blocked = frozenset(_public_names(impl) - allowed)
        ns = {
            "_TRT_NAME": trt_name, "_VERSION": state.version, "_ALLOWED": frozenset(allowed),
            "_BLOCKED": blocked, "_state": state, "__module__": "tensorrt", "__qualname__": trt_name,
        }
        cls = _StrictMeta(trt_name, bases, ns)
        made[trt_name] = cls
        return cls

    for name in _IMPLEMENTATIONS:
        build(name)
    return made


def make_fake_tensorrt(version: str) -> types.ModuleType:
    """A fresh strict fake ``tensorrt`` module for ``version`` (one of :data:`SUPPORTED_VERSIONS`)."""
    dump = load_dump(version)
    state = FakeState(version=version, dump=dump)
    mod = types.ModuleType("tensorrt", "strict fake of TensorRT %s (tests.fakes.fake_tensorrt)" % version)
    mod.__version__ = version
    enums = {name: _make_enum(name, members) for name, members in dump.enums.items()}
    state.enums.update(enums)
    classes = _fake_classes_for(state)
    state.classes.update(classes)
    severity = _make_enum("Severity", dict(_SEVERITIES))
    for name in ("ILogger", "Logger"):
        type.__setattr__(classes[name], "Severity", severity)
        for sev_name, _ in _SEVERITIES:
            type.__setattr__(classes[name], sev_name, severity[sev_name])
    for name, members in dump.enums.items():
        if name in dump.module_dir:
            setattr(mod, name, enums[name])
    for name, cls in classes.items():
        if name in dump.module_dir:
            setattr(mod, name, cls)
    if "nptype" in dump.module_dir:
        def nptype(trt_type: Any) -> type:
            """numpy type of a tensorrt.DataType (like the real trt.nptype)."""
            if not isinstance(trt_type, enums["DataType"]) or trt_type.name not in _TRT_TO_NP:
                raise TypeError("Could not resolve TensorRT datatype to an equivalent numpy datatype.")
            return _TRT_TO_NP[trt_type.name]

        mod.nptype = nptype
    if "volume" in dump.module_dir:
        def volume(iterable: Any) -> int:
            """Product of the dimensions (like the real trt.volume)."""
            out = 1
            for v in iterable:
                out *= int(v)
            return out

        mod.volume = volume
    mod._fake = state
    return mod
