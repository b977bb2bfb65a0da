"""A small ONNX graph-building helper: unique names, constants, and the handful of composite
operations (shape slices, crops, resizes) that the FCN and pipeline graphs need."""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

#: The opset every exported graph uses: TensorRT 8.5/8.6 parsers read it (DESIGN.md §6).
OPSET = 17

__all__ = ["GraphBuilder", "OPSET"]


class GraphBuilder:
    """Accumulates nodes and initializers; every generated name starts with ``prefix``.

    Example:
        >>> g = GraphBuilder("pre/")
        >>> y = g.op("Relu", ["x"])
        >>> y
        'pre/Relu_0'
    """

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def name(self, base: str) -> str:
        n = f"{self.prefix}{base}_{self._count}"
        self._count += 1
        return n

    def op(self, op_type: str, inputs: Sequence[str], n_out: int = 1, name: str | None = None,
           output: str | None = None, **attrs):
        """Add one node; return its output name (or the list of names when ``n_out > 1``).

        ``output`` names the (single) output tensor, e.g. a graph output, while the node keeps a
        prefixed name (``post/labels`` writes ``labels``).
        """
        node_name = name or (self.prefix + output if output else self.name(op_type))
        if output:
            outputs = [output]
        else:
            outputs = [node_name] if n_out == 1 else [f"{node_name}:{i}" for i in range(n_out)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outputs, name=node_name, **attrs))
        return outputs[0] if n_out == 1 else outputs

    def const(self, value, dtype=np.float32, name: str | None = None) -> str:
        """Add an initializer holding ``value``; return its name."""
        arr = np.asarray(value, dtype=dtype)
        n = name or self.name("const")
        self.initializers.append(numpy_helper.from_array(arr, n))
        return n

    def add_initializer(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    # --- composites ---------------------------------------------------------------------------
    def shape(self, x: str, start: int, end: int) -> str:
        """int64 1-D tensor ``shape(x)[start:end]``, as ``Slice(Shape(x))``.

        Never ``Shape`` with ``start``/``end``: TensorRT's ONNX parser before 10.0 ignores the two
        attributes and returns the whole shape (onnx/onnx-tensorrt@6ba67d3, release 8.6-GA,
        builtin_op_importers.cpp:4434 calls ``addShape(input)`` only; attribute support arrived in
        the 10.0 release, commit c0f94ad).
        """
        full = self.op("Shape", [x])
        return self.op("Slice", [full, self.const([start], np.int64), self.const([end], np.int64),
                                 self.const([0], np.int64)])

    def crop_like(self, x: str, ref: str, offset: int) -> str:
        """``x[:, :, off:off + ref.H, off:off + ref.W]`` (the Caffe ``Crop`` layer of FCN)."""
        hw = self.shape(ref, 2, 4)
        starts = self.const([offset, offset], np.int64)
        ends = self.op("Add", [hw, starts])
        axes = self.const([2, 3], np.int64)
        return self.op("Slice", [x, starts, ends, axes])

    def resize_nchw(self, x: str, hw: str, mode: str = "linear") -> str:
        """Resize NCHW ``x`` to the int64 [2] sizes ``hw`` (linear + half_pixel = cv2.INTER_LINEAR)."""
        sizes = self.op("Concat", [self.shape(x, 0, 2), hw], axis=0)
        attrs = {"mode": mode}
        if mode == "linear":
            attrs["coordinate_transformation_mode"] = "half_pixel"
        else:
            attrs["coordinate_transformation_mode"] = "asymmetric"
            attrs["nearest_mode"] = "floor"
        return self.op("Resize", [x, "", "", sizes], **attrs)

    def cast(self, x: str, to: int) -> str:
        return self.op("Cast", [x], to=to)


def make_model(
    nodes: Iterable[onnx.NodeProto],
    initializers: Iterable[onnx.TensorProto],
    inputs: Sequence[onnx.ValueInfoProto],
    outputs: Sequence[onnx.ValueInfoProto],
    name: str,
    extra_opsets: Sequence[onnx.OperatorSetIdProto] = (),
) -> onnx.ModelProto:
    graph = helper.make_graph(list(nodes), name, list(inputs), list(outputs), list(initializers))
    opsets = [helper.make_opsetid("", OPSET)] + [o for o in extra_opsets if o.domain not in ("", "ai.onnx")]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="fcn_trt.build_engine")
    model.ir_version = 8  # readable by onnxruntime >= 1.10 and TensorRT 8.5's parser
    return model


__all__ += ["make_model", "TensorProto"]
