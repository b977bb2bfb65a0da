"""Accuracy cost of FP16 and INT8 pipeline graphs, measured with ONNX Runtime on a CPU.

For each model: the fp32 pipeline, its fp16 version (``to_fp16_pipeline``) and its int8 Q/DQ
version (``quantize_pipeline`` calibrated on generated frames), all run by ONNX Runtime on
*held-out* generated frames (procedural scenes, seeds disjoint from calibration and from the demo
model's training/validation seeds), compared with :func:`build_engine.compare.compare_models`
against the fp32 labels and the scenes' exact ground truth. Writes a markdown table.

Usage::

    python -m benchmarks.bench_precision --canonical --size 128x128 \
        --calib-frames 16 --eval-frames 16 --keep-float 'score_*' 'upscore*' \
        --out benchmarks/results/precision.md
    python -m benchmarks.bench_precision --model fcn_trt/models/demo.onnx --size 240x320 ...

Every fp16 number here is ONNX Runtime CPU: fp16 *storage* of weights and activations, not fp16
arithmetic (no fp16 Conv kernel; ORT casts to fp32 around each node). INT8 on ORT CPU runs real
int8 convolutions (QLinearConv fusion), but TensorRT's int8 kernels may round differently.
"""

from __future__ import annotations

import argparse
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CALIB_SEED_BASE = 6_000_000  # neither the demo's training (10_000_000+) nor validation (5_000_000+) seeds
EVAL_SEED_BASE = 7_000_000


def _write_frames(folder: Path, seeds, size, with_labels: bool):
    """Generated scenes as a folder of PNGs (calibration) or a VOC root with labels (evaluation)."""
    import cv2

    from fcn_trt.streaming import scenes
    from fcn_trt.eval.voc import write_split, write_voc_sample

    ids = []
    for s in seeds:
        f = scenes.generate_frame(s, size)
        if with_labels:
            write_voc_sample(folder, f"scene_{s}", f.image, f.labels)
            ids.append(f"scene_{s}")
        else:
            folder.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(folder / f"scene_{s}.png"), f.image)
    if with_labels:
        write_split(folder, "val", ids)
    return folder


def _time_per_frame(path: Path, frames, threads: int) -> float:
    from fcn_trt import Segmenter

    with Segmenter(path, threads=threads) as seg:
        seg.run(frames[0])
        t0 = time.perf_counter()
        for f in frames[:4]:
            seg.run(f)
        return (time.perf_counter() - t0) * 1e3 / min(4, len(frames))


def _label_stats(path: Path, frames, threads: int):
    """Majority-class share and number of distinct labels of the fp32 model (is the test meaningful?)."""
    from fcn_trt import Segmenter

    with Segmenter(path, threads=threads) as seg:
        labels = np.concatenate([seg.run(f).labels.ravel() for f in frames])
    counts = np.bincount(labels)
    return counts.max() / counts.sum(), int((counts > 0).sum())


def centred_random_pipeline(out: Path, num_classes: int, width_divisor: int, calib_frames, threads: int) -> Path:
    """Canonical-topology FCN-8s with random (He) weights whose class scores are centred.

    With random weights one class's score dominates everywhere (ReLU features have a positive
    mean), so the arg-max is constant and any precision "agrees" trivially. Subtracting each class's
    mean score over the *calibration* frames from ``score_pool3.bias`` (the bilinear upsampling
    passes a constant shift through unchanged) makes the arg-max follow the image content, which
    is what a perturbation test needs. The weights are still random: the labels mean nothing.
    """
    import onnxruntime as ort

    from build_engine.fcn import random_fcn_weights
    from build_engine.pipeline import export_fcn_pipeline
    from fcn_trt.streaming import scenes

    weights = random_fcn_weights("fcn8s", num_classes, width_divisor, seed=0)
    kw = dict(class_names=scenes.CLASS_NAMES, palette=scenes.PALETTE)
    probe = export_fcn_pipeline(out.with_name("probe.onnx"), "fcn8s", num_classes, width_divisor, weights,
                                outputs=("labels", "logits"), **kw)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    sess = ort.InferenceSession(str(probe), opts, providers=["CPUExecutionProvider"])
    means = np.mean([sess.run(["logits"], {"frame": f[None]})[0].mean(axis=(0, 2, 3)) for f in calib_frames], axis=0)
    del sess
    probe.unlink()
    weights["score_pool3.bias"] = (weights["score_pool3.bias"] - means).astype(np.float32)
    return export_fcn_pipeline(out, "fcn8s", num_classes, width_divisor, weights, **kw)


def bench_model(name: str, fp32: Path, work: Path, args) -> dict:
    from build_engine.calibration import load_eval_data
    from build_engine.compare import compare_models
    from build_engine.precision import to_fp16_pipeline
    from build_engine.quantize import QuantizeConfig, quantize_pipeline

    size = args.size
    calib_dir = _write_frames(work / "calib", range(CALIB_SEED_BASE, CALIB_SEED_BASE + args.calib_frames), size, False)
    eval_root = _write_frames(work / "eval", range(EVAL_SEED_BASE, EVAL_SEED_BASE + args.eval_frames), size, True)
    fp16 = work / f"{name}.fp16.onnx"
    int8 = work / f"{name}.int8.onnx"
    t0 = time.perf_counter()
    to_fp16_pipeline(fp32, fp16)
    t_fp16 = time.perf_counter() - t0
    t0 = time.perf_counter()
    quantize_pipeline(fp32, int8, calib_dir, QuantizeConfig(method=args.method, num_frames=args.calib_frames,
                                                           size=size, use_cache=False),
                      show_progress=False)
    t_int8 = time.perf_counter() - t0
    data = load_eval_data(eval_root, split="val", show_progress=False)
    opts = {"threads": args.threads}
    r16 = compare_models(fp32, fp16, data.frames, data.labels, backend_options=opts)
    r8 = compare_models(fp32, int8, data.frames, data.labels, backend_options=opts)
    r8k = None
    if args.keep_float:
        int8k = work / f"{name}.int8k.onnx"
        quantize_pipeline(fp32, int8k, calib_dir, QuantizeConfig(method=args.method, num_frames=args.calib_frames,
                                                                 size=size, use_cache=False,
                                                                 keep_float=tuple(args.keep_float)),
                          show_progress=False)
        r8k = compare_models(fp32, int8k, data.frames, data.labels, backend_options=opts)
    majority, distinct = _label_stats(fp32, data.frames, args.threads)
    ms = {k: _time_per_frame(p, data.frames, args.threads) for k, p in (("fp32", fp32), ("fp16", fp16), ("int8", int8))}
    return {"name": name, "r16": r16, "r8": r8, "r8k": r8k, "majority": majority, "distinct": distinct, "ms": ms,
            "t_fp16": t_fp16, "t_int8": t_int8}


def _fmt(r) -> str:
    miou = f"{100 * r.mean_iu_a:.2f} / {100 * r.mean_iu_b:.2f} ({-r.miou_drop:+.2f})" if r.mean_iu_a is not None else "-"
    return (f"{100 * r.agreement:.3f} | {miou} | {100 * r.boundary_error:.3f} | {100 * r.interior_agreement:.3f} | "
            f"{'PASS' if r.passed else 'FAIL'}")


def write_markdown(results, args, out: Path, command: str) -> None:
    import onnxruntime

    lines = [
        "# Precision: accuracy cost of FP16 and INT8 pipeline graphs (ONNX Runtime, CPU)",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()} ({platform.processor() or 'cpu'}), "
        f"onnxruntime {onnxruntime.__version__}, {args.threads} threads. Command:",
        "",
        "```",
        command,
        "```",
        "",
        f"Held-out frames: {args.eval_frames} generated scenes ({args.size[0]}x{args.size[1]}, seeds "
        f"{EVAL_SEED_BASE}+), exact ground truth. INT8: `{args.method}` calibration on {args.calib_frames} other "
        f"generated frames (seeds {CALIB_SEED_BASE}+), symmetric int8, per-channel weights, Conv/ConvTranspose "
        "inputs only, pre/ and post/ in float. Budgets: FP16 >= 99.5 % agreement; INT8 >= 97 % agreement and "
        "<= 1.0 point mean-IU drop. Boundary error: disagreement within 3 px of a ground-truth or fp32-label "
        "boundary; interior: agreement outside that band.",
        "",
        "| model | precision | agreement % | mean IU fp32 / B (delta) | boundary err % | interior agr. % | gate |",
        "|---|---|---|---|---|---|---|",
    ]
    for res in results:
        lines.append(f"| {res['name']} | fp16 | {_fmt(res['r16'])} |")
        lines.append(f"| {res['name']} | int8 ({args.method}) | {_fmt(res['r8'])} |")
        if res["r8k"] is not None:
            lines.append(f"| {res['name']} | int8 ({args.method}), float: {' '.join(args.keep_float)} | "
                         f"{_fmt(res['r8k'])} |")
    lines += ["", "| model | fp32 majority-class share | distinct labels | ms/frame fp32 / fp16 / int8 (ORT CPU) | "
              "convert fp16 s | quantize s |", "|---|---|---|---|---|---|"]
    for res in results:
        ms = res["ms"]
        lines.append(f"| {res['name']} | {100 * res['majority']:.1f} % | {res['distinct']} | "
                     f"{ms['fp32']:.0f} / {ms['fp16']:.0f} / {ms['int8']:.0f} | {res['t_fp16']:.1f} | {res['t_int8']:.1f} |")
    lines += [
        "",
        "Notes:",
        "- FP16 numbers come from ONNX Runtime's CPU provider, which has no fp16 Conv kernel and casts to fp32 "
        "around each node: they measure fp16 *storage* of weights and activations, not fp16 arithmetic. "
        "TensorRT computes in fp16 on a GPU; check there with `fcn-trt selfcheck` / `build_engine compare`.",
        "- INT8 on ORT CPU runs int8 convolutions from the same Q/DQ graph TensorRT builds; TensorRT's kernels "
        "and fusions can round differently, so re-check on the device.",
        "- A random-weight model is not a meaningful mean-IU test: its labels do not follow the scene, so its "
        "mean IU against ground truth is near chance and the mean-IU delta mostly measures noise. Its "
        "agreement numbers are still a valid test of how much reduced precision perturbs the network's "
        "arg-max. Plain random FCN weights give a constant arg-max (one class wins everywhere, which would "
        "make any precision agree trivially), so the random model's class scores are centred on the "
        "calibration frames (see `centred_random_pipeline`); the majority-class share and distinct-label "
        "count show the fp32 labels are not constant.",
        "- ms/frame are single-frame latencies on a shared 2-core machine: indicative only.",
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")


def main(argv=None) -> int:
    from build_engine.calibration import parse_size

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--canonical", action="store_true", help="canonical-topology FCN-8s (width_divisor=1), random weights")
    p.add_argument("--width-divisor", type=int, default=1, help="with --canonical: channel divisor (1 = canonical)")
    p.add_argument("--model", action="append", default=[], help="an fp32 pipeline .onnx (or built-in name) to bench")
    p.add_argument("--size", type=parse_size, default=(128, 128), help="frame size HxW (default 128x128)")
    p.add_argument("--calib-frames", type=int, default=16)
    p.add_argument("--eval-frames", type=int, default=16)
    p.add_argument("--method", default="percentile", choices=("entropy", "percentile", "minmax"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--keep-float", nargs="+", default=[], metavar="PATTERN",
                   help="also bench an int8 graph with these network nodes left float (e.g. 'score_*' 'upscore*')")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/precision.md"))
    args = p.parse_args(argv)
    if not args.canonical and not args.model:
        p.error("pass --canonical and/or --model PATH")
    command = "python " + " ".join(shlex.quote(a) for a in ["-m", "benchmarks.bench_precision"] + list(sys.argv[1:] if argv is None else argv))
    results = []
    with tempfile.TemporaryDirectory(prefix="bench_precision.") as tmp:
        work = Path(tmp)
        if args.canonical:
            from fcn_trt.streaming import scenes

            calib = [scenes.generate_frame(s, args.size).image
                     for s in range(CALIB_SEED_BASE, CALIB_SEED_BASE + args.calib_frames)]
            fp32 = centred_random_pipeline(work / "canonical.onnx", scenes.NUM_CLASSES, args.width_divisor, calib,
                                           args.threads)
            (work / "canonical").mkdir()
            results.append(bench_model(f"FCN-8s canonical topology (width/{args.width_divisor}), random weights, "
                                       "centred scores", fp32, work / "canonical", args))
            print(f"canonical done: fp16 {100 * results[-1]['r16'].agreement:.3f} %, int8 "
                  f"{100 * results[-1]['r8'].agreement:.3f} %", file=sys.stderr)
        for i, m in enumerate(args.model):
            from fcn_trt.models import resolve_model

            path = resolve_model(m)
            (work / f"m{i}").mkdir()
            results.append(bench_model(f"{Path(path).name}", path, work / f"m{i}", args))
    write_markdown(results, args, args.out, command)
    print(args.out.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
