"""Build a TensorRT engine from a pipeline ONNX graph: ``python -m build_engine build``.

Precision is a property of the graph (fp32, fp16, or a Q/DQ int8 graph): the builder makes
TensorRT honour it on every release (strongly typed networks on >= 10, FP16/INT8 builder flags on
8.x; see :mod:`fcn_trt.backends._trt`). Next to the engine it writes the sidecar
``<engine>.json`` (pipeline metadata, ONNX sha256, TensorRT version, GPU, flags, profile).

Engines must be built on the GPU that will run them. Without a CUDA device the builder stops before
creating any TensorRT object, with one line saying where the graph is and how to build it there.

Example:
    >>> from build_engine.trt_builder import BuildConfig, build_engine
    >>> cfg = BuildConfig(precision="fp16", workspace_mib=1024, timing_cache="fcn.cache")
    >>> build_engine("fcn8s.fp16.onnx", "fcn8s.engine", cfg)         # doctest: +SKIP
    PosixPath('fcn8s.engine')
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import shlex
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple, Union

from fcn_trt.backends import _trt as compat
from fcn_trt._deprecated import moved_names
from fcn_trt._imports import require_tensorrt
from fcn_trt.backends.tensorrt import _make_logger
from fcn_trt.errors import (
    BackendUnavailableError,
    BuildError,
    ConfigError,
    ModelFormatError,
    ModelNotFoundError,
    NoCudaDeviceError,
)
from fcn_trt.metadata import PipelineMetadata, read_model_metadata
from fcn_trt.sidecar import EngineInfo, EngineSidecar, atomic_write_bytes, write_sidecar

from .trt_check import ensure_compatible, target_for_version

__all__ = [
    "BuildConfig",
    "build_engine",
    "build_pipeline_engine",
    "build_for_selfcheck",
    "EngineBuildReport",
    "prepare_graph",
    "read_pipeline_metadata",
    "profile_shapes",
    "parse_nhw",
    "PIPELINE_INPUT",
    "PRECISIONS",
]

log = logging.getLogger("build_engine.trt_builder")

PathLike = Union[str, Path]

#: Name of the pipeline graph's uint8 frame input.
PIPELINE_INPUT = "frame"

NHW = Tuple[int, int, int]
#: Engine precisions ``BuildConfig.precision`` takes (None: the graph's own).
PRECISIONS = ("fp32", "fp16", "int8")


# ------------------------------------------------------------------------------------------------
# configuration
# ------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class BuildConfig:
    """Every option of an engine build.

    Attributes:
        precision: expected precision of the graph ("fp32", "fp16", "int8"); None = the graph's own
            (from its fcn_trt metadata). A mismatch is a ConfigError: convert the graph first.
        min_shape, opt_shape, max_shape: optimization profile of the frame input as (N, H, W) in
            pixels (nv12 frames have H*3/2 rows; that is applied for you).
        workspace_mib: limit of TensorRT's workspace memory pool (None = TensorRT's default).
        optimization_level: builder optimization level 0..5 (None = TensorRT's default, 3).
        timing_cache: file to load tactic timings from and save them to (faster rebuilds).
        dla_core: build for this DLA core (Jetson Xavier/Orin); layers DLA cannot run fall back to
            the GPU when ``gpu_fallback``. DLA runs fp16/int8 only and needs static shapes: the
            profile becomes min = opt = max = ``opt_shape`` (frames must have exactly that shape).
            Not available on TensorRT 11.0-11.4.0 (Linux/Jetson) nor on devices with 0 DLA cores.
        hardware_compatibility: "none", "ampere_plus", "same_compute_capability" (where available).
        version_compatible: engine loadable by later TensorRT releases of the same major version.
        exclude_lean_runtime: with ``version_compatible``, leave the lean runtime out of the plan.
        device: CUDA device index to build on.
        progress: show a progress bar (TensorRT >= 10 reports build phases).
        verbose: forward TensorRT's INFO/VERBOSE log to logging.DEBUG.
        allow_trt_incompatible: build even if :mod:`build_engine.trt_check` finds a rule of this
            TensorRT's ONNX parser broken (each violation is logged; the parser has the last word).
    """

    precision: Optional[str] = None
    min_shape: NHW = (1, 240, 320)
    opt_shape: NHW = (1, 480, 640)
    max_shape: NHW = (1, 1080, 1920)
    workspace_mib: Optional[int] = None
    optimization_level: Optional[int] = None
    timing_cache: Optional[str] = None
    dla_core: Optional[int] = None
    gpu_fallback: bool = True
    hardware_compatibility: Optional[str] = None
    version_compatible: bool = False
    exclude_lean_runtime: bool = False
    device: int = 0
    progress: bool = True
    verbose: bool = False
    allow_trt_incompatible: bool = False

    def __post_init__(self) -> None:
        if self.precision is not None and self.precision not in PRECISIONS:
            raise ConfigError("precision", expected=" or ".join(PRECISIONS), found=repr(self.precision))
        shapes = {"min": self.min_shape, "opt": self.opt_shape, "max": self.max_shape}
        for name, shape in shapes.items():
            if len(tuple(shape)) != 3 or not all(isinstance(v, int) and v > 0 for v in shape):
                raise ConfigError(
                    "--%s profile shape" % name, expected="three positive ints N, H, W", found=repr(shape)
                )
        for i, axis in enumerate("NHW"):
            lo, mid, hi = self.min_shape[i], self.opt_shape[i], self.max_shape[i]
            if not lo <= mid <= hi:
                raise ConfigError(
                    "optimization profile %s" % axis,
                    expected="min <= opt <= max",
                    found="%d, %d, %d" % (lo, mid, hi),
                    hint="e.g. --min 1x240x320 --opt 1x480x640 --max 1x1080x1920",
                )
        if self.workspace_mib is not None and (not isinstance(self.workspace_mib, int) or self.workspace_mib <= 0):
            raise ConfigError("workspace", expected="a positive number of MiB", found=repr(self.workspace_mib))
        if self.optimization_level is not None and self.optimization_level not in range(6):
            raise ConfigError("builder optimization level", expected="0..5", found=repr(self.optimization_level))
        if self.dla_core is not None:
            if not isinstance(self.dla_core, int) or self.dla_core < 0:
                raise ConfigError("DLA core", expected="a core index >= 0", found=repr(self.dla_core))
            if self.precision == "fp32":
                raise ConfigError(
                    "DLA precision", expected="fp16 or int8 (DLA has no fp32)", found="fp32",
                    hint="build an fp16 graph with --precision fp16",
                )
        if self.hardware_compatibility is not None:
            key = self.hardware_compatibility.strip().lower().replace("-", "_")
            if key not in compat.HARDWARE_COMPATIBILITY_LEVELS:
                raise ConfigError(
                    "hardware compatibility",
                    expected=" or ".join(sorted(compat.HARDWARE_COMPATIBILITY_LEVELS)),
                    found=repr(self.hardware_compatibility),
                )
        if self.exclude_lean_runtime and not self.version_compatible:
            raise ConfigError(
                "exclude_lean_runtime", expected="version_compatible=True", found="version_compatible=False",
                hint="add --version-compatible",
            )

    def cli_args(self) -> List[str]:
        """Command-line options of ``python -m build_engine build`` that reproduce this config."""
        out: List[str] = []
        if self.precision:
            out += ["--precision", self.precision]
        for flag, shape in (("--min", self.min_shape), ("--opt", self.opt_shape), ("--max", self.max_shape)):
            out += [flag, "x".join(str(v) for v in shape)]
        if self.workspace_mib is not None:
            out += ["--workspace", str(self.workspace_mib)]
        if self.optimization_level is not None:
            out += ["--optimization-level", str(self.optimization_level)]
        if self.timing_cache:
            out += ["--timing-cache", str(self.timing_cache)]
        if self.dla_core is not None:
            out += ["--dla-core", str(self.dla_core)]
            if not self.gpu_fallback:
                out.append("--no-gpu-fallback")
        if self.hardware_compatibility:
            out += ["--hardware-compatibility", self.hardware_compatibility]
        if self.version_compatible:
            out.append("--version-compatible")
        if self.exclude_lean_runtime:
            out.append("--exclude-lean-runtime")
        if self.device:
            out += ["--device", str(self.device)]
        return out


def parse_nhw(text: str, what: str = "--opt") -> NHW:
    """``"1x480x640"`` -> (1, 480, 640); ``"480x640"`` means N=1."""
    parts = text.lower().replace("*", "x").split("x")
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) == 2:
        values = (1,) + values
    if len(values) != 3 or min(values) <= 0:
        raise ConfigError(what, expected="NxHxW such as 1x480x640 (or HxW)", found=repr(text))
    return values  # type: ignore[return-value]


def profile_shapes(meta: PipelineMetadata, config: BuildConfig) -> Dict[str, Tuple[int, ...]]:
    """min/opt/max shapes of the uint8 frame input: [N,H,W,3] (bgr/rgb) or [N,H*3/2,W] (nv12)."""
    out: Dict[str, Tuple[int, ...]] = {}
    for key, (n, h, w) in (("min", config.min_shape), ("opt", config.opt_shape), ("max", config.max_shape)):
        if meta.input_format == "nv12":
            if h % 2 or w % 2:
                raise ConfigError(
                    "--%s for an nv12 pipeline" % key, expected="even H and W (4:2:0 chroma)",
                    found="%dx%dx%d" % (n, h, w),
                )
            out[key] = (n, h * 3 // 2, w)
        else:
            out[key] = (n, h, w, 3)
    return out


# ------------------------------------------------------------------------------------------------
# inputs
# ------------------------------------------------------------------------------------------------
def read_pipeline_metadata(onnx_path: Path) -> PipelineMetadata:
    """fcn_trt metadata of a pipeline ONNX file."""
    return read_model_metadata(_read_pipeline(onnx_path)[1], source=str(onnx_path))


def _read_pipeline(onnx_path: Path) -> Tuple[bytes, Any]:
    """The bytes of a pipeline ONNX file and their ModelProto, read once (the parser, the hash and
    the rule check all need them: a canonical FCN-8s is about 0.5 GB)."""
    import onnx

    if not onnx_path.is_file():
        raise ModelNotFoundError(
            "ONNX model %s" % onnx_path, expected="an existing .onnx file", found="no such file",
            hint="export one with `python -m build_engine export ... --out %s`" % onnx_path.name,
        )
    data = onnx_path.read_bytes()
    try:
        return data, onnx.load_from_string(data)
    except Exception as e:  # noqa: BLE001 - protobuf raises DecodeError and friends
        raise ModelFormatError(
            "ONNX model %s" % onnx_path, expected="a valid ONNX protobuf", found=str(e).splitlines()[0] if str(e) else type(e).__name__
        ) from None


def _build_command(onnx_path: Path, out_path: Path, config: BuildConfig) -> str:
    args = ["python", "-m", "build_engine", "build", str(onnx_path), "--out", str(out_path)] + config.cli_args()
    return " ".join(shlex.quote(a) for a in args)


def _device_info(config: BuildConfig, onnx_path: Path, out_path: Path, precision: str) -> Any:
    """CUDA device of the build; NoCudaDeviceError (one line, with the command to run on the GPU)."""
    from fcn_trt.backends._cuda import cuda_device_info

    hint = "engines must be built on the target GPU; the %s ONNX graph was written to %s and can be built there " \
           "with: %s" % (precision, onnx_path, _build_command(onnx_path, out_path, config))
    try:
        return cuda_device_info(config.device)
    except NoCudaDeviceError as e:
        raise NoCudaDeviceError("no CUDA device", found=e.found or str(e), hint=hint) from None
    except BackendUnavailableError as e:
        raise NoCudaDeviceError("no CUDA device", found="no CUDA runtime (%s)" % (e.found or e.what), hint=hint) from None


# ------------------------------------------------------------------------------------------------
# TensorRT callbacks
# ------------------------------------------------------------------------------------------------
def _make_progress_monitor(trt: Any, enabled: bool) -> Any:
    """An ``IProgressMonitor`` drawing one tqdm bar per build phase (nested phases below)."""
    base = compat.get(trt, "IProgressMonitor")
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is in the build extra; without it phases go to the log
        tqdm = None

    class _Monitor(base):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            base.__init__(self)
            self._lock = threading.Lock()
            self._bars: Dict[str, Any] = {}
            self._depth: Dict[str, int] = {}
            self.finished: List[str] = []

        def phase_start(self, phase_name: str, parent_phase: Optional[str], num_steps: int) -> None:
            with self._lock:
                depth = self._depth.get(parent_phase, -1) + 1 if parent_phase else 0
                self._depth[phase_name] = depth
                log.debug("TensorRT build phase %r started (%d steps)", phase_name, num_steps)
                if enabled and tqdm is not None:
                    self._bars[phase_name] = tqdm(
                        total=num_steps, desc=phase_name, position=depth, leave=depth == 0,
                        disable=None, dynamic_ncols=True,
                    )

        def step_complete(self, phase_name: str, step: int) -> bool:
            with self._lock:
                bar = self._bars.get(phase_name)
                if bar is not None:
                    bar.update(max(0, step + 1 - bar.n))
            return True

        def phase_finish(self, phase_name: str) -> None:
            with self._lock:
                bar = self._bars.pop(phase_name, None)
                if bar is not None:
                    bar.close()
                self._depth.pop(phase_name, None)
                self.finished.append(phase_name)

    return _Monitor()


# ------------------------------------------------------------------------------------------------
# the build
# ------------------------------------------------------------------------------------------------
def _parse(trt: Any, parser: Any, data: bytes, onnx_path: Path, logger: Any) -> None:
    if parser.parse(data, str(onnx_path)):
        return
    errors = [compat.parser_error_text(trt, parser.get_error(i)) for i in range(parser.num_errors)]
    if not errors:
        errors = list(logger.errors) or ["the parser reported no details"]
    listed = "; ".join("[%d] %s" % (i + 1, e) for i, e in enumerate(errors))
    raise BuildError(
        "TensorRT %s could not parse %s" % (compat.version_string(trt), onnx_path.name),
        expected="an ONNX graph every node of which TensorRT supports",
        found="%d parser error%s: %s" % (len(errors), "" if len(errors) == 1 else "s", listed),
        hint="run `python -m build_engine check %s --trt %s` (the parser's rules, no GPU needed) and re-export "
        "the pipeline with `python -m build_engine export`" % (onnx_path.name, compat.version_string(trt)),
    )


def _frame_profile(network: Any, meta: PipelineMetadata, config: BuildConfig) -> Dict[str, Tuple[int, ...]]:
    """Profile of the single ``frame`` input; static dims of the graph win over the requested ones.

    For DLA the profile is static at the opt shape: "DLA does not support dynamic dimensions, so the
    profile's min, max, and opt values must be equal for wildcard dimensions" (TensorRT, DLA
    Supported Layers and Restrictions, General Restrictions,
    https://docs.nvidia.com/deeplearning/tensorrt/latest/inference-library/dla-layer-restrictions.html;
    NvInfer.h v10.3.0 line ~6307: "provided profile must have same minimum, optimum, and maximum
    dimensions"). With a dynamic profile every DLA layer falls back to the GPU.
    """
    names = [network.get_input(i).name for i in range(network.num_inputs)]
    if names != [PIPELINE_INPUT]:
        raise BuildError(
            "pipeline graph inputs", expected="one uint8 input %r" % PIPELINE_INPUT, found=repr(names),
            hint="build the pipeline graph from `python -m build_engine export`, not a bare network",
        )
    dims = tuple(network.get_input(0).shape)
    shapes = profile_shapes(meta, config)
    if len(dims) != len(shapes["opt"]):
        raise BuildError(
            "input %r" % PIPELINE_INPUT, expected="rank %d for a %s frame" % (len(shapes["opt"]), meta.input_format),
            found="shape %s" % (dims,),
        )
    fixed = {i: d for i, d in enumerate(dims) if d >= 0}
    if fixed:
        log.info("input %r has fixed dims %s; the profile uses them", PIPELINE_INPUT, dims)
        shapes = {k: tuple(fixed.get(i, v) for i, v in enumerate(s)) for k, s in shapes.items()}
    if config.dla_core is not None and not shapes["min"] == shapes["opt"] == shapes["max"]:
        log.warning("DLA needs a static profile: building for the --opt frame shape %s only (min = opt = max); "
                    "--min/--max are ignored and every frame must have exactly this shape", shapes["opt"])
        shapes = {k: shapes["opt"] for k in shapes}
    return shapes


def _dla_placement(builder_config: Any, network: Any) -> Tuple[List[str], List[str]]:
    """``(layers DLA can run, layers that fall back to the GPU)``, as "name (TYPE)", by
    ``IBuilderConfig.can_run_on_DLA`` (every release 8.6-11.4) on each layer of the parsed network."""
    on_dla: List[str] = []
    on_gpu: List[str] = []
    for i in range(int(network.num_layers)):
        layer = network.get_layer(i)
        kind = getattr(layer.type, "name", str(layer.type))
        (on_dla if builder_config.can_run_on_DLA(layer) else on_gpu).append("%s (%s)" % (layer.name, kind))
    return on_dla, on_gpu


def _check_dla_release(trt: Any, config: BuildConfig) -> None:
    """ConfigError when this TensorRT release cannot build for DLA on this platform."""
    reason = compat.dla_unavailable_reason(trt)
    if reason:
        raise ConfigError(
            "--dla-core %s" % config.dla_core, expected="a TensorRT release with DLA support", found=reason,
            hint="omit --dla-core to build for the GPU, or build on JetPack 6 (TensorRT 10.x) / TensorRT >= 11.4.1 "
            "with JetPack >= 7.2.2 on Jetson AGX Orin",
        )


def build_engine(
    onnx_path: Any,
    out_path: Any,
    config: Optional[BuildConfig] = None,
    *,
    trt_module: Any = None,
) -> Path:
    """Build ``out_path`` (a TensorRT plan) + ``<out_path>.json`` (sidecar) from a pipeline ONNX graph.

    Args:
        onnx_path: pipeline graph from ``python -m build_engine export`` (fp32, fp16 or Q/DQ int8).
        out_path: engine file to write (atomically, like the sidecar and the timing cache).
        config: build options (:class:`BuildConfig`).
        trt_module: the ``tensorrt`` module to use (tests pass a fake); default: import tensorrt.

    Raises:
        NoCudaDeviceError: no CUDA device: raised before any TensorRT object is created.
        BackendUnavailableError: TensorRT's Python bindings are missing.
        ConfigError: options that this graph, GPU or TensorRT release cannot honour.
        BuildError: the parser (all its errors in one message) or the builder failed.
    """
    config = config or BuildConfig()
    onnx_path, out_path = Path(onnx_path), Path(out_path)
    data, model = _read_pipeline(onnx_path)
    meta = read_model_metadata(model, source=str(onnx_path))
    precision = meta.precision
    if config.precision is not None and config.precision != precision:
        raise ConfigError(
            "precision of %s" % onnx_path.name, expected=config.precision, found="a %s graph" % precision,
            hint="make the %s graph first (`python -m build_engine fp16 ...`, `python -m build_engine quantize ...`), "
            "or run `python -m build_engine build --precision %s`, which converts an fp32 graph"
            % (config.precision, config.precision),
        )
    if config.dla_core is not None and precision == "fp32":
        raise ConfigError("DLA precision", expected="an fp16 or int8 graph (DLA has no fp32)", found="fp32 graph")
    if not out_path.parent.is_dir():
        raise ConfigError("--out %s" % out_path, expected="an existing folder", found="no folder %s" % out_path.parent)
    device = _device_info(config, onnx_path, out_path, precision)  # before any TensorRT object
    trt = trt_module if trt_module is not None else require_tensorrt("building a TensorRT engine")
    # The parser rules of this TensorRT, checked before the parser runs: one error that names every
    # broken rule and its fix, instead of the parser's first failure.
    ensure_compatible(model, (target_for_version(compat.version_string(trt)),),
                      allow_incompatible=config.allow_trt_incompatible, what=onnx_path.name)
    onnx_sha256 = hashlib.sha256(data).hexdigest()
    log.info("building %s engine for %s (sm_%s) with TensorRT %s from %s", precision, device.name,
             device.compute_capability.replace(".", ""), compat.version_string(trt), onnx_path)

    if config.dla_core is not None:
        _check_dla_release(trt, config)
    logger = _make_logger(trt, config.verbose)  # the backend's logger: one TensorRT logger in the project
    builder = trt.Builder(logger)
    network = builder.create_network(compat.network_creation_flags(trt))
    if network is None:
        raise BuildError("TensorRT create_network", expected="a network", found="None: %s" % "; ".join(logger.errors))
    parser = trt.OnnxParser(network, logger)
    _parse(trt, parser, data, onnx_path, logger)
    shapes = _frame_profile(network, meta, config)

    builder_config = builder.create_builder_config()
    flags_set: List[str] = []

    def set_flag(flag: Any) -> None:
        builder_config.set_flag(flag)
        flags_set.append(flag.name)

    for flag in compat.precision_builder_flags(trt, precision):
        set_flag(flag)
    if config.workspace_mib is not None:
        builder_config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, config.workspace_mib << 20)
    if config.optimization_level is not None:
        builder_config.builder_optimization_level = config.optimization_level
    dla_layers: Optional[Dict[str, List[str]]] = None
    if config.dla_core is not None:
        cores = int(builder.num_DLA_cores)
        if cores == 0:
            raise ConfigError(
                "--dla-core %d" % config.dla_core, expected="a device with DLA cores (Jetson AGX/NX Xavier, Orin)",
                found="%s: TensorRT %s reports 0 DLA cores" % (device.name, compat.version_string(trt)),
                hint="omit --dla-core: this device has no DLA (desktop and data-centre GPUs, Jetson Nano and Thor "
                "have none)",
            )
        if config.dla_core >= cores:
            raise ConfigError(
                "DLA core %d" % config.dla_core, expected="a core below %d" % cores,
                found="%s has %d DLA core%s" % (device.name, cores, "" if cores == 1 else "s"),
                hint="omit --dla-core to build for the GPU",
            )
        builder_config.default_device_type = trt.DeviceType.DLA
        builder_config.DLA_core = config.dla_core
        if config.gpu_fallback:
            set_flag(trt.BuilderFlag.GPU_FALLBACK)
        on_dla, on_gpu = _dla_placement(builder_config, network)
        if not on_dla:
            raise ConfigError(
                "--dla-core %d for %s" % (config.dla_core, onnx_path.name), expected="layers DLA can run",
                found="none of the %d layers can run on DLA" % len(on_gpu), hint="omit --dla-core",
            )
        if on_gpu and not config.gpu_fallback:
            raise ConfigError(
                "--no-gpu-fallback for %s" % onnx_path.name, expected="every layer runnable on DLA",
                found="%d of %d layers cannot run on DLA: %s%s" % (
                    len(on_gpu), len(on_gpu) + len(on_dla), ", ".join(on_gpu[:8]), ", ..." if len(on_gpu) > 8 else ""),
                hint="drop --no-gpu-fallback (those layers then run on the GPU); the pipeline's uint8 Cast and "
                "ArgMax never run on DLA",
            )
        dla_layers = {"dla": on_dla, "gpu": on_gpu}
        log.info("DLA core %d: %d of %d layers on DLA; on the GPU: %s", config.dla_core, len(on_dla),
                 len(on_dla) + len(on_gpu), ", ".join(on_gpu) or "none")
    if config.hardware_compatibility is not None:
        builder_config.hardware_compatibility_level = compat.hardware_compatibility_level(
            trt, config.hardware_compatibility
        )
    if config.version_compatible:
        set_flag(compat.get(trt, "BuilderFlag.VERSION_COMPATIBLE"))
        if config.exclude_lean_runtime:
            set_flag(compat.get(trt, "BuilderFlag.EXCLUDE_LEAN_RUNTIME"))

    profile = builder.create_optimization_profile()
    profile.set_shape(PIPELINE_INPUT, shapes["min"], shapes["opt"], shapes["max"])
    if builder_config.add_optimization_profile(profile) < 0:
        raise BuildError(
            "optimization profile", expected="min <= opt <= max matching the frame input",
            found="rejected by TensorRT: %s" % ("; ".join(logger.errors) or repr(shapes)),
        )

    cache_path = Path(config.timing_cache) if config.timing_cache else None
    if cache_path is not None:
        blob = cache_path.read_bytes() if cache_path.is_file() else b""
        cache = builder_config.create_timing_cache(blob)
        if cache is None and blob:
            log.warning("timing cache %s is unusable; starting a new one", cache_path)
            cache = builder_config.create_timing_cache(b"")
        if cache is None or not builder_config.set_timing_cache(cache, False):
            log.warning("timing cache %s does not match this GPU/TensorRT; building without it", cache_path)
            cache_path = None

    monitor = None
    if compat.supports_progress_monitor(trt):
        monitor = _make_progress_monitor(trt, config.progress)
        builder_config.progress_monitor = monitor

    serialized = builder.build_serialized_network(network, builder_config)
    if serialized is None:
        raise BuildError(
            "TensorRT %s build of %s" % (compat.version_string(trt), onnx_path.name),
            expected="a serialized engine", found="failure: %s" % ("; ".join(logger.errors) or "no error logged"),
            hint="rerun with --verbose for TensorRT's log; lower --max or raise --workspace if it ran out of memory",
        )
    atomic_write_bytes(out_path, bytes(serialized))
    if cache_path is not None:
        atomic_write_bytes(cache_path, bytes(builder_config.get_timing_cache().serialize()))

    info = EngineInfo(
        tensorrt_version=compat.version_string(trt),
        gpu_name=device.name,
        compute_capability=device.compute_capability,
        precision=precision,
        onnx_sha256=onnx_sha256,
        build_flags={
            "onnx": str(onnx_path),
            "command": _build_command(onnx_path, out_path, config),
            "strongly_typed": compat.strongly_typed(trt),
            "builder_flags": sorted(flags_set),
            "workspace_mib": config.workspace_mib,
            "optimization_level": config.optimization_level,
            "timing_cache": str(cache_path) if cache_path else None,
            "dla_core": config.dla_core,
            "gpu_fallback": config.gpu_fallback if config.dla_core is not None else None,
            "dla_layers": dla_layers,
            "hardware_compatibility": (config.hardware_compatibility or "none").lower().replace("-", "_"),
            "version_compatible": config.version_compatible,
            "exclude_lean_runtime": config.exclude_lean_runtime,
        },
        profiles={PIPELINE_INPUT: {k: list(v) for k, v in shapes.items()}},
    )
    write_sidecar(out_path, EngineSidecar(pipeline=meta, engine=info))
    log.info("wrote %s (%d bytes) and %s.json", out_path, len(bytes(serialized)), out_path.name)
    del monitor
    return out_path


# ------------------------------------------------------------------------------------------------
# The one-step flow: fp32 pipeline graph -> (fp16 / int8 Q/DQ graph) -> engine + sidecar
# ------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class EngineBuildReport:
    """What :func:`build_pipeline_engine` wrote.

    Attributes:
        model: the pipeline graph it was given.
        graph: the graph the engine was built from (``model``, or its fp16/int8 conversion).
        conversion: ``""`` (none), ``"fp16"`` or ``"int8"`` (then ``calibration`` names the frames).
        engine: the engine file; its sidecar is ``<engine>.json``.
    """

    model: Path
    graph: Path
    conversion: str
    calibration: Optional[str]
    engine: Path

    @property
    def sidecar(self) -> Path:
        return self.engine.with_name(self.engine.name + ".json")

    def lines(self) -> Tuple[str, ...]:
        """Printable lines (what ``python -m build_engine build`` prints)."""
        out = []
        if self.conversion == "int8":
            out.append("wrote %s (int8 Q/DQ graph calibrated on %s)" % (self.graph, self.calibration))
        elif self.conversion == "fp16":
            out.append("wrote %s (fp16 graph)" % self.graph)
        out.append("wrote %s and %s" % (self.engine, self.sidecar.name))
        return tuple(out)


def prepare_graph(model: PathLike, out: PathLike, precision: Optional[str], calib: Optional[str] = None,
                  show_progress: bool = True, trt_module: Any = None,
                  allow_incompatible: bool = False) -> Tuple[Path, str]:
    """The graph to build for ``precision`` and the conversion made: ``(model, "")`` when the graph
    already is that precision, else its fp16 / int8 (Q/DQ, calibrated on ``calib``) conversion,
    written next to ``out`` as ``<out stem>.fp16.onnx`` / ``<out stem>.int8.onnx``.
    ``allow_incompatible`` is the build's ``allow_trt_incompatible``: the converted graph is written
    even if it breaks a TensorRT parser rule (one warning per violation)."""
    model, out = Path(model), Path(out)
    meta = read_pipeline_metadata(model)
    if precision is None or precision == meta.precision:
        return model, ""
    if meta.precision != "fp32":
        raise ConfigError(
            "--precision %s for %s" % (precision, model.name), expected="an fp32 graph to convert",
            found="a %s graph" % meta.precision, hint="pass the fp32 pipeline graph, or omit --precision",
        )
    if precision == "int8":
        if not calib:
            raise ConfigError(
                "--precision int8 for %s" % model.name, expected="--calib SRC (frames to calibrate on)",
                found="no --calib", hint="add --calib FOLDER|VIDEO|VOC_ROOT, or build the output of "
                "`python -m build_engine quantize %s ...`" % model.name,
            )
        from build_engine.quantize import QuantizeConfig, quantize_pipeline

        trt = trt_module or require_tensorrt("building a TensorRT engine")  # the Q/DQ layout depends on its major
        graph = out.with_name(out.stem + ".int8.onnx")
        quantize_pipeline(model, graph, calib, QuantizeConfig(trt_target=target_for_version(compat.version_string(trt))),
                          show_progress=show_progress, allow_incompatible=allow_incompatible)
        log.info("wrote %s (int8 Q/DQ graph calibrated on %s)", graph, calib)
        return graph, "int8"
    from build_engine.precision import to_fp16_pipeline

    graph = out.with_name(out.stem + ".fp16.onnx")
    to_fp16_pipeline(model, graph, allow_incompatible=allow_incompatible)
    log.info("wrote %s (fp16 graph)", graph)
    return graph, "fp16"


def build_pipeline_engine(model: PathLike, out: Optional[PathLike] = None, config: Optional[BuildConfig] = None, *,
                          calib: Optional[str] = None, trt_module: Any = None) -> EngineBuildReport:
    """Convert ``model`` to ``config.precision`` if needed, then build the engine (on this GPU).

    Args:
        model: an fp32 (or already fp16/int8) pipeline graph from ``python -m build_engine export``.
        out: the engine to write (default: ``model`` with suffix ``.engine``).
        config: build options; ``config.precision`` selects the conversion.
        calib: frames to calibrate int8 on (folder, video, VOC root).
        trt_module: the ``tensorrt`` module (tests pass a fake).
    """
    model = Path(model)
    out_path = Path(out) if out is not None else model.with_suffix(".engine")
    config = config or BuildConfig()
    graph, conversion = prepare_graph(model, out_path, config.precision, calib, config.progress, trt_module,
                                      allow_incompatible=config.allow_trt_incompatible)
    engine = build_engine(graph, out_path, config, trt_module=trt_module)
    return EngineBuildReport(model=model, graph=graph, conversion=conversion,
                             calibration=str(calib) if conversion == "int8" else None, engine=Path(engine))


def build_for_selfcheck(onnx_path: Path, engine_out: Path, precision: Optional[str], size: Tuple[int, int],
                        device: int) -> Path:
    """Build ``onnx_path`` into ``engine_out`` for :func:`fcn_trt.tools.selfcheck` (its ``Builder``).

    The profile is the default one widened to hold ``size`` (H, W), which is also its optimum.
    Registered as the ``fcn_trt.engine_builders`` entry point (pyproject.toml), so the runtime's
    selfcheck finds it without importing the offline tools by name.

    Example:
        >>> selfcheck("fcn8s.onnx", build=build_for_selfcheck)              # doctest: +SKIP
    """
    default = BuildConfig()
    h, w = int(size[0]), int(size[1])
    lo, hi = default.min_shape, default.max_shape
    config = BuildConfig(
        precision=precision,
        min_shape=(min(lo[0], 1), min(lo[1], h), min(lo[2], w)),
        opt_shape=(1, h, w),
        max_shape=(max(hi[0], 1), max(hi[1], h), max(hi[2], w)),
        device=device,
    )
    return Path(build_engine(onnx_path, engine_out, config))


if not TYPE_CHECKING:  # names that moved to the command line (_deprecated.MOVED_NAMES), one release
    __getattr__ = moved_names(__name__)
