"""Triton model repositories for fcn_trt pipelines: ``config.pbtxt`` writing, checking and export.

Three kinds of repository hold the same pipeline (uint8 ``frame`` in, uint8 ``labels`` and float32
``confidence`` out, class names and palette as model-config ``parameters``):

* ``fcn-trt serve`` writes a **python-backend** model that runs the ``.onnx`` with ONNX Runtime
  (what nvidia-pytriton's bundled ``tritonserver`` can run: it ships the python backend only);
* ``fcn-trt export-triton`` writes a **tensorrt_plan** model from an ``.engine`` or an
  **onnxruntime_onnx** model from an ``.onnx``, for the official ``tritonserver`` on GPU machines.

Every config written here is parsed with Triton's own schema (``model_config.proto`` as compiled
into tritonclient's ``model_config_pb2``) by :func:`parse_model_config`.

Example:
    >>> from fcn_trt.metadata import PipelineMetadata
    >>> meta = PipelineMetadata(class_names=("bg", "person"), palette=((0, 0, 0), (255, 0, 0)))
    >>> text = model_config_text(ModelConfigSpec(name="seg", platform="onnxruntime_onnx", metadata=meta))
    >>> print(text.splitlines()[1])
    platform: "onnxruntime_onnx"
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple, Union

from ..backends.triton import config_parameters
from ..errors import ConfigError, ModelFormatError, ModelNotFoundError
from ..metadata import PipelineMetadata

__all__ = [
    "ModelConfigSpec", "model_config_text", "parse_model_config", "export_repository", "write_python_model",
    "SERVED_OUTPUTS", "TRITONCLIENT_HINT", "TRITON_CONTAINER_COMMAND",
]

log = logging.getLogger(__name__)

TRITONCLIENT_HINT = 'pip install "tritonclient[grpc,http]" (or "fcn-trt[serve]")'

#: how the official Triton container serves an exported repository (``{repo}``: its folder).
TRITON_CONTAINER_COMMAND = ("docker run --gpus all --rm -p 8000:8000 -p 8001:8001 -v {repo}:/models "
                            "nvcr.io/nvidia/tritonserver:<yy.mm>-py3 tritonserver --model-repository=/models")

#: pipeline outputs a served model exposes, with their Triton data type and dims (batch excluded).
SERVED_OUTPUTS: Dict[str, Tuple[str, Tuple[int, ...]]] = {
    "labels": ("TYPE_UINT8", (-1, -1)),
    "confidence": ("TYPE_FP32", (-1, -1)),
}

_PLATFORMS = {".engine": "tensorrt_plan", ".plan": "tensorrt_plan", ".trt": "tensorrt_plan", ".onnx": "onnxruntime_onnx"}
_MODEL_FILES = {"tensorrt_plan": "model.plan", "onnxruntime_onnx": "model.onnx"}


def _positive(what: str, value: int, minimum: int = 1) -> int:
    if not isinstance(value, int) or value < minimum:
        raise ConfigError(what, expected=f"an integer >= {minimum}", found=repr(value))
    return value


@dataclasses.dataclass(frozen=True)
class ModelConfigSpec:
    """What one ``config.pbtxt`` says.

    Attributes:
        name: the model's name on the server (the ``NAME`` of ``grpc://HOST:PORT/NAME``).
        metadata: the pipeline metadata (published as parameters, and it decides the outputs).
        platform: ``"tensorrt_plan"`` or ``"onnxruntime_onnx"``; empty with ``backend="python"``.
        backend: ``"python"`` for the server ``fcn-trt serve`` runs; empty otherwise.
        max_batch: Triton's ``max_batch_size`` (frames one batch may hold; 0 = no batch dimension).
        instances: model instances (``instance_group.count``).
        instance_kind: ``"KIND_GPU"``, ``"KIND_CPU"`` or ``""`` (Triton chooses).
        queue_delay_us: dynamic batcher's ``max_queue_delay_microseconds``.
        fixed_batch: a graph whose batch dimension is fixed (``max_batch`` must be 0 then).
        extra_parameters: more ``parameters`` entries (string values).
    """

    name: str
    metadata: PipelineMetadata
    platform: str = ""
    backend: str = ""
    max_batch: int = 8
    instances: int = 1
    instance_kind: str = ""
    queue_delay_us: int = 0
    fixed_batch: int = 0
    extra_parameters: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name or self.name.strip() != self.name:
            raise ConfigError("model name", expected="a non-empty name without '/' or surrounding spaces", found=repr(self.name))
        if bool(self.platform) == bool(self.backend):
            raise ConfigError("model config", expected="exactly one of platform and backend", found=f"platform={self.platform!r}, backend={self.backend!r}")
        _positive("max batch", self.max_batch, 0)
        _positive("instances", self.instances)
        _positive("queue delay (microseconds)", self.queue_delay_us, 0)
        if self.fixed_batch and self.max_batch:
            raise ConfigError("max batch", expected=f"0 for a graph whose batch dimension is fixed at {self.fixed_batch}",
                              found=str(self.max_batch), hint="re-export the graph with a dynamic batch dimension")

    @property
    def outputs(self) -> Tuple[str, ...]:
        if self.platform:
            # Triton's TensorRT backend refuses an engine with an I/O tensor the config does not
            # list ("expected configuration for output 'logits'": triton-inference-server/
            # tensorrt_backend, src/instance_state.cc, commit e2ef6d7), so exported models declare
            # every pipeline output; the python-backend model serves labels and confidence only.
            return tuple(o for o in ("labels", "confidence", "logits") if o in self.metadata.outputs)
        return tuple(o for o in SERVED_OUTPUTS if o in self.metadata.outputs)

    def output_dims(self, name: str) -> Tuple[str, Tuple[int, ...]]:
        """(Triton data type, dims without the batch dimension) of a pipeline output."""
        if name == "logits":
            # float32 [C, h, w]; C (classes, or 1 for probability outputs) is left -1: a -1 in the
            # config matches any engine dimension (tensorrt_backend src/tensorrt_utils.cc,
            # CompareDimsSupported, commit e2ef6d7), so no output kind can make it wrong.
            return "TYPE_FP32", (-1, -1, -1)
        return SERVED_OUTPUTS[name]

    @property
    def frame_dims(self) -> Tuple[int, ...]:
        dims: Tuple[int, ...] = (-1, -1) if self.metadata.input_format == "nv12" else (-1, -1, 3)
        return ((self.fixed_batch,) + dims) if self.fixed_batch else dims


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid protobuf text-format string literal


def model_config_text(spec: ModelConfigSpec) -> str:
    """The ``config.pbtxt`` (protobuf text format of Triton's ``ModelConfig``) for ``spec``."""
    lines = [f"name: {_quote(spec.name)}"]
    lines.append(f"platform: {_quote(spec.platform)}" if spec.platform else f"backend: {_quote(spec.backend)}")
    lines.append(f"max_batch_size: {spec.max_batch}")
    dims = ", ".join(str(d) for d in spec.frame_dims)
    lines.append(f'input [\n  {{\n    name: "frame"\n    data_type: TYPE_UINT8\n    dims: [ {dims} ]\n  }}\n]')
    outs = []
    for name in spec.outputs:
        dtype, odims = spec.output_dims(name)
        odims = ((spec.fixed_batch,) + odims) if spec.fixed_batch else odims
        outs.append(f'  {{\n    name: {_quote(name)}\n    data_type: {dtype}\n    dims: [ {", ".join(str(d) for d in odims)} ]\n  }}')
    lines.append("output [\n" + ",\n".join(outs) + "\n]")
    if spec.max_batch:
        lines.append(f"dynamic_batching {{\n  max_queue_delay_microseconds: {spec.queue_delay_us}\n}}")
    group = f"    count: {spec.instances}"
    if spec.instance_kind:
        group += f"\n    kind: {spec.instance_kind}"
    lines.append("instance_group [\n  {\n" + group + "\n  }\n]")
    params = dict(config_parameters(spec.metadata))
    params.update(spec.extra_parameters)
    for key, value in params.items():
        lines.append(f"parameters {{\n  key: {_quote(key)}\n  value: {{ string_value: {_quote(value)} }}\n}}")
    return "\n".join(lines) + "\n"


def parse_model_config(text: str, source: str = "config.pbtxt") -> Any:
    """Parse ``config.pbtxt`` text against Triton's model-config schema; returns the ``ModelConfig`` message.

    Uses ``tritonclient.grpc.model_config_pb2`` (Triton's ``model_config.proto``) and protobuf's
    text format, so an unknown field, a wrong enum or a malformed value fails here as it would in
    ``tritonserver``.
    """
    from .._imports import require

    mc = require("tritonclient.grpc.model_config_pb2", "checking a Triton model config", "tritonclient[grpc]", TRITONCLIENT_HINT)
    text_format = require("google.protobuf.text_format", "checking a Triton model config", "protobuf", TRITONCLIENT_HINT)
    config = mc.ModelConfig()
    try:
        text_format.Parse(text, config)
    except text_format.ParseError as e:
        raise ModelFormatError(source, expected="a Triton model configuration (model_config.proto text format)",
                               found=str(e), hint="this is a bug in the writer: report it with the file") from None
    return config


def _write_config(model_dir: Path, spec: ModelConfigSpec) -> Path:
    text = model_config_text(spec)
    parse_model_config(text, str(model_dir / "config.pbtxt"))
    path = model_dir / "config.pbtxt"
    path.write_text(text, encoding="utf-8")
    return path


def _onnx_pipeline_io(path: Path) -> Tuple[PipelineMetadata, int]:
    """(metadata, fixed batch or 0) of a pipeline ``.onnx``, read by the ONNX Runtime backend (which checks its I/O)."""
    from ..backends.onnxruntime import OnnxRuntimeBackend

    backend = OnnxRuntimeBackend(path, providers="CPUExecutionProvider", threads=1)
    try:
        return backend.metadata, backend.max_batch
    finally:
        backend.close()


def _engine_pipeline_io(path: Path) -> Tuple[PipelineMetadata, int]:
    """(metadata, the optimization profile's maximum batch or 0) of an engine, from its sidecar."""
    from ..sidecar import read_sidecar

    sidecar = read_sidecar(path)
    profile = sidecar.engine.profiles.get("frame", {})
    max_shape = profile.get("max") if isinstance(profile, Mapping) else None
    return sidecar.pipeline, int(max_shape[0]) if max_shape else 0


def export_repository(
    model: Union[str, Path], out: Union[str, Path], name: str = "fcn_trt", max_batch: Optional[int] = None,
    instances: int = 1, queue_delay_us: int = 100, version: int = 1,
) -> Path:
    """Write a standard Triton model repository for ``model``; returns ``out/name``.

    ``.engine``/``.plan``/``.trt`` become a ``tensorrt_plan`` model (``model.plan``, instances on
    the GPU), ``.onnx`` an ``onnxruntime_onnx`` model (``model.onnx``); ``config.pbtxt`` declares
    the pipeline's I/O, dynamic batching, the instance group and the metadata parameters.
    ``max_batch`` defaults to 8, or to the engine profile's maximum batch when that is smaller
    (engines built with the default profile take one frame at a time).

    Example:
        >>> export_repository("fcn8s.engine", "repo", name="fcn8s", max_batch=4)   # doctest: +SKIP
        PosixPath('repo/fcn8s')
        # then: docker run --gpus all --rm -p 8000:8000 -p 8001:8001 -v $PWD/repo:/models \\
        #   nvcr.io/nvidia/tritonserver:<yy.mm>-py3 tritonserver --model-repository=/models
    """
    from ..models import resolve_model

    path = resolve_model(model)
    platform = _PLATFORMS.get(path.suffix.lower())
    if platform is None:
        raise ConfigError(f"model file {path.name}", expected="a .engine/.plan/.trt TensorRT engine or a .onnx pipeline graph",
                          found=f"suffix {path.suffix or '(none)'}")
    if max_batch is not None:
        _positive("--max-batch", max_batch, 0)
    _positive("version", version)
    if platform == "tensorrt_plan":
        meta, profile_batch = _engine_pipeline_io(path)
        fixed = 0
        if max_batch is None:
            max_batch = min(8, profile_batch) if profile_batch else 8
        elif profile_batch and max_batch > profile_batch:
            # Triton sizes the bindings to the profile's maximum (tensorrt_backend src/instance_state.cc,
            # TRTv3Interface::ConfigureInputDimensions, commit e2ef6d7) while the dynamic batcher would
            # form batches up to max_batch_size: larger batches than the engine takes.
            raise ConfigError("--max-batch", expected=f"at most {profile_batch} (the engine's optimization profile)",
                              found=str(max_batch), hint=f"pass --max-batch {profile_batch}, or rebuild the engine with a larger --max batch")
        kind = "KIND_GPU"
    else:
        meta, fixed = _onnx_pipeline_io(path)
        max_batch = 8 if max_batch is None else max_batch
        if fixed:
            log.warning("%s has a fixed batch dimension (%d): max_batch_size 0", path.name, fixed)
            max_batch = 0
        kind = ""
    spec = ModelConfigSpec(name=name, metadata=meta, platform=platform, max_batch=max_batch, instances=instances,
                           instance_kind=kind, queue_delay_us=queue_delay_us, fixed_batch=fixed)
    model_dir = Path(out) / name
    version_dir = model_dir / str(version)
    version_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, version_dir / _MODEL_FILES[platform])
    _write_config(model_dir, spec)
    log.info("wrote %s (%s)", model_dir, platform)
    return model_dir


def write_python_model(
    onnx_path: Union[str, Path], repo: Union[str, Path], name: str, max_batch: int = 8, instances: int = 1,
    queue_delay_us: int = 0, threads: int = 0,
) -> Path:
    """Write the python-backend model ``fcn-trt serve`` runs: ``repo/name/{config.pbtxt,1/model.py,1/model.onnx}``."""
    path = Path(onnx_path)
    if not path.is_file():
        raise ModelNotFoundError("model file", expected="an existing pipeline .onnx", found=str(path))
    if path.suffix.lower() != ".onnx":
        raise ConfigError(
            f"fcn-trt serve {path.name}", expected="a pipeline .onnx (the bundled tritonserver has the python backend only)",
            found=f"suffix {path.suffix}",
            hint="serve an engine with the official tritonserver: `fcn-trt export-triton MODEL.engine --out REPO`",
        )
    meta, _fixed = _onnx_pipeline_io(path)
    extra = {"fcn_trt.onnx_file": "model.onnx", "fcn_trt.intra_op_threads": str(int(threads))}
    spec = ModelConfigSpec(name=name, metadata=meta, backend="python", max_batch=max_batch, instances=instances,
                           instance_kind="KIND_CPU", queue_delay_us=queue_delay_us, extra_parameters=extra)
    model_dir = Path(repo) / name
    version_dir = model_dir / "1"
    version_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, version_dir / "model.onnx")
    shutil.copyfile(Path(__file__).with_name("_triton_model.py"), version_dir / "model.py")
    _write_config(model_dir, spec)
    return model_dir
