"""``python -m build_engine.training.widen WEIGHTS --factor 8 --out OUT.npz`` (:func:`build_engine.training.widen.widen_fcn_weights`)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from fcn_trt.cli.args import ScriptMain, script_main

from ..training.widen import widen_fcn_weights
from ..weights import load_weights, save_npz

__all__ = ["make_parser", "command", "main"]


def make_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m build_engine.training.widen``."""
    p = argparse.ArgumentParser(
        prog="python -m build_engine.training.widen",
        description="Widen FCN weights by an integer factor without changing what the network computes (Net2WiderNet).")
    p.add_argument("weights", type=Path, help="pytorch-fcn weights (.npz, .pth)")
    p.add_argument("--factor", type=int, default=8, help="width multiplier (8: width/8 -> canonical)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True, help="output .npz (float32)")
    return p


def command(a: argparse.Namespace) -> int:
    """Widen ``a.weights`` and write them to ``a.out``."""
    widened = widen_fcn_weights(load_weights(a.weights), a.factor, seed=a.seed)
    save_npz(widened, a.out, dtype=np.float32)
    print(f"wrote {a.out} ({sum(v.size for v in widened.values()):,} parameters)")
    return 0


main: ScriptMain = script_main(make_parser, command, prog="widen")


if __name__ == "__main__":
    raise SystemExit(main())
