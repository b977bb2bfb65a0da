"""Train the demo model: a width-reduced FCN-8s (canonical topology) on procedural scenes.

CPU-only torch training on frames from :mod:`fcn_trt.scenes`, generated on the fly (every frame
is new, so there is no epoch and no overfitting to a fixed set). Deterministic per ``--seed``:
frame seeds, initialisation and the step-keyed learning-rate schedule depend on it alone (thread
scheduling may still change the last bits of float sums).

Frame seeds: training frames use ``TRAIN_SEED_BASE + seed * 10**7 + k`` (>= 10**7), validation
frames ``VAL_SEED_BASE + k``; held-out evaluation uses seeds below 10**6, never used here.

Writes to ``--out``: ``train.log`` (also stdout), ``checkpoint.pt`` (every ``--checkpoint-every``
seconds, atomic, resumable with ``--resume``), ``final_state.pt`` and ``train_summary.json``
(seed, frames seen, steps, wall time, class weights, validation mean IU). Export the result with
:func:`export_weights` / ``--export-npz`` (pytorch-fcn parameter names, fp16).

Example (a tiny smoke run)::

    python -m build_engine.training.train_demo --out /tmp/demo_train --steps 2 --batch 1 --size 64x80
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from fcn_trt.eval.metrics import iou_per_class
from fcn_trt.metadata import IMAGENET_RGB_MEAN, IMAGENET_RGB_STD
from fcn_trt.streaming import scenes

__all__ = [
    "TRAIN_SEED_BASE",
    "VAL_SEED_BASE",
    "PREPROCESSING",
    "preprocess_batch",
    "estimate_class_weights",
    "train",
    "export_weights",
    "export_demo_pipeline",
    "store_weights_fp16",
    "main",
]

log = logging.getLogger("build_engine.training.train_demo")

TRAIN_SEED_BASE = 10_000_000
VAL_SEED_BASE = 5_000_000
#: Network input convention of the demo model (goes into the pipeline metadata).
PREPROCESSING: Dict[str, Any] = {"channel_order": "rgb", "mean": IMAGENET_RGB_MEAN, "std": IMAGENET_RGB_STD}


def preprocess_batch(images_bgr: Sequence[np.ndarray]):
    """BGR uint8 frames -> float tensor [N,3,H,W]: RGB, (x - ImageNet mean) / std (0..255 units)."""
    import torch

    rgb = np.stack(images_bgr).astype(np.float32)[..., ::-1]
    x = (rgb - np.asarray(IMAGENET_RGB_MEAN, np.float32)) / np.asarray(IMAGENET_RGB_STD, np.float32)
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def estimate_class_weights(n_frames: int = 64, size: Tuple[int, int] = (120, 160), power: float = 0.5,
                           seed: int = VAL_SEED_BASE + 900_000) -> np.ndarray:
    """Median-frequency class weights ``(median(f) / f_c) ** power`` from generated frames
    (power 0.5 = square-root balancing: helps small classes without wrecking precision)."""
    counts = np.zeros(scenes.NUM_CLASSES, np.float64)
    for k in range(n_frames):
        f = scenes.generate_frame(seed + k, size)
        counts += np.bincount(f.labels.ravel(), minlength=scenes.NUM_CLASSES)
    freq = counts / counts.sum()
    freq = np.maximum(freq, 1e-6)
    w = (np.median(freq) / freq) ** power
    return (w / w.mean()).astype(np.float32)


def _confusion(pred: np.ndarray, gt: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(gt.ravel().astype(np.int64) * n + pred.ravel(), minlength=n * n).reshape(n, n)


def _mean_iu(conf: np.ndarray) -> Tuple[float, np.ndarray]:
    iu = iou_per_class(conf)
    return float(np.nanmean(iu)), iu


def validate(model, n_frames: int, size: Tuple[int, int]) -> Tuple[float, List[float]]:
    """Mean IU of ``model`` on ``n_frames`` validation frames (seeds VAL_SEED_BASE + k)."""
    import torch

    model.eval()
    conf = np.zeros((scenes.NUM_CLASSES,) * 2, np.int64)
    with torch.no_grad():
        for k in range(n_frames):
            f = scenes.generate_frame(VAL_SEED_BASE + k, size)
            pred = model(preprocess_batch([f.image])).argmax(1)[0].numpy()
            conf += _confusion(pred, f.labels, scenes.NUM_CLASSES)
    model.train()
    miu, iu = _mean_iu(conf)
    return miu, [float(v) for v in iu]


def add_train_batchnorm(model) -> None:
    """Insert a BatchNorm2d after every body conv and fc6/fc7 (in place), for training only.

    The canonical FCN has no normalisation, and a 16-layer plain network trained from scratch on
    two CPU cores stalls for hundreds of steps on a position prior; batch normalisation removes the
    stall. :func:`fold_batchnorm` folds each BN into its conv afterwards, which gives back the exact
    canonical topology and parameter names."""
    from torch import nn

    for name, m in list(model.named_children()):
        if isinstance(m, nn.Conv2d) and (name.startswith("conv") or name in ("fc6", "fc7")):
            setattr(model, name, nn.Sequential(m, nn.BatchNorm2d(m.out_channels)))


def fold_batchnorm(model) -> None:
    """Fold the BatchNorm layers of :func:`add_train_batchnorm` into their convs (in place):
    ``w' = w * g / sqrt(var + eps)``, ``b' = (b - mean) * g / sqrt(var + eps) + beta``."""
    import torch
    from torch import nn

    with torch.no_grad():
        for name, m in list(model.named_children()):
            if isinstance(m, nn.Sequential) and len(m) == 2 and isinstance(m[1], nn.BatchNorm2d):
                conv: Any = m[0]
                bn: Any = m[1]
                scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
                conv.weight.mul_(scale[:, None, None, None])
                conv.bias.copy_((conv.bias - bn.running_mean) * scale + bn.bias)
                setattr(model, name, conv)


def _lr_at(step: int, steps: int, lr: float, warmup: int, time_fraction: Optional[float] = None) -> float:
    """Linear warm-up, then cosine decay to 1e-5 over the steps (or over the wall-time budget when
    ``time_fraction`` is given: the schedule then ends on time however busy the machine is)."""
    if step < warmup:
        return lr * (step + 1) / warmup
    p = min(1.0, (step - warmup) / max(1, steps - warmup))
    if time_fraction is not None:
        p = min(1.0, max(0.0, time_fraction))
    return 1e-5 + (lr - 1e-5) * 0.5 * (1.0 + math.cos(math.pi * p))


def _batch_for_step(seed: int, step: int, sizes: Sequence[Tuple[int, int, int]]) -> Tuple[int, Tuple[int, int], int]:
    """(batch, size, first frame seed) of one step: sizes cycle deterministically."""
    rng = np.random.default_rng(seed * 1_000_003 + step)
    batch, h, w = sizes[int(rng.integers(len(sizes)))]
    return batch, (h, w), int(rng.integers(0, 2**31 - 1))


def train(
    out: Path,
    steps: int = 600,
    sizes: Sequence[Tuple[int, int, int]] = ((4, 240, 320), (2, 360, 480)),
    width_divisor: int = 8,
    lr: float = 1e-3,
    seed: int = 0,
    max_minutes: float = 40.0,
    checkpoint_every: float = 180.0,
    val_every: int = 100,
    val_frames: int = 12,
    threads: int = 2,
    resume: bool = False,
    dropout: float = 0.0,
    batchnorm: bool = True,
    schedule: str = "steps",
    class_weight_power: float = 0.5,
    init: Optional[Path] = None,
) -> Dict[str, object]:
    """Train and return the summary dict (also written to ``out/train_summary.json``).

    ``init``: start from these pytorch-fcn weights (``.npz``/``.pth``, e.g. from
    :mod:`build_engine.training.widen`) instead of a random initialisation."""
    import torch

    from .torch_fcn import build_torch_fcn, randomize_fcn_

    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    model = randomize_fcn_(build_torch_fcn("fcn8s", scenes.NUM_CLASSES, width_divisor), seed=seed,
                           random_upsampling=False)
    if init is not None:
        from ..weights import load_weights

        init_state = {k: torch.from_numpy(np.asarray(v, np.float32)) for k, v in load_weights(init).items()}
        model.load_state_dict(init_state)
        log.info("initialised from %s", init)
    model.drop6.p = dropout
    model.drop7.p = dropout
    if batchnorm:
        add_train_batchnorm(model)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    class_w = estimate_class_weights(power=class_weight_power)
    log.info("class weights %s", dict(zip(scenes.CLASS_NAMES, np.round(class_w, 3).tolist())))
    crit = torch.nn.CrossEntropyLoss(weight=torch.from_numpy(class_w))
    step, frames_seen, elapsed_before = 0, 0, 0.0
    history: List[Dict[str, object]] = []
    ckpt = out / "checkpoint.pt"
    if resume and ckpt.exists():
        state = torch.load(ckpt, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step, frames_seen, elapsed_before = state["step"], state["frames_seen"], state["elapsed"]
        history = state.get("history", [])
        log.info("resumed at step %d (%d frames, %.0f s)", step, frames_seen, elapsed_before)
    t0 = time.time()
    last_ckpt = t0
    model.train()
    loss_avg = None
    stopped_by = "steps"

    def save_ckpt() -> None:
        tmp = out / "checkpoint.pt.tmp"
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                    "frames_seen": frames_seen, "elapsed": elapsed_before + time.time() - t0,
                    "history": history}, tmp)
        os.replace(tmp, ckpt)

    while step < steps:
        if (elapsed_before + time.time() - t0) > max_minutes * 60.0:
            stopped_by = "max_minutes"
            log.info("stopping at step %d: --max-minutes %.1f reached", step, max_minutes)
            break
        batch, size, fseed = _batch_for_step(seed, step, sizes)
        frames = [scenes.generate_frame(TRAIN_SEED_BASE + seed * 10**7 + (fseed + i) % 10**7, size)
                  for i in range(batch)]
        x = preprocess_batch([f.image for f in frames])
        y = torch.from_numpy(np.stack([f.labels for f in frames]).astype(np.int64))
        frac = (elapsed_before + time.time() - t0) / (max_minutes * 60.0) if schedule == "time" else None
        cur_lr = _lr_at(step, steps, lr, warmup=30, time_fraction=frac)
        for gparam in opt.param_groups:
            gparam["lr"] = cur_lr
        loss = crit(model(x), y)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        frames_seen += batch
        lv = float(loss.detach())
        loss_avg = lv if loss_avg is None else 0.95 * loss_avg + 0.05 * lv
        el = elapsed_before + time.time() - t0
        if step % 10 == 0 or step == 1:
            log.info("step %d/%d loss %.4f (avg %.4f) lr %.2e frames %d elapsed %.0fs", step, steps, lv,
                     loss_avg, cur_lr, frames_seen, el)
        if val_every and (step % val_every == 0 or step == steps):
            miu, iu = validate(model, val_frames, (240, 320))
            history.append({"step": step, "elapsed_s": round(el, 1), "val_mean_iu": round(miu, 4),
                            "val_iu": [round(v, 4) for v in iu]})
            log.info("validation step %d: mean IU %.4f per class %s", step, miu, np.round(iu, 3).tolist())
        if time.time() - last_ckpt > checkpoint_every:
            save_ckpt()
            last_ckpt = time.time()
            log.info("checkpoint saved at step %d", step)
    save_ckpt()
    if batchnorm:
        miu_bn, _ = validate(model, val_frames, (240, 320))
        fold_batchnorm(model)
        miu_folded, _ = validate(model, val_frames, (240, 320))
        log.info("batchnorm folded: validation mean IU %.4f before, %.4f after", miu_bn, miu_folded)
    torch.save(model.state_dict(), out / "final_state.pt")
    summary = {
        "seed": seed,
        "steps": step,
        "planned_steps": steps,
        "stopped_by": stopped_by,
        "frames_seen": frames_seen,
        "sizes": [list(s) for s in sizes],
        "wall_time_s": round(elapsed_before + time.time() - t0, 1),
        "threads": threads,
        "lr": lr,
        "optimizer": "AdamW(weight_decay=1e-4), warmup 30 steps, cosine to 1e-5, grad-norm clip 5",
        "dropout": dropout,
        "train_batchnorm_folded": batchnorm,
        "schedule": schedule,
        "max_minutes": max_minutes,
        "width_divisor": width_divisor,
        "class_weights": [float(v) for v in class_w],
        "class_weight_power": class_weight_power,
        "preprocessing": {"channel_order": "rgb", "mean": list(IMAGENET_RGB_MEAN), "std": list(IMAGENET_RGB_STD)},
        "history": history,
        "init": str(init) if init is not None else "randomize_fcn_",
        "torch": torch.__version__,
    }
    (out / "train_summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def export_weights(state_path: Path, npz_path: Path) -> Path:
    """Write a torch state dict (file) as an fp16 ``.npz`` with pytorch-fcn names, through the same
    import code as pytorch-fcn checkpoints (:func:`build_engine.weights.load_weights`)."""
    from ..weights import load_weights, save_npz

    weights = load_weights(state_path)
    return save_npz(weights, npz_path, dtype=np.float16)


def store_weights_fp16(model, min_elements: int = 1024):
    """Store the float32 initializers of ``model`` that are exactly representable in float16 as
    float16 + a ``Cast`` to float32 (weight storage only: compute stays fp32, the values are
    unchanged, the file halves). Returns a new ModelProto."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    out = onnx.ModelProto()
    out.CopyFrom(model)
    g = out.graph
    casts = []
    kept = []
    for init in g.initializer:
        if init.data_type == TensorProto.FLOAT:
            arr = numpy_helper.to_array(init)
            if arr.size >= min_elements:
                half = arr.astype(np.float16)
                if np.array_equal(half.astype(np.float32), arr):
                    stored = init.name + "/fp16"
                    kept.append(numpy_helper.from_array(half, stored))
                    casts.append(helper.make_node("Cast", [stored], [init.name], name=init.name + "/cast",
                                                  to=TensorProto.FLOAT))
                    continue
        kept.append(init)
    del g.initializer[:]
    g.initializer.extend(kept)
    nodes = casts + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    onnx.checker.check_model(out)
    return out


def export_demo_pipeline(npz_path: Path, out_path: Path, summary: Optional[Dict[str, object]] = None,
                         model_name: str = "demo: FCN-8s width/8 on fcn_trt.scenes") -> Path:
    """The demo pipeline ONNX from the fp16 ``.npz``: weights -> :func:`build_engine.weights.load_weights`
    -> :func:`build_engine.fcn.build_fcn` -> pipeline (BGR uint8 frames in, labels out), with
    RGB ImageNet preprocessing and the scene classes/palette in the metadata, weights stored fp16
    (:func:`store_weights_fp16`). Deterministic: the same npz gives the same bytes."""
    import tempfile

    import onnx

    from fcn_trt.metadata import read_model_metadata, write_model_metadata

    from ..pipeline import export_fcn_pipeline, save_model

    with tempfile.TemporaryDirectory() as d:
        tmp = export_fcn_pipeline(
            Path(d) / "pipeline.onnx", "fcn8s", scenes.NUM_CLASSES, None, weights=Path(npz_path),
            class_names=scenes.CLASS_NAMES, palette=scenes.PALETTE, input_format="bgr",
            channel_order=PREPROCESSING["channel_order"], mean=PREPROCESSING["mean"], std=PREPROCESSING["std"],
            model_name=model_name,
        )
        model = onnx.load(str(tmp))
    model = store_weights_fp16(model)
    meta = read_model_metadata(model, str(out_path))
    extra = dict(meta.extra)
    extra.update({"weight_storage": "float16 initializers + Cast (fp32 compute)",
                  "dataset": "fcn_trt.scenes procedural scenes", "model_card": "DEMO_MODEL_CARD.md"})
    if summary:
        extra["training"] = {k: summary[k] for k in ("seed", "steps", "frames_seen", "wall_time_s") if k in summary}
    write_model_metadata(model, meta.replace(extra=extra))
    return save_model(model, out_path)


def _parse_sizes(text: str) -> List[Tuple[int, int, int]]:
    """"4x240x320,2x360x480" -> [(4, 240, 320), (2, 360, 480)] (batch x H x W)."""
    out = []
    for part in text.split(","):
        b, h, w = (int(v) for v in part.lower().split("x"))
        out.append((b, h, w))
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m build_engine.training.train_demo", description=__doc__.split("\n")[0])
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
    a = p.parse_args(argv)
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
