"""CPU scaling: SDK latency vs frame pixels and vs batch size, with fitted slopes (np.polyfit).

Sizes (batch 1) and batch sizes (at one size) are interleaved round-robin; medians per point, then a
least-squares line: ms per megapixel (and the intercept: fixed cost per call), ms per extra frame.
FCN-8s pads its input by 100 pixels per side, so latency is affine in (H+198)(W+198) rather than in
H*W; both fits are reported.

Example (from the repository root)::

    python -m benchmarks.bench_scaling --seconds 4 --out benchmarks/results/scaling.md
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import numpy as np

from benchmarks._common import (
    RESULTS, argument_parser, benchmark_model, header, load, median, parse_sizes, publish, synthetic_frame, timed_sweep,
)


def fit(x: List[float], y: List[float]) -> Dict[str, float]:
    """Least-squares line y = slope * x + intercept, with R^2."""
    xa, ya = np.asarray(x, np.float64), np.asarray(y, np.float64)
    slope, intercept = np.polyfit(xa, ya, 1)
    pred = slope * xa + intercept
    ss_res = float(np.sum((ya - pred) ** 2))
    ss_tot = float(np.sum((ya - ya.mean()) ** 2)) or 1.0
    return {"slope": float(slope), "intercept": float(intercept), "r2": 1.0 - ss_res / ss_tot}


def main(argv: Optional[List[str]] = None) -> int:
    import fcn_trt

    ap = argument_parser(__doc__)
    ap.add_argument("--sizes", default="120x160,240x320,360x480,480x640")
    ap.add_argument("--batches", default="1,2,4")
    ap.add_argument("--batch-size", default="120x160", help="frame size of the batch sweep")
    ap.add_argument("--seconds", type=float, default=4.0, help="time budget per sweep")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--out", default=str(RESULTS / "scaling.md"))
    args = ap.parse_args(argv)
    sizes = parse_sizes(args.sizes)
    batches = [int(b) for b in args.batches.split(",")]
    (bh, bw), = parse_sizes(args.batch_size)
    start_load = load()
    with tempfile.TemporaryDirectory(prefix="fcn_trt_scaling.") as tmp:
        path, desc = benchmark_model(args.model, Path(tmp))
        with fcn_trt.Segmenter(path, threads=args.threads) as seg:
            meta = seg.metadata
            frames = {s: synthetic_frame(*s) for s in sizes}
            fns: Dict[str, Callable[[], Any]] = {f"{h}x{w}": (lambda f=frames[(h, w)]: seg.run(f)) for h, w in sizes}
            res = timed_sweep(fns, args.seconds)
            bframes = {n: [synthetic_frame(bh, bw, seed=i) for i in range(n)] for n in batches}
            bfns: Dict[str, Callable[[], Any]] = {str(n): (lambda fr=bframes[n]: seg.run_batch(fr)) for n in batches}
            bres = timed_sweep(bfns, args.seconds)
    mp = [h * w / 1e6 for h, w in sizes]
    mp_pad = [(h + 198) * (w + 198) / 1e6 for h, w in sizes]
    ms = [median(res[f"{h}x{w}"]) for h, w in sizes]
    bms = [median(bres[str(n)]) for n in batches]
    f_px, f_pad, f_b = fit(mp, ms), fit(mp_pad, ms), fit([float(n) for n in batches], bms)
    lines = header("CPU scaling: latency vs pixels and vs batch (SDK, ONNX Runtime)", [
        f"model: {desc}" + (f" (inference size {meta.inference_size}: the graph resizes)" if meta.inference_size else ""),
        f"budget: {args.seconds} s per sweep, points interleaved round-robin; medians",
        f"load average at end (1/5/15 min): {load()}",
    ], start_load=start_load)
    lines += ["| frame | megapixels | padded megapixels | median ms | rounds |", "|---|---:|---:|---:|---:|"]
    for (h, w), a, b, m in zip(sizes, mp, mp_pad, ms):
        lines.append(f"| {h}x{w} | {a:.4f} | {b:.4f} | {m:.2f} | {len(res[f'{h}x{w}'])} |")
    lines += ["", f"- fit vs megapixels: {f_px['slope']:.1f} ms/MP, intercept {f_px['intercept']:.1f} ms, R^2 {f_px['r2']:.3f}",
              f"- fit vs padded megapixels (H+198)(W+198): {f_pad['slope']:.1f} ms/MP, intercept "
              f"{f_pad['intercept']:.1f} ms, R^2 {f_pad['r2']:.3f}", ""]
    lines += [f"| batch at {bh}x{bw} | median ms per call | ms per frame | rounds |", "|---:|---:|---:|---:|"]
    for n, m in zip(batches, bms):
        lines.append(f"| {n} | {m:.2f} | {m / n:.2f} | {len(bres[str(n)])} |")
    lines += ["", f"- fit vs batch: {f_b['slope']:.2f} ms per extra frame, intercept {f_b['intercept']:.2f} ms per call, "
              f"R^2 {f_b['r2']:.3f}"]
    return publish(lines, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
