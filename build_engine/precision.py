"""FP16 pipeline graphs: fp16 weights and compute between the fp32/uint8 boundaries (DESIGN.md §1).

Precision is a property of the graph. An FP16 pipeline is the same pipeline graph whose *network*
part stores its weights in fp16 and computes in fp16::

    frame uint8 -> pre/ (fp32: cast, channel order, mean/std, resize) -> Cast fp16
      -> network in fp16 -> Cast fp32 -> post/ (fp32: resize back, ArgMax, Cast uint8) -> labels uint8

Decisions (and why):

* **Only the network is converted.** ``onnxconverter_common.float16.convert_float_to_float16`` run
  on a *whole* pipeline graph gives an invalid model (a Cast output typed fp16 where fp32 is
  required, DESIGN.md §6). So the bare network is converted first (``keep_io_types=True``: its
  input and output stay float32, the converter adds the boundary Casts) and then wrapped or spliced
  back. Preprocessing stays fp32: the uint8 -> float cast and ``(x - mean) / std`` are exact in fp32
  and cost nothing next to the network.
* **ArgMax runs on fp32 logits.** The network's fp16 logits are cast to fp32 before ``post/``.
  Widening fp16 -> fp32 is exact and monotonic, so the argmax of the cast logits *is* the argmax of
  the fp16 logits (same ties), while the optional resize-back and softmax confidence stay in fp32
  (bilinear interpolation of fp16 logits would round a second time). Cost: one cast of a
  ``[N,C,h,w]`` tensor, which TensorRT fuses into the last layer.
* **Our FCN graphs** are emitted in fp16 directly by :func:`build_engine.fcn.build_fcn`
  (``dtype="float16"``; ``export_fcn_pipeline(precision="fp16")`` /
  ``python -m build_engine export --precision fp16``). :func:`to_fp16_pipeline` converts *any*
  existing fp32 pipeline .onnx (ours or a wrapped user model) without needing its source: it cuts
  the network out of the pipeline (every node whose name does not start with ``pre/`` or ``post/``,
  which :func:`build_engine.pipeline.wrap_network` guarantees), converts that sub-graph and splices
  it back between the unchanged ``pre/`` and ``post/`` nodes. For an FCN pipeline both routes give
  the same labels (tested).
* **Where an fp16 number comes from ONNX Runtime on a CPU**, it measures fp16 *storage* of weights
  and activations, not fp16 arithmetic: ORT's CPU provider has no fp16 Conv kernel and inserts Casts
  to fp32 around each node (DESIGN.md §6). TensorRT on a GPU computes in fp16 (with fp32 or fp16
  accumulation as its tactics choose), so GPU agreement can differ slightly from the CPU number.

Example:
    >>> to_fp16_pipeline("fcn8s.onnx", "fcn8s.fp16.onnx")                 # doctest: +SKIP
    PosixPath('fcn8s.fp16.onnx')
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, List, Optional, Sequence, Set, Tuple, Union

import numpy as np
import onnx
from onnx import TensorProto, helper

from fcn_trt._deprecated import moved_names
from fcn_trt._imports import require
from fcn_trt.errors import BuildError, ConfigError, ModelFormatError
from fcn_trt.metadata import PipelineMetadata, read_model_metadata, write_model_metadata

from .onnx_io import ModelLike, load_onnx
from .pipeline import set_pipeline_metadata

__all__ = [
    "network_to_fp16",
    "wrap_network_fp16",
    "split_pipeline",
    "to_fp16_pipeline",
    "load_pipeline",
    "pipeline_metadata",
    "set_pipeline_metadata",
    "is_pipeline_node",
]

log = logging.getLogger(__name__)

#: Names of the final Identity nodes (= graph outputs) that :func:`wrap_network` appends.
_OUTPUT_NAMES = ("labels", "confidence", "logits")
#: Op types onnxconverter-common must leave in fp32 inside a network (shape/index arithmetic).
_FP16_BLOCK_LIST = ("Resize", "Range", "NonMaxSuppression", "TopK", "RoiAlign", "Upsample")


def _import_float16():
    return require("onnxconverter_common.float16", "fp16 conversion", "onnxconverter-common", 'pip install "fcn-trt[build]"')


def load_pipeline(model: ModelLike) -> onnx.ModelProto:
    """Load a model (path or ModelProto, returned as is) with a clear error for a missing/bad file."""
    return load_onnx(model)


def pipeline_metadata(model: onnx.ModelProto, source: str = "model") -> PipelineMetadata:
    """The fcn_trt metadata of a pipeline ModelProto (MetadataError if it is a bare network)."""
    return read_model_metadata(model, source=source)


def is_pipeline_node(node: onnx.NodeProto) -> bool:
    """True for preprocessing/postprocessing nodes (``pre/``, ``post/``) and the output Identities."""
    if node.name.startswith(("pre/", "post/")):
        return True
    return node.op_type == "Identity" and len(node.output) == 1 and node.output[0] in _OUTPUT_NAMES \
        and node.name == node.output[0]


def network_to_fp16(network: onnx.ModelProto, op_block_list: Optional[Sequence[str]] = None) -> onnx.ModelProto:
    """Convert a *bare* float32 network to fp16 weights and compute, keeping float32 inputs/outputs.

    Never call it on a whole pipeline graph (DESIGN.md §6): use :func:`to_fp16_pipeline`.
    Networks that are already fp16 inside (e.g. ``build_fcn(dtype="float16")``) are returned unchanged.
    """
    network = fold_weight_casts(network)  # fp16 *storage* (fp16 + Cast) is not fp16 compute
    if _has_fp16_initializers(network):
        log.info("network already computes in fp16; not converting")
        return network
    float16 = _import_float16()
    blocked = list(op_block_list) if op_block_list is not None else list(float16.DEFAULT_OP_BLOCK_LIST) + [
        op for op in _FP16_BLOCK_LIST if op not in float16.DEFAULT_OP_BLOCK_LIST
    ]
    try:
        with warnings.catch_warnings(record=True) as caught:
            # The converter warns once per weight it clamps into fp16's range (|w| < 1e-7 -> +-1e-7,
            # |w| > 1e4 -> +-1e4): millions of lines for a VGG. Count them instead.
            warnings.simplefilter("always", UserWarning)
            converted = float16.convert_float_to_float16(network, keep_io_types=True, op_block_list=blocked)
        clamped = sum(1 for w in caught if "truncated" in str(w.message))
        if clamped:
            log.info("fp16: %d weights clamped into fp16 range (|w| < 1e-7 -> 1e-7, |w| > 1e4 -> 1e4)", clamped)
    except Exception as e:  # the converter raises bare ValueError/KeyError/... on unusual graphs
        raise BuildError(
            "fp16 conversion of the network", expected="a float32 ONNX network onnxconverter-common can convert",
            found=f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}",
            hint="export the network at opset 17 with float32 weights, or build it in fp16 yourself",
        ) from None
    # The converter names its boundary Casts after the tensor they read ("pre/Transpose_4_cast_to_...");
    # a network node must never look like a pre/ or post/ node (quantization excludes those).
    for node in converted.graph.node:
        if node.name.startswith(("pre/", "post/")) or node.name in _OUTPUT_NAMES:
            node.name = "net/" + node.name
    return converted


def fold_weight_casts(model: onnx.ModelProto) -> onnx.ModelProto:
    """Replace ``Cast(initializer)`` nodes by fp32 initializers (a copy of ``model``).

    Weights stored in fp16 behind a Cast (the demo model's storage) would otherwise reach the
    quantizer as activations and get per-tensor scales; folded, they get per-channel scales.
    """
    from onnx import numpy_helper

    inits = {t.name: t for t in model.graph.initializer}
    casts = [n for n in model.graph.node if n.op_type == "Cast" and n.input[0] in inits
             and dict((a.name, a.i) for a in n.attribute).get("to") == onnx.TensorProto.FLOAT]
    if not casts:
        return model
    out = onnx.ModelProto()
    out.CopyFrom(model)
    folded = {n.output[0]: numpy_helper.to_array(inits[n.input[0]]).astype(np.float32) for n in casts}
    cast_names = {n.name for n in casts}
    keep = [n for n in out.graph.node if n.name not in cast_names]
    del out.graph.node[:]
    out.graph.node.extend(keep)
    still_used = {i for n in keep for i in n.input}
    sources = {n.input[0] for n in casts}
    kept_inits = [t for t in out.graph.initializer if t.name not in sources or t.name in still_used]
    del out.graph.initializer[:]
    out.graph.initializer.extend(kept_inits)
    out.graph.initializer.extend(numpy_helper.from_array(v, k) for k, v in folded.items())
    return out


def _has_fp16_initializers(model: onnx.ModelProto) -> bool:
    return any(t.data_type == TensorProto.FLOAT16 for t in model.graph.initializer)


def wrap_network_fp16(network: onnx.ModelProto, metadata: PipelineMetadata, spec=None) -> onnx.ModelProto:
    """fp16 pipeline of a bare float32 user network: convert the network, then wrap it.

    Example:
        >>> from build_engine.fcn import build_fcn
        >>> meta = PipelineMetadata(class_names=("a", "b"), palette=((0, 0, 0), (9, 9, 9)))
        >>> m = wrap_network_fp16(build_fcn("fcn32s", 2, 16), meta)
        >>> pipeline_metadata(m).precision
        'fp16'
    """
    from .pipeline import wrap_network

    return wrap_network(network_to_fp16(network), metadata.replace(precision="fp16"), spec)


def _value_types(model: onnx.ModelProto) -> dict:
    """name -> ValueInfoProto for every typed tensor (inputs, outputs, value_info, after shape inference)."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:  # noqa: BLE001 - fall back to whatever types the model declares
        inferred = model
    infos = {}
    for vi in list(inferred.graph.input) + list(inferred.graph.output) + list(inferred.graph.value_info):
        infos[vi.name] = vi
    return infos


def split_pipeline(pipeline: onnx.ModelProto) -> Tuple[List[onnx.NodeProto], onnx.ModelProto, List[onnx.NodeProto]]:
    """Cut a pipeline graph into (pre nodes, bare network model, post nodes).

    The network model's inputs are the tensors it reads from ``pre/`` nodes; its outputs are the
    tensors ``post/`` nodes (or the output Identities) read from it. Initializers used only by the
    network move into it; shared ones (rare) are copied.
    """
    nodes = list(pipeline.graph.node)
    pre = [n for n in nodes if n.name.startswith("pre/")]
    post = [n for n in nodes if is_pipeline_node(n) and not n.name.startswith("pre/")]
    net = [n for n in nodes if not is_pipeline_node(n)]
    if not pre or not net:
        raise ModelFormatError(
            "pipeline graph", expected="pre/ preprocessing nodes followed by network nodes",
            found=f"{len(pre)} pre/ nodes, {len(net)} network nodes",
            hint="export the pipeline with `python -m build_engine export` (it names the nodes so)",
        )
    produced_pre = {o for n in pre for o in n.output}
    produced_net = {o for n in net for o in n.output}
    inits = {t.name: t for t in pipeline.graph.initializer}
    net_reads = [i for n in net for i in n.input if i]
    net_inputs = _unique(i for i in net_reads if i in produced_pre)
    if not net_inputs:
        raise ModelFormatError("pipeline graph", expected="a network that reads the preprocessed frame", found="none")
    post_reads = [i for n in post for i in n.input if i]
    net_outputs = _unique(i for i in post_reads if i in produced_net)
    if not net_outputs:
        raise ModelFormatError("pipeline graph", expected="post/ nodes reading the network's scores", found="none")
    types = _value_types(pipeline)
    missing = [t for t in net_inputs + net_outputs if t not in types]
    if missing:
        raise ModelFormatError(
            "pipeline graph", expected="shape inference to type the network's boundary tensors",
            found=f"untyped {missing}", hint="re-export the pipeline with `python -m build_engine export`",
        )

    def info(name: str) -> onnx.ValueInfoProto:
        vi = onnx.ValueInfoProto()
        vi.CopyFrom(types[name])
        return vi

    net_inits = [inits[i] for i in _unique(net_reads) if i in inits]
    graph = helper.make_graph(
        [_copy(n) for n in net], "network", [info(i) for i in net_inputs], [info(o) for o in net_outputs], net_inits
    )
    bare = helper.make_model(graph, opset_imports=list(pipeline.opset_import), producer_name=pipeline.producer_name)
    bare.ir_version = pipeline.ir_version
    bare.functions.extend(pipeline.functions)
    return pre, bare, post


def _unique(items: Iterable[str]) -> List[str]:
    seen: Set[str] = set()
    out = []
    for i in items:
        if i not in seen:
            seen.add(i)
            out.append(i)
    return out


def _copy(node: onnx.NodeProto) -> onnx.NodeProto:
    n = onnx.NodeProto()
    n.CopyFrom(node)
    return n


def to_fp16_pipeline(model: ModelLike, out: Union[str, Path, None] = None, *,
                     trt_targets: Optional[Sequence[str]] = None, allow_incompatible: bool = False) -> onnx.ModelProto:
    """The fp16 version of an fp32 pipeline graph (path or ModelProto); saved to ``out`` if given
    (after the TensorRT parser check of :func:`build_engine.pipeline.save_model`).

    ``pre/`` and ``post/`` stay fp32 (see the module docstring); the network part is converted with
    ``keep_io_types=True`` and spliced back. The fcn_trt metadata is kept with ``precision="fp16"``.
    Returns the ModelProto.
    """
    pipeline = load_pipeline(model)
    source = str(model) if not isinstance(model, onnx.ModelProto) else "model"
    meta = pipeline_metadata(pipeline, source)
    if meta.precision == "int8":
        raise ConfigError(
            f"{source} precision", expected="an fp32 pipeline", found="an int8 Q/DQ graph",
            hint="convert the fp32 pipeline to fp16, not its quantized version",
        )
    pre, bare, post = split_pipeline(pipeline)
    fp16_net = network_to_fp16(bare)
    # pre/ and post/ initializers (and any the network shares with them) stay as they were.
    net_init_names = {t.name for t in bare.graph.initializer}
    kept_inits = [t for t in pipeline.graph.initializer if t.name not in net_init_names or _used_by(t.name, pre + post)]
    kept_names = {t.name for t in kept_inits}
    inits = kept_inits + [t for t in fp16_net.graph.initializer if t.name not in kept_names]
    graph = helper.make_graph(
        [_copy(n) for n in pre] + [_copy(n) for n in fp16_net.graph.node] + [_copy(n) for n in post],
        pipeline.graph.name, list(pipeline.graph.input), list(pipeline.graph.output), inits,
    )
    result = helper.make_model(graph, opset_imports=list(pipeline.opset_import), producer_name=pipeline.producer_name)
    result.ir_version = pipeline.ir_version
    result.functions.extend(pipeline.functions)
    write_model_metadata(result, meta.replace(precision="fp16", extra={**dict(meta.extra), "fp16": "network"}))
    try:
        onnx.checker.check_model(result, full_check=True)
    except Exception as e:  # ValidationError / InferenceError
        raise BuildError(
            "fp16 pipeline graph", expected="a valid ONNX graph", found=str(e).splitlines()[0][:300],
            hint="report this with the source model; meanwhile build the network in fp16 and wrap it",
        ) from None
    if out is not None:
        from .pipeline import save_model

        save_model(result, out, trt_targets=trt_targets, allow_incompatible=allow_incompatible)
        log.info("wrote fp16 pipeline %s", out)
    return result


def _used_by(name: str, nodes: Sequence[onnx.NodeProto]) -> bool:
    return any(name in n.input for n in nodes)


# --- CLI ------------------------------------------------------------------------------------------


if not TYPE_CHECKING:  # names that moved to the command line (_deprecated.MOVED_NAMES), one release
    __getattr__ = moved_names(__name__)
