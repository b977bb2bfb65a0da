"""``fcn-trt selfcheck``: does TensorRT on this GPU give the labels ONNX Runtime gives?

It builds an engine from a pipeline ONNX (or loads a built one), runs the same frames through the
TensorRT backend and through ONNX Runtime (CPU), and reports the share of pixels whose labels agree
and the TensorRT latency (p50/p99 per frame, host to host: staging copy, H2D, compute, D2H). The
command exits non-zero when the agreement is below the budget (default 99.5%) and, in one line,
when there is no GPU.

Example::

    $ fcn-trt selfcheck fcn8s.onnx --frames 32 --size 480x640
    selfcheck: fcn8s.engine (TensorRT 10.3.0, Orin sm_87, fp32, CUDA graph on)
    label agreement: 99.98% (budget 99.50%), worst frame 99.91%
    TensorRT latency per frame: p50 21.4 ms, p99 23.0 ms; ONNX Runtime (CPU) p50 812.3 ms
    PASS

    >>> report = selfcheck("fcn8s.onnx", frames=8)               # doctest: +SKIP
    >>> report.passed, report.agreement                           # doctest: +SKIP
    (True, 0.9998)
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .cli import parse_hw
from .errors import ConfigError, InputError, ModelFormatError, ModelNotFoundError
from .sources import read_image

__all__ = ["LatencyStats", "SelfcheckReport", "selfcheck", "latency_stats", "add_selfcheck_parser", "run_selfcheck_command"]

log = logging.getLogger(__name__)

ENGINE_SUFFIXES = (".engine", ".plan", ".trt")
DEFAULT_BUDGET = 0.995


@dataclasses.dataclass(frozen=True)
class LatencyStats:
    """Per-frame latency in milliseconds over ``count`` timed frames."""

    count: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    min_ms: float
    max_ms: float


def latency_stats(samples_ms: Sequence[float]) -> LatencyStats:
    """p50/p99/mean/min/max of a list of millisecond samples (linear interpolation percentiles)."""
    if len(samples_ms) == 0:
        raise InputError("latency samples", expected="at least one", found="none")
    a = np.asarray(samples_ms, dtype=np.float64)
    return LatencyStats(
        count=int(a.size),
        p50_ms=float(np.percentile(a, 50)),
        p99_ms=float(np.percentile(a, 99)),
        mean_ms=float(a.mean()),
        min_ms=float(a.min()),
        max_ms=float(a.max()),
    )


@dataclasses.dataclass(frozen=True)
class SelfcheckReport:
    """What :func:`selfcheck` measured.

    ``agreement`` is the share of all pixels (all frames) whose TensorRT label equals ONNX
    Runtime's; ``worst_frame_agreement`` the lowest per-frame share.
    """

    engine: str
    onnx: str
    frames: int
    frame_shape: Tuple[int, ...]
    agreement: float
    worst_frame_agreement: float
    budget: float
    tensorrt: LatencyStats
    onnxruntime: LatencyStats
    backend: Dict[str, str]
    built: bool

    @property
    def passed(self) -> bool:
        return self.agreement >= self.budget

    def summary(self) -> str:
        """Human-readable lines (what the CLI prints)."""
        b = self.backend
        return "\n".join(
            [
                "selfcheck: %s (TensorRT %s, %s, %s, CUDA graph %s)%s"
                % (
                    Path(self.engine).name,
                    b.get("version", "?"),
                    b.get("device", "?"),
                    b.get("precision", "?"),
                    b.get("cuda_graph", "?"),
                    " [built from %s]" % Path(self.onnx).name if self.built else "",
                ),
                "frames: %d of shape %s" % (self.frames, "x".join(str(d) for d in self.frame_shape)),
                "label agreement: %.3f%% (budget %.2f%%), worst frame %.3f%%"
                % (100 * self.agreement, 100 * self.budget, 100 * self.worst_frame_agreement),
                "TensorRT latency per frame: p50 %.2f ms, p99 %.2f ms (mean %.2f, n=%d); ONNX Runtime (CPU) p50 %.1f ms"
                % (self.tensorrt.p50_ms, self.tensorrt.p99_ms, self.tensorrt.mean_ms, self.tensorrt.count, self.onnxruntime.p50_ms),
                "PASS" if self.passed else "FAIL: label agreement below the budget",
            ]
        )


def _make_frames(meta: Any, count: int, size: Tuple[int, int], seed: int, images: Sequence[Union[str, Path]]) -> List[np.ndarray]:
    """Batches of one frame each: the given images (BGR), else seeded random uint8 frames."""
    if images:
        return [np.ascontiguousarray(read_image(p, "--images (reading images)")[None]) for p in list(images)[:count]]
    h, w = size
    rng = np.random.default_rng(seed)
    if meta.input_format == "nv12":
        if h % 2 or w % 2:
            raise ConfigError("--size", expected="even H and W for nv12 input", found="%dx%d" % (h, w))
        shape: Tuple[int, ...] = (1, h * 3 // 2, w)
    else:
        shape = (1, h, w, 3)
    return [rng.integers(0, 256, size=shape, dtype=np.uint8) for _ in range(count)]


def _resolve_paths(model: Union[str, Path], onnx: Union[str, Path, None]) -> Tuple[Path, Optional[Path]]:
    """(model path, ONNX path for the reference) from the user's arguments."""
    path = Path(model)
    if not path.exists():
        try:
            from .models import resolve_model

            path = Path(resolve_model(str(model)))
        except (ImportError, AttributeError):
            pass
    if not path.is_file():
        raise ModelNotFoundError("model", expected="a pipeline .onnx or a TensorRT .engine file", found=str(model))
    if path.suffix.lower() == ".onnx":
        return path, path
    if path.suffix.lower() not in ENGINE_SUFFIXES:
        raise ModelFormatError(
            path.name, expected="a .onnx pipeline or a %s engine" % "/".join(ENGINE_SUFFIXES), found="suffix %r" % path.suffix
        )
    if onnx is not None:
        ref = Path(onnx)
    else:
        ref = path.with_suffix(".onnx")
        if not ref.is_file():
            raise ConfigError(
                "reference ONNX for %s" % path.name,
                expected="the pipeline .onnx the engine was built from",
                found="no --onnx and no %s" % ref.name,
                hint="pass --onnx MODEL.onnx",
            )
    if not ref.is_file():
        raise ModelNotFoundError("--onnx", expected="an existing .onnx file", found=str(ref))
    return path, ref


def _build(onnx_path: Path, engine_out: Optional[Path], precision: Optional[str], size: Tuple[int, int], device: int,
           workdir: Path) -> Path:
    """Build an engine with build_engine.trt_builder (offline tooling, imported lazily).

    The profile is the builder's default widened to hold ``size`` (its optimum).
    """
    try:
        from build_engine.trt_builder import BuildConfig, build_engine  # type: ignore[import-not-found]
    except ImportError:
        raise ConfigError(
            "selfcheck from an ONNX model",
            expected="the build_engine tools (installed with the fcn-trt source)",
            found="build_engine.trt_builder is not importable",
            hint="build the engine with `python -m build_engine build MODEL.onnx --out MODEL.engine`, "
            "then run `fcn-trt selfcheck MODEL.engine --onnx MODEL.onnx`",
        ) from None
    out = engine_out or workdir / (onnx_path.stem + ".engine")
    default = BuildConfig()
    hw = (1,) + tuple(size)
    config = BuildConfig(
        precision=precision,
        min_shape=tuple(min(a, b) for a, b in zip(default.min_shape, hw)),
        opt_shape=hw,
        max_shape=tuple(max(a, b) for a, b in zip(default.max_shape, hw)),
        device=device,
    )
    return Path(build_engine(onnx_path, out, config))


def _time_ms(fn: Any, frame: np.ndarray) -> Tuple[Dict[str, np.ndarray], float]:
    t0 = time.perf_counter()
    out = fn(frame)
    return out, (time.perf_counter() - t0) * 1e3


def selfcheck(
    model: Union[str, Path],
    frames: int = 32,
    precision: Optional[str] = None,
    *,
    onnx: Union[str, Path, None] = None,
    size: Tuple[int, int] = (480, 640),
    images: Sequence[Union[str, Path]] = (),
    budget: float = DEFAULT_BUDGET,
    warmup: int = 3,
    engine_out: Union[str, Path, None] = None,
    device: int = 0,
    cuda_graph: bool = True,
    seed: int = 0,
) -> SelfcheckReport:
    """Compare TensorRT with ONNX Runtime on the same frames; see the module docstring.

    Args:
        model: a pipeline ``.onnx`` (an engine is built from it, into ``engine_out`` or a temporary
            folder) or an engine file (then ``onnx`` or a sibling ``<stem>.onnx`` is the reference).
        frames: number of frames compared and timed (batch 1 each).
        precision: expected precision ("fp32"/"fp16"/"int8"; None = whatever the graph/engine is):
            passed to the builder for an ONNX, checked against the sidecar for an engine.
        size: (H, W) of the random frames (ignored when ``images`` are given).
        budget: minimum label agreement (0..1) for :attr:`SelfcheckReport.passed`.

    Raises:
        NoCudaDeviceError: no GPU; BackendUnavailableError: tensorrt / cuda-python / onnxruntime
        missing; EngineError subclasses for unusable engines.
    """
    if frames < 1:
        raise ConfigError("frames", expected="at least 1", found=str(frames))
    if not 0.0 < budget <= 1.0:
        raise ConfigError("budget", expected="a share in (0, 1], e.g. 0.995", found=str(budget))
    path, ref = _resolve_paths(model, onnx)
    from .cuda import cuda_device_info

    cuda_device_info(device)  # no GPU: one NoCudaDeviceError line before any TensorRT or build work
    from .backends.onnxruntime import OnnxRuntimeBackend

    with tempfile.TemporaryDirectory(prefix="fcn_trt_selfcheck_") as tmp:
        built = path.suffix.lower() == ".onnx"
        engine = (
            _build(path, Path(engine_out) if engine_out else None, precision, size, device, Path(tmp)) if built else path
        )
        from .backends.tensorrt import TensorRTBackend

        ort = OnnxRuntimeBackend(ref, providers="CPUExecutionProvider")
        try:
            with TensorRTBackend(engine, device=device, cuda_graph=cuda_graph, precision=precision) as trt:
                batches = _make_frames(trt.metadata, frames, size, seed, images)
                for f in batches[: max(0, warmup)]:
                    trt.infer(f)
                trt_ms: List[float] = []
                ort_ms: List[float] = []
                same = total = 0
                worst = 1.0
                for f in batches:
                    out_trt, ms = _time_ms(trt.infer, f)
                    trt_ms.append(ms)
                    out_ort, ms = _time_ms(ort.infer, f)
                    ort_ms.append(ms)
                    a, b = out_trt["labels"], out_ort["labels"]
                    if a.shape != b.shape:
                        raise ModelFormatError(
                            "labels of %s vs %s" % (Path(engine).name, ref.name),
                            expected="the same shape", found="%s vs %s" % (a.shape, b.shape),
                            hint="pass the ONNX the engine was built from (--onnx)",
                        )
                    eq = int(np.count_nonzero(a == b))
                    same += eq
                    total += a.size
                    worst = min(worst, eq / max(1, a.size))
                backend_info = trt.describe()
        finally:
            ort.close()
    return SelfcheckReport(
        engine=str(engine),
        onnx=str(ref),
        frames=len(batches),
        frame_shape=tuple(int(d) for d in batches[0].shape),
        agreement=same / max(1, total),
        worst_frame_agreement=worst,
        budget=float(budget),
        tensorrt=latency_stats(trt_ms),
        onnxruntime=latency_stats(ort_ms),
        backend=backend_info,
        built=built,
    )


# --- CLI --------------------------------------------------------------------------------------------
def add_selfcheck_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``fcn-trt selfcheck`` to an argparse subparsers object (handler: :func:`run_selfcheck_command`)."""
    p = subparsers.add_parser(
        "selfcheck",
        help="check TensorRT against ONNX Runtime on this GPU (label agreement, latency)",
        description="Build (from a pipeline .onnx) or load (.engine) a TensorRT engine, run the same frames "
        "through TensorRT and ONNX Runtime, print label agreement and TensorRT latency p50/p99. "
        "Exits 1 when the agreement is below the budget.",
    )
    p.add_argument("model", help="pipeline .onnx (an engine is built from it) or TensorRT .engine")
    p.add_argument("--onnx", default=None, help="reference ONNX for an engine (default: <engine stem>.onnx)")
    p.add_argument("--frames", type=int, default=32, help="frames to compare and time (default 32)")
    p.add_argument("--size", default="480x640", help="HxW of the random frames (default 480x640)")
    p.add_argument("--images", nargs="*", default=(), metavar="IMAGE", help="use these images instead of random frames")
    p.add_argument(
        "--precision", choices=("fp32", "fp16", "int8"), default=None,
        help="expected precision of the graph/engine (default: whatever it is)",
    )
    p.add_argument("--budget", type=float, default=DEFAULT_BUDGET, help="minimum label agreement, 0..1 (default 0.995)")
    p.add_argument("--warmup", type=int, default=3, help="untimed warm-up frames (default 3)")
    p.add_argument("--engine-out", default=None, help="keep the built engine here (default: temporary)")
    p.add_argument("--device", type=int, default=0, help="CUDA device index")
    p.add_argument("--no-cuda-graph", action="store_true", help="plain enqueue instead of CUDA graph replay")
    p.add_argument("--seed", type=int, default=0, help="seed of the random frames")
    p.set_defaults(func=run_selfcheck_command)
    return p


def run_selfcheck_command(args: argparse.Namespace) -> int:
    """Handler of ``fcn-trt selfcheck``: prints the summary; 0 on PASS, 1 on FAIL.

    Errors (no GPU, missing packages, bad engine) propagate as FcnTrtError: the CLI prints them
    in one line and exits with their code.
    """
    report = selfcheck(
        args.model,
        frames=args.frames,
        precision=args.precision,
        onnx=args.onnx,
        size=parse_hw(args.size),
        images=args.images or (),
        budget=args.budget,
        warmup=args.warmup,
        engine_out=args.engine_out,
        device=args.device,
        cuda_graph=not args.no_cuda_graph,
        seed=args.seed,
    )
    print(report.summary())
    return 0 if report.passed else 1
