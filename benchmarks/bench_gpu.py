"""GPU benchmark: the SDK on TensorRT against its baselines, in one run (needs an NVIDIA GPU).

Same engine, same frames, same machine, interleaved round-robin; medians and ratios:

* ``sdk``        ``Segmenter("x.engine").run(frame)`` end to end (uint8 frame in, uint8 labels out).
* ``bare_trt``   a bare loop on the SAME pipeline engine: copy the frame to pinned memory, H2D,
                 ``execute_async_v3``, D2H, stream synchronize; no validation, no result objects.
                 SDK / bare_trt is the SDK's host overhead.
* ``hand``       what users write without the in-graph pipeline: CPU preprocessing (numpy float,
                 mean/std, NCHW), an engine of the bare network (float in, float logits out), D2H of
                 all C x H x W float logits and a CPU ``argmax``.
* ``ort_cuda``   ONNX Runtime's CUDA execution provider on the pipeline graph (onnxruntime-gpu).

Precisions fp32 / fp16 / int8 (Q/DQ calibrated on a few synthetic frames: speed only), canonical
FCN-8s (VGG16 widths, random weights unless --model) at 500x500 and 720x1280. One engine per precision
and graph, with an optimization profile spanning the sizes.

Without a CUDA device (or without tensorrt / cuda-python) the script prints one line and exits 1;
with ``--out`` it writes a section saying "not measured".

Example (from the repository root)::

    python -m benchmarks.bench_gpu --out benchmarks/results/gpu.md
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from benchmarks._common import (
    RESULTS, argument_parser, header, load, median, parse_sizes, publish, reps_for, round_robin, synthetic_frame,
    write_markdown,
)

METHODS = ("sdk", "bare_trt", "hand", "ort_cuda")


def gpu_unavailable() -> Optional[str]:
    """None when a CUDA device, cuda-python and tensorrt are usable, else the reason."""
    from fcn_trt.errors import FcnTrtError

    try:
        from fcn_trt.backends._cuda import cuda_device_info

        cuda_device_info(0)
    except FcnTrtError as e:
        return str(e)
    try:
        import tensorrt  # noqa: F401
    except ImportError:
        return "the tensorrt Python package is not installed"
    return None


# --- models and engines ---------------------------------------------------------------------------
def export_models(model: Optional[str], work: Path, precisions: List[str], calib_hw: Tuple[int, int]) -> Dict[str, Path]:
    from build_engine.pipeline import export_fcn_pipeline
    from build_engine.precision import to_fp16_pipeline

    fp32 = Path(model) if model else export_fcn_pipeline(work / "fcn8s.onnx", "fcn8s", num_classes=21, width_divisor=1)
    out = {"fp32": fp32}
    if "fp16" in precisions:
        to_fp16_pipeline(fp32, work / "fcn8s.fp16.onnx")
        out["fp16"] = work / "fcn8s.fp16.onnx"
    if "int8" in precisions:
        from build_engine.quantize import QuantizeConfig, quantize_pipeline

        calib = np.stack([synthetic_frame(*calib_hw, seed=100 + i) for i in range(4)])
        out["int8"] = quantize_pipeline(fp32, work / "fcn8s.int8.onnx", calib,
                                        QuantizeConfig(method="minmax", num_frames=4, chunk=2, use_cache=False),
                                        show_progress=False)
    return out


def build_pipeline_engine(onnx_path: Path, out: Path, sizes: List[Tuple[int, int]]) -> Path:
    from build_engine.trt_builder import BuildConfig, build_engine

    hs, ws = [s[0] for s in sizes], [s[1] for s in sizes]
    lo, hi = (1, min(hs), min(ws)), (1, max(hs), max(ws))
    return build_engine(onnx_path, out, BuildConfig(min_shape=lo, opt_shape=hi, max_shape=hi, progress=False))


def build_bare_engine(trt: Any, bare_onnx: Path, sizes: List[Tuple[int, int]], precision: str) -> Tuple[Any, Any]:
    """Engine of the bare network (float NCHW in, logits out), built with the plain TensorRT API."""
    from fcn_trt.backends import _trt as compat

    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(compat.network_creation_flags(trt))
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(bare_onnx.read_bytes()):
        errs = "; ".join(compat.parser_error_text(trt, parser.get_error(i)) for i in range(parser.num_errors))
        raise RuntimeError(f"bare network did not parse: {errs}")
    name = network.get_input(0).name
    hs, ws = [s[0] for s in sizes], [s[1] for s in sizes]
    profile = builder.create_optimization_profile()
    profile.set_shape(name, (1, 3, min(hs), min(ws)), (1, 3, max(hs), max(ws)), (1, 3, max(hs), max(ws)))
    config = builder.create_builder_config()
    for flag in compat.precision_builder_flags(trt, precision):
        config.set_flag(flag)
    config.add_optimization_profile(profile)
    plan = builder.build_serialized_network(network, config)
    if plan is None:
        raise RuntimeError("TensorRT could not build the bare network")
    runtime = trt.Runtime(logger)
    engine = runtime.deserialize_cuda_engine(plan)
    return runtime, engine


def _np_dtype(trt: Any, dtype: Any) -> Any:
    for name, np_dtype in (("UINT8", np.uint8), ("FLOAT", np.float32), ("HALF", np.float16), ("INT8", np.int8),
                           ("INT32", np.int32), ("INT64", np.int64)):
        member = getattr(trt.DataType, name, None)
        if member is not None and dtype == member:
            return np.dtype(np_dtype)
    raise RuntimeError(f"unsupported TensorRT data type {dtype}")


class TrtLoop:
    """A minimal TensorRT loop: pinned staging, H2D, execute_async_v3, D2H, synchronize."""

    def __init__(self, trt: Any, engine: Any, in_shape: Tuple[int, ...], in_dtype: Any) -> None:
        from fcn_trt.backends._cuda import DeviceBuffer, PinnedBuffer, Stream

        self.ctx = engine.create_execution_context()
        names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
        self.inp = next(n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT)
        self.outs = [n for n in names if n != self.inp]
        self.ctx.set_input_shape(self.inp, in_shape)
        self.stream = Stream()
        nbytes = int(np.prod(in_shape)) * np.dtype(in_dtype).itemsize
        self.h_in, self.d_in = PinnedBuffer(nbytes, np.uint8), DeviceBuffer(nbytes)
        self.in_shape, self.in_dtype = in_shape, np.dtype(in_dtype)
        self.ctx.set_tensor_address(self.inp, self.d_in.ptr)
        self.h_out: Dict[str, Any] = {}
        self.d_out: Dict[str, Any] = {}
        self.out_meta: Dict[str, Tuple[Tuple[int, ...], Any]] = {}
        for n in self.outs:
            shape = tuple(int(d) for d in self.ctx.get_tensor_shape(n))
            dt = _np_dtype(trt, engine.get_tensor_dtype(n))
            nb = max(1, int(np.prod(shape))) * np.dtype(dt).itemsize
            self.h_out[n], self.d_out[n] = PinnedBuffer(nb, np.uint8), DeviceBuffer(nb)
            self.out_meta[n] = (shape, dt)
            self.ctx.set_tensor_address(n, self.d_out[n].ptr)

    def __call__(self, x: np.ndarray) -> Dict[str, np.ndarray]:
        np.copyto(self.h_in.view(self.in_shape, self.in_dtype), x, casting="no")
        self.d_in.copy_from_host_async(self.h_in, self.stream)
        if not self.ctx.execute_async_v3(self.stream.handle):
            raise RuntimeError("execute_async_v3 failed")
        for n in self.outs:
            self.d_out[n].copy_to_host_async(self.h_out[n], self.stream)
        self.stream.synchronize()
        return {n: self.h_out[n].view(*self.out_meta[n]) for n in self.outs}

    def close(self) -> None:
        for b in list(self.h_out.values()) + list(self.d_out.values()) + [self.h_in, self.d_in, self.stream]:
            b.close()
        self.ctx = None


def preprocess(frame: np.ndarray, meta: Any) -> np.ndarray:
    x = frame if meta.input_format == meta.channel_order else frame[..., ::-1]
    x = (x.astype(np.float32) - np.asarray(meta.mean, np.float32)) / np.asarray(meta.std, np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


# --- main -----------------------------------------------------------------------------------------
def main(argv: Optional[List[str]] = None) -> int:
    ap = argument_parser(__doc__, "fp32 pipeline .onnx (default: canonical FCN-8s, random weights)")
    ap.add_argument("--sizes", default="500x500,720x1280")
    ap.add_argument("--precisions", default="fp32,fp16,int8")
    ap.add_argument("--seconds", type=float, default=5.0, help="time budget per configuration")
    ap.add_argument("--out", help=f"markdown section to write (default when measured: {RESULTS / 'gpu.md'})")
    args = ap.parse_args(argv)
    start_load = load()
    reason = gpu_unavailable()
    if reason is not None:
        print(f"bench_gpu: not measured: no usable GPU ({reason})")
        if args.out:
            write_markdown(Path(args.out), header("GPU: SDK vs baselines (TensorRT)", start_load=start_load) + [
                "not measured: no GPU in this session (" + reason + ")."])
        return 1
    import tensorrt as trt

    import fcn_trt
    from build_engine.precision import split_pipeline
    import onnx

    sizes = parse_sizes(args.sizes)
    precisions = [p.strip() for p in args.precisions.split(",")]
    rows: List[Dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="fcn_trt_gpu_bench.") as tmp:
        work = Path(tmp)
        graphs = export_models(args.model, work, precisions, sizes[0])
        for prec in precisions:
            engine_path = build_pipeline_engine(graphs[prec], work / f"fcn8s.{prec}.engine", sizes)
            bare_onnx = work / f"bare.{prec}.onnx"
            onnx.save(split_pipeline(onnx.load(str(graphs[prec])))[1], str(bare_onnx))
            bare_runtime, bare_engine = build_bare_engine(trt, bare_onnx, sizes, prec)
            pipe_runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
            pipe_engine = pipe_runtime.deserialize_cuda_engine(engine_path.read_bytes())
            for h, w in sizes:
                frame = synthetic_frame(h, w)
                with fcn_trt.Segmenter(engine_path) as seg:
                    meta = seg.metadata
                    x = preprocess(frame, meta)
                    loop = TrtLoop(trt, pipe_engine, (1, h, w, 3), np.uint8)
                    hand_loop = TrtLoop(trt, bare_engine, tuple(x.shape), np.float32)
                    fns: Dict[str, Callable[[], Any]] = {
                        "sdk": lambda: seg.run(frame),
                        "bare_trt": lambda: loop(frame[None]),
                        "hand": lambda: next(iter(hand_loop(preprocess(frame, meta)).values()))[0].argmax(0).astype(np.uint8),
                    }
                    errors: Dict[str, str] = {}
                    try:
                        import onnxruntime as ort

                        if "CUDAExecutionProvider" in ort.get_available_providers():
                            sess = ort.InferenceSession(str(graphs[prec]), providers=["CUDAExecutionProvider"])
                            fns["ort_cuda"] = lambda: sess.run(None, {"frame": frame[None]})
                        else:
                            errors["ort_cuda"] = "not measured: onnxruntime-gpu (CUDAExecutionProvider) not installed"
                    except ImportError:
                        errors["ort_cuda"] = "not measured: onnxruntime not installed"
                    ref = seg.run(frame).labels
                    agree = float(np.mean(loop(frame[None])["labels"][0] == ref))
                    t0 = time.perf_counter()
                    for fn in fns.values():
                        fn()
                    res = round_robin(fns, reps_for(args.seconds, (time.perf_counter() - t0) * 1e3, lo=10, hi=200), warmup=3)
                    loop.close()
                    hand_loop.close()
                    graph_state = seg.backend.describe().get("cuda_graph", "?")
                med = {k: median(v) for k, v in res.items()}
                for m in METHODS:
                    if m in med:
                        rows.append({"size": f"{h}x{w}", "precision": prec, "method": m, "median_ms": med[m],
                                     "min_ms": float(np.min(res[m])), "reps": len(res[m]),
                                     "vs_bare": med[m] / med["bare_trt"], "vs_sdk": med[m] / med["sdk"]})
                    elif m in errors:
                        rows.append({"size": f"{h}x{w}", "precision": prec, "method": m, "error": errors[m]})
                print(f"{prec} {h}x{w}: " + ", ".join(f"{k} {v:.2f} ms" for k, v in med.items())
                      + f"; labels SDK vs bare loop agree {100 * agree:.2f}%; CUDA graph {graph_state}", flush=True)
            pipe_engine = bare_engine = None
            del pipe_runtime, bare_runtime
    from fcn_trt.tools.sysinfo import gpu_info, package_version

    gpu = gpu_info(0) or {}
    lines = header("GPU: SDK vs baselines (TensorRT)", [
        f"GPU: {gpu.get('gpu_name')} (sm {gpu.get('compute_capability')}), driver {gpu.get('driver_version')}, "
        f"CUDA runtime {gpu.get('cuda_runtime_version')}, TensorRT {package_version('tensorrt') or trt.__version__}",
        f"model: {args.model or 'canonical FCN-8s, 21 classes, random weights'}; engines with one profile "
        f"spanning {args.sizes}",
        f"budget: {args.seconds} s per configuration, interleaved round-robin; medians",
        f"load average at end: {load()}",
    ], start_load=start_load)
    lines += ["| size | precision | method | median ms | min ms | rounds | x bare_trt | x SDK |",
              "|---|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['size']} | {r['precision']} | {r['method']} | n/a | | | | {r['error']} |")
        else:
            lines.append(f"| {r['size']} | {r['precision']} | {r['method']} | {r['median_ms']:.3f} | {r['min_ms']:.3f} | "
                         f"{r['reps']} | {r['vs_bare']:.3f} | {r['vs_sdk']:.3f} |")
    return publish(lines, args.out or RESULTS / "gpu.md")


if __name__ == "__main__":
    raise SystemExit(main())
