"""Engine sidecar: atomic write, read-back, corrupt/missing files, compatibility rules, inspect."""

from __future__ import annotations

import json
import os

import pytest

from fcn_trt.errors import EngineCorruptError, EngineError, EngineMismatchError
from fcn_trt.metadata import PipelineMetadata
from fcn_trt.sidecar import (
    EngineInfo,
    EngineSidecar,
    check_engine_compatible,
    read_sidecar,
    sidecar_path,
    write_sidecar,
)
from tests._helpers import json_pointer_parent

META = PipelineMetadata(class_names=("bg", "person"), palette=((0, 0, 0), (255, 0, 0)), input_format="nv12")


def make_sidecar(**engine_changes) -> EngineSidecar:
    fields = dict(
        tensorrt_version="10.3.0", gpu_name="Orin", compute_capability="8.7", precision="fp16",
        onnx_sha256="ab" * 32,
        build_flags={"onnx": "m.fp16.onnx", "command": "python -m build_engine build m.fp16.onnx --out m.engine"},
        profiles={"frame": {"min": [1, 360, 320], "opt": [1, 720, 640], "max": [1, 1620, 1920]}},
    )
    fields.update(engine_changes)
    return EngineSidecar(pipeline=META, engine=EngineInfo(**fields))


def test_path_write_and_read_back(tmp_path):
    engine = tmp_path / "m.engine"
    assert sidecar_path(engine) == tmp_path / "m.engine.json"
    side = make_sidecar()
    assert write_sidecar(engine, side) == tmp_path / "m.engine.json"
    back = read_sidecar(engine)
    assert back == side
    assert back.pipeline.input_format == "nv12" and back.engine.profiles["frame"]["max"] == [1, 1620, 1920]
    assert json.loads((tmp_path / "m.engine.json").read_text())["schema"] == "fcn_trt.engine/1"
    assert back.engine.created and back.engine.fcn_trt_version
    assert sorted(os.listdir(tmp_path)) == ["m.engine.json"]  # no temp file left behind


def test_write_is_atomic_when_serialisation_fails(tmp_path, monkeypatch):
    engine = tmp_path / "m.engine"
    write_sidecar(engine, make_sidecar())
    before = sidecar_path(engine).read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        write_sidecar(engine, make_sidecar(precision="int8"))
    assert sidecar_path(engine).read_bytes() == before  # the old sidecar is intact
    assert sorted(os.listdir(tmp_path)) == ["m.engine.json"]


def test_missing_sidecar_says_how_to_fix(tmp_path):
    with pytest.raises(EngineError, match="no such file.*build_engine build") as info:
        read_sidecar(tmp_path / "x.engine")
    assert not isinstance(info.value, EngineMismatchError)


@pytest.mark.parametrize("text", ["{not json", "[]", json.dumps({"schema": "other/1"}),
                                  json.dumps({"schema": "fcn_trt.engine/1", "pipeline": {}, "engine": {}})])
def test_corrupt_sidecar(tmp_path, text):
    (tmp_path / "x.engine.json").write_text(text)
    with pytest.raises(EngineCorruptError, match="Hint: rebuild"):
        read_sidecar(tmp_path / "x.engine")


def test_compatible_same_version_and_gpu():
    check_engine_compatible(make_sidecar(), "10.3.0", "8.7")


def test_mismatch_message_names_both_sides_and_the_rebuild_command():
    with pytest.raises(EngineMismatchError) as info:
        check_engine_compatible(make_sidecar(), "8.6.1", "8.6", "m.engine")
    msg = str(info.value)
    assert "built with TensorRT 10.3 for sm_87" in msg and "this machine has TensorRT 8.6 on sm_86" in msg
    assert "Hint: rebuild on this machine with: python -m build_engine build m.fp16.onnx --out m.engine" in msg


def test_patch_release_mismatch_shows_full_versions():
    with pytest.raises(EngineMismatchError, match="TensorRT 10.3.0 .*TensorRT 10.3.1"):
        check_engine_compatible(make_sidecar(), "10.3.1", "8.7")


def test_version_compatible_engines_load_on_newer_same_major():
    side = make_sidecar(build_flags={"version_compatible": True})
    check_engine_compatible(side, "10.16.1.11", "8.7")
    with pytest.raises(EngineMismatchError):
        check_engine_compatible(side, "10.2.0", "8.7")  # older
    with pytest.raises(EngineMismatchError):
        check_engine_compatible(side, "11.4.0.106", "8.7")  # other major


def test_hardware_compatible_engines_load_on_any_ampere_plus():
    side = make_sidecar(build_flags={"hardware_compatibility": "ampere_plus"})
    check_engine_compatible(side, "10.3.0", "8.6")
    check_engine_compatible(side, "10.3.0", "9.0")
    with pytest.raises(EngineMismatchError, match="sm_75"):
        check_engine_compatible(side, "10.3.0", "7.5")


# --- fcn-trt inspect ---------------------------------------------------------------------------------
def test_inspect_without_tensorrt_shows_sidecar_and_why_no_tensors(tmp_path, monkeypatch):
    import sys

    from fcn_trt.tools.inspect import format_report, inspect_engine

    engine = tmp_path / "m.engine"
    engine.write_bytes(b"\0" * 1024)
    write_sidecar(engine, make_sidecar())
    for name in ("cuda", "cuda.bindings", "cuda.bindings.runtime", "cuda.cudart"):
        monkeypatch.setitem(sys.modules, name, None)
    report = inspect_engine(engine)
    assert report.tensors == () and "cuda" in report.tensors_unavailable.lower()
    text = format_report(report)
    assert "10.3.0" in text and "Orin (sm_87)" in text and "fp16" in text and "bg, person" in text
    assert "io tensors  unavailable" in text


# --- every field of a sidecar is checked before it is used ----------------------------------------
# The same violations as fcn_trt/schemas/engine_sidecar.schema.json forbids (tests/data/
# sidecar_schema_cases.json on the schema's branch); each names the field, expected and found.
# (pointer edits, field in the message, part of "expected", part of "found")
SIDECAR_CASES = [
    ({"/schema": "other/1"}, "sidecar.schema", "'fcn_trt.engine/1'", "'other/1' (str)"),
    ({"/schema": 1}, "sidecar.schema", "'fcn_trt.engine/1'", "1 (int)"),
    ({"/schema": None}, "sidecar.schema", "'fcn_trt.engine/1'", "None"),
    ({"/pipeline": None}, "engine sidecar", "fields schema, pipeline and engine", "no pipeline"),
    ({"/engine": None}, "engine sidecar", "fields schema, pipeline and engine", "no engine"),
    ({"/engine/tensorrt_version": None}, "sidecar.engine", "fields tensorrt_version", "no tensorrt_version"),
    ({"/engine/gpu_name": None}, "sidecar.engine", "fields tensorrt_version", "no gpu_name"),
    ({"/engine/compute_capability": None}, "sidecar.engine", "compute_capability", "no compute_capability"),
    ({"/engine/precision": None}, "sidecar.engine", "precision", "no precision"),
    ({"/engine/onnx_sha256": None}, "sidecar.engine", "onnx_sha256", "no onnx_sha256"),
    ({"/engine/tensorrt_version": 10.3}, "sidecar.engine.tensorrt_version", "version string", "10.3 (float)"),
    ({"/engine/tensorrt_version": "ten"}, "sidecar.engine.tensorrt_version", "version string", "'ten' (str)"),
    ({"/engine/compute_capability": 87}, "sidecar.engine.compute_capability", '"major.minor"', "87 (int)"),
    ({"/engine/compute_capability": "87"}, "sidecar.engine.compute_capability", '"major.minor"', "'87' (str)"),
    ({"/engine/compute_capability": 8.7}, "sidecar.engine.compute_capability", '"major.minor"', "8.7 (float)"),
    ({"/engine/precision": "fp64"}, "sidecar.engine.precision", "'fp32' or 'fp16' or 'int8'", "'fp64' (str)"),
    ({"/engine/onnx_sha256": "not a digest"}, "sidecar.engine.onnx_sha256", "64 lowercase hex", "'not a digest'"),
    ({"/engine/onnx_sha256": "AB" * 32}, "sidecar.engine.onnx_sha256", "64 lowercase hex", "'ABAB"),
    ({"/engine/gpu_name": 5}, "sidecar.engine.gpu_name", "a string", "5 (int)"),
    ({"/engine/created": 1700000000}, "sidecar.engine.created", "a string", "1700000000 (int)"),
    ({"/engine/build_flags": []}, "sidecar.engine.build_flags", "a JSON object", "[] (list)"),
    ({"/engine/build_flags/version_compatible": "yes"}, "sidecar.engine.build_flags.version_compatible",
     "true or false", "'yes' (str)"),
    ({"/engine/build_flags/hardware_compatibility": "turing_plus"},
     "sidecar.engine.build_flags.hardware_compatibility", "'ampere_plus'", "'turing_plus' (str)"),
    ({"/engine/build_flags/workspace_mib": "1024"}, "sidecar.engine.build_flags.workspace_mib",
     "an integer or null", "'1024' (str)"),
    ({"/engine/build_flags/command": ["python"]}, "sidecar.engine.build_flags.command", "a string", "(list)"),
    ({"/engine/build_flags/builder_flags": "FP16"}, "sidecar.engine.build_flags.builder_flags", "a list of strings",
     "'FP16' (str)"),
    ({"/engine/profiles": []}, "sidecar.engine.profiles", "a JSON object", "[] (list)"),
    ({"/engine/profiles/frame": {"min": [1, 2, 3], "opt": [1, 2, 3]}}, "sidecar.engine.profiles.frame",
     "min, opt and max", "(dict)"),
    ({"/engine/profiles/frame/min": [1, -240, 320]}, "sidecar.engine.profiles.frame.min", "integers >= 0",
     "[1, -240, 320]"),
    ({"/engine/profiles/frame/max": "1x1620x1920"}, "sidecar.engine.profiles.frame.max", "integers >= 0", "(str)"),
    ({"/pipeline/palette/0": [0, 0]}, "sidecar.pipeline.palette[0]", "RGB triple", "[0, 0] (list)"),
    ({"/pipeline/palette/0": [0, 0, 256]}, "sidecar.pipeline.palette[0][2]", "integer 0..255", "256 (int)"),
    ({"/pipeline/palette/0": ["0", 0, 0]}, "sidecar.pipeline.palette[0][0]", "integer 0..255", "'0' (str)"),
    ({"/pipeline/palette": [[0, 0, 0]]}, "sidecar.pipeline.palette", "one RGB colour per class name (2)",
     "1 colours"),
    ({"/pipeline/class_names": 5}, "sidecar.pipeline.class_names", "list of at least 1 strings", "5 (int)"),
    ({"/pipeline/class_names/0": 7}, "sidecar.pipeline.class_names[0]", "a string", "7 (int)"),
    ({"/pipeline/outputs": ["confidence"]}, "sidecar.pipeline.outputs", "contains 'labels'", "['confidence']"),
    ({"/pipeline/resize_back": "true"}, "sidecar.pipeline.resize_back", "true or false", "'true' (str)"),
    ({"/pipeline/inference_size": [240, 320, 3]}, "sidecar.pipeline.inference_size", "[height, width]", "[240"),
    ({"/pipeline/width_divisor": 0}, "sidecar.pipeline.width_divisor", "an integer >= 1", "0 (int)"),
    ({"/pipeline/extra": "none"}, "sidecar.pipeline.extra", "a JSON object", "'none' (str)"),
    ({"/pipeline/input_format": "yuyv"}, "sidecar.pipeline.input_format", "'nv12'", "'yuyv' (str)"),
]


def edit(doc, changes):
    """Apply JSON-pointer edits (value None removes the member)."""
    doc = json.loads(json.dumps(doc))
    for pointer, value in changes.items():
        node, key = json_pointer_parent(doc, pointer)
        if value is None and not isinstance(node, list) and not pointer.endswith("/schema"):
            del node[key]
        else:
            node[key] = value
    return doc


@pytest.mark.parametrize("changes,field,expected,found", SIDECAR_CASES, ids=[
    "-".join(k.strip("/").replace("/", ".") for k in c[0]) + "=" + repr(list(c[0].values())[0])[:20]
    for c in SIDECAR_CASES])
def test_each_bad_field_is_engine_corrupt_naming_it(tmp_path, changes, field, expected, found):
    doc = make_sidecar().to_dict()
    (tmp_path / "x.engine.json").write_text(json.dumps(edit(doc, changes)))
    with pytest.raises(EngineCorruptError) as info:
        read_sidecar(tmp_path / "x.engine")
    e = info.value
    assert isinstance(e, ValueError)
    assert e.what == "engine sidecar %s: %s" % (tmp_path / "x.engine.json", field)
    assert expected in (e.expected or "") and found in (e.found or "")
    assert "Hint: rebuild on this machine" in str(e)


def test_missing_sidecar_is_a_file_not_found_error(tmp_path):
    from fcn_trt.errors import SidecarNotFoundError

    with pytest.raises(FileNotFoundError) as info:
        read_sidecar(tmp_path / "x.engine")
    assert isinstance(info.value, SidecarNotFoundError) and isinstance(info.value, EngineError)


def test_unreadable_sidecar_bytes_are_engine_corrupt(tmp_path):
    (tmp_path / "x.engine.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(EngineCorruptError, match="expected a readable UTF-8 JSON file"):
        read_sidecar(tmp_path / "x.engine")


@pytest.mark.parametrize("version", ["ten", None, 10])
def test_compatibility_check_with_an_unparsable_runtime_version(version):
    with pytest.raises(EngineMismatchError, match="TensorRT version: expected a version string"):
        check_engine_compatible(make_sidecar(), version, "8.7")


def test_python_and_the_json_schema_reject_the_same_sidecars(tmp_path):
    """Where the schema file and jsonschema exist (after the schema's branch is merged), every case
    above is a schema violation too, and every sidecar Python writes validates."""
    from importlib import resources

    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema (test extra of the schema's branch) missing")
    schema_file = resources.files("fcn_trt").joinpath("schemas/engine_sidecar.schema.json")
    if not schema_file.is_file():
        pytest.skip("fcn_trt/schemas/engine_sidecar.schema.json is not in this checkout yet")
    validator = jsonschema.Draft202012Validator(json.loads(schema_file.read_text()))
    doc = json.loads(make_sidecar().to_json())
    validator.validate(doc)
    beyond_schema = {"sidecar.pipeline.palette"}  # one colour per class: a rule JSON Schema cannot state
    for changes, field, _, _ in SIDECAR_CASES:
        bad = edit(doc, changes)
        if field not in beyond_schema:
            assert list(validator.iter_errors(bad)), changes
