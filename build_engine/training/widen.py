"""Widen FCN weights by an integer factor without changing what the network computes (Net2WiderNet).

Used to get a *trained* canonical-topology FCN-8s on machines where none can be downloaded or
trained from scratch: the width/8 demo weights widened 8x have exactly the canonical channel counts
(64 ... 512, fc6/fc7 4096) and, before any fine-tuning, exactly the demo's scores. Fine-tuning then
moves every copy of a channel its own way (see :func:`widen_fcn_weights`).

Reference: T. Chen, I. Goodfellow, J. Shlens, "Net2Net: Accelerating Learning via Knowledge
Transfer", ICLR 2016, section 2.1 (Net2WiderNet).

Example::

    python -m build_engine.training.widen build_engine/training/demo_fcn8s_w8.npz --factor 8 --out canonical_init.npz
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np

from fcn_trt.errors import ConfigError, run_cli

__all__ = ["widen_fcn_weights", "main"]

# Each widened layer and the layers that read its output (FCN-8s; FCN-16s/32s lack some consumers).
_BODY = ("conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2", "conv3_3", "conv4_1", "conv4_2",
         "conv4_3", "conv5_1", "conv5_2", "conv5_3", "fc6", "fc7")
_EXTRA_CONSUMERS = {"conv3_3": ("score_pool3",), "conv4_3": ("score_pool4",), "fc7": ("score_fr",)}


def _consumers(layer: str) -> List[str]:
    i = _BODY.index(layer)
    nxt = [_BODY[i + 1]] if i + 1 < len(_BODY) else []
    return nxt + list(_EXTRA_CONSUMERS.get(layer, ()))


def widen_fcn_weights(weights: Mapping[str, np.ndarray], factor: int, seed: int = 0,
                      split_jitter: float = 0.5) -> Dict[str, np.ndarray]:
    """Every body layer (conv1_1 ... fc7) gets ``factor`` times its output channels; scores unchanged.

    Channel ``j`` of a widened layer copies channel ``j // factor`` (same incoming weights and bias),
    so after ReLU and max-pooling the copies carry identical activations. Each layer that reads them
    gets, for each copy, the original input weight times a split ``s`` with the ``factor`` splits of
    one original channel summing to 1: the sums, hence the scores, are unchanged (up to float
    rounding). The splits are random (``1 + split_jitter * U(-1, 1)``, normalised) rather than
    ``1/factor`` so the copies get different gradients and drift apart when fine-tuned.

    Args:
        weights: pytorch-fcn names -> float arrays (``build_engine.weights.load_weights``).
        factor: width multiplier (8 turns width/8 weights into the canonical widths).
        seed: seed of the random splits.
        split_jitter: in [0, 1): how unequal the splits are (0 = equal).

    Returns:
        New float32 arrays under the same names.

    Example:
        >>> w = widen_fcn_weights(load_weights("demo_fcn8s_w8.npz"), 8)      # doctest: +SKIP
        >>> w["fc6.weight"].shape
        (4096, 512, 7, 7)
    """
    if int(factor) != factor or factor < 1:
        raise ConfigError("widening factor", expected="an integer >= 1", found=repr(factor))
    if not 0.0 <= split_jitter < 1.0:
        raise ConfigError("split_jitter", expected="a value in [0, 1)", found=repr(split_jitter))
    missing = [f"{n}.weight" for n in _BODY if f"{n}.weight" not in weights]
    if missing:
        raise ConfigError("FCN weights", expected="every VGG16 body layer conv1_1 ... fc7",
                          found=f"missing {', '.join(missing[:4])}{' ...' if len(missing) > 4 else ''}",
                          hint="pass pytorch-fcn FCN-8s/16s/32s weights (build_engine.weights.load_weights)")
    rng = np.random.default_rng(seed)
    out = {k: np.asarray(v, np.float32).copy() for k, v in weights.items()}
    for layer in _BODY:
        w, b = out[f"{layer}.weight"], out[f"{layer}.bias"]
        out[f"{layer}.weight"] = np.repeat(w, factor, axis=0)
        out[f"{layer}.bias"] = np.repeat(b, factor, axis=0)
        c = w.shape[0]
        split = 1.0 + split_jitter * rng.uniform(-1.0, 1.0, size=(c, factor))
        split = (split / split.sum(axis=1, keepdims=True)).reshape(-1).astype(np.float32)
        for consumer in _consumers(layer):
            key = f"{consumer}.weight"
            if key in out:
                out[key] = np.repeat(out[key], factor, axis=1) * split[None, :, None, None]
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m build_engine.training.widen", description=__doc__.split("\n")[0])
    p.add_argument("weights", type=Path, help="pytorch-fcn weights (.npz, .pth)")
    p.add_argument("--factor", type=int, default=8, help="width multiplier (8: width/8 -> canonical)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True, help="output .npz (float32)")
    a = p.parse_args(argv)

    def body() -> int:
        from ..weights import load_weights, save_npz

        widened = widen_fcn_weights(load_weights(a.weights), a.factor, seed=a.seed)
        save_npz(widened, a.out, dtype=np.float32)
        print(f"wrote {a.out} ({sum(v.size for v in widened.values()):,} parameters)")
        return 0

    return run_cli(body, prog="widen")


if __name__ == "__main__":
    raise SystemExit(main())
