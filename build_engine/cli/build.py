"""``python -m build_engine build MODEL.onnx --out MODEL.engine`` (:func:`build_engine.trt_builder.build_pipeline_engine`)."""

from __future__ import annotations

import argparse
from typing import Any

from fcn_trt.backends import _trt as compat
from fcn_trt.cli.args import add_command, add_progress_argument
from fcn_trt.sidecar import read_sidecar

from ..cli_args import add_trt_check_arguments
from ..trt_builder import PIPELINE_INPUT, PRECISIONS, BuildConfig, build_pipeline_engine, parse_nhw


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """``build MODEL.onnx --out MODEL.engine [options]`` subcommand (handler: :func:`command`)."""
    p = add_command(subparsers, "build", command,
                    "build a TensorRT engine (+ .json sidecar) from a pipeline .onnx, on the target GPU",
                    "Build a TensorRT engine from a pipeline ONNX graph on this machine's GPU. "
                    "--precision fp16/int8 converts an fp32 graph first (written next to --out; int8 calibrates on --calib), "
                    "so the graph can be made on a CPU and built on the GPU.")
    p.add_argument("model", help="pipeline .onnx (from `python -m build_engine export`)")
    p.add_argument("--out", help="engine file to write (default: MODEL with suffix .engine)")
    p.add_argument("--precision", choices=PRECISIONS, help="engine precision (default: the graph's)")
    p.add_argument("--calib", metavar="SRC", help="with --precision int8 on an fp32 graph: calibration frames "
                   "(folder of images, video, VOC root); default method of `build_engine quantize`")
    d = BuildConfig()
    p.add_argument("--min", default="x".join(map(str, d.min_shape)), help="smallest NxHxW frame (default %(default)s)")
    p.add_argument("--opt", default="x".join(map(str, d.opt_shape)), help="NxHxW to tune for (default %(default)s)")
    p.add_argument("--max", default="x".join(map(str, d.max_shape)), help="largest NxHxW frame (default %(default)s)")
    p.add_argument("--workspace", type=int, metavar="MIB", help="workspace memory pool limit in MiB")
    p.add_argument("--optimization-level", type=int, choices=range(6), metavar="0-5",
                   help="builder optimization level (TensorRT default 3; higher builds longer)")
    p.add_argument("--timing-cache", metavar="FILE", help="load/save tactic timings here (faster rebuilds)")
    p.add_argument("--dla-core", type=int, metavar="N",
                   help="build for DLA core N (Jetson Xavier/Orin; not TensorRT 11.0-11.4.0), fp16/int8 graphs only; "
                   "DLA needs a static profile: min = opt = max = --opt, so frames must have exactly that shape")
    p.add_argument("--no-gpu-fallback", action="store_true",
                   help="with --dla-core: refuse layers DLA cannot run instead of running them on the GPU")
    p.add_argument("--hardware-compatibility", choices=sorted(compat.HARDWARE_COMPATIBILITY_LEVELS),
                   help="engine portable across GPUs (where this TensorRT supports it)")
    p.add_argument("--version-compatible", action="store_true",
                   help="engine loadable by later TensorRT releases of the same major version")
    p.add_argument("--exclude-lean-runtime", action="store_true", help="with --version-compatible")
    p.add_argument("--device", type=int, default=0, help="CUDA device index (default 0)")
    add_progress_argument(p)
    add_trt_check_arguments(p, multiple=False)
    return p


def config_from_args(args: argparse.Namespace) -> BuildConfig:
    """The :class:`~build_engine.trt_builder.BuildConfig` the ``build`` options describe."""
    return BuildConfig(
        precision=args.precision,
        min_shape=parse_nhw(args.min, "--min"),
        opt_shape=parse_nhw(args.opt, "--opt"),
        max_shape=parse_nhw(args.max, "--max"),
        workspace_mib=args.workspace,
        optimization_level=args.optimization_level,
        timing_cache=args.timing_cache,
        dla_core=args.dla_core,
        gpu_fallback=not args.no_gpu_fallback,
        hardware_compatibility=args.hardware_compatibility,
        version_compatible=args.version_compatible,
        exclude_lean_runtime=args.exclude_lean_runtime,
        device=args.device,
        progress=not args.no_progress,
        verbose=bool(getattr(args, "verbose", False)),
        allow_trt_incompatible=args.allow_trt_incompatible,
    )


def command(args: argparse.Namespace) -> int:
    """Handler of ``python -m build_engine build``: :func:`build_pipeline_engine` plus printing."""
    config = config_from_args(args)
    report = build_pipeline_engine(args.model, args.out, config, calib=args.calib)
    print("\n".join(report.lines()))
    if config.dla_core is not None:
        info = read_sidecar(report.engine).engine
        layers = dict(info.build_flags).get("dla_layers") or {}
        prof = info.profiles.get(PIPELINE_INPUT, {})
        print("DLA core %d: %d layers on DLA, %d on the GPU (%s); static profile %s: frames must have exactly "
              "this shape" % (config.dla_core, len(layers.get("dla", [])), len(layers.get("gpu", [])),
                              ", ".join(layers.get("gpu", [])) or "none", "x".join(map(str, prof.get("opt", [])))))
    return 0
