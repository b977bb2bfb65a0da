"""Triton model repositories: configs parsed against Triton's model-config schema (tritonclient's model_config_pb2)."""

from __future__ import annotations

import json

import pytest

from fcn_trt.errors import ConfigError, MetadataError, ModelFormatError
from fcn_trt.metadata import PipelineMetadata
from fcn_trt.models import resolve_model
from fcn_trt.backends.triton import metadata_from_parameters
from fcn_trt.serve.repository import ModelConfigSpec, export_repository, model_config_text, parse_model_config
from fcn_trt.sidecar import EngineInfo, EngineSidecar, write_sidecar

mc = pytest.importorskip("tritonclient.grpc.model_config_pb2", reason="tritonclient is in the test extra")

META = PipelineMetadata(class_names=("bg", "person", "façade"), palette=((0, 0, 0), (255, 0, 0), (9, 8, 7)),
                        outputs=("labels", "confidence", "logits"))


def _params(config) -> dict:
    return {k: v.string_value for k, v in config.parameters.items()}


def _engine(tmp_path, meta=META, max_shape=(4, 1080, 1920, 3)):
    engine = tmp_path / "fcn.engine"
    engine.write_bytes(b"serialized engine bytes")
    info = EngineInfo(tensorrt_version="10.3.0", gpu_name="Orin", compute_capability="8.7", precision="fp16",
                      onnx_sha256="ab" * 32,
                      profiles={"frame": {"min": [1, 64, 64, 3], "opt": [2, 480, 640, 3], "max": list(max_shape)}})
    write_sidecar(engine, EngineSidecar(pipeline=meta, engine=info))
    return engine


def test_engine_becomes_a_tensorrt_plan_model(tmp_path):
    model_dir = export_repository(_engine(tmp_path), tmp_path / "repo", name="fcn8s", max_batch=4, instances=2)
    assert model_dir == tmp_path / "repo" / "fcn8s"
    assert (model_dir / "1" / "model.plan").read_bytes() == b"serialized engine bytes"
    config = parse_model_config((model_dir / "config.pbtxt").read_text(encoding="utf-8"))
    assert config.name == "fcn8s" and config.platform == "tensorrt_plan" and config.max_batch_size == 4
    assert [(i.name, i.data_type, list(i.dims)) for i in config.input] == [("frame", mc.TYPE_UINT8, [-1, -1, 3])]
    assert [(o.name, o.data_type, list(o.dims)) for o in config.output] == [  # TensorRT wants every engine output
        ("labels", mc.TYPE_UINT8, [-1, -1]), ("confidence", mc.TYPE_FP32, [-1, -1]), ("logits", mc.TYPE_FP32, [-1, -1, -1])]
    assert config.HasField("dynamic_batching") and config.dynamic_batching.max_queue_delay_microseconds == 100
    assert [(g.count, g.kind) for g in config.instance_group] == [(2, mc.ModelInstanceGroup.KIND_GPU)]
    assert metadata_from_parameters(config.parameters, "repo") == META
    assert json.loads(_params(config)["class_names"]) == ["bg", "person", "façade"]


def test_python_backend_model_serves_labels_and_confidence_only(tmp_path):
    text = model_config_text(ModelConfigSpec(name="m", backend="python", metadata=META))
    assert [o.name for o in parse_model_config(text).output] == ["labels", "confidence"]


def test_default_batch_follows_an_engine_profile_of_one_frame(tmp_path):
    # the builder's default profile is 1x240x320 .. 1x1080x1920: one frame at a time
    model_dir = export_repository(_engine(tmp_path, max_shape=(1, 1080, 1920, 3)), tmp_path / "repo")
    config = parse_model_config((model_dir / "config.pbtxt").read_text(encoding="utf-8"))
    assert config.max_batch_size == 1


def test_batch_above_the_engine_profile_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="at most 4"):
        export_repository(_engine(tmp_path), tmp_path / "repo", max_batch=8)


def test_nv12_engine_declares_a_two_dimensional_frame(tmp_path):
    meta = PipelineMetadata(class_names=("bg", "person"), palette=((0, 0, 0), (255, 0, 0)), input_format="nv12")
    model_dir = export_repository(_engine(tmp_path, meta, (2, 1620, 1920)), tmp_path / "repo", max_batch=2)
    config = parse_model_config((model_dir / "config.pbtxt").read_text(encoding="utf-8"))
    assert list(config.input[0].dims) == [-1, -1]


def test_onnx_becomes_an_onnxruntime_model(tmp_path):
    model_dir = export_repository("demo", tmp_path / "repo", name="demo", max_batch=8)
    config = parse_model_config((model_dir / "config.pbtxt").read_text(encoding="utf-8"))
    assert config.platform == "onnxruntime_onnx" and config.max_batch_size == 8
    assert (model_dir / "1" / "model.onnx").read_bytes() == resolve_model("demo").read_bytes()
    assert [g.kind for g in config.instance_group] == [mc.ModelInstanceGroup.KIND_AUTO]
    assert metadata_from_parameters(config.parameters, "repo").class_names[0] == "background"


def test_fixed_batch_graph_gets_no_batch_dimension(tmp_path):
    model_dir = export_repository("selfie", tmp_path / "repo", name="selfie", max_batch=8)
    config = parse_model_config((model_dir / "config.pbtxt").read_text(encoding="utf-8"))
    assert config.max_batch_size == 0 and not config.HasField("dynamic_batching")
    assert list(config.input[0].dims) == [1, -1, -1, 3] and list(config.output[0].dims) == [1, -1, -1]


def test_schema_check_is_real():
    text = model_config_text(ModelConfigSpec(name="m", platform="tensorrt_plan", metadata=META))
    parse_model_config(text)
    with pytest.raises(ModelFormatError, match="max_batch_sizes"):
        parse_model_config(text.replace("max_batch_size", "max_batch_sizes"))
    with pytest.raises(ModelFormatError):
        parse_model_config(text.replace("TYPE_UINT8", "TYPE_BYTE8"))


@pytest.mark.parametrize("changes, match", [
    ({"name": "a/b"}, "model name"), ({"backend": "python"}, "exactly one"), ({"instances": 0}, "instances"),
    ({"max_batch": -1}, "max batch"), ({"fixed_batch": 1, "max_batch": 4}, "fixed"),
])
def test_bad_specs_are_config_errors(changes, match):
    fields = dict(name="m", platform="onnxruntime_onnx", metadata=META)
    fields.update(changes)
    with pytest.raises(ConfigError, match=match):
        ModelConfigSpec(**fields)


def test_parameters_without_metadata_are_a_metadata_error():
    with pytest.raises(MetadataError, match="fcn-trt serve"):
        metadata_from_parameters({"other": {"string_value": "x"}}, "grpc://h:1/m")
