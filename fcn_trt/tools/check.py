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

import dataclasses
import logging
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .._imageio import read_image
from ..errors import ConfigError, ModelFormatError, ModelNotFoundError
from .latency import StageStats, stage_stats

__all__ = ["LatencyStats", "SelfcheckReport", "selfcheck", "latency_stats", "Builder", "DEFAULT_BUDGET"]

log = logging.getLogger(__name__)

ENGINE_SUFFIXES = (".engine", ".plan", ".trt")
DEFAULT_BUDGET = 0.995


@dataclasses.dataclass(frozen=True)
class LatencyStats:
    """Per-frame latency in milliseconds over ``count`` timed frames: the fields selfcheck reports of
    the tools' one latency computation (:func:`~fcn_trt.tools.latency.stage_stats`)."""

    count: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    min_ms: float
    max_ms: float


def latency_stats(samples_ms: Sequence[float]) -> LatencyStats:
    """p50/p99/mean/min/max of per-frame millisecond samples (linear-interpolation percentiles).

    Example:
        >>> latency_stats([1.0, 2.0, 3.0]).p50_ms
        2.0
    """
    s = stage_stats("per-frame", samples_ms)
    return LatencyStats(count=s.count, p50_ms=s.p50_ms, p99_ms=s.p99_ms, mean_ms=s.mean_ms, min_ms=s.min_ms,
                        max_ms=s.max_ms)


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


def _resolve_paths(model: Union[str, Path], onnx: Union[str, Path, None]) -> Tuple[Path, Path]:
    """(model path, ONNX path for the reference) from the user's arguments."""
    path = Path(model)
    if not path.exists():
        try:
            from ..models import resolve_model

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


#: ``build(onnx_path, engine_out, precision, size, device) -> engine path`` (see :func:`selfcheck`)
Builder = Callable[[Path, Path, Optional[str], Tuple[int, int], int], Path]


#: entry-point group of engine builders (:data:`Builder`); fcn-trt's own build_engine registers
#: ``build_engine.trt_builder:build_for_selfcheck`` there, so the runtime finds the offline tools
#: when they are installed without importing them by name
ENGINE_BUILDERS = "fcn_trt.engine_builders"


def installed_builder() -> Optional[Builder]:
    """The first engine builder installed under the :data:`ENGINE_BUILDERS` entry point, or None.

    Example:
        >>> installed_builder().__name__                                     # doctest: +SKIP
        'build_for_selfcheck'
    """
    from importlib import metadata

    found = metadata.entry_points()
    group = (found.select(group=ENGINE_BUILDERS) if hasattr(found, "select")  # Python >= 3.10
             else found.get(ENGINE_BUILDERS, ()))  # type: ignore[attr-defined]
    for entry in sorted(group, key=lambda e: e.name):
        try:
            return entry.load()  # type: ignore[no-any-return]
        except ImportError as e:  # registered but its optional dependencies are missing (onnx, ...)
            log.debug("engine builder %s not usable: %s", entry.name, e)
    return None


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
    build: Optional[Builder] = None,
) -> SelfcheckReport:
    """Compare TensorRT with ONNX Runtime on the same frames; see the module docstring.

    Args:
        model: an engine file (then ``onnx`` or a sibling ``<stem>.onnx`` is the reference), or a
            pipeline ``.onnx`` (an engine is built from it with ``build``, into ``engine_out`` or a
            temporary folder).
        build: how to build an engine from a ``.onnx`` model; default: :func:`installed_builder`
            (build_engine's, found through its entry point: the runtime never imports the offline
            tools by name).
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
    from ..backends._cuda import cuda_device_info

    cuda_device_info(device)  # no GPU: one NoCudaDeviceError line before any TensorRT or build work
    built = path.suffix.lower() == ".onnx"
    if built and build is None:
        build = installed_builder()
    if built and build is None:
        raise ConfigError(
            "selfcheck(%s)" % path.name, expected="a TensorRT engine, or an engine builder for the ONNX",
            found="a .onnx model, no build= and no %r entry point installed" % ENGINE_BUILDERS,
            hint="install fcn-trt with its build tools (pip install 'fcn-trt[build]'), pass build=, "
            "or build the engine first (`python -m build_engine build %s`)" % path.name,
        )
    from ..backends.onnxruntime import OnnxRuntimeBackend

    with tempfile.TemporaryDirectory(prefix="fcn_trt_selfcheck_") as tmp:
        engine = path
        if built:
            assert build is not None
            out = Path(engine_out) if engine_out else Path(tmp) / (path.stem + ".engine")
            engine = Path(build(path, out, precision, tuple(size), device))  # type: ignore[arg-type]
        from ..backends.tensorrt import TensorRTBackend

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
