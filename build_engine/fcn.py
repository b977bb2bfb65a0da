"""FCN-32s / FCN-16s / FCN-8s / FCN-8s at-once as ONNX graphs, built with ``onnx`` alone (no torch).

The topology is exactly pytorch-fcn's (itself a port of the Caffe reference of Long, Shelhamer and
Darrell, CVPR 2015): VGG16 with ``padding=100`` on conv1_1, ceil-mode pools, fc6 as a 7x7 conv, 1x1
score layers, bilinear-initialised transposed convs, and the Caffe crops (5 / 9 / 31 for FCN-8s).
Parameter names are pytorch-fcn's, so its checkpoints load unchanged (see :mod:`build_engine.weights`).

``width_divisor`` divides every VGG/fc width (64...4096) to give a fast model of the same topology.

Example:
    >>> model = build_fcn("fcn8s", num_classes=5, width_divisor=16)
    >>> [i.name for i in model.graph.input], [o.name for o in model.graph.output]
    (['input'], ['logits'])
"""

from __future__ import annotations

from typing import Dict, Mapping

import numpy as np
import onnx
from onnx import TensorProto, helper

from fcn_trt.errors import ConfigError

from .fcn_spec import _VGG_STAGES, VARIANTS, fcn_parameter_shapes
from .graph import GraphBuilder, make_model

__all__ = [
    "VARIANTS",
    "build_fcn",
    "fcn_parameter_shapes",
    "random_fcn_weights",
    "structured_random_fcn_weights",
    "bilinear_kernel",
    "fcn_gmac",
]

# (name, kernel, stride, crop offset of the final crop) per variant's last upsampling layer.
_FINAL_UPSCORE = {
    "fcn32s": ("upscore", 64, 32, 19),
    "fcn16s": ("upscore16", 32, 16, 27),
    "fcn8s": ("upscore8", 16, 8, 31),
    "fcn8s-atonce": ("upscore8", 16, 8, 31),
}
# The skip connections, in order: (pool stage, x2 upsampling layer it is fused after, the pool's scale
# in fcn8s-atonce, crop offset of its score layer). FCN-16s uses the first, FCN-8s both.
_SKIPS = ((4, "upscore2", 0.01, 5), (3, "upscore_pool4", 0.0001, 9))
_SKIP_COUNT = {"fcn32s": 0, "fcn16s": 1, "fcn8s": 2, "fcn8s-atonce": 2}


def bilinear_kernel(channels: int, kernel_size: int) -> np.ndarray:
    """pytorch-fcn's ``get_upsampling_weight``: a per-channel (diagonal) bilinear kernel."""
    factor = (kernel_size + 1) // 2
    center = factor - 1 if kernel_size % 2 == 1 else factor - 0.5
    og = np.ogrid[:kernel_size, :kernel_size]
    filt = (1 - abs(og[0] - center) / factor) * (1 - abs(og[1] - center) / factor)
    weight = np.zeros((channels, channels, kernel_size, kernel_size), dtype=np.float32)
    weight[range(channels), range(channels), :, :] = filt
    return weight


def random_fcn_weights(variant: str = "fcn8s", num_classes: int = 21, width_divisor: int = 1, seed: int = 0) -> Dict[str, np.ndarray]:
    """He-initialised convs, small non-zero score layers and bilinear transposed convs."""
    rng = np.random.default_rng(seed)
    weights = {}
    for name, shape in fcn_parameter_shapes(variant, num_classes, width_divisor).items():
        if name.startswith("upscore"):
            weights[name] = bilinear_kernel(shape[0], shape[2])
        elif name.endswith(".bias"):
            weights[name] = (rng.standard_normal(shape) * 0.01).astype(np.float32)
        else:
            fan_in = int(np.prod(shape[1:]))
            std = np.sqrt(2.0 / fan_in) if not name.startswith("score") else 0.01
            weights[name] = (rng.standard_normal(shape) * std).astype(np.float32)
    return weights


def structured_random_fcn_weights(variant: str = "fcn8s", num_classes: int = 21, width_divisor: int = 1,
                                  seed: int = 0, score_gain: float = 300.0) -> Dict[str, np.ndarray]:
    """:func:`random_fcn_weights` whose labels vary over the image: the score layers' weights are
    scaled by ``score_gain`` and made zero-mean over input channels, their biases zero (plain random
    weights give the same class almost everywhere). For tests and benchmarks that need a random
    model with spatially varying labels."""
    weights = random_fcn_weights(variant, num_classes, width_divisor, seed)
    for name in list(weights):
        if name.startswith("score") and name.endswith("weight"):
            v = weights[name] * score_gain
            weights[name] = v - v.mean(axis=1, keepdims=True)
        elif name.startswith("score") and name.endswith("bias"):
            weights[name] = weights[name] * 0
    return weights


def build_fcn(
    variant: str = "fcn8s",
    num_classes: int = 21,
    width_divisor: int = 1,
    weights: Mapping[str, np.ndarray] | None = None,
    seed: int = 0,
    dtype: str = "float32",
) -> onnx.ModelProto:
    """The bare network: ``input`` [N,3,H,W] -> ``logits`` [N,C,H,W] (same H, W; any size).

    ``dtype="float16"`` stores weights and computes in fp16; ``input``/``logits`` stay float32
    (casts at the boundaries) so it drops into the same pipeline.
    """
    expected = fcn_parameter_shapes(variant, num_classes, width_divisor)
    if weights is None:
        weights = random_fcn_weights(variant, num_classes, width_divisor, seed)
    from .weights import check_weights

    check_weights(weights, variant, num_classes, width_divisor)
    if dtype not in ("float32", "float16"):
        raise ConfigError("dtype", expected="float32 or float16", found=repr(dtype))
    np_dtype = np.float16 if dtype == "float16" else np.float32

    g = GraphBuilder("fcn/")
    for name in expected:
        g.add_initializer(name, np.asarray(weights[name], dtype=np.float32).astype(np_dtype))

    def conv(x: str, layer: str, pad: int, bias: bool = True) -> str:
        k = expected[layer + ".weight"][2]
        inputs = [x, layer + ".weight"] + ([layer + ".bias"] if bias else [])
        return g.op("Conv", inputs, name=layer, kernel_shape=[k, k], pads=[pad] * 4, strides=[1, 1])

    def upscore(x: str, layer: str, stride: int) -> str:
        k = expected[layer + ".weight"][2]
        return g.op("ConvTranspose", [x, layer + ".weight"], name=layer, kernel_shape=[k, k], strides=[stride, stride])

    x = "input"
    if dtype == "float16":
        x = g.cast(x, TensorProto.FLOAT16)
    h = x
    pools = {}
    for stage, (n, _) in enumerate(_VGG_STAGES, start=1):
        for i in range(1, n + 1):
            layer = f"conv{stage}_{i}"
            h = g.op("Relu", [conv(h, layer, 100 if layer == "conv1_1" else 1)], name=f"relu{stage}_{i}")
        h = g.op("MaxPool", [h], name=f"pool{stage}", kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)
        pools[stage] = h
    h = g.op("Relu", [conv(h, "fc6", 0)], name="relu6")
    h = g.op("Relu", [conv(h, "fc7", 0)], name="relu7")
    h = conv(h, "score_fr", 0)

    final_layer, _, final_stride, final_crop = _FINAL_UPSCORE[variant]
    for stage, up_layer, atonce_scale, crop in _SKIPS[:_SKIP_COUNT[variant]]:
        up = upscore(h, up_layer, 2)
        pool = pools[stage]
        if variant == "fcn8s-atonce":
            pool = g.op("Mul", [pool, g.const(atonce_scale, np_dtype)], name=f"scale_pool{stage}")
        score_c = g.crop_like(conv(pool, f"score_pool{stage}", 0), up, crop)
        h = g.op("Add", [up, score_c], name=f"fuse_pool{stage}")
    h = upscore(h, final_layer, final_stride)
    h = g.crop_like(h, x, final_crop)
    if dtype == "float16":
        h = g.cast(h, TensorProto.FLOAT)
    g.nodes.append(helper.make_node("Identity", [h], ["logits"], name="fcn/logits"))

    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, "H", "W"])
    out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", num_classes, "H", "W"])
    model = make_model(g.nodes, g.initializers, [inp], [out], name=f"{variant}_w{width_divisor}")
    return model


def fcn_gmac(variant: str, num_classes: int, width_divisor: int, height: int, width: int) -> float:
    """Multiply-accumulates (in GMAC) of one forward pass at ``height`` x ``width``."""
    shapes = fcn_parameter_shapes(variant, num_classes, width_divisor)
    h, w = height + 198, width + 198  # conv1_1: pad 100 each side, 3x3 kernel
    macs = 0.0
    sizes = {}
    for stage, (n, _) in enumerate(_VGG_STAGES, start=1):
        for i in range(1, n + 1):
            co, ci, k, _ = shapes[f"conv{stage}_{i}.weight"]
            macs += co * ci * k * k * h * w
        h, w = -(-h // 2), -(-w // 2)
        sizes[stage] = (h, w)
    h6, w6 = h - 6, w - 6
    for layer, hh, ww in (("fc6", h6, w6), ("fc7", h6, w6), ("score_fr", h6, w6)):
        co, ci, k, _ = shapes[layer + ".weight"]
        macs += co * ci * k * k * hh * ww
    for layer in ("score_pool4", "score_pool3"):
        if layer + ".weight" in shapes:
            co, ci, _, _ = shapes[layer + ".weight"]
            hh, ww = sizes[4 if layer.endswith("4") else 3]
            macs += co * ci * hh * ww
    # transposed convs: C*C*k*k per input pixel
    h, w = h6, w6
    for layer, stride in (("upscore2", 2), ("upscore_pool4", 2), ("upscore8", 8), ("upscore16", 16), ("upscore", 32)):
        if layer + ".weight" in shapes:
            co, ci, k, _ = shapes[layer + ".weight"]
            macs += co * ci * k * k * h * w
            h, w = (h - 1) * stride + k, (w - 1) * stride + k
    return macs / 1e9
