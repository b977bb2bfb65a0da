"""Wrap a bare segmentation network into the fcn_trt pipeline graph (DESIGN.md §1).

::

    frame uint8 [N,H,W,3] (bgr | rgb) or [N,H*3/2,W] (nv12)
      -> nv12 decode (BT.601, as cv2.COLOR_YUV2BGR_NV12) -> Cast float -> channel order
      -> (x - mean) / std -> NCHW (or NHWC) -> Resize to the inference size (optional)
      -> network -> scores [N,C,h,w] -> Resize back to H,W (optional)
      -> ArgMax (multi-class) or threshold (single-channel probability) -> Cast uint8
    labels uint8 [N,H,W] (+ confidence float32 [N,H,W], + logits float32 [N,C,h,w])

Works for our FCN graphs (:func:`build_engine.fcn.build_fcn`) and for any user ONNX whose output is
per-pixel scores; :class:`NetworkSpec` says how to read the user's model.

Example:
    >>> from build_engine.fcn import build_fcn
    >>> from fcn_trt.metadata import PipelineMetadata
    >>> meta = PipelineMetadata(class_names=("a", "b"), palette=((0, 0, 0), (255, 255, 255)))
    >>> model = wrap_network(build_fcn("fcn8s", 2, 16), meta)
    >>> [o.name for o in model.graph.output]
    ['labels']
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import List, Mapping, Optional, Sequence, Tuple, Union, cast

import numpy as np
import onnx
from onnx import TensorProto, helper

from fcn_trt.errors import ConfigError, ModelFormatError, ModelNotFoundError
from fcn_trt.metadata import METADATA_KEY, PipelineMetadata, model_properties, read_onnx_metadata, write_model_metadata

from .graph import OPSET, GraphBuilder, make_model

__all__ = ["NetworkSpec", "wrap_network", "export_fcn_pipeline", "save_model", "set_pipeline_metadata", "decode_nv12_nodes"]

log = logging.getLogger(__name__)

#: the one ONNX-metadata writer is :func:`fcn_trt.metadata.write_model_metadata`; this name stays for
#: build_engine's callers
set_pipeline_metadata = write_model_metadata

OUTPUT_KINDS = ("logits", "probability", "sigmoid_logits")

# OpenCV's fixed-point BT.601 coefficients (modules/imgproc/src/color_yuv.simd.hpp), / 2**20.
_CY, _CUB, _CUG, _CVG, _CVR = (c / float(1 << 20) for c in (1220542, 2116026, -409993, -852492, 1673527))


@dataclasses.dataclass(frozen=True)
class NetworkSpec:
    """How to read a bare network. Fields left ``None`` are read from the model where possible.

    Attributes:
        input_name / output_name: tensors to connect (default: the only graph input / first output).
        input_layout: ``"nchw"`` or ``"nhwc"`` (default: guessed from a static channel dim of 3).
        input_size: fixed (h, w) the network needs; the frame is resized to it in the graph
            (default: the model's static H, W if it has them).
        output_layout: ``"nchw"`` or ``"nhwc"`` of the scores (default: same as input layout).
        output_kind: ``"logits"`` (C >= 2 scores, argmax), ``"probability"`` (1 channel in 0..1,
            threshold) or ``"sigmoid_logits"`` (1 channel, sigmoid then threshold).
        threshold: probability threshold for the single-channel kinds.
    """

    input_name: Optional[str] = None
    output_name: Optional[str] = None
    input_layout: Optional[str] = None
    input_size: Optional[Tuple[int, int]] = None
    output_layout: Optional[str] = None
    output_kind: str = "logits"
    threshold: float = 0.5


def _dims(vi: onnx.ValueInfoProto) -> list:
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in vi.type.tensor_type.shape.dim]


def _named(values, name: str, what: str) -> onnx.ValueInfoProto:
    matches = [v for v in values if v.name == name]
    if not matches:
        raise ModelFormatError(f"network {what}", expected=repr(name), found=str([v.name for v in values]))
    return matches[0]


def _resolve_spec(network: onnx.ModelProto, spec: NetworkSpec) -> Tuple[NetworkSpec, onnx.ValueInfoProto, onnx.ValueInfoProto]:
    init_names = {i.name for i in network.graph.initializer}
    inputs = [i for i in network.graph.input if i.name not in init_names]
    if spec.input_name is None:
        if len(inputs) != 1:
            raise ModelFormatError(
                "network inputs", expected="exactly one image input", found=str([i.name for i in inputs]),
                hint="name it with --input-name",
            )
        inp = inputs[0]
    else:
        inp = _named(inputs, spec.input_name, "input")
    outs = list(network.graph.output)
    out = outs[0] if spec.output_name is None else _named(outs, spec.output_name, "output")

    in_dims = _dims(inp)
    if len(in_dims) != 4:
        raise ModelFormatError(
            f"network input '{inp.name}'", expected="a 4-D image tensor (N,3,H,W) or (N,H,W,3)",
            found=f"shape {in_dims}",
        )
    layout = spec.input_layout
    if layout is None:
        if in_dims[1] == 3 and in_dims[3] != 3:
            layout = "nchw"
        elif in_dims[3] == 3 and in_dims[1] != 3:
            layout = "nhwc"
        else:
            raise ConfigError(
                f"input layout of '{inp.name}'", expected="a static channel dim of 3 to tell NCHW from NHWC",
                found=f"shape {in_dims}", hint="pass --input-layout nchw or nhwc",
            )
    if layout not in ("nchw", "nhwc"):
        raise ConfigError("input_layout", expected="nchw or nhwc", found=repr(layout))
    c_dim = in_dims[1] if layout == "nchw" else in_dims[3]
    if c_dim not in (3, None) and not isinstance(c_dim, str):
        raise ConfigError(
            f"input layout {layout} of '{inp.name}'", expected="3 channels on the channel axis",
            found=f"shape {in_dims} ({c_dim} channels)", hint="pass the other --input-layout",
        )
    hw_dims = in_dims[2:4] if layout == "nchw" else in_dims[1:3]
    size = spec.input_size
    static_hw = all(isinstance(d, int) and d > 0 for d in hw_dims)
    if size is None and static_hw:
        size = (int(hw_dims[0]), int(hw_dims[1]))
    elif size is not None and static_hw and tuple(size) != tuple(hw_dims):
        raise ConfigError(
            "inference size", expected=f"the network's fixed input size {tuple(hw_dims)}", found=f"{tuple(size)}",
            hint="drop --size for fixed-size networks",
        )
    out_layout = spec.output_layout or layout
    if out_layout not in ("nchw", "nhwc"):
        raise ConfigError("output_layout", expected="nchw or nhwc", found=repr(out_layout))
    out_dims = _dims(out)
    if out_dims and len(out_dims) != 4:
        raise ModelFormatError(
            f"network output '{out.name}'", expected="4-D per-pixel scores (N,C,H,W) or (N,H,W,C)",
            found=f"shape {out_dims}", hint="name the score output with --output-name",
        )
    if spec.output_kind not in OUTPUT_KINDS:
        raise ConfigError("output kind", expected=" | ".join(OUTPUT_KINDS), found=repr(spec.output_kind))
    if out_dims:
        c_out = out_dims[1] if out_layout == "nchw" else out_dims[3]
        if isinstance(c_out, int) and c_out > 0:
            if spec.output_kind == "logits" and c_out == 1:
                raise ConfigError(
                    f"output '{out.name}' has 1 channel", expected="--output-kind probability or sigmoid_logits for "
                    "single-channel outputs", found="output kind 'logits'",
                )
            if spec.output_kind != "logits" and c_out != 1:
                raise ConfigError(
                    f"output '{out.name}' ({out_layout})", expected="1 channel for output kind " + spec.output_kind,
                    found=f"{c_out} channels (shape {out_dims})", hint="check --output-layout / --output-kind",
                )
    if not 0.0 < spec.threshold < 1.0:
        raise ConfigError("threshold", expected="a probability in (0, 1)", found=repr(spec.threshold))
    return dataclasses.replace(spec, input_layout=layout, input_size=size, output_layout=out_layout), inp, out


def decode_nv12_nodes(g: GraphBuilder, frame: str) -> Tuple[str, str]:
    """Add nodes decoding uint8 nv12 [N,H*3/2,W] to float RGB [N,3,H,W]; returns (rgb, hw int64[2]).

    BT.601 limited range with OpenCV's coefficients, chroma replicated 2x2 (what
    ``cv2.COLOR_YUV2BGR_NV12`` does), rounded to integers like a decoder's output.
    """
    # The uint8 input feeds one Cast and nothing else: TensorRT allows a UINT8 network input to feed
    # only a Cast (NVIDIA/TensorRT#3985, NVIDIA staff), so every shape is read from the cast planes.
    planes = g.cast(frame, TensorProto.FLOAT)
    rows = g.shape(planes, 1, 2)
    width = g.shape(planes, 2, 3)
    h = g.op("Div", [g.op("Mul", [rows, g.const([2], np.int64)]), g.const([3], np.int64)])
    axis1 = g.const([1], np.int64)
    y = g.op("Slice", [planes, g.const([0], np.int64), h, axis1])
    uv = g.op("Slice", [planes, h, rows, axis1])
    uv = g.op("Reshape", [uv, g.const([0, 0, -1, 2], np.int64)])  # [N, H/2, W/2, 2]
    hw = g.op("Concat", [h, width], axis=0)

    def upsample(plane: str) -> str:  # [N,h,w] -> [N,2h,2w] by pixel replication (what OpenCV does)
        p = g.op("Unsqueeze", [plane, g.const([2, 4], np.int64)])  # [N,h,1,w,1]
        p_shape = g.op("Shape", [p])
        target = g.op("Mul", [p_shape, g.const([1, 1, 2, 1, 2], np.int64)])
        p = g.op("Expand", [p, target])
        n = g.shape(planes, 0, 1)
        return g.op("Reshape", [p, g.op("Concat", [n, hw], axis=0)])

    def chroma(index: int) -> str:
        plane = g.op("Gather", [uv, g.const(index, np.int64)], axis=3)
        return g.op("Sub", [upsample(plane), g.const(128.0)])

    u, v = chroma(0), chroma(1)
    yy = g.op("Mul", [g.op("Max", [g.op("Sub", [y, g.const(16.0)]), g.const(0.0)]), g.const(_CY)])
    r = g.op("Add", [yy, g.op("Mul", [v, g.const(_CVR)])])
    gg = g.op("Add", [yy, g.op("Add", [g.op("Mul", [u, g.const(_CUG)]), g.op("Mul", [v, g.const(_CVG)])])])
    b = g.op("Add", [yy, g.op("Mul", [u, g.const(_CUB)])])
    chans = [g.op("Unsqueeze", [c, g.const([1], np.int64)]) for c in (r, gg, b)]
    rgb = g.op("Concat", chans, axis=1)
    # A decoder hands out integer pixels: round like OpenCV does (its fixed point rounds half up;
    # ONNX Round is half-to-even, so the two differ only on exact .5 ties).
    rgb = g.op("Round", [g.op("Clip", [rgb, g.const(0.0), g.const(255.0)])])
    return rgb, hw


def _preprocess(g: GraphBuilder, meta: PipelineMetadata, spec: NetworkSpec, net_dtype: int) -> Tuple[str, str]:
    """frame -> normalised network input; returns (input tensor, frame hw int64[2])."""
    if meta.input_format == "nv12":
        x, hw = decode_nv12_nodes(g, "frame")
        source_order = "rgb"
    else:
        # Transpose right after the cast: per-channel ops on NCHW planes are several times faster
        # (ONNX Runtime broadcasts over a trailing dim of 3 slowly) and compute the same values.
        # The uint8 input feeds one Cast only (NVIDIA/TensorRT#3985): shapes come from its output.
        frame = g.cast("frame", TensorProto.FLOAT)
        x = g.op("Transpose", [frame], perm=[0, 3, 1, 2])
        hw = g.shape(frame, 1, 3)
        source_order = meta.input_format
    if source_order != meta.channel_order:
        x = g.op("Gather", [x, g.const([2, 1, 0], np.int64)], axis=1)
    mean = np.asarray(meta.mean, np.float32)
    std = np.asarray(meta.std, np.float32)
    if mean.shape != (3,) or std.shape != (3,) or np.any(std == 0):
        raise ConfigError("mean/std", expected="3 values each, std non-zero", found=f"mean {meta.mean}, std {meta.std}")
    if np.any(mean != 0):
        x = g.op("Sub", [x, g.const(mean.reshape(1, 3, 1, 1))])
    if np.any(std != 1):
        x = g.op("Div", [x, g.const(std.reshape(1, 3, 1, 1))])
    if spec.input_size is not None:
        x = g.resize_nchw(x, g.const(list(spec.input_size), np.int64))
    if spec.input_layout == "nhwc":
        x = g.op("Transpose", [x], perm=[0, 2, 3, 1])
    if net_dtype != TensorProto.FLOAT:
        x = g.cast(x, net_dtype)
    return x, hw


def _postprocess(g: GraphBuilder, scores: str, hw: str, meta: PipelineMetadata, spec: NetworkSpec,
                 resize_back: bool) -> None:
    """scores [N,C,h,w] float32 -> the graph outputs named in ``meta.outputs``.

    The node that computes each output writes the graph output itself. ``Cast(uint8) -> Identity``
    would make the uint8 tensor an intermediate one, and TensorRT's parser rejects every node whose
    UINT8 output is not a graph output ("TensorRT does not support UINT8 types for intermediate
    tensors!", onnx/onnx-tensorrt@6ba67d3 ModelImporter.cpp:241-253, the same in 10.x).
    """
    if "logits" in meta.outputs:
        g.op("Identity", [scores], output="logits")
    if resize_back:
        scores = g.resize_nchw(scores, hw)
    if spec.output_kind == "logits":
        idx = g.op("ArgMax", [scores], axis=1, keepdims=0)
        # TensorRT casts uint8 only to/from float: int32 indices -> float -> uint8 (DESIGN §6).
        g.op("Cast", [g.cast(idx, TensorProto.FLOAT)], output="labels", to=TensorProto.UINT8)
        if "confidence" in meta.outputs:
            prob = g.op("Softmax", [scores], axis=1)
            g.op("ReduceMax", [prob], output="confidence", axes=[1], keepdims=0)
    else:
        p = g.op("Squeeze", [scores, g.const([1], np.int64)])
        if spec.output_kind == "sigmoid_logits":
            p = g.op("Sigmoid", [p])
        mask = g.op("Greater", [p, g.const(np.float32(spec.threshold))])
        g.op("Cast", [g.cast(mask, TensorProto.FLOAT)], output="labels", to=TensorProto.UINT8)
        if "confidence" in meta.outputs:
            g.op("Max", [p, g.op("Sub", [g.const(np.float32(1.0)), p])], output="confidence")


def _rename_network(network: onnx.ModelProto, reserved: set) -> onnx.ModelProto:
    """Prefix every tensor name of ``network`` with ``net/`` if any clashes with pipeline names."""
    names = set()
    for n in network.graph.node:
        names.update(n.input)
        names.update(n.output)
    names.update(i.name for i in network.graph.initializer)
    if not any(n in reserved or n.startswith(("pre/", "post/")) for n in names if n):
        return network
    model = onnx.ModelProto()
    model.CopyFrom(network)
    rename = {n: "net/" + n for n in names if n}

    def fix(seq):
        for i, name in enumerate(seq):
            if name in rename:
                seq[i] = rename[name]

    for n in model.graph.node:
        fix(n.input)
        fix(n.output)
        if n.name:
            n.name = "net/" + n.name
    for t in model.graph.initializer:
        t.name = rename.get(t.name, t.name)
    for vi in list(model.graph.input) + list(model.graph.output) + list(model.graph.value_info):
        vi.name = rename.get(vi.name, vi.name)
    return model


def wrap_network(network: onnx.ModelProto, metadata: PipelineMetadata, spec: Optional[NetworkSpec] = None) -> onnx.ModelProto:
    """Build the pipeline graph around ``network`` (see the module docstring)."""
    spec = spec or NetworkSpec()
    if network.opset_import and max((o.version for o in network.opset_import if o.domain in ("", "ai.onnx")), default=OPSET) != OPSET:
        from onnx import version_converter

        try:
            network = version_converter.convert_version(network, OPSET)
        except Exception as e:  # onnx raises bare RuntimeError/ValidationError subclasses
            raise ModelFormatError(
                "network opset", expected=f"a model convertible to opset {OPSET} (TensorRT 8.5+)",
                found=f"{e}".splitlines()[0], hint="re-export your network at opset 17",
            ) from None
    reserved = {"frame", "labels", "confidence", "logits"}
    renamed = _rename_network(network, reserved)
    if renamed is not network:
        spec = dataclasses.replace(
            spec,
            input_name="net/" + spec.input_name if spec.input_name else None,
            output_name="net/" + spec.output_name if spec.output_name else None,
        )
    network = renamed
    spec, inp, out = _resolve_spec(network, spec)
    bad_outputs = set(metadata.outputs) - {"labels", "confidence", "logits"}
    if "labels" not in metadata.outputs or bad_outputs:
        raise ConfigError("outputs", expected="'labels' plus optional 'confidence', 'logits'", found=str(metadata.outputs))
    if spec.output_kind != "logits" and metadata.num_classes != 2:
        raise ConfigError(
            "class names of a single-channel network", expected="2 classes (background, foreground)",
            found=f"{metadata.num_classes}: {list(metadata.class_names)}",
        )
    net_in_dtype = inp.type.tensor_type.elem_type
    net_out_dtype = out.type.tensor_type.elem_type
    in_dims = _dims(inp)
    fixed_batch = in_dims[0] if isinstance(in_dims[0], int) and in_dims[0] > 0 else None

    pre = GraphBuilder("pre/")
    x, hw = _preprocess(pre, metadata, spec, net_in_dtype)
    post = GraphBuilder("post/")
    net_nodes = []
    for n in network.graph.node:
        node = onnx.NodeProto()
        node.CopyFrom(n)
        for i, name in enumerate(node.input):
            if name == inp.name:
                node.input[i] = x
        net_nodes.append(node)
    scores = out.name
    if net_out_dtype != TensorProto.FLOAT:
        scores = post.cast(scores, TensorProto.FLOAT)
    if spec.output_layout == "nhwc":
        scores = post.op("Transpose", [scores], perm=[0, 3, 1, 2])
    resize_back = metadata.resize_back and spec.input_size is not None
    _postprocess(post, scores, hw, metadata, spec, resize_back)

    outputs = []
    n_classes = metadata.num_classes if spec.output_kind == "logits" else 1
    batch = fixed_batch or "N"
    h_w: List[Union[int, str]] = ["H", "W"] if (resize_back or spec.input_size is None) else list(spec.input_size)
    for name in metadata.outputs:
        if name == "labels":
            outputs.append(helper.make_tensor_value_info("labels", TensorProto.UINT8, [batch] + h_w))
        elif name == "confidence":
            outputs.append(helper.make_tensor_value_info("confidence", TensorProto.FLOAT, [batch] + h_w))
        else:
            outputs.append(helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, n_classes, "h", "w"]))
    if metadata.input_format == "nv12":
        frame_shape = [batch, "H*3/2", "W"]
    else:
        frame_shape = [batch, "H", "W", 3]
    frame = helper.make_tensor_value_info("frame", TensorProto.UINT8, frame_shape)
    nodes = pre.nodes + net_nodes + post.nodes
    inits = pre.initializers + list(network.graph.initializer) + post.initializers
    extra_opsets = [o for o in network.opset_import]
    model = make_model(nodes, inits, [frame], outputs, name="fcn_trt_pipeline", extra_opsets=extra_opsets)
    model.functions.extend(network.functions)
    meta = metadata.replace(
        inference_size=spec.input_size,
        resize_back=resize_back,
        extra={**dict(metadata.extra), "output_kind": spec.output_kind, "max_batch": fixed_batch or 0},
    )
    write_model_metadata(model, meta)
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as e:
        raise ModelFormatError("pipeline graph", expected="a valid ONNX graph", found=str(e).splitlines()[0]) from None
    return model


def save_model(model: onnx.ModelProto, path: Union[str, Path], *, trt_targets: Optional[Sequence[str]] = None,
               allow_incompatible: bool = False) -> Path:
    """Check ``model`` against TensorRT's ONNX-parser rules, then write it atomically (temp file +
    rename) and return the path.

    ``trt_targets``: the TensorRT majors the graph must parse on (default: the ones its metadata
    names in ``extra["tensorrt_targets"]``, else all of :data:`build_engine.trt_check.TARGETS`). A
    graph that breaks a rule for one of them raises
    :class:`~fcn_trt.errors.TensorRTCompatibilityError` and nothing is written, unless
    ``allow_incompatible`` (then every violation is logged as a warning). The targets the graph
    passes are recorded in its metadata (``extra["tensorrt_targets"]``).
    """
    from fcn_trt.sidecar import atomic_write_bytes

    from .trt_check import TARGETS, ensure_compatible

    meta = _metadata_or_none(model)
    targets = tuple(trt_targets or (meta.extra.get("tensorrt_targets") if meta else None) or TARGETS)
    report = ensure_compatible(model, targets, allow_incompatible=allow_incompatible, what=Path(path).name)
    if meta is not None:
        passed = [t for t in targets if not report.for_target(t)]
        extra = {**dict(meta.extra), "tensorrt_targets": passed}
        write_model_metadata(model, meta.replace(extra=extra))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, model.SerializeToString())
    return path


def _metadata_or_none(model: onnx.ModelProto) -> Optional[PipelineMetadata]:
    props = model_properties(model)
    return read_onnx_metadata(props) if METADATA_KEY in props else None


def export_fcn_pipeline(
    out_path: Union[str, Path],
    variant: str = "fcn8s",
    num_classes: Optional[int] = None,
    width_divisor: Optional[int] = None,
    weights: Union[str, Path, Mapping[str, np.ndarray], None] = None,
    *,
    class_names: Optional[Sequence[str]] = None,
    palette: Optional[Sequence[Sequence[int]]] = None,
    input_format: str = "bgr",
    channel_order: str = "bgr",
    mean: Sequence[float] = (104.00698793, 116.66876762, 122.67891434),
    std: Sequence[float] = (1.0, 1.0, 1.0),
    inference_size: Optional[Tuple[int, int]] = None,
    resize_back: bool = True,
    outputs: Sequence[str] = ("labels",),
    precision: str = "fp32",
    seed: int = 0,
    model_name: str = "",
    trt_targets: Optional[Sequence[str]] = None,
    allow_incompatible: bool = False,
) -> Path:
    """Build an FCN graph from pytorch-fcn weights (file, dict or random) and write the pipeline.

    ``num_classes``/``width_divisor`` default to what the weights say (21 and 1 when random).
    ``trt_targets``/``allow_incompatible``: the TensorRT parser check of :func:`save_model`.
    """
    from fcn_trt.palettes import get_palette, VOC_CLASSES

    from .fcn import build_fcn

    weights_sha = ""
    if isinstance(weights, (str, Path)):
        from .weights import load_weights, weights_sha256

        path = Path(weights)
        if not path.exists():
            raise ModelNotFoundError("weights file", expected="an existing .npz or .pth", found=str(path))
        weights_sha = weights_sha256(path)
        weights = load_weights(path)
    if weights is not None:
        from .weights import infer_fcn_config

        w_variant, w_classes, w_div = infer_fcn_config(weights)
        if variant == "fcn8s-atonce" and w_variant == "fcn8s":
            w_variant = variant
        if w_variant != variant:
            raise ConfigError("--variant", expected=f"{w_variant} (what the weights contain)", found=variant)
        num_classes = num_classes or w_classes
        width_divisor = width_divisor or w_div
    num_classes = num_classes or (len(class_names) if class_names else 21)
    width_divisor = width_divisor or 1
    if precision not in ("fp32", "fp16"):
        raise ConfigError("precision", expected="fp32 or fp16 (int8: use `build_engine quantize`)", found=repr(precision))
    network = build_fcn(variant, num_classes, width_divisor, weights, seed=seed,
                        dtype="float16" if precision == "fp16" else "float32")
    if class_names is None:
        class_names = VOC_CLASSES if num_classes == 21 else tuple(f"class_{i}" for i in range(num_classes))
    if len(class_names) != num_classes:
        raise ConfigError("class names", expected=f"{num_classes} names", found=f"{len(class_names)}")
    if palette is None:
        palette = get_palette(num_classes)
    meta = PipelineMetadata(
        class_names=tuple(class_names),
        palette=cast(Tuple[Tuple[int, int, int], ...], tuple(tuple(int(v) for v in c) for c in palette)),
        input_format=input_format,
        channel_order=channel_order,
        mean=tuple(float(v) for v in mean),
        std=tuple(float(v) for v in std),
        inference_size=cast(Optional[Tuple[int, int]], tuple(inference_size) if inference_size else None),
        resize_back=resize_back,
        outputs=tuple(outputs),
        variant=variant,
        width_divisor=width_divisor,
        weights_sha256=weights_sha,
        precision=precision,
        model_name=model_name or f"{variant} (width/{width_divisor})" if width_divisor > 1 else (model_name or variant),
    )
    model = wrap_network(network, meta, NetworkSpec(input_size=meta.inference_size))
    return save_model(model, out_path, trt_targets=trt_targets, allow_incompatible=allow_incompatible)
