"""CPU benchmark: the SDK (Segmenter.run on ONNX Runtime) against its baselines, in one run.

Same model, same frame, same machine, measurements interleaved round-robin in short loops (each
method called ``--block`` times in a row per turn, the first ``--discard`` calls untimed: see
``benchmarks._common.round_robin`` for why one-call interleaving of several ONNX Runtime sessions
measures the sessions' thread pools instead of the methods); medians and ratios:

* ``sdk``        ``Segmenter.run(frame)`` end to end (uint8 frame in, labels out; preprocessing and
                 argmax inside the graph).
* ``bare``       the bare network (cut out of the same pipeline graph) in a raw
                 ``onnxruntime.InferenceSession``, fed the already-preprocessed float input; only
                 ``session.run`` is timed. SDK / bare is the SDK's overhead (acceptance: <= 1.10).
* ``hand``       what a user writes by hand: (cv2 resize if the model has an inference size) + numpy
                 float conversion, mean/std, transpose + the bare session + numpy argmax (+ cv2
                 nearest resize back). Timed end to end. The SDK must beat it.
* ``opencv_dnn`` ``cv2.dnn.readNetFromONNX`` on the bare network (setInput + forward), or the error.
* ``torch``      PyTorch eager (build_engine.torch_fcn) with the same weights, fp32 only.

Precisions: fp32, and int8 (the Q/DQ graph of build_engine.quantize, calibrated on a few synthetic
frames: it measures speed, not accuracy) when that module is importable.

Example (from the repository root)::

    python -m benchmarks.bench_cpu --seconds 3 --out benchmarks/results/cpu.md
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from benchmarks._common import (
    RESULTS, argument_parser, benchmark_model, header, load, median, paired_ratio, parse_sizes, publish, reps_for,
    round_robin, synthetic_frame,
)

METHODS = ("sdk", "bare", "hand", "opencv_dnn", "torch")


def _ort(path: Path, threads: int):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    if threads:
        opts.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def split_bare(pipeline: Path, out: Path) -> Path:
    """The network part of a pipeline graph (same weights, Q/DQ included) as its own .onnx."""
    import onnx

    from build_engine.precision import split_pipeline

    _, bare, _ = split_pipeline(onnx.load(str(pipeline)))
    onnx.save(bare, str(out))
    return out


def quantize(pipeline: Path, out: Path, h: int, w: int) -> Path:
    from build_engine.quantize import QuantizeConfig, quantize_pipeline

    calib = np.stack([synthetic_frame(h, w, seed=100 + i) for i in range(4)])
    return quantize_pipeline(pipeline, out, calib, QuantizeConfig(method="minmax", num_frames=4, chunk=4,
                                                                  use_cache=False), show_progress=False)


def preprocess(frame: np.ndarray, meta: Any) -> np.ndarray:
    """The pipeline's preprocessing in numpy (what ``hand`` does, and the bare net's input)."""
    import cv2

    x = frame
    if meta.inference_size:
        x = cv2.resize(x, (meta.inference_size[1], meta.inference_size[0]), interpolation=cv2.INTER_LINEAR)
    if meta.input_format != meta.channel_order:
        x = cv2.cvtColor(x, cv2.COLOR_BGR2RGB)
    x = (x.astype(np.float32) - np.asarray(meta.mean, np.float32)) / np.asarray(meta.std, np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def torch_runner(bare_path: Path, meta: Any, x: np.ndarray, threads: int) -> Callable[[], Any]:
    import onnx
    import torch
    from onnx import numpy_helper

    from build_engine.training.torch_fcn import build_torch_fcn

    if threads:
        torch.set_num_threads(threads)
    model = build_torch_fcn(meta.variant if meta.variant != "custom" else "fcn8s", meta.num_classes, meta.width_divisor)
    # names are "net/<pytorch-fcn name>" (+ "/fp16" where the weights are stored in fp16 behind a Cast)
    inits = {t.name.replace("/fp16", "").split("/")[-1]: numpy_helper.to_array(t)
             for t in onnx.load(str(bare_path)).graph.initializer}
    state = {k: torch.from_numpy(np.array(inits[k], dtype=np.float32)) for k in model.state_dict()}
    model.load_state_dict(state)
    model.eval()
    xt = torch.from_numpy(x)

    def run() -> Any:
        with torch.inference_mode():
            return model(xt)

    return run


def build_runners(pipeline: Path, bare_path: Path, frame: np.ndarray, precision: str, threads: int,
                  want: Tuple[str, ...]) -> Tuple[Dict[str, Callable[[], Any]], Dict[str, Callable[[], float]],
                                                  Dict[str, str], Any]:
    """Callables per method, the self-timing ones, errors of methods that cannot run, and the SDK."""
    import cv2

    import fcn_trt

    seg = fcn_trt.Segmenter(pipeline, threads=threads)
    meta = seg.metadata
    x = preprocess(frame, meta)
    bare = _ort(bare_path, threads)
    in_name, out_name = bare.get_inputs()[0].name, bare.get_outputs()[0].name
    h, w = frame.shape[:2]
    fns: Dict[str, Callable[[], Any]] = {}
    timers: Dict[str, Callable[[], float]] = {}
    errors: Dict[str, str] = {}

    # sanity: same model -> same labels (argmax of the bare logits vs the SDK's labels)
    ref = seg.run(frame).labels
    logits = bare.run([out_name], {in_name: x})[0]
    agree = float(np.mean(logits[0].argmax(0).astype(np.uint8) == ref)) if logits.shape[-2:] == ref.shape else None

    fns["sdk"] = lambda: seg.run(frame)

    def bare_once() -> float:
        t0 = time.perf_counter()
        bare.run([out_name], {in_name: x})
        return (time.perf_counter() - t0) * 1e3

    fns["bare"] = lambda: bare.run([out_name], {in_name: x})
    timers["bare"] = bare_once

    def hand() -> np.ndarray:
        xi = preprocess(frame, meta)
        lg = bare.run([out_name], {in_name: xi})[0]
        labels = lg[0].argmax(0).astype(np.uint8)
        if labels.shape != (h, w):
            labels = cv2.resize(labels, (w, h), interpolation=cv2.INTER_NEAREST)
        return labels

    fns["hand"] = hand
    if "opencv_dnn" in want:
        try:
            net = cv2.dnn.readNetFromONNX(str(bare_path))
            net.setInput(x)
            net.forward()

            def dnn() -> Any:
                net.setInput(x)
                return net.forward()

            fns["opencv_dnn"] = dnn
        except Exception as e:  # noqa: BLE001 - recorded as the result
            errors["opencv_dnn"] = f"{type(e).__name__}: {str(e).strip().splitlines()[-1][:200] if str(e).strip() else ''}"
    if "torch" in want:
        if precision != "fp32":
            errors["torch"] = "not run: PyTorch eager has no equivalent of the Q/DQ int8 graph"
        else:
            try:
                fns["torch"] = torch_runner(bare_path, meta, x, threads)
                fns["torch"]()
            except ImportError as e:
                errors["torch"] = f"not installed ({e})"
                fns.pop("torch", None)
    return {k: fns[k] for k in METHODS if k in fns and k in want}, timers, errors, (seg, agree)


def node_breakdown(seg: Any, frame: np.ndarray, runs: int = 3) -> Dict[str, float]:
    """Share of in-graph time per part of the SDK graph (ONNX Runtime per-node profiling):
    ``pre`` (cast/mean/transpose), ``net``, ``post`` (argmax/casts), ``layout`` (ORT's NCHWc reorders).

    Per-node kernel times do not include the scheduler's waits, so they are much less sensitive to
    other processes than wall-clock medians on a loaded machine."""
    from fcn_trt.tools.profiling import profile

    rep = profile(seg, size=frame.shape[:2], frames=1, warmup=0, layers=100000, layer_runs=runs, render=False,
                  show_progress=False)
    out: Dict[str, float] = {}
    for layer in rep.layers:
        part = layer.name.split("/")[0] if "/" in layer.name else ("layout" if layer.op_type.startswith("Reorder") else "other")
        out[part] = out.get(part, 0.0) + layer.mean_ms
    return out


def main(argv: Optional[List[str]] = None) -> int:
    ap = argument_parser(__doc__)
    ap.add_argument("--sizes", default="240x320,480x640,720x1280")
    ap.add_argument("--precisions", default="fp32,int8")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--seconds", type=float, default=3.0, help="time budget per configuration (interleaved rounds)")
    ap.add_argument("--core-seconds", type=float, default=20.0,
                    help="extra interleaved rounds of sdk/bare/hand only (the acceptance ratios), per configuration")
    ap.add_argument("--block", type=int, default=4,
                    help="calls of one method in a row per turn (a user's loop); 1 = strict one-call interleaving")
    ap.add_argument("--discard", type=int, default=1,
                    help="first calls of each turn run untimed (the switch from another session)")
    ap.add_argument("--no-breakdown", dest="breakdown", action="store_false",
                    help="skip the per-node profile of the SDK graph (pre / net / post shares)")
    ap.add_argument("--threads", type=int, default=0, help="intra-op threads for ORT and torch (0 = default)")
    ap.add_argument("--out", default=str(RESULTS / "cpu.md"), help="markdown section to write ('' = none)")
    args = ap.parse_args(argv)
    sizes = parse_sizes(args.sizes)
    want = tuple(m.strip() for m in args.methods.split(","))
    start_load = load()
    rows: List[Dict[str, Any]] = []
    notes: List[str] = []
    breakdown: List[str] = []
    with tempfile.TemporaryDirectory(prefix="fcn_trt_bench.") as tmp:
        work = Path(tmp)
        fp32, desc = benchmark_model(args.model, work)
        models: Dict[str, Path] = {"fp32": fp32}
        if "int8" in args.precisions:
            try:
                t0 = time.perf_counter()
                models["int8"] = quantize(fp32, work / "int8.onnx", *sizes[0])
                notes.append(f"int8: Q/DQ graph from build_engine.quantize (minmax, 4 synthetic frames at "
                             f"{sizes[0][0]}x{sizes[0][1]}; speed only), quantized in {time.perf_counter() - t0:.1f} s")
            except ImportError as e:
                notes.append(f"int8: not measured, build_engine.quantize unavailable ({e})")
        for prec in [p for p in args.precisions.split(",") if p in models]:
            bare_path = split_bare(models[prec], work / f"bare_{prec}.onnx")
            for h, w in sizes:
                frame = synthetic_frame(h, w)
                fns, timers, errors, (seg, agree) = build_runners(models[prec], bare_path, frame, prec, args.threads, want)
                try:
                    t0 = time.perf_counter()
                    for fn in fns.values():
                        fn()
                    round_ms = (time.perf_counter() - t0) * 1e3
                    loop = dict(block=args.block, discard=args.discard, gap_s=0.0 if args.block > 1 else 0.02)
                    reps = reps_for(args.seconds, round_ms * args.block, lo=2)
                    res = round_robin(fns, reps, warmup=1, timers=timers, **loop)
                    core = {k: fns[k] for k in ("sdk", "bare", "hand") if k in fns}
                    core_ms = sum(median(res[k]) for k in core) * args.block
                    extra = reps_for(args.core_seconds, core_ms, lo=0, hi=100) if args.core_seconds > 0 else 0
                    for k, v in round_robin(core, extra, warmup=0, timers=timers, **loop).items():
                        res[k] += v
                    parts = node_breakdown(seg, frame) if args.breakdown else {}
                finally:
                    seg.close()
                med = {k: median(v) for k, v in res.items()}
                kept = args.block - args.discard
                paired = {k: paired_ratio(res["sdk"], res[k], kept) for k in ("bare", "hand") if "sdk" in res and k in res}
                for m in METHODS:
                    if m in med:
                        rows.append({"size": f"{h}x{w}", "precision": prec, "method": m, "median_ms": med[m],
                                     "min_ms": float(np.min(res[m])),
                                     "p90_ms": float(np.percentile(res[m], 90)), "reps": len(res[m]),
                                     "vs_bare": med[m] / med["bare"] if "bare" in med else None,
                                     "vs_sdk": med[m] / med["sdk"] if "sdk" in med else None,
                                     "sdk_paired": paired.get(m)})
                    elif m in errors:
                        rows.append({"size": f"{h}x{w}", "precision": prec, "method": m, "error": errors[m]})
                print(f"{prec} {h}x{w}: " + ", ".join(f"{k} {v:.1f} ms" for k, v in med.items())
                      + (f"; SDK/bare {med['sdk'] / med['bare']:.3f}" if "sdk" in med and "bare" in med else "")
                      + (f"; SDK/hand {med['sdk'] / med['hand']:.3f}" if "sdk" in med and "hand" in med else "")
                      + (f"; label agreement SDK vs bare argmax {agree:.4f}" if agree is not None else ""), flush=True)
                if agree is not None:
                    rows.append({"size": f"{h}x{w}", "precision": prec, "method": "_agree", "agree": agree})
                if parts:
                    tot = sum(parts.values()) or 1.0
                    breakdown.append(f"- {prec} {h}x{w}: " + ", ".join(
                        f"{k} {v:.1f} ms ({100 * v / tot:.1f}%)" for k, v in sorted(parts.items(), key=lambda kv: -kv[1]))
                        + f"; pipeline nodes (pre + post) = {100 * (parts.get('pre', 0) + parts.get('post', 0)) / tot:.1f}% "
                        "of the in-graph time")
                    print(breakdown[-1], flush=True)
    lines = header("CPU: SDK vs baselines (ONNX Runtime)", [
        f"model: {desc}",
        f"budget per configuration: {args.seconds} s of rounds of every method + {args.core_seconds} s of extra "
        "rounds of sdk/bare/hand; methods interleaved round-robin (order alternating each round), 1 untimed "
        f"round first; each turn calls one method {args.block} times in a row (as a loop would) and keeps the "
        f"last {args.block - args.discard}; medians (and minima) over the kept calls",
        f"threads: {args.threads or 'ONNX Runtime / torch defaults (all cores)'}",
        f"load average at end (1/5/15 min): {load()}",
    ] + notes, start_load=start_load)
    lines += table(rows)
    if breakdown:
        lines += ["", "Where the SDK graph's time goes (ONNX Runtime per-node kernel times of the SDK pipeline graph, "
                  "mean of 3 profiled runs; `pre/` = uint8->float, mean/std, NHWC->NCHW; `post/` = ArgMax + casts; "
                  "`layout` = ORT's NCHWc reorders):", ""] + breakdown
    return publish(lines, args.out)


def _sdk_ratios(sdk: Dict[str, Any], other: Dict[str, Any]) -> Tuple[float, float, float]:
    """SDK / ``other``: paired (when recorded), ratio of medians, ratio of minima."""
    medians = sdk["median_ms"] / other["median_ms"]
    return other.get("sdk_paired") or medians, medians, sdk["min_ms"] / other["min_ms"]


def table(rows: List[Dict[str, Any]]) -> List[str]:
    out = ["| size | precision | method | median ms | min ms | p90 ms | calls | x bare (median) | x SDK (median) |",
           "|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if r["method"] == "_agree":
            continue
        if "error" in r:
            out.append(f"| {r['size']} | {r['precision']} | {r['method']} | n/a | | | | | {r['error']} |")
            continue
        vb = f"{r['vs_bare']:.3f}" if r["vs_bare"] is not None else ""
        vs = f"{r['vs_sdk']:.3f}" if r["vs_sdk"] is not None else ""
        out.append(f"| {r['size']} | {r['precision']} | {r['method']} | {r['median_ms']:.2f} | {r['min_ms']:.2f} | {r['p90_ms']:.2f} | "
                   f"{r['reps']} | {vb} | {vs} |")
    out.append("")
    acc = []
    for r in rows:
        if r["method"] == "sdk" and r.get("vs_bare") is not None:
            hand = next((x for x in rows if x["size"] == r["size"] and x["precision"] == r["precision"]
                         and x["method"] == "hand" and "median_ms" in x), None)
            agree = next((x["agree"] for x in rows if x["size"] == r["size"] and x["precision"] == r["precision"]
                          and x["method"] == "_agree"), None)
            bare = next(x for x in rows if x["size"] == r["size"] and x["precision"] == r["precision"]
                        and x["method"] == "bare")
            pb, mb, nb = _sdk_ratios(r, bare)
            acc.append(f"- {r['precision']} {r['size']}: SDK / bare = **{pb:.3f}** paired "
                       f"(ratio of medians {mb:.3f}, min/min {nb:.3f}) ({'PASS' if pb <= 1.10 else 'FAIL'} <= 1.10)")
            if hand:
                ph, mh, nh = _sdk_ratios(r, hand)
                acc[-1] += (f"; SDK / hand-written = **{ph:.3f}** paired (ratio of medians {mh:.3f}, min/min {nh:.3f}) "
                            f"({'SDK faster' if ph < 1 else 'SDK NOT faster'})")
            acc[-1] += (f"; labels SDK vs bare-net argmax agree on {100 * agree:.2f}% of pixels" if agree is not None else "")
    if acc:
        out += ["Acceptance (SDK end-to-end vs the bare network's session.run, and vs the hand-written pipeline). "
                "The verdict uses the paired ratio (`benchmarks._common.paired_ratio`: median over rounds of the "
                "ratio of the two loops' medians in that round), which cancels the slow stretches of a shared "
                "machine; the ratio of whole-run medians and of minima are shown next to it:", ""]
        out += acc
    return out


if __name__ == "__main__":
    raise SystemExit(main())
