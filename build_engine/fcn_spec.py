"""FCN-8s/16s/32s parameter layout (pytorch-fcn names and shapes): no onnx, no torch.

Shared by the ONNX graph builder (:mod:`build_engine.fcn`) and weight checking
(:mod:`build_engine.weights`), which used to import each other.

Example:
    >>> fcn_parameter_shapes("fcn32s", 21, 8)["score_fr.weight"]
    (21, 512, 1, 1)
"""

from __future__ import annotations

from typing import Dict, Tuple

import numpy as np

from fcn_trt.errors import ConfigError

__all__ = ["VARIANTS", "fcn_parameter_shapes"]

VARIANTS = ("fcn8s", "fcn16s", "fcn32s", "fcn8s-atonce")
_VGG_STAGES = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))


def _check_config(variant: str, num_classes: int, width_divisor: int) -> None:
    if variant not in VARIANTS:
        raise ConfigError("FCN variant", expected=" | ".join(VARIANTS), found=repr(variant))
    if not isinstance(num_classes, (int, np.integer)) or num_classes < 1 or num_classes > 255:
        raise ConfigError(
            "num_classes", expected="an integer in 1..255 (labels are uint8; 255 is the ignore label)",
            found=repr(num_classes),
        )
    if not isinstance(width_divisor, (int, np.integer)) or width_divisor < 1 or 64 % width_divisor:
        raise ConfigError(
            "width_divisor", expected="a divisor of 64 (1, 2, 4, 8, 16, 32 or 64)", found=repr(width_divisor)
        )


def fcn_parameter_shapes(variant: str = "fcn8s", num_classes: int = 21, width_divisor: int = 1) -> Dict[str, Tuple[int, ...]]:
    """Every parameter's pytorch-fcn name and shape, in definition order."""
    _check_config(variant, num_classes, width_divisor)
    d, c = width_divisor, num_classes
    shapes: Dict[str, Tuple[int, ...]] = {}
    cin = 3
    widths = {}
    for stage, (n, width) in enumerate(_VGG_STAGES, start=1):
        w = width // d
        for i in range(1, n + 1):
            shapes[f"conv{stage}_{i}.weight"] = (w, cin, 3, 3)
            shapes[f"conv{stage}_{i}.bias"] = (w,)
            cin = w
        widths[stage] = w
    f = 4096 // d
    shapes.update({
        "fc6.weight": (f, cin, 7, 7), "fc6.bias": (f,),
        "fc7.weight": (f, f, 1, 1), "fc7.bias": (f,),
        "score_fr.weight": (c, f, 1, 1), "score_fr.bias": (c,),
    })
    if variant == "fcn32s":
        shapes["upscore.weight"] = (c, c, 64, 64)
        return shapes
    if variant in ("fcn8s", "fcn8s-atonce"):
        shapes["score_pool3.weight"] = (c, widths[3], 1, 1)
        shapes["score_pool3.bias"] = (c,)
    shapes["score_pool4.weight"] = (c, widths[4], 1, 1)
    shapes["score_pool4.bias"] = (c,)
    shapes["upscore2.weight"] = (c, c, 4, 4)
    if variant == "fcn16s":
        shapes["upscore16.weight"] = (c, c, 32, 32)
    else:
        shapes["upscore_pool4.weight"] = (c, c, 4, 4)
        shapes["upscore8.weight"] = (c, c, 16, 16)
    return shapes
