"""Python pieces of the prepared GPU check (``benchmarks/gpu_check.sh``): one subcommand per step.

Each subcommand writes one JSON file and exits 0 when its step did what it measures, 10 when a
prerequisite is missing (no GPU, no cuda-python, no TensorRT...: the JSON says which), 1 on a
failure. ``env`` and ``summary`` use only the standard library, so they run on any Python; the
others import what they need lazily and say so when it is missing.

Subcommands::

    env       --out raw/env.json              machine facts: nvidia-smi, driver, CUDA, cuda-python,
                                              TensorRT, PyTorch, CuPy, ONNX Runtime versions
    cuda      --out raw/cuda.json [--quick]   cuda-python round trip through fcn_trt.backends._cuda: pinned ->
                                              device -> pinned, two streams ordered by an event,
                                              CUDA-graph replay, H2D/D2H bandwidth by CUDA events
    quantize  MODEL OUT [--frames N]          int8 Q/DQ graph calibrated on synthetic frames (used
                                              when no scene folder could be written, e.g. no OpenCV)
    ort       --graphs DIR --out raw/ort.json ONNX Runtime latency (CPU, and CUDA EP if installed)
                                              and fp16/int8 label agreement with fp32
    torch     --out raw/torch.json            canonical FCN-8s in PyTorch on the GPU (fp32, fp16):
                                              a GPU reference that needs no TensorRT
    overlap   --engine E --out raw/overlap.json  TensorRT backend: two frames in flight vs one
    summary   --out DIR                       summary.md + summary.json from steps.jsonl and raw/

Example::

    python benchmarks/gpu_check.py env --out gpu_check_out/raw/env.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

EXIT_OK, EXIT_FAILED, EXIT_MISSING = 0, 1, 10  # 10: no clash with fcn_trt exit codes 1-7


def _write(path: str, data: Dict[str, Any]) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def _missing(out: str, step: str, reason: str, **extra: Any) -> int:
    _write(out, dict({"step": step, "status": "missing prerequisite", "reason": reason}, **extra))
    print("%s: not run: %s" % (step, reason))
    return EXIT_MISSING


def _report(out: str, res: Dict[str, Any], line: str) -> int:
    """Write a step's ``res`` to ``out``, print it and the one-line ``line``; the exit status its ``status`` says."""
    _write(out, res)
    print(json.dumps(res, indent=1, default=str))
    print(line)
    return EXIT_OK if res["status"] == "ok" else EXIT_FAILED


def _median(values: List[float]) -> float:
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])


# --- env ------------------------------------------------------------------------------------------
def _try(fn: Any) -> Any:
    try:
        return fn()
    except BaseException as e:  # noqa: BLE001 - a fact we could not get is recorded, not fatal
        return "unavailable: %s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")


def _module_version(name: str) -> Any:
    import importlib

    def get() -> str:
        mod = importlib.import_module(name)
        return str(getattr(mod, "__version__", "installed (no __version__)"))

    return _try(get)


def cmd_env(args: argparse.Namespace) -> int:
    facts: Dict[str, Any] = {
        "python": sys.version.split()[0], "platform": platform.platform(), "machine": platform.machine(),
        "cpu_count": os.cpu_count(), "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    smi = shutil.which("nvidia-smi")
    facts["nvidia_smi"] = smi or "not found"
    if smi:
        q = "name,driver_version,memory.total,compute_cap,clocks.max.sm,power.limit"
        facts["nvidia_smi_query"] = _try(lambda: subprocess.run(
            [smi, "--query-gpu=" + q, "--format=csv,noheader"], capture_output=True, text=True, timeout=30
        ).stdout.strip().splitlines())
    for mod in ("numpy", "onnx", "onnxruntime", "torch", "cupy", "tensorrt", "cv2", "pytest"):
        facts["version_" + mod] = _module_version(mod)
    facts["version_cuda_python"] = _try(lambda: __import__("fcn_trt.backends._cuda", fromlist=["x"]).cuda_python_version())

    def cuda_facts() -> Dict[str, Any]:
        from fcn_trt.backends._cuda import cuda_device_info, cuda_runtime

        rt = cuda_runtime()
        out: Dict[str, Any] = {
            "cudaDriverGetVersion": int(rt.cudaDriverGetVersion()[1]),
            "cudaRuntimeGetVersion": int(rt.cudaRuntimeGetVersion()[1]),
        }
        info = cuda_device_info(0)
        out.update(name=info.name, compute_capability=info.compute_capability, total_memory=info.total_memory)
        return out

    facts["cuda_python_device"] = _try(cuda_facts)

    def torch_facts() -> Dict[str, Any]:
        import torch

        d: Dict[str, Any] = {"cuda_available": bool(torch.cuda.is_available()), "torch_cuda": torch.version.cuda}
        if d["cuda_available"]:
            d["device"] = torch.cuda.get_device_name(0)
            d["capability"] = "%d.%d" % torch.cuda.get_device_capability(0)
        return d

    facts["torch_device"] = _try(torch_facts)

    def cupy_facts() -> Dict[str, Any]:
        import cupy

        return {"runtime": int(cupy.cuda.runtime.runtimeGetVersion()), "driver": int(cupy.cuda.runtime.driverGetVersion()),
                "devices": int(cupy.cuda.runtime.getDeviceCount())}

    facts["cupy_device"] = _try(cupy_facts)
    facts["onnxruntime_providers"] = _try(lambda: __import__("onnxruntime").get_available_providers())
    facts["has_gpu"] = isinstance(facts["cuda_python_device"], dict) or (
        isinstance(facts["torch_device"], dict) and facts["torch_device"].get("cuda_available", False)) or (
        isinstance(facts["cupy_device"], dict) and facts["cupy_device"].get("devices", 0) > 0)
    facts["has_cuda_python_device"] = isinstance(facts["cuda_python_device"], dict)
    facts["has_tensorrt"] = not str(facts["version_tensorrt"]).startswith("unavailable")
    facts["has_torch_cuda"] = isinstance(facts["torch_device"], dict) and bool(facts["torch_device"].get("cuda_available"))
    for mod in ("onnx", "onnxruntime", "pytest", "cv2"):
        facts["has_" + mod] = not str(facts["version_" + mod]).startswith("unavailable")
    _write(args.out, facts)
    print(json.dumps({k: v for k, v in facts.items() if k.startswith("has_")}, sort_keys=True))
    return EXIT_OK


# --- cuda -----------------------------------------------------------------------------------------
def cmd_cuda(args: argparse.Namespace) -> int:
    try:
        import numpy as np

        from fcn_trt.backends import _cuda as cuda
        from fcn_trt.errors import FcnTrtError

        cuda.cuda_device_info(0)
    except (ImportError, FcnTrtError) as e:
        return _missing(args.out, "cuda", str(e))
    res: Dict[str, Any] = {"step": "cuda", "checks": {}, "bandwidth": []}
    ok = True
    with cuda.Stream() as s:
        n = 1 << 20
        with cuda.PinnedBuffer(n) as h, cuda.PinnedBuffer(n) as back, cuda.DeviceBuffer(n) as d:
            h.array[:] = np.arange(n, dtype=np.uint64).astype(np.uint8)
            d.copy_from_host_async(h, s)
            d.copy_to_host_async(back, s)
            s.synchronize()
            res["checks"]["round_trip_1MiB"] = bool(np.array_equal(h.array, back.array))
        # two streams ordered by an event: copy in on A, copy out on B after B waits for A's event
        with cuda.Stream() as b, cuda.Event() as ready, cuda.PinnedBuffer(n) as h, cuda.PinnedBuffer(n) as back, \
                cuda.DeviceBuffer(n) as d:
            good = True
            for value in range(1, 9):
                h.array[:] = value
                d.copy_from_host_async(h, s)
                ready.record(s)
                b.wait_event(ready)
                d.copy_to_host_async(back, b)
                b.synchronize()
                good = good and bool((back.array == value).all())
            res["checks"]["two_streams_event_order"] = good
        # CUDA graph capture + replay of two copies
        with cuda.PinnedBuffer(4096) as h, cuda.PinnedBuffer(4096) as back, cuda.DeviceBuffer(4096) as d:
            g = cuda.CudaGraph(s)
            try:
                g.begin()
                d.copy_from_host_async(h, s)
                d.copy_to_host_async(back, s)
                g.end()
                good = True
                for value in (3, 5):
                    h.array[:] = value
                    g.launch()
                    s.synchronize()
                    good = good and bool((back.array == value).all())
                res["checks"]["cuda_graph_replay"] = good
            except FcnTrtError as e:
                g.abort()
                res["checks"]["cuda_graph_replay"] = "capture failed: %s" % e
            finally:
                g.close()
        # bandwidth by CUDA events
        sizes = [1 << 20, 16 << 20] if args.quick else [1 << 20, 16 << 20, 64 << 20]
        for nbytes in sizes:
            with cuda.PinnedBuffer(nbytes) as h, cuda.DeviceBuffer(nbytes) as d, cuda.Event(timing=True) as e0, \
                    cuda.Event(timing=True) as e1, cuda.Event(timing=True) as e2:
                h2d, d2h = [], []
                for _ in range(5 if args.quick else 10):
                    e0.record(s)
                    d.copy_from_host_async(h, s)
                    e1.record(s)
                    d.copy_to_host_async(h, s)
                    e2.record(s)
                    e2.synchronize()
                    h2d.append(e1.elapsed_ms(e0))
                    d2h.append(e2.elapsed_ms(e1))
                res["bandwidth"].append({
                    "bytes": nbytes, "h2d_ms": _median(h2d), "d2h_ms": _median(d2h),
                    "h2d_GBps": nbytes / _median(h2d) / 1e6, "d2h_GBps": nbytes / _median(d2h) / 1e6,
                })
    ok = all(v is True for v in res["checks"].values() if isinstance(v, bool))
    res["status"] = "ok" if ok else "failed"
    return _report(args.out, res, "cuda: checks %s; H2D %.1f GB/s at %d MiB" % (
        res["checks"], res["bandwidth"][-1]["h2d_GBps"], res["bandwidth"][-1]["bytes"] >> 20))


# --- quantize (no OpenCV) -------------------------------------------------------------------------
def cmd_quantize(args: argparse.Namespace) -> int:
    import numpy as np

    from benchmarks._common import synthetic_frame
    from build_engine.quantize import QuantizeConfig, quantize_pipeline

    h, w = (int(v) for v in args.size.lower().split("x"))
    calib = np.stack([synthetic_frame(h, w, seed=100 + i) for i in range(args.frames)])
    quantize_pipeline(Path(args.model), Path(args.out), calib,
                      QuantizeConfig(method="minmax", num_frames=args.frames, chunk=2, use_cache=False),
                      show_progress=False)
    print("wrote %s (int8, calibrated on %d synthetic %s frames, minmax)" % (args.out, args.frames, args.size))
    return EXIT_OK


# --- ort ------------------------------------------------------------------------------------------
def cmd_ort(args: argparse.Namespace) -> int:
    try:
        import numpy as np
        import onnxruntime as ort
    except ImportError as e:
        return _missing(args.out, "ort", str(e))
    from benchmarks._common import synthetic_frame

    graphs = sorted(Path(args.graphs).glob("*.onnx"))
    scenes = _scene_frames(Path(args.scenes)) if args.scenes else []
    if not graphs:
        return _missing(args.out, "ort", "no pipeline graphs in %s (the graph steps failed)" % args.graphs)
    providers = ["CPUExecutionProvider"] + (
        ["CUDAExecutionProvider"] if "CUDAExecutionProvider" in ort.get_available_providers() else [])
    rows: List[Dict[str, Any]] = []
    reps = 3 if args.quick else 8
    agree_on = ("%d scene frames (%s)" % (len(scenes), args.scenes) if scenes
                else "one synthetic frame (no scene images readable: agreement is only indicative)")
    for provider in providers:
        labels: Dict[str, Dict[str, Any]] = {}
        for g in graphs:
            canonical = g.name.startswith("canon")
            if canonical and provider == "CPUExecutionProvider" and args.quick:
                continue
            size = (240, 320) if (canonical and provider == "CPUExecutionProvider") else (480, 640)
            frame = synthetic_frame(*size, seed=7)[None]
            try:
                opts = ort.SessionOptions()
                sess = ort.InferenceSession(str(g), opts, providers=[provider])
                sess.run(None, {"frame": frame})
                times = []
                for _ in range(reps):
                    t0 = time.perf_counter()
                    out = sess.run(None, {"frame": frame})
                    times.append((time.perf_counter() - t0) * 1e3)
                names = [o.name for o in sess.get_outputs()]
                if scenes:
                    out_labels = np.stack([dict(zip(names, sess.run(None, {"frame": f[None]})))["labels"][0]
                                           for f in scenes])
                else:
                    out_labels = dict(zip(names, out))["labels"]
                labels.setdefault(g.name.split(".")[0], {})[g.name] = out_labels
                rows.append({"graph": g.name, "provider": provider, "size": "%dx%d" % size,
                             "median_ms": _median(times), "reps": reps})
            except Exception as e:  # noqa: BLE001 - one graph failing must not hide the others
                rows.append({"graph": g.name, "provider": provider, "error": "%s: %s" % (type(e).__name__, e)})
        for family, outs in labels.items():
            ref = outs.get(family + ".onnx")
            for name, lab in outs.items():
                if ref is not None and name != family + ".onnx":
                    rows.append({"graph": name, "provider": provider, "agreement_vs_fp32": float(np.mean(lab == ref))})
    res = {"step": "ort", "providers": providers, "rows": rows, "status": "ok", "agreement_on": agree_on,
           "note": "CPU fp16 numbers are fp16 storage, not fp16 arithmetic (ONNX Runtime CPU inserts Casts)"}
    return _report(args.out, res, "ort: %d rows, providers %s, agreement on %s" % (len(rows), ", ".join(providers), agree_on))


def _scene_frames(root: Path, limit: int = 8) -> List[Any]:
    """Up to ``limit`` BGR frames from a scene folder written by ``build_engine.training.make_scenes`` (needs cv2)."""
    try:
        import cv2
    except ImportError:
        return []
    paths = sorted(root.rglob("*.jpg"))[:limit]
    frames = [cv2.imread(str(p), cv2.IMREAD_COLOR) for p in paths]
    return [f for f in frames if f is not None]


# --- torch ----------------------------------------------------------------------------------------
def cmd_torch(args: argparse.Namespace) -> int:
    try:
        import torch

        from build_engine.training.torch_fcn import build_torch_fcn
    except ImportError as e:
        return _missing(args.out, "torch", str(e))
    if not torch.cuda.is_available():
        return _missing(args.out, "torch", "torch.cuda.is_available() is False")
    dev = torch.device("cuda:0")
    net = build_torch_fcn("fcn8s", n_class=21, width_divisor=1).eval().to(dev)
    rows = []
    sizes = [(500, 500)] if args.quick else [(500, 500), (720, 1280)]
    for dtype in (torch.float32, torch.float16):
        model = net.to(dtype)
        for h, w in sizes:
            x = torch.randn(1, 3, h, w, device=dev, dtype=dtype)
            with torch.inference_mode():
                for _ in range(3):
                    model(x)
                torch.cuda.synchronize()
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                times = []
                for _ in range(5 if args.quick else 20):
                    start.record()
                    model(x)
                    end.record()
                    end.synchronize()
                    times.append(start.elapsed_time(end))
            rows.append({"dtype": str(dtype).replace("torch.", ""), "size": "%dx%d" % (h, w),
                         "median_ms": _median(times), "reps": len(times)})
    res = {"step": "torch", "device": torch.cuda.get_device_name(0), "torch": torch.__version__,
           "model": "canonical FCN-8s (VGG16 widths), random weights, bare network (no pre/post)",
           "rows": rows, "status": "ok"}
    return _report(args.out, res, "torch: " + "; ".join("%s %s %.2f ms" % (r["dtype"], r["size"], r["median_ms"]) for r in rows))


# --- overlap --------------------------------------------------------------------------------------
def cmd_overlap(args: argparse.Namespace) -> int:
    try:
        import numpy as np

        from benchmarks._common import synthetic_frame
        from fcn_trt.backends.tensorrt import TensorRTBackend
        from fcn_trt.errors import FcnTrtError
    except ImportError as e:
        return _missing(args.out, "overlap", str(e))
    n = 16 if args.quick else 64
    try:
        with TensorRTBackend(args.engine) as be:
            _, opt, _ = be.profile_shapes  # the shape the engine was tuned for
            h, w = int(opt[1]), int(opt[2])
            frames = [synthetic_frame(h, w, seed=i)[None] for i in range(8)]
            for f in frames:
                be.infer(f)
            t0 = time.perf_counter()
            serial = [be.infer(frames[i % 8])["labels"] for i in range(n)]
            t_serial = time.perf_counter() - t0
            stages = be.last_stage_timings
            t0 = time.perf_counter()
            tickets = []
            piped = []
            for i in range(n):
                tickets.append(be.submit(frames[i % 8]))
                if len(tickets) == 2:
                    piped.append(be.result(tickets.pop(0))["labels"])
            piped += [be.result(t)["labels"] for t in tickets]
            t_piped = time.perf_counter() - t0
            same = all(np.array_equal(a, b) for a, b in zip(serial, piped))
            res = {"step": "overlap", "engine": str(args.engine), "frame": "%dx%d" % (h, w), "frames": n,
                   "serial_fps": n / t_serial, "two_in_flight_fps": n / t_piped, "speedup": t_serial / t_piped,
                   "labels_identical": same, "last_stage_timings_ms": stages, "cuda_graph": be.describe()["cuda_graph"],
                   "status": "ok" if same else "failed"}
    except FcnTrtError as e:
        return _missing(args.out, "overlap", str(e))
    return _report(args.out, res, "overlap: serial %.1f fps, two in flight %.1f fps, labels identical %s" % (
        res["serial_fps"], res["two_in_flight_fps"], res["labels_identical"]))


# --- summary --------------------------------------------------------------------------------------
def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def cmd_summary(args: argparse.Namespace) -> int:
    out = Path(args.out)
    steps = []
    for line in (out / "steps.jsonl").read_text().splitlines() if (out / "steps.jsonl").is_file() else []:
        try:
            steps.append(json.loads(line))
        except ValueError:
            continue
    raw = {p.stem: _load(p) for p in sorted((out / "raw").glob("*.json"))}
    env = raw.get("env") or {}
    has_gpu, has_trt = bool(env.get("has_gpu")), bool(env.get("has_tensorrt"))
    lines = ["# GPU check", ""]
    lines.append("Written by `benchmarks/gpu_check.sh%s` at %s." % (" --quick" if args.quick else "", env.get("time_utc", "?")))
    lines.append("")
    verdict = []
    if not has_gpu:
        verdict.append("**no GPU**: no CUDA device was usable (see env below); every GPU step was skipped")
    if not has_trt:
        verdict.append("**no TensorRT**: the `tensorrt` module does not import (%s); engine builds, `pytest -m gpu` "
                       "TensorRT tests, `fcn-trt selfcheck`, the overlap check and `benchmarks.bench_gpu` could not "
                       "measure anything" % env.get("version_tensorrt", "?"))
    lines += ["- " + v for v in verdict] or ["- GPU and TensorRT present"]
    lines += ["", "## Environment", ""]
    for key in ("nvidia_smi_query", "cuda_python_device", "version_cuda_python", "version_tensorrt", "version_torch",
                "torch_device", "version_cupy", "cupy_device", "version_onnxruntime", "onnxruntime_providers",
                "version_onnx", "version_numpy", "python", "platform", "cpu_count"):
        if key in env:
            lines.append("- %s: `%s`" % (key, env[key]))
    lines += ["", "## Steps", "", "| step | status | seconds | needs | why it stopped / note |", "|---|---|---:|---|---|"]
    for s in steps:
        lines.append("| %s | %s | %s | %s | %s |" % (s.get("step"), s.get("status"), s.get("seconds", ""),
                                                  s.get("needs", ""), str(s.get("reason", "")).replace("|", "/")))
    trt_steps = [s["step"] for s in steps if "trt" in str(s.get("needs", "")).split(",")]
    lines += ["", "Steps that need TensorRT: %s." % (", ".join(trt_steps) or "none")]
    cuda_res = raw.get("cuda") or {}
    if cuda_res.get("bandwidth"):
        lines += ["", "## cuda-python round trip", "", "checks: `%s`" % cuda_res.get("checks"), "",
                  "| bytes | H2D ms | D2H ms | H2D GB/s | D2H GB/s |", "|---:|---:|---:|---:|---:|"]
        for b in cuda_res["bandwidth"]:
            lines.append("| %d | %.3f | %.3f | %.1f | %.1f |" % (b["bytes"], b["h2d_ms"], b["d2h_ms"], b["h2d_GBps"],
                                                                b["d2h_GBps"]))
    ort_res = raw.get("ort") or {}
    if ort_res.get("rows"):
        lines += ["", "## ONNX Runtime", "", ort_res.get("note", ""), "",
                  "Agreement measured on %s." % ort_res.get("agreement_on", "?"), "",
                  "| graph | provider | size | median ms | agreement vs fp32 | error |", "|---|---|---|---:|---:|---|"]
        for r in ort_res["rows"]:
            lines.append("| %s | %s | %s | %s | %s | %s |" % (
                r.get("graph"), r.get("provider"), r.get("size", ""),
                "%.2f" % r["median_ms"] if "median_ms" in r else "",
                "%.4f" % r["agreement_vs_fp32"] if "agreement_vs_fp32" in r else "", r.get("error", "")))
    torch_res = raw.get("torch") or {}
    if torch_res.get("rows"):
        lines += ["", "## PyTorch reference (%s, %s)" % (torch_res.get("device"), torch_res.get("model")), "",
                  "| dtype | size | median ms |", "|---|---|---:|"]
        lines += ["| %s | %s | %.2f |" % (r["dtype"], r["size"], r["median_ms"]) for r in torch_res["rows"]]
    ov = raw.get("overlap") or {}
    if "speedup" in ov:
        lines += ["", "## Two frames in flight (TensorRT backend)", "",
                  "%s frames %s: serial %.1f fps, two in flight %.1f fps (x%.2f), labels identical: %s; last stage "
                  "timings %s ms; CUDA graph %s" % (ov["frames"], ov["frame"], ov["serial_fps"], ov["two_in_flight_fps"],
                                                   ov["speedup"], ov["labels_identical"], ov["last_stage_timings_ms"],
                                                   ov["cuda_graph"])]
    if (out / "bench_gpu.md").is_file():
        lines += ["", "## benchmarks.bench_gpu", "", "See [bench_gpu.md](bench_gpu.md)."]
    lines += ["", "Logs of every step: `logs/`; raw numbers: `raw/`; graphs and engines: `work/` (not for committing)."]
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    summary = {"has_gpu": has_gpu, "has_tensorrt": has_trt, "steps": steps, "raw": raw}
    (out / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n")
    print("wrote %s and %s" % (out / "summary.md", out / "summary.json"))
    return EXIT_OK


def _step(sub: Any, name: str, func: Callable[[argparse.Namespace], int], *required: str, quick: bool = True,
          optional: Optional[Dict[str, str]] = None) -> None:
    """Subcommand ``name`` running ``func``: the ``required`` options, the ``optional`` ones (option: help),
    then ``--out DIR`` and (``quick``) ``--quick``."""
    p = sub.add_parser(name)
    for option in required:
        p.add_argument(option, required=True)
    for option, help in (optional or {}).items():
        p.add_argument(option, help=help)
    p.add_argument("--out", required=True)
    if quick:
        p.add_argument("--quick", action="store_true")
    p.set_defaults(func=func)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="benchmarks/gpu_check.py", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    _step(sub, "env", cmd_env, quick=False)
    _step(sub, "cuda", cmd_cuda)
    p = sub.add_parser("quantize")
    p.add_argument("model")
    p.add_argument("out")
    p.add_argument("--frames", type=int, default=8)
    p.add_argument("--size", default="240x320")
    p.set_defaults(func=cmd_quantize)
    _step(sub, "ort", cmd_ort, "--graphs", optional={"--scenes": "scene folder (make_scenes) to measure label agreement on"})
    _step(sub, "torch", cmd_torch)
    _step(sub, "overlap", cmd_overlap, "--engine")
    _step(sub, "summary", cmd_summary)
    args = ap.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
