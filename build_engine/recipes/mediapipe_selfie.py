"""MediaPipe selfie segmenter (Apache-2.0) -> ONNX, reproducibly, and wrapped as an fcn_trt pipeline.

The ``mediapipe`` wheel ships ``selfie_segmentation.tflite`` (input float32 NHWC [1,256,256,3] RGB in
0..1, output [1,256,256,1] sigmoid person probability) and a landscape variant ([1,144,256,3]).
This module

1. fetches the ``.tflite`` from the wheel with pip (no mediapipe install): :func:`fetch_selfie_tflite`;
2. converts it with tf2onnx, run in a *separate* interpreter that has ``tensorflow`` + ``tf2onnx``
   (the ``[convert]`` extra; fcn_trt never imports tensorflow): :func:`convert_selfie`;
3. replaces MediaPipe's custom op ``Convolution2DTransposeBias`` (a transposed conv + bias, kernel
   OHWI, options = int32 ``{padding, stride_w, stride_h}``), which tf2onnx leaves unconverted, by
   ``Transpose -> ConvTranspose -> Transpose``: :func:`repair_transpose_conv_bias`;
4. canonicalises the graph (stable node names, fixed producer, no timestamps) so the output is
   bit-for-bit reproducible, stores provenance in ``metadata_props``: :func:`canonicalize`;
5. checks it against the TFLite interpreter on an image: :func:`verify_selfie`;
6. wraps it as the pipeline graph the runtime opens (uint8 ``frame`` in, ``labels`` out, classes
   background/person): :func:`export_selfie_pipeline`.

Command line::

    python -m build_engine convert-selfie --out selfie_segmentation.onnx \\
        --tf-python /path/to/venv-tf/bin/python --verify-image astronaut.png

Example:
    >>> from build_engine.recipes.mediapipe_selfie import fetch_selfie_tflite, convert_selfie  # doctest: +SKIP
    >>> tflite = fetch_selfie_tflite("/tmp/mp")                                        # doctest: +SKIP
    >>> result = convert_selfie(tflite, "/tmp/selfie_bare.onnx", tf_python="venv-tf/bin/python")  # doctest: +SKIP
    >>> result.onnx_sha256                                                              # doctest: +SKIP
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import logging
import os
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from fcn_trt._hashing import file_sha256
from fcn_trt.errors import BackendUnavailableError, BuildError, ConfigError, ModelFormatError, SourceOpenError
from fcn_trt.eval.metrics import mask_iou

if TYPE_CHECKING:  # onnx is imported where it is used
    import onnx

__all__ = [
    "MEDIAPIPE_VERSION",
    "SELFIE_MEMBERS",
    "SELFIE_SHA256",
    "CUSTOM_OP_NAMES",
    "TransposeConvOptions",
    "SelfieConversion",
    "SelfieVerification",
    "fetch_selfie_tflite",
    "extract_selfie_tflite",
    "read_custom_options",
    "run_tf2onnx",
    "converter_versions",
    "repair_transpose_conv_bias",
    "cancel_inverse_transposes",
    "remove_identity_reshapes",
    "canonical_order",
    "canonicalize",
    "finish_conversion",
    "convert_selfie",
    "resize_linear",
    "selfie_input",
    "selfie_probability",
    "selfie_mask",
    "tflite_reference",
    "verify_selfie",
    "selfie_metadata",
    "export_selfie_pipeline",
    "extract_bare_network",
]

log = logging.getLogger(__name__)

#: The mediapipe release whose wheel the shipped model comes from.
MEDIAPIPE_VERSION = "0.10.21"
#: Paths of the two models inside the wheel.
SELFIE_MEMBERS = {
    False: "mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite",
    True: "mediapipe/modules/selfie_segmentation/selfie_segmentation_landscape.tflite",
}
#: sha256 of the two models in mediapipe 0.10.21 (measured; also listed in the wheel's RECORD).
SELFIE_SHA256 = {
    False: "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c",
    True: "a77d03f4659b9f6b6c1f5106947bf40e99d7655094b6527f214ea7d451106edd",
}
#: Names tf2onnx gives MediaPipe's custom transposed convolution (it prefixes custom ops with TFL_).
CUSTOM_OP_NAMES = ("Convolution2DTransposeBias", "TFL_Convolution2DTransposeBias")
#: Version of this converter's graph surgery; bump when the output bytes change on purpose.
TOOL_VERSION = "1"
OPSET = 17
LICENSE = "Apache-2.0"
#: Wheel tag asked of pip: any platform wheel holds the same .tflite files.
_WHEEL_PLATFORM = ("manylinux_2_28_x86_64", "3.11")
_TF_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0", "CUDA_VISIBLE_DEVICES": "", "PYTHONHASHSEED": "0"}


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- fetching ------------------------------------------------------------------------------------
def extract_selfie_tflite(wheel: Union[str, Path], dest: Union[str, Path], landscape: bool = False) -> Path:
    """Extract the selfie ``.tflite`` from a mediapipe wheel into ``dest``; return its path.

    The member's sha256 is checked against the wheel's ``RECORD`` (and against :data:`SELFIE_SHA256`
    for mediapipe 0.10.21 wheels).
    """
    wheel = Path(wheel)
    member = SELFIE_MEMBERS[bool(landscape)]
    try:
        zf = zipfile.ZipFile(wheel)
    except (OSError, zipfile.BadZipFile) as e:
        raise SourceOpenError(
            "mediapipe wheel", expected="a readable .whl (zip) file", found=f"{wheel}: {e}",
            hint="download it with `pip download --no-deps mediapipe==%s`" % MEDIAPIPE_VERSION,
        ) from None
    with zf:
        names = zf.namelist()
        if member not in names:
            raise SourceOpenError(
                "mediapipe wheel", expected=f"a member {member}", found=f"{wheel.name} without it",
                hint=f"use mediapipe=={MEDIAPIPE_VERSION}",
            )
        data = zf.read(member)
        records = [n for n in names if n.endswith(".dist-info/RECORD")]
        record_hash = None
        if records:
            for line in zf.read(records[0]).decode("utf-8").splitlines():
                parts = line.rsplit(",", 2)
                if len(parts) == 3 and parts[0] == member and parts[1].startswith("sha256="):
                    record_hash = parts[1][len("sha256="):]
    digest = hashlib.sha256(data).digest()
    if record_hash is not None:
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        if expected != record_hash:
            raise SourceOpenError(
                f"{member} in {wheel.name}", expected=f"sha256 {record_hash} (the wheel's RECORD)",
                found=f"sha256 {expected}", hint="the wheel is corrupt: download it again",
            )
    if f"-{MEDIAPIPE_VERSION}-" in wheel.name and digest.hex() != SELFIE_SHA256[bool(landscape)]:
        raise SourceOpenError(
            f"{member} in {wheel.name}", expected="sha256 " + SELFIE_SHA256[bool(landscape)],
            found="sha256 " + digest.hex(), hint="the wheel is not the published mediapipe %s" % MEDIAPIPE_VERSION,
        )
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    out = dest / Path(member).name
    out.write_bytes(data)
    log.info("extracted %s (%d bytes, sha256 %s)", out, len(data), digest.hex())
    return out


def fetch_selfie_tflite(
    dest: Union[str, Path],
    landscape: bool = False,
    version: str = MEDIAPIPE_VERSION,
    wheel: Union[str, Path, None] = None,
    python: Optional[str] = None,
) -> Path:
    """Download the mediapipe wheel with pip (``--no-deps``, nothing installed) and extract the model.

    Args:
        dest: folder receiving the ``.tflite``.
        landscape: the 144x256 landscape model instead of the 256x256 one.
        version: mediapipe release.
        wheel: an already downloaded wheel (offline use): no pip call.
        python: interpreter whose pip downloads (default: this one).
    Raises:
        SourceOpenError: pip failed (no network, no such version) or the wheel lacks the model.
    """
    if wheel is not None:
        return extract_selfie_tflite(wheel, dest, landscape)
    platform, pyver = _WHEEL_PLATFORM
    with tempfile.TemporaryDirectory(prefix="mediapipe-wheel-") as tmp:
        cmd = [
            python or sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            "--python-version", pyver, "--platform", platform, f"mediapipe=={version}", "-d", tmp,
        ]
        log.info("running %s", " ".join(cmd))
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise SourceOpenError(
                "pip download mediapipe", expected="pip to run", found=str(e),
                hint="download the wheel yourself and pass --wheel",
            ) from None
        wheels = sorted(Path(tmp).glob("mediapipe-*.whl"))
        if proc.returncode != 0 or not wheels:
            tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-1:] or ["no output"]
            raise SourceOpenError(
                f"pip download mediapipe=={version}", expected="a downloaded wheel",
                found=f"exit code {proc.returncode}: {tail[0]}",
                hint="check the network / index settings, or download the wheel elsewhere and pass --wheel",
            )
        return extract_selfie_tflite(wheels[0], dest, landscape)


# --- the TensorFlow side (run in a subprocess: tensorflow may live in another venv) ---------------
_TF_SCRIPT = r"""
import json, sys
mode = sys.argv[1]
if mode == "versions":
    import tensorflow as tf, tf2onnx
    print(json.dumps({"tensorflow": tf.__version__, "tf2onnx": tf2onnx.__version__}))
elif mode == "custom_options":
    from tf2onnx.tflite import Model
    buf = open(sys.argv[2], "rb").read()
    model = Model.Model.GetRootAsModel(buf, 0)
    out = {}
    for s in range(model.SubgraphsLength()):
        g = model.Subgraphs(s)
        for j in range(g.OperatorsLength()):
            op = g.Operators(j)
            code = model.OperatorCodes(op.OpcodeIndex()).CustomCode()
            if not code:
                continue
            opts = op.CustomOptionsAsNumpy().tobytes() if op.CustomOptionsLength() else b""
            name = g.Tensors(op.Outputs(0)).Name().decode("utf-8")
            out[name] = {"op": code.decode("utf-8"), "options": opts.hex()}
    print(json.dumps(out, sort_keys=True))
elif mode == "run":
    import numpy as np, tensorflow as tf
    it = tf.lite.Interpreter(model_path=sys.argv[2])
    it.allocate_tensors()
    x = np.load(sys.argv[3])
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    np.save(sys.argv[4], it.get_tensor(it.get_output_details()[0]["index"]))
    print(json.dumps({"ok": True}))
"""


def _tf_python(tf_python: Optional[str]) -> str:
    return tf_python or os.environ.get("FCN_TRT_TF_PYTHON") or sys.executable


def _run_tf(tf_python: Optional[str], args: Sequence[str], what: str, timeout: int = 900) -> str:
    exe = _tf_python(tf_python)
    env = dict(os.environ)
    env.update(_TF_ENV)
    try:
        proc = subprocess.run([exe, "-c", _TF_SCRIPT, *args], capture_output=True, text=True, timeout=timeout, env=env)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise BackendUnavailableError(
            what, expected="a Python interpreter with tensorflow and tf2onnx", found=f"{exe}: {e}",
            hint="pip install 'fcn-trt[convert]' in a separate venv and pass --tf-python",
        ) from None
    if proc.returncode != 0:
        err = (proc.stderr or "").strip().splitlines()
        last = err[-1] if err else "no output"
        if "ModuleNotFoundError" in last or "ImportError" in last:
            raise BackendUnavailableError(
                what, expected="tensorflow and tf2onnx importable by " + exe, found=last,
                hint="pip install 'fcn-trt[convert]' (tensorflow-cpu, tf2onnx) in a separate venv and pass --tf-python",
            )
        raise BuildError(what, expected="success", found=f"exit code {proc.returncode}: {last}")
    return proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""


def converter_versions(tf_python: Optional[str] = None) -> Dict[str, str]:
    """``{"tensorflow": ..., "tf2onnx": ...}`` of the converting interpreter."""
    return json.loads(_run_tf(tf_python, ["versions"], "tensorflow/tf2onnx versions"))


@dataclasses.dataclass(frozen=True)
class TransposeConvOptions:
    """MediaPipe's ``TfLiteTransposeConvParams`` custom options (three int32, little endian).

    ``padding``: 1 = SAME, 2 = VALID (TfLitePadding).
    """

    padding: int = 1
    stride_w: int = 2
    stride_h: int = 2

    @classmethod
    def from_bytes(cls, data: bytes) -> "TransposeConvOptions":
        if len(data) < 12:
            raise ModelFormatError(
                "Convolution2DTransposeBias options", expected="12 bytes (padding, stride_w, stride_h)",
                found=f"{len(data)} bytes",
            )
        padding, sw, sh = struct.unpack("<3i", data[:12])
        if padding not in (1, 2) or sw < 1 or sh < 1:
            raise ModelFormatError(
                "Convolution2DTransposeBias options", expected="padding 1|2 and positive strides",
                found=f"padding {padding}, strides ({sh}, {sw})",
            )
        return cls(padding, sw, sh)


def read_custom_options(tflite_path: Union[str, Path], tf_python: Optional[str] = None) -> Dict[str, TransposeConvOptions]:
    """Options of every ``Convolution2DTransposeBias`` in the .tflite, keyed by output tensor name."""
    raw = json.loads(_run_tf(tf_python, ["custom_options", str(tflite_path)], "reading .tflite custom ops"))
    return {
        name: TransposeConvOptions.from_bytes(bytes.fromhex(v["options"]))
        for name, v in raw.items()
        if v["op"] in CUSTOM_OP_NAMES
    }


def run_tf2onnx(tflite_path: Union[str, Path], out_onnx: Union[str, Path], tf_python: Optional[str] = None,
                opset: int = OPSET) -> Path:
    """Run ``python -m tf2onnx.convert --tflite`` in ``tf_python``; return the raw ONNX path."""
    exe = _tf_python(tf_python)
    env = dict(os.environ)
    env.update(_TF_ENV)
    cmd = [exe, "-m", "tf2onnx.convert", "--tflite", str(tflite_path), "--output", str(out_onnx), "--opset", str(opset)]
    log.info("running %s", " ".join(cmd))
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, env=env)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise BackendUnavailableError(
            "tf2onnx", expected="a Python interpreter with tensorflow and tf2onnx", found=f"{exe}: {e}",
            hint="pip install 'fcn-trt[convert]' in a separate venv and pass --tf-python",
        ) from None
    if proc.returncode != 0 or not Path(out_onnx).exists():
        err = (proc.stderr or "").strip().splitlines()
        last = err[-1] if err else "no output"
        cls = BackendUnavailableError if "No module named" in last else BuildError
        raise cls(
            "tf2onnx conversion", expected="an ONNX file", found=f"exit code {proc.returncode}: {last}",
            hint="pip install 'fcn-trt[convert]' (tensorflow-cpu, tf2onnx) and pass --tf-python",
        )
    return Path(out_onnx)


# --- graph surgery (onnx only) ---------------------------------------------------------------------
def _initializer(model, name: str) -> np.ndarray:
    from onnx import numpy_helper

    for t in model.graph.initializer:
        if t.name == name:
            return numpy_helper.to_array(t)
    for n in model.graph.node:  # tf2onnx sometimes leaves weights as Constant nodes
        if n.op_type == "Constant" and n.output[0] == name:
            for a in n.attribute:
                if a.name == "value":
                    return numpy_helper.to_array(a.t)
    raise ModelFormatError(
        f"Convolution2DTransposeBias weight '{name}'", expected="a constant initializer", found="a computed tensor",
    )


def _options_from_attributes(node) -> Optional[TransposeConvOptions]:
    from onnx import helper

    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if "custom_options" in attrs and isinstance(attrs["custom_options"], bytes):
        return TransposeConvOptions.from_bytes(attrs["custom_options"])
    if "stride_w" in attrs or "stride_h" in attrs or "strides" in attrs:
        sh, sw = attrs.get("strides", (attrs.get("stride_h", 2), attrs.get("stride_w", 2)))[:2]
        pad = attrs.get("padding", 1)
        if isinstance(pad, bytes):
            pad = 2 if pad.upper() == b"VALID" else 1
        return TransposeConvOptions(int(pad), int(sw), int(sh))
    return None


def _static_hw(model, name: str, layout_nhwc: bool = True) -> Optional[Tuple[int, int]]:
    for vi in list(model.graph.value_info) + list(model.graph.input) + list(model.graph.output):
        if vi.name == name:
            dims = [d.dim_value if d.HasField("dim_value") else 0 for d in vi.type.tensor_type.shape.dim]
            if len(dims) == 4 and all(dims[1:3]):
                return (dims[1], dims[2]) if layout_nhwc else (dims[2], dims[3])
    return None


def repair_transpose_conv_bias(model, options: Optional[Mapping[str, TransposeConvOptions]] = None) -> int:
    """Replace every ``Convolution2DTransposeBias`` node in place; return how many were replaced.

    The custom op takes an NHWC input, an OHWI kernel and a bias; it becomes
    ``Transpose(NHWC->NCHW) -> ConvTranspose(W: (C_in, C_out, kH, kW), B) -> Transpose(NCHW->NHWC)``.
    Strides and padding come, in this order, from ``options`` (keyed by node name or output tensor
    name, see :func:`read_custom_options`), from the node's attributes, from the static shapes of
    its input and output, else stride = kernel size (MediaPipe's documented 2x2 stride-2 case).
    """
    from onnx import helper, numpy_helper

    options = dict(options or {})
    nodes = list(model.graph.node)
    new_nodes = []
    new_inits = []
    count = 0
    for node in nodes:
        if node.op_type not in CUSTOM_OP_NAMES:
            new_nodes.append(node)
            continue
        if len(node.input) != 3 or len(node.output) != 1:
            raise ModelFormatError(
                f"node '{node.name}' ({node.op_type})", expected="3 inputs (x, kernel, bias) and 1 output",
                found=f"{len(node.input)} inputs, {len(node.output)} outputs",
            )
        x, w_name, b_name = node.input
        y = node.output[0]
        w = _initializer(model, w_name).astype(np.float32)
        b = _initializer(model, b_name).astype(np.float32).reshape(-1)
        if w.ndim != 4 or b.shape[0] != w.shape[0]:
            raise ModelFormatError(
                f"node '{node.name}' weights", expected="kernel OHWI [O,kH,kW,I] and bias [O]",
                found=f"kernel {list(w.shape)}, bias {list(b.shape)}",
            )
        c_out, kh, kw, c_in = w.shape
        opt = options.get(node.name) or options.get(y) or _options_from_attributes(node)
        if opt is None:
            in_hw, out_hw = _static_hw(model, x), _static_hw(model, y)
            if in_hw and out_hw and out_hw[0] % in_hw[0] == 0 and out_hw[1] % in_hw[1] == 0:
                opt = TransposeConvOptions(1, out_hw[1] // in_hw[1], out_hw[0] // in_hw[0])
            else:
                opt = TransposeConvOptions(1, kw, kh)
            log.info("%s: no options, using strides (%d, %d)", node.name or y, opt.stride_h, opt.stride_w)
        pads = [0, 0, 0, 0]
        for axis, (k, s) in enumerate(((kh, opt.stride_h), (kw, opt.stride_w))):
            total = k - s
            if total < 0:
                raise ModelFormatError(
                    f"node '{node.name}'", expected="kernel size >= stride", found=f"kernel {k}, stride {s}",
                )
            if opt.padding == 1 and total:  # SAME: output = input * stride
                pads[axis] = total // 2
                pads[axis + 2] = total - total // 2
        base = node.name or y
        wt = f"{base}/ConvTranspose_W"
        bt = f"{base}/ConvTranspose_B"
        new_inits.append(numpy_helper.from_array(np.ascontiguousarray(w.transpose(3, 0, 1, 2)), wt))
        new_inits.append(numpy_helper.from_array(b, bt))
        nchw_in, nchw_out = f"{base}/nchw_in", f"{base}/nchw_out"
        new_nodes.append(helper.make_node("Transpose", [x], [nchw_in], name=f"{base}/to_nchw", perm=[0, 3, 1, 2]))
        new_nodes.append(helper.make_node(
            "ConvTranspose", [nchw_in, wt, bt], [nchw_out], name=f"{base}/ConvTranspose",
            kernel_shape=[kh, kw], strides=[opt.stride_h, opt.stride_w], pads=pads,
        ))
        new_nodes.append(helper.make_node("Transpose", [nchw_out], [y], name=f"{base}/to_nhwc", perm=[0, 2, 3, 1]))
        count += 1
    if count:
        del model.graph.node[:]
        model.graph.node.extend(new_nodes)
        model.graph.initializer.extend(new_inits)
        _drop_unused(model)
    return count


def _consumers(model) -> Dict[str, List]:
    out: Dict[str, List] = {}
    for n in model.graph.node:
        for i in n.input:
            out.setdefault(i, []).append(n)
    return out


def cancel_inverse_transposes(model) -> int:
    """Remove ``Transpose(p) -> Transpose(q)`` pairs whose perms compose to identity; return pairs removed.

    Only when the first Transpose feeds nothing else and the second's output is not a graph output.
    """
    removed = 0
    changed = True
    while changed:
        changed = False
        producers = {o: n for n in model.graph.node for o in n.output}
        consumers = _consumers(model)
        graph_outputs = {o.name for o in model.graph.output}
        for second in model.graph.node:
            if second.op_type != "Transpose":
                continue
            first = producers.get(second.input[0])
            if first is None or first.op_type != "Transpose" or len(consumers.get(first.output[0], [])) != 1:
                continue
            if second.output[0] in graph_outputs or first.output[0] in graph_outputs:
                continue
            p = [a.ints for a in first.attribute if a.name == "perm"]
            q = [a.ints for a in second.attribute if a.name == "perm"]
            if not p or not q or len(p[0]) != len(q[0]):
                continue
            if [p[0][i] for i in q[0]] != list(range(len(p[0]))):
                continue
            src, dst = first.input[0], second.output[0]
            for n in model.graph.node:
                for k, name in enumerate(n.input):
                    if name == dst:
                        n.input[k] = src
            keep = [n for n in model.graph.node if n is not first and n is not second]
            del model.graph.node[:]
            model.graph.node.extend(keep)
            removed += 1
            changed = True
            break
    return removed


def _drop_unused(model) -> None:
    used = {i for n in model.graph.node for i in n.input}
    used.update(o.name for o in model.graph.output)
    keep = [t for t in model.graph.initializer if t.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(keep)
    produced = {o for n in model.graph.node for o in n.output} | {i.name for i in model.graph.input}
    vi = [v for v in model.graph.value_info if v.name in produced]
    del model.graph.value_info[:]
    model.graph.value_info.extend(vi)


def remove_identity_reshapes(model) -> int:
    """Drop ``Reshape`` nodes whose constant target equals their input's static shape; return count.

    tf2onnx's optimizer leaves a varying number of these from run to run.
    """
    import onnx
    from onnx import numpy_helper

    removed = 0
    while True:
        inferred = onnx.shape_inference.infer_shapes(model)
        shapes = {}
        for vi in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output):
            dims = vi.type.tensor_type.shape.dim
            if vi.type.tensor_type.HasField("shape") and all(d.HasField("dim_value") for d in dims):
                shapes[vi.name] = [d.dim_value for d in dims]
        inits = {t.name: t for t in model.graph.initializer}
        graph_outputs = {o.name for o in model.graph.output}
        victim = None
        for n in model.graph.node:
            if n.op_type != "Reshape" or n.output[0] in graph_outputs or n.input[1] not in inits:
                continue
            target = numpy_helper.to_array(inits[n.input[1]]).tolist()
            if shapes.get(n.input[0]) == target and all(v > 0 for v in target):
                victim = n
                break
        if victim is None:
            break
        src, dst = victim.input[0], victim.output[0]
        keep = [n for n in model.graph.node if n is not victim]
        for n in keep:
            for k, name in enumerate(n.input):
                if name == dst:
                    n.input[k] = src
        del model.graph.node[:]
        model.graph.node.extend(keep)
        removed += 1
    if removed:
        _drop_unused(model)
    return removed


def canonical_order(model) -> None:
    """Reorder nodes by a depth-first walk from the graph outputs (inputs visited in order), so the
    order depends only on the graph's structure; unreachable nodes are dropped."""
    producers = {o: n for n in model.graph.node for o in n.output if o}
    order: List = []
    seen = set()
    for out in model.graph.output:
        if out.name not in producers:
            continue
        stack = [(producers[out.name], 0)]
        while stack:
            node, k = stack.pop()
            if id(node) in seen:
                continue
            if k < len(node.input):
                stack.append((node, k + 1))
                dep = producers.get(node.input[k])
                if dep is not None and id(dep) not in seen:
                    stack.append((dep, 0))
            else:
                seen.add(id(node))
                order.append(node)
    del model.graph.node[:]
    model.graph.node.extend(order)


def canonicalize(model, *, graph_name: str, input_name: str = "input", output_name: str = "probability",
                 metadata: Optional[Mapping[str, str]] = None):
    """Make the bytes of ``model`` depend only on its computation and ``metadata``.

    Renames the (single) graph input/output, orders nodes canonically (:func:`canonical_order`) and names
    them ``<index>_<op_type>``, names tensors by position (``<node>:<k>``, initializers ``<node>/w<k>``),
    drops unused initializers/opsets, doc strings and value_info, fixes producer fields, and sets
    ``metadata_props`` to ``metadata`` (sorted by key). Modifies and returns ``model``.
    """
    from onnx import helper

    g = model.graph
    if len(g.input) != 1 or len(g.output) != 1:
        raise ModelFormatError("converted graph", expected="one input and one output",
                               found=f"{len(g.input)} inputs, {len(g.output)} outputs")
    rename = {g.input[0].name: input_name, g.output[0].name: output_name}
    for n in g.node:
        for k, name in enumerate(n.input):
            n.input[k] = rename.get(name, name)
        for k, name in enumerate(n.output):
            n.output[k] = rename.get(name, name)
    g.input[0].name = input_name
    g.output[0].name = output_name
    canonical_order(model)
    _drop_unused(model)
    # Tensor and node names from tf2onnx carry process-dependent counters: name everything by
    # position (node index, output index; initializers by first use) and order initializers so.
    width = len(str(len(g.node)))
    inits = {t.name: t for t in g.initializer}
    tensor = {input_name: input_name}
    ordered_inits = []
    for i, n in enumerate(g.node):
        n.name = f"{i:0{width}d}_{n.op_type}"
        n.doc_string = ""
        for k, name in enumerate(n.input):
            if not name:
                continue
            if name not in tensor and name in inits:
                tensor[name] = f"{n.name}/w{k}"
                ordered_inits.append(inits[name])
            n.input[k] = tensor.get(name, name)
        for k, name in enumerate(n.output):
            tensor[name] = output_name if name == output_name else f"{n.name}:{k}"
            n.output[k] = tensor[name]
    for t in ordered_inits:
        t.name = tensor[t.name]
    del g.initializer[:]
    g.initializer.extend(ordered_inits)
    del g.value_info[:]
    g.name = graph_name
    g.doc_string = ""
    used_domains = {n.domain or "" for n in g.node}
    opsets = [o for o in model.opset_import if (o.domain or "") in used_domains or o.domain in ("", "ai.onnx")]
    del model.opset_import[:]
    model.opset_import.extend(opsets)
    model.producer_name = "fcn_trt.build_engine.mediapipe_selfie"
    model.producer_version = TOOL_VERSION
    model.domain = ""
    model.model_version = 0
    model.doc_string = ""
    del model.metadata_props[:]
    if metadata:
        helper.set_model_props(model, {k: str(metadata[k]) for k in sorted(metadata)})
    return model


def _provenance(tflite_path: Path, src_sha: str, landscape: bool, versions: Mapping[str, str], source: str) -> Dict[str, str]:
    known = SELFIE_SHA256[bool(landscape)] == src_sha
    return {
        "source": source or (f"mediapipe=={MEDIAPIPE_VERSION} wheel (PyPI): {SELFIE_MEMBERS[bool(landscape)]}"
                             if known else tflite_path.name),
        "source_sha256": src_sha,
        "license": LICENSE,
        "copyright": "Copyright The MediaPipe Authors (Google LLC); converted by fcn_trt",
        "converter": f"tf2onnx {versions['tf2onnx']} (tensorflow {versions['tensorflow']}), opset {OPSET}, "
                     f"fcn_trt custom-op repair v{TOOL_VERSION}",
        "io": "input float32 NHWC [1,H,W,3] RGB in 0..1 -> probability float32 [1,H,W,1] (person)",
    }


def finish_conversion(model, options: Optional[Mapping[str, TransposeConvOptions]], metadata: Mapping[str, str],
                      graph_name: str):
    """Everything after tf2onnx: repair custom ops, simplify, canonicalise, check. Returns ``model``.

    Raises:
        BuildError: an unconverted op remains or the result fails ``onnx.checker``.
    """
    import onnx

    replaced = repair_transpose_conv_bias(model, options)
    cancelled = cancel_inverse_transposes(model)
    reshapes = remove_identity_reshapes(model)
    leftovers = sorted({n.op_type for n in model.graph.node
                        if n.op_type.startswith("TFL_") or n.domain not in ("", "ai.onnx")})
    if leftovers:
        raise BuildError("converted selfie graph", expected="only standard ONNX ops", found=f"unconverted ops {leftovers}",
                         hint="extend repair_transpose_conv_bias() for these custom ops")
    canonicalize(model, graph_name=graph_name, metadata=metadata)
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as e:  # onnx raises ValidationError / InferenceError
        raise BuildError("converted selfie graph", expected="a valid ONNX model", found=str(e).splitlines()[0]) from None
    log.info("%s: %d custom op(s) replaced, %d transpose pair(s) cancelled, %d identity reshape(s) dropped",
             graph_name, replaced, cancelled, reshapes)
    return model


@dataclasses.dataclass(frozen=True)
class SelfieConversion:
    """Result of :func:`convert_selfie`."""

    path: Path
    source_sha256: str
    onnx_sha256: str
    converter: Mapping[str, str]
    verification: Optional["SelfieVerification"] = None


def convert_selfie(
    tflite_path: Union[str, Path],
    out_onnx: Union[str, Path],
    landscape: bool = False,
    *,
    tf_python: Optional[str] = None,
    verify_image: Optional[np.ndarray] = None,
    max_abs_error: float = 1e-3,
    source: str = "",
) -> SelfieConversion:
    """Convert the MediaPipe selfie ``.tflite`` to a bare, checked, reproducible ONNX network.

    Output: input ``"input"`` float32 NHWC [1,H,W,3] RGB in 0..1, output ``"probability"``
    float32 [1,H,W,1] (sigmoid person probability), opset 17.

    Args:
        tflite_path: the model (see :func:`fetch_selfie_tflite`).
        out_onnx: where to write the ONNX file.
        landscape: the 144x256 model (only affects the graph name; the shape comes from the file).
        tf_python: interpreter with tensorflow + tf2onnx (default ``$FCN_TRT_TF_PYTHON`` or this one).
        verify_image: uint8 RGB image: compare with the TFLite interpreter, raise
            :class:`BuildError` if the max abs error exceeds ``max_abs_error``.
        source: provenance text (default: the wheel member name of mediapipe ``MEDIAPIPE_VERSION``).
    """
    import onnx

    tflite_path = Path(tflite_path)
    if not tflite_path.is_file():
        raise SourceOpenError("selfie .tflite", expected="an existing file", found=str(tflite_path),
                              hint="fetch it with fetch_selfie_tflite() or `convert-selfie` without --tflite")
    src_sha = file_sha256(tflite_path)
    versions = converter_versions(tf_python)
    options = read_custom_options(tflite_path, tf_python)
    with tempfile.TemporaryDirectory(prefix="selfie-tf2onnx-") as tmp:
        raw = run_tf2onnx(tflite_path, Path(tmp) / "raw.onnx", tf_python, OPSET)
        model = onnx.load(str(raw))
    model = finish_conversion(model, options, _provenance(tflite_path, src_sha, landscape, versions, source),
                              "selfie_segmentation_landscape" if landscape else "selfie_segmentation")
    out_onnx = Path(out_onnx)
    out_onnx.parent.mkdir(parents=True, exist_ok=True)
    data = model.SerializeToString()
    out_onnx.write_bytes(data)
    log.info("wrote %s", out_onnx)
    verification = None
    if verify_image is not None:
        verification = verify_selfie(out_onnx, tflite_path, verify_image, tf_python=tf_python)
        if verification.max_abs_error > max_abs_error:
            raise BuildError("converted selfie vs TFLite", expected=f"max abs error <= {max_abs_error}",
                             found=f"{verification.max_abs_error:.3g}")
    return SelfieConversion(out_onnx, src_sha, _sha256_bytes(data), dict(versions), verification)


# --- inference helpers and verification ----------------------------------------------------------
def resize_linear(img: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """Bilinear resize of an HxW[xC] array to ``size`` = (h, w), float32, half-pixel centres, no
    antialiasing: what ONNX ``Resize(mode=linear, half_pixel)`` and ``cv2.INTER_LINEAR`` compute."""
    x = np.asarray(img, dtype=np.float32)
    out_h, out_w = size

    def axis_weights(n_in: int, n_out: int):
        c = (np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5
        c = np.clip(c, 0, n_in - 1)
        lo = np.floor(c).astype(np.int64)
        hi = np.minimum(lo + 1, n_in - 1)
        f = (c - lo).astype(np.float32)
        return lo, hi, f

    lo, hi, f = axis_weights(x.shape[0], out_h)
    fs = f.reshape((-1,) + (1,) * (x.ndim - 1))
    x = x[lo] * (1 - fs) + x[hi] * fs
    lo, hi, f = axis_weights(x.shape[1], out_w)
    fs = f.reshape((1, -1) + (1,) * (x.ndim - 2))
    return (x[:, lo] * (1 - fs) + x[:, hi] * fs).astype(np.float32)


def selfie_input(image_rgb: np.ndarray, size: Tuple[int, int] = (256, 256)) -> np.ndarray:
    """uint8 RGB HxWx3 -> float32 [1,h,w,3] in 0..1 (scaled, then resized as the pipeline does)."""
    image_rgb = np.asarray(image_rgb)
    if image_rgb.ndim != 3 or image_rgb.shape[2] != 3:
        raise ConfigError("image", expected="an RGB array of shape (H, W, 3)", found=f"shape {image_rgb.shape}")
    x = image_rgb.astype(np.float32) / np.float32(255.0)
    if x.shape[:2] != tuple(size):
        x = resize_linear(x, size)
    return x[None]


def _session(model):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    if isinstance(model, ort.InferenceSession):
        return model
    return ort.InferenceSession(str(model), so, providers=["CPUExecutionProvider"])


def selfie_probability(model, image_rgb: np.ndarray) -> np.ndarray:
    """Person probability [h,w] at the network's resolution from the bare ONNX model (path or session)."""
    sess = _session(model)
    inp = sess.get_inputs()[0]
    h, w = int(inp.shape[1]), int(inp.shape[2])
    return sess.run(None, {inp.name: selfie_input(image_rgb, (h, w))})[0][0, :, :, 0]


def selfie_mask(model, image_rgb: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """bool mask at the image's size: probability resized back (linear) then ``> threshold``, as the
    pipeline graph does."""
    prob = selfie_probability(model, image_rgb)
    h, w = np.asarray(image_rgb).shape[:2]
    if prob.shape != (h, w):
        prob = resize_linear(prob, (h, w))
    return prob > threshold


def tflite_reference(tflite_path: Union[str, Path], x: np.ndarray, tf_python: Optional[str] = None) -> np.ndarray:
    """Run the ``.tflite`` on float32 NHWC ``x`` with TensorFlow's TFLite interpreter (subprocess)."""
    with tempfile.TemporaryDirectory(prefix="selfie-tflite-") as tmp:
        xin, yout = Path(tmp) / "x.npy", Path(tmp) / "y.npy"
        np.save(xin, np.ascontiguousarray(x, dtype=np.float32))
        _run_tf(tf_python, ["run", str(tflite_path), str(xin), str(yout)], "TFLite reference run")
        return np.load(yout)


@dataclasses.dataclass(frozen=True)
class SelfieVerification:
    """ONNX vs TFLite on one image. ``*_net`` at the network resolution, the rest at image size."""

    max_abs_error: float
    mean_abs_error: float
    mask_agreement_net: float
    iou_net: float
    mask_agreement: float
    iou: float
    person_fraction: float


def verify_selfie(onnx_path: Union[str, Path], tflite_path: Union[str, Path], image_rgb: np.ndarray,
                  tf_python: Optional[str] = None, threshold: float = 0.5) -> SelfieVerification:
    """Compare the bare ONNX model with the TFLite interpreter on one uint8 RGB image."""
    sess = _session(onnx_path)
    inp = sess.get_inputs()[0]
    size = (int(inp.shape[1]), int(inp.shape[2]))
    x = selfie_input(image_rgb, size)
    ours = sess.run(None, {inp.name: x})[0][0, :, :, 0]
    ref = tflite_reference(tflite_path, x, tf_python)[0, :, :, 0]
    diff = np.abs(ours - ref)
    h, w = np.asarray(image_rgb).shape[:2]
    m_ours, m_ref = ours > threshold, ref > threshold
    big_ours = resize_linear(ours, (h, w)) > threshold
    big_ref = resize_linear(ref, (h, w)) > threshold
    return SelfieVerification(
        max_abs_error=float(diff.max()),
        mean_abs_error=float(diff.mean()),
        mask_agreement_net=float((m_ours == m_ref).mean()),
        iou_net=mask_iou(m_ours, m_ref),
        mask_agreement=float((big_ours == big_ref).mean()),
        iou=mask_iou(big_ours, big_ref),
        person_fraction=float(big_ref.mean()),
    )


# --- the pipeline --------------------------------------------------------------------------------
def selfie_metadata(bare_model, landscape: bool = False):
    """PipelineMetadata of the wrapped selfie pipeline (classes background/person, BGR frames)."""
    from fcn_trt.metadata import PipelineMetadata, model_properties

    props = model_properties(bare_model)
    return PipelineMetadata(
        class_names=("background", "person"),
        palette=((0, 0, 0), (64, 160, 255)),
        input_format="bgr",
        channel_order="rgb",
        mean=(0.0, 0.0, 0.0),
        std=(255.0, 255.0, 255.0),
        variant="custom",
        weights_sha256=props.get("source_sha256", ""),
        model_name="MediaPipe selfie segmentation" + (" (landscape)" if landscape else ""),
        extra={k: props[k] for k in sorted(props)},
    )


def export_selfie_pipeline(bare_onnx: Union[str, Path], out_path: Union[str, Path], landscape: bool = False,
                           threshold: float = 0.5) -> Path:
    """Wrap the bare converted model (:func:`convert_selfie`) into the fcn_trt pipeline graph:
    uint8 BGR ``frame`` [N,H,W,3] in, ``labels`` uint8 [N,H,W] (1 = person) out."""
    import onnx

    from ..pipeline import NetworkSpec, save_model, wrap_network

    bare = onnx.load(str(bare_onnx))
    dims = [d.dim_value for d in bare.graph.input[0].type.tensor_type.shape.dim]
    spec = NetworkSpec(input_layout="nhwc", input_size=(dims[1], dims[2]), output_layout="nhwc",
                       output_kind="probability", threshold=threshold)
    meta = selfie_metadata(bare, landscape)
    meta = meta.replace(extra={**dict(meta.extra), "network_sha256": file_sha256(bare_onnx)})
    model = wrap_network(bare, meta, spec)
    model.graph.name = "selfie_segmentation_pipeline"
    return save_model(model, out_path)


def extract_bare_network(pipeline) -> "onnx.ModelProto":
    """Recover the bare converted network from a selfie pipeline graph (path or ModelProto).

    Uses the wrapper's naming (``pre/*``, ``post/*`` and the output Identity nodes are the pipeline's)
    and the provenance in its metadata, then :func:`canonicalize`: for a pipeline written by
    :func:`export_selfie_pipeline` the result is byte-identical to the converted network, whose
    sha256 the pipeline records as ``extra["network_sha256"]``.
    """
    import copy

    import onnx
    from onnx import TensorProto, helper

    from fcn_trt.metadata import METADATA_KEY, read_model_metadata

    model = pipeline if isinstance(pipeline, onnx.ModelProto) else onnx.load(str(pipeline))
    meta = read_model_metadata(model, "selfie pipeline")
    outputs = {"labels", "confidence", "logits"}
    net = [n for n in model.graph.node if not n.name.startswith(("pre/", "post/")) and n.name not in outputs]
    inits = [t for t in model.graph.initializer if not t.name.startswith(("pre/", "post/"))]
    produced = {o for n in net for o in n.output} | {t.name for t in inits}
    external = sorted({i for n in net for i in n.input if i and i not in produced})
    if len(external) != 1 or not meta.inference_size:
        raise ModelFormatError("selfie pipeline", expected="one network input fed by pre/ nodes and an inference size",
                               found=f"inputs {external}, inference size {meta.inference_size}",
                               hint=f"export it with export_selfie_pipeline() ({METADATA_KEY} metadata)")
    nodes = []
    for n in net:
        c = onnx.NodeProto()
        c.CopyFrom(n)
        for k, name in enumerate(c.input):
            if name == external[0]:
                c.input[k] = "input"
        nodes.append(c)
    h, w = meta.inference_size
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, h, w, 3])],
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, [1, h, w, 1])], [copy.deepcopy(t) for t in inits],
    )
    bare = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    bare.ir_version = model.ir_version
    props = {k: str(v) for k, v in meta.extra.items() if k not in ("output_kind", "max_batch", "network_sha256")}
    name = "selfie_segmentation_landscape" if (h, w) == (144, 256) else "selfie_segmentation"
    return canonicalize(bare, graph_name=name, metadata=props)


# --- command line --------------------------------------------------------------------------------
