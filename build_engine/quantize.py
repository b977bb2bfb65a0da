"""INT8 as a graph property: a Q/DQ pipeline graph calibrated on real frames (DESIGN.md §1, §6).

``python -m build_engine quantize MODEL.onnx --calib DIR|VIDEO|VOC --method percentile --out MODEL.int8.onnx``

What it produces, and why (TensorRT's explicit-quantization rules):

* ``onnxruntime.quantization.quantize_static`` in **QDQ** format, ``int8`` activations and weights,
  **symmetric** (``ActivationSymmetric``/``WeightSymmetric``): every zero point is 0, the only kind
  TensorRT accepts. Weights are quantized **per output channel** (``per_channel=True``); ONNX
  Runtime puts ConvTranspose weight scales on axis 1 (its output channels), which is what TensorRT
  expects for deconvolution.
* The per-channel axis of ConvTranspose weights depends on the TensorRT major the graph is for
  (``trt_target``, recorded in the metadata as ``extra["tensorrt_targets"]``): axis 1 (output
  channels, ONNX Runtime's choice) for TensorRT 10 and 11, axis 0 (input channels) for TensorRT 8.x,
  whose deconvolution takes per-input-channel scales (NVIDIA/TensorRT#2380 and #1694; TensorRT's
  pytorch-quantization moved back to axis 1 with the 10.2 release). For ``"8.6"`` the ConvTranspose
  weights are re-quantized from their float values on axis 0.
* Only ``Conv`` and ``ConvTranspose`` are quantized, on their *inputs* (activation and weight);
  their outputs are not (``OpTypesToExcludeOutputQuantization``), which is TensorRT's recommended
  Q/DQ placement and keeps the final scores float for the argmax. Biases stay float (``QuantizeBias=False``):
  TensorRT fuses a float bias into the int8 convolution, while int32 bias Q/DQ is not accepted by
  every TensorRT version.
* Only the **network** is quantized, never the in-graph preprocessing or the argmax: every node whose
  name starts with ``pre/`` or ``post/`` (and the output Identities) is in ``nodes_to_exclude``.
  The network input gets one Q/DQ pair (the first convolution's input); the uint8 -> float cast,
  mean/std, resizes, scores and ArgMax stay fp32.
* Calibration runs the *pipeline graph itself*: the data reader feeds uint8 ``frame`` tensors, so
  the calibration statistics see exactly the preprocessing of inference.
* The result keeps the fcn_trt metadata with ``precision="int8"`` and a ``calibration`` record in
  ``extra`` (method, number of frames, frame size, source).

Calibration methods: ``percentile`` (default: the 99.999th percentile of |x| over a 2048-bin
histogram), ``minmax`` and ``entropy``. Measured caveat (onnxruntime 1.31): ``quantize_static``
builds its entropy calibrator with 128 histogram bins and 128 quantized bins, for which the KL
search has a single candidate, the full range, so ``entropy`` gives exactly the ``minmax`` scales
(``quantize_static`` does not forward ``num_bins``; onnxruntime PR #10261 discusses this default).
Running ONNX Runtime's entropy calibrator directly with 4096/255 bins clipped activations ~16x
harder and dropped agreement to 25 % on a width/16 toy, and took ~100x longer, so it is not used.
On the toys measured, percentile agrees best with fp32 (see benchmarks/results/precision.md).

Example:
    >>> quantize_pipeline("fcn8s.onnx", "fcn8s.int8.onnx", "frames/", QuantizeConfig(method="percentile"))  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional, Tuple, Union

import numpy as np
import onnx

from fcn_trt._deprecated import moved_names
from fcn_trt._progress import progress
from fcn_trt._imports import require
from fcn_trt.errors import BuildError, ConfigError
from fcn_trt.metadata import write_model_metadata

from .calibration import load_calibration_frames
from .onnx_io import ModelLike
from .trt_check import DECONV_WEIGHT_AXIS, TARGETS
from .precision import fold_weight_casts, is_pipeline_node, load_pipeline, pipeline_metadata

__all__ = [
    "METHODS",
    "QDQ_TARGETS",
    "QuantizeConfig",
    "FrameDataReader",
    "quantize_pipeline",
    "qdq_summary",
]

log = logging.getLogger(__name__)

METHODS = ("percentile", "minmax", "entropy")
#: TensorRT majors a Q/DQ graph can be made for (those the parser-rule checker knows)
QDQ_TARGETS = TARGETS


@dataclasses.dataclass(frozen=True)
class QuantizeConfig:
    """Options of :func:`quantize_pipeline` (defaults are what TensorRT needs).

    Attributes:
        method: ``"percentile"`` (default), ``"minmax"`` or ``"entropy"`` (see the module docstring).
        num_frames: calibration frames sampled from the source.
        size: (h, w) calibration frames are resized to; ``None``: the model's inference size, else
            512x512.
        percentile: for ``method="percentile"``.
        split: VOC split used for calibration (a VOC root only).
        chunk: frames per calibration pass (bounds the memory the collector holds at once).
        cache_dir: where calibration frames are cached (default ``~/.cache/fcn_trt/calibration``).
        use_cache: read/write that cache.
        keep_float: network node names or glob patterns (matched with and without the ``net/``
            prefix, e.g. ``("score_*", "upscore*")``) left unquantized: TensorRT runs them in
            fp32/fp16. For layers whose error reaches the scores directly; they are cheap in FCN.
        trt_target: TensorRT major the graph is for (``"8.6"``, ``"10"``, ``"11"``): sets the
            ConvTranspose weight-scale axis (see the module docstring).
    """

    method: str = "percentile"
    num_frames: int = 64
    size: Optional[Tuple[int, int]] = None
    percentile: float = 99.999
    split: Optional[str] = "train"
    chunk: int = 4
    cache_dir: Optional[str] = None
    use_cache: bool = True
    keep_float: Tuple[str, ...] = ()
    trt_target: str = "10"

    def __post_init__(self) -> None:
        if self.trt_target not in QDQ_TARGETS:
            raise ConfigError("TensorRT target of the int8 graph", expected=" | ".join(QDQ_TARGETS),
                              found=repr(self.trt_target), hint="the major of the TensorRT that will build it")
        if self.method not in METHODS:
            raise ConfigError("calibration method", expected=" | ".join(METHODS), found=repr(self.method))
        if not 0.0 < self.percentile <= 100.0:
            raise ConfigError("percentile", expected="a value in (0, 100]", found=repr(self.percentile))
        if self.chunk < 1 or self.num_frames < 1:
            raise ConfigError("num_frames / chunk", expected="positive integers", found=f"{self.num_frames} / {self.chunk}")


def _import_quantization():
    return require("onnxruntime.quantization", "INT8 calibration and quantization", "onnxruntime",
                   'pip install "fcn-trt[build]"')


def _reader_base():
    return _import_quantization().CalibrationDataReader


class FrameDataReader:
    """An ONNX Runtime ``CalibrationDataReader`` feeding uint8 frames one at a time as ``{"frame": [1,H,W,3]}``.

    Supports ``set_range`` (ONNX Runtime's strided calibration), so the collector holds at most
    ``chunk`` frames' intermediate tensors at once. Built by :func:`make_reader` (so the class can
    derive from ONNX Runtime's base class, imported lazily).
    """

    def __init__(self, frames: np.ndarray, input_name: str = "frame", show_progress: bool = True) -> None:
        self.frames = frames
        self.input_name = input_name
        self._start, self._end = 0, len(frames)
        self._pos = 0
        self._bar = iter(progress(range(len(frames)), desc="calibrating", enabled=show_progress)) if show_progress else None

    def __len__(self) -> int:
        return len(self.frames)

    def set_range(self, start_index: int, end_index: int) -> None:
        self._start, self._end = start_index, min(end_index, len(self.frames))
        self._pos = self._start

    def get_next(self):
        if self._pos >= self._end:
            return None
        frame = self.frames[self._pos]
        self._pos += 1
        if self._bar is not None:
            next(self._bar, None)
        return {self.input_name: np.ascontiguousarray(frame[None])}

    def rewind(self) -> None:
        self._pos = self._start


def make_reader(frames: np.ndarray, show_progress: bool = True):
    """A :class:`FrameDataReader` that also is an ``onnxruntime.quantization.CalibrationDataReader``."""
    base = _reader_base()
    cls = type("FrameCalibrationDataReader", (FrameDataReader, base), {})
    return cls(frames, show_progress=show_progress)


def _chunk_size(n: int, chunk: int) -> int:
    """Largest divisor of ``n`` not above ``chunk`` (ONNX Runtime needs n % stride == 0)."""
    for s in range(min(chunk, n), 0, -1):
        if n % s == 0:
            return s
    return 1


def quantize_pipeline(
    model: ModelLike,
    out: Union[str, Path],
    calib: Union[str, Path, np.ndarray],
    config: Optional[QuantizeConfig] = None,
    show_progress: bool = True,
    allow_incompatible: bool = False,
) -> Path:
    """Write the int8 Q/DQ version of an fp32 pipeline graph to ``out``; returns ``out``.

    ``calib`` is a frame source (folder, video, VOC root; see :mod:`build_engine.calibration`) or
    an ``[N,H,W,3]`` uint8 array of frames. The result must pass TensorRT's parser rules for
    ``config.trt_target`` (see :func:`build_engine.pipeline.save_model`; ``allow_incompatible``
    writes it anyway, with a warning per violation).
    """
    config = config or QuantizeConfig()
    q = _import_quantization()
    pipeline = fold_weight_casts(load_pipeline(model))
    source_name = str(model) if not isinstance(model, onnx.ModelProto) else "model"
    meta = pipeline_metadata(pipeline, source_name)
    if meta.precision != "fp32":
        raise ConfigError(
            f"{source_name} precision", expected="an fp32 pipeline graph to quantize", found=meta.precision,
            hint="quantize the fp32 export, not an fp16/int8 graph",
        )
    if meta.input_format == "nv12":
        raise ConfigError(
            "input format of the model", expected="bgr or rgb (calibration frames are BGR images)", found="nv12",
            hint="quantize the bgr export of the same network and build the nv12 variant from it",
        )
    size = config.size or meta.inference_size or (512, 512)
    if isinstance(calib, np.ndarray):
        frames = calib
        calib_desc = f"array of {len(frames)} frames"
    else:
        frames = load_calibration_frames(
            calib, size=size, num_frames=config.num_frames, split=config.split,
            cache_dir=config.cache_dir, use_cache=config.use_cache, show_progress=show_progress,
        )
        calib_desc = str(calib)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or len(frames) == 0:
        raise ConfigError("calibration frames", expected="uint8 [N,H,W,3] with N >= 1",
                          found=f"{frames.dtype} {tuple(frames.shape)}")
    if meta.channel_order != "bgr" and meta.input_format == "rgb":
        frames = np.ascontiguousarray(frames[..., ::-1])  # the graph wants RGB frames

    unnamed = [n for n in pipeline.graph.node if not n.name]
    if unnamed:  # quantize_static needs node names to exclude/identify nodes
        for i, n in enumerate(unnamed):
            n.name = f"net/{n.op_type}_{i}"
    exclude = [n.name for n in pipeline.graph.node if is_pipeline_node(n)]
    kept = _match_nodes(pipeline, config.keep_float)
    exclude += kept
    method = {"entropy": q.CalibrationMethod.Entropy, "percentile": q.CalibrationMethod.Percentile,
              "minmax": q.CalibrationMethod.MinMax}[config.method]
    extra = {
        "ActivationSymmetric": True,
        "WeightSymmetric": True,
        "CalibTensorRangeSymmetric": True,
        "QuantizeBias": False,
        # Q/DQ on the *inputs* of Conv/ConvTranspose only (TensorRT's recommended placement): the
        # convolution outputs stay float, so the logits reaching the argmax are never int8.
        "OpTypesToExcludeOutputQuantization": ["Conv", "ConvTranspose"],
        "CalibStridedMinMax": _chunk_size(len(frames), config.chunk),
    }
    if config.method == "percentile":
        extra["CalibPercentile"] = config.percentile
    reader = make_reader(frames, show_progress=show_progress)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fcn_trt_quant.") as tmp:
        src = Path(tmp) / "fp32.onnx"
        onnx.save(pipeline, str(src))
        dst = Path(tmp) / "int8.onnx"
        providers = ["CPUExecutionProvider"]
        log.info("calibrating on %d frames %dx%d (%s), method %s", len(frames), frames.shape[1], frames.shape[2],
                 calib_desc, config.method)
        try:
            q.quantize_static(
                str(src), str(dst), calibration_data_reader=reader, quant_format=q.QuantFormat.QDQ,
                op_types_to_quantize=["Conv", "ConvTranspose"], per_channel=True, reduce_range=False,
                activation_type=q.QuantType.QInt8, weight_type=q.QuantType.QInt8,
                nodes_to_exclude=exclude, calibrate_method=method, calibration_providers=providers,
                extra_options=extra,
            )
        except Exception as e:  # ORT raises ValueError/RuntimeError/onnx errors with long messages
            raise BuildError(
                "INT8 quantization", expected="onnxruntime.quantization.quantize_static to succeed",
                found=f"{type(e).__name__}: {str(e).splitlines()[0][:300] if str(e) else ''}",
                hint="check the model runs on ONNX Runtime with these frames (python -m build_engine compare)",
            ) from None
        result = onnx.load(str(dst))
    # ONNX Runtime names Q/DQ nodes after the tensor they quantize ("pre/Transpose_4_QuantizeLinear" for
    # the network's input): they belong to the network, so they get its namespace.
    for node in result.graph.node:
        if node.op_type in ("QuantizeLinear", "DequantizeLinear") and node.name.startswith(("pre/", "post/")):
            node.name = "net/" + node.name
    requantized = _set_deconv_weight_axis(result, pipeline, DECONV_WEIGHT_AXIS[config.trt_target])
    summary = qdq_summary(result)
    if summary["nonzero_zero_points"]:
        raise BuildError("Q/DQ graph", expected="zero points 0 (TensorRT)",
                         found=f"{summary['nonzero_zero_points']} non-zero zero points")
    if summary["quantized_pipeline_nodes"]:
        raise BuildError("Q/DQ graph", expected="no Q/DQ on pre/ or post/ nodes",
                         found=str(summary["quantized_pipeline_nodes"][:3]))
    calibration = {
        "method": config.method, "frames": int(len(frames)), "size": [int(frames.shape[1]), int(frames.shape[2])],
        "source": calib_desc, "percentile": config.percentile if config.method == "percentile" else None,
        "ops": ["Conv", "ConvTranspose"], "per_channel": True, "symmetric": True, "kept_float": kept,
        "deconv_weight_axis": DECONV_WEIGHT_AXIS[config.trt_target], "requantized_deconvs": requantized,
    }
    extra = {**dict(meta.extra), "calibration": calibration, "tensorrt_targets": [config.trt_target]}
    write_model_metadata(result, meta.replace(precision="int8", extra=extra))
    try:
        onnx.checker.check_model(result)
    except Exception as e:  # noqa: BLE001
        raise BuildError("Q/DQ graph", expected="a valid ONNX graph", found=str(e).splitlines()[0][:300]) from None
    from .pipeline import save_model

    save_model(result, out, trt_targets=(config.trt_target,), allow_incompatible=allow_incompatible)
    log.info("wrote %s: %d Q/DQ pairs on %d quantized nodes", out, summary["quantize_nodes"], summary["quantized_nodes"])
    return out


def _set_deconv_weight_axis(qdq: onnx.ModelProto, fp32: onnx.ModelProto, axis: int) -> list:
    """Re-quantize every per-channel ConvTranspose weight of ``qdq`` on ``axis`` from its float
    values in ``fp32`` (symmetric int8 in [-127, 127], zero points 0); returns the node names changed.

    ONNX Runtime always writes axis 1; TensorRT 8.x wants axis 0 for deconvolution weights.
    """
    from onnx import numpy_helper

    inits = {t.name: t for t in qdq.graph.initializer}
    float_inits = {t.name: t for t in fp32.graph.initializer}
    float_weight = {n.name: n.input[1] for n in fp32.graph.node if n.op_type == "ConvTranspose"}
    dq_by_output = {n.output[0]: n for n in qdq.graph.node if n.op_type == "DequantizeLinear"}
    changed = []
    for node in qdq.graph.node:
        dq = dq_by_output.get(node.input[1]) if node.op_type == "ConvTranspose" else None
        if dq is None or node.name not in float_weight or dq.input[1] not in inits:
            continue
        current = next((a.i for a in dq.attribute if a.name == "axis"), 1)
        if current == axis or len(inits[dq.input[1]].dims) != 1:
            continue  # already right, or per-tensor (axis-free)
        w = numpy_helper.to_array(float_inits[float_weight[node.name]]).astype(np.float32)
        reduce = tuple(i for i in range(w.ndim) if i != axis)
        amax = np.abs(w).max(axis=reduce)
        scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)  # TensorRT: scales > 0
        shape = [1] * w.ndim
        shape[axis] = -1
        q = np.clip(np.round(w / scale.reshape(shape)), -127, 127).astype(np.int8)
        updates: List[Tuple[str, np.ndarray]] = [(dq.input[0], q), (dq.input[1], scale)]
        if len(dq.input) > 2 and dq.input[2]:
            updates.append((dq.input[2], np.zeros(len(scale), np.int8)))
        for name, value in updates:
            inits[name].CopyFrom(numpy_helper.from_array(value, name))
        for a in dq.attribute:
            if a.name == "axis":
                a.i = axis
                break
        else:
            dq.attribute.append(onnx.helper.make_attribute("axis", axis))
        changed.append(node.name)
    return changed


def _match_nodes(model: onnx.ModelProto, patterns) -> list:
    """Names of network nodes matching any glob pattern (with or without their ``net/`` prefix)."""
    import fnmatch

    if not patterns:
        return []
    names = [n.name for n in model.graph.node if not is_pipeline_node(n)]
    out, unmatched = [], []
    for pat in patterns:
        hits = [n for n in names if fnmatch.fnmatchcase(n, pat) or
                (n.startswith("net/") and fnmatch.fnmatchcase(n[4:], pat))]
        if not hits:
            unmatched.append(pat)
        out += [h for h in hits if h not in out]
    if unmatched:
        raise ConfigError(
            "--keep-float", expected="patterns matching network node names", found=f"no match for {unmatched}",
            hint="node names look like " + ", ".join(names[:4]),
        )
    return out


def qdq_summary(model: onnx.ModelProto) -> dict:
    """Facts about a Q/DQ graph that TensorRT cares about (used by the tests and the CLI).

    Returns a dict: ``quantize_nodes``, ``dequantize_nodes``, ``quantized_nodes`` (Conv/ConvTranspose
    whose activation and weight both come from DequantizeLinear), ``nonzero_zero_points`` (count), ``weight_axes``
    ({node name: axis of its per-channel weight scale, or None for per-tensor}),
    ``quantized_pipeline_nodes`` (pre/ or post/ nodes reading a DequantizeLinear output: must be
    empty apart from the network's own output).
    """
    from onnx import numpy_helper

    inits = {t.name: t for t in model.graph.initializer}
    producers = {o: n for n in model.graph.node for o in n.output}
    qs = [n for n in model.graph.node if n.op_type == "QuantizeLinear"]
    dqs = [n for n in model.graph.node if n.op_type == "DequantizeLinear"]
    nonzero = 0
    for n in qs + dqs:
        if len(n.input) > 2 and n.input[2]:
            zp = inits.get(n.input[2])
            if zp is not None and np.any(numpy_helper.to_array(zp) != 0):
                nonzero += 1
    dq_outputs = {n.output[0]: n for n in dqs}
    quantized, axes = [], {}
    for n in model.graph.node:
        w_dq = dq_outputs.get(n.input[1]) if len(n.input) > 1 else None
        if n.op_type in ("Conv", "ConvTranspose") and n.input[0] in dq_outputs and w_dq is not None:
            quantized.append(n.name)
            if w_dq is not None:
                scale = inits.get(w_dq.input[1])
                per_channel = scale is not None and len(scale.dims) == 1 and scale.dims[0] > 1
                axis = next((a.i for a in w_dq.attribute if a.name == "axis"), 1)
                axes[n.name] = axis if per_channel else None
    # pre/ and post/ nodes must compute in float: none may read a dequantized tensor, and no Q/DQ
    # node may carry a pre/ or post/ name other than the pair on the network's input.
    bad = [n.name for n in model.graph.node
           if is_pipeline_node(n) and n.op_type not in ("QuantizeLinear", "DequantizeLinear")
           and any(i in dq_outputs for i in n.input)]
    del producers
    return {
        "quantize_nodes": len(qs),
        "dequantize_nodes": len(dqs),
        "quantized_nodes": len(quantized),
        "nonzero_zero_points": nonzero,
        "weight_axes": axes,
        "quantized_pipeline_nodes": bad,
    }


if not TYPE_CHECKING:  # names that moved to the command line (_deprecated.MOVED_NAMES), one release
    __getattr__ = moved_names(__name__)
