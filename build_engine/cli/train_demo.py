"""``python -m build_engine.training.train_demo --out RUN``: train the demo model
(:func:`build_engine.training.train_demo.train`; needs torch)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from ..training.train_demo import export_weights, train

__all__ = ["make_parser", "main"]

log = logging.getLogger("build_engine.training.train_demo")


def _parse_sizes(text: str) -> List[Tuple[int, int, int]]:
    """"4x240x320,2x360x480" -> [(4, 240, 320), (2, 360, 480)] (batch x H x W)."""
    out = []
    for part in text.split(","):
        b, h, w = (int(v) for v in part.lower().split("x"))
        out.append((b, h, w))
    return out


def make_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m build_engine.training.train_demo``."""
    p = argparse.ArgumentParser(
        prog="python -m build_engine.training.train_demo",
        description="Train the demo model: a width-reduced FCN-8s (canonical topology) on procedural scenes.")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--sizes", default="4x240x320,2x360x480", help="batch x H x W choices, one picked per step")
    p.add_argument("--size", default=None, help="shortcut: HxW with --batch")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--width-divisor", type=int, default=8)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-minutes", type=float, default=40.0)
    p.add_argument("--checkpoint-every", type=float, default=180.0, help="seconds")
    p.add_argument("--val-every", type=int, default=100)
    p.add_argument("--val-frames", type=int, default=12)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--schedule", choices=("steps", "time"), default="steps",
                   help="cosine decay over --steps, or over --max-minutes of wall time (busy machines)")
    p.add_argument("--class-weight-power", type=float, default=0.5,
                   help="class weights (median freq / freq) ** POWER; 0 = unweighted")
    p.add_argument("--no-batchnorm", action="store_true", help="train the plain network (no BN to fold)")
    p.add_argument("--export-npz", type=Path, default=None, help="also write fp16 weights here")
    p.add_argument("--init", type=Path, default=None,
                   help="start from these pytorch-fcn weights (e.g. widened by build_engine.training.widen)")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Train into ``--out`` (log to stdout and ``train.log``), optionally export the fp16 weights."""
    a = make_parser().parse_args(argv)
    out: Path = a.out
    out.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s",
                        handlers=[logging.StreamHandler(sys.stdout), logging.FileHandler(out / "train.log")])
    if a.size:
        h, w = (int(v) for v in a.size.lower().split("x"))
        sizes = [(a.batch, h, w)]
    else:
        sizes = _parse_sizes(a.sizes)
    log.info("argv: %s", " ".join(sys.argv))
    summary = train(out, steps=a.steps, sizes=sizes, width_divisor=a.width_divisor, lr=a.lr, seed=a.seed,
                    max_minutes=a.max_minutes, checkpoint_every=a.checkpoint_every, val_every=a.val_every,
                    val_frames=a.val_frames, threads=a.threads, resume=a.resume, dropout=a.dropout,
                    batchnorm=not a.no_batchnorm, schedule=a.schedule,
                    class_weight_power=a.class_weight_power, init=a.init)
    if a.export_npz:
        export_weights(out / "final_state.pt", a.export_npz)
        log.info("wrote %s", a.export_npz)
    log.info("done: %d steps, %d frames, %.0f s", summary["steps"], summary["frames_seen"], summary["wall_time_s"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
