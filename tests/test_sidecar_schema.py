"""The engine sidecar JSON Schema (fcn_trt/schemas/engine_sidecar.schema.json) matches what Python writes.

The schema is the contract between the Python and C++ runtimes: every sidecar fcn_trt writes must
validate, and every sidecar Python's reader rejects must be a schema violation too (the C++ reader
follows the schema, tests/cpp/test_sidecar.cpp runs the same cases from
tests/data/sidecar_schema_cases.json).
"""

from __future__ import annotations

import copy
import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from fcn_trt.errors import EngineCorruptError
from fcn_trt.metadata import PipelineMetadata
from fcn_trt.sidecar import SIDECAR_SCHEMA, EngineInfo, EngineSidecar, read_sidecar, sidecar_path, write_sidecar
from tests._helpers import json_pointer_parent

CASES = json.loads((Path(__file__).parent / "data" / "sidecar_schema_cases.json").read_text())


def load_schema() -> dict:
    """The schema as shipped in the package (package data, not the source tree)."""
    return json.loads(resources.files("fcn_trt").joinpath("schemas/engine_sidecar.schema.json").read_text())


def validator() -> jsonschema.Draft202012Validator:
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def python_sidecar(tmp_path: Path) -> dict:
    """A sidecar as fcn_trt writes it (every field, profiles and build flags filled)."""
    meta = PipelineMetadata(class_names=("bg", "person", "car"), palette=((0, 0, 0), (255, 0, 0), (0, 0, 255)),
                            inference_size=(240, 320), outputs=("labels", "confidence"))
    info = EngineInfo(
        tensorrt_version="10.3.0", gpu_name="Orin", compute_capability="8.7", precision="fp16",
        onnx_sha256="ab" * 32,
        build_flags={"onnx": "m.onnx", "command": "python -m build_engine build m.onnx --out m.engine",
                     "version_compatible": False, "hardware_compatibility": "none", "dla_core": None},
        profiles={"frame": {"min": [1, 240, 320], "opt": [1, 480, 640], "max": [1, 1080, 1920]}},
    )
    path = write_sidecar(tmp_path / "m.engine", EngineSidecar(pipeline=meta, engine=info))
    return json.loads(path.read_text())


def edited(doc: dict, case: dict) -> dict:
    """Apply a case's JSON-Pointer edits ('set' then 'remove') to a copy of ``doc``."""
    out = copy.deepcopy(doc)
    for pointer, value in case.get("set", {}).items():
        node, key = json_pointer_parent(out, pointer)
        node[key] = value
    for pointer in case.get("remove", []):
        node, key = json_pointer_parent(out, pointer)
        del node[key]
    return out


def test_schema_is_packaged_and_names_the_sidecar_version():
    schema = load_schema()
    assert schema["$id"] == SIDECAR_SCHEMA
    assert schema["properties"]["schema"] == {"const": SIDECAR_SCHEMA}


def test_schema_is_declared_as_package_data():
    """Wheels carry the schema (an editable install would find it in the source tree anyway)."""
    import fnmatch
    import re

    text = (Path(__file__).parents[1] / "pyproject.toml").read_text()
    line = re.search(r"^fcn_trt = \[(.*)\]$", text.split("[tool.setuptools.package-data]", 1)[1], re.M)
    assert line, "no fcn_trt entry under [tool.setuptools.package-data]"
    globs = re.findall(r'"([^"]+)"', line.group(1))
    assert any(fnmatch.fnmatch("schemas/engine_sidecar.schema.json", g) for g in globs), globs


def test_sidecar_written_by_python_validates(tmp_path):
    validator().validate(python_sidecar(tmp_path))


def test_sidecar_with_defaults_only_validates(tmp_path):
    meta = PipelineMetadata(class_names=("bg",), palette=((0, 0, 0),))
    info = EngineInfo(tensorrt_version="8.6.1", gpu_name="Xavier", compute_capability="7.2", precision="int8",
                      onnx_sha256="0" * 64)
    path = write_sidecar(tmp_path / "d.engine", EngineSidecar(pipeline=meta, engine=info))
    validator().validate(json.loads(path.read_text()))


def test_sidecar_written_by_the_engine_builder_validates(fake_trt, fake_cuda, tmp_path):
    """The real build path (build_engine.trt_builder against the strict TensorRT fake)."""
    from build_engine.trt_builder import BuildConfig, build_engine
    from tests.build_engine._helpers import tiny_pipeline

    out = tmp_path / "tiny.engine"
    cfg = BuildConfig(min_shape=(1, 64, 96), opt_shape=(1, 120, 160), max_shape=(2, 240, 320),
                      workspace_mib=256, timing_cache=str(tmp_path / "t.cache"), progress=False,
                      hardware_compatibility="ampere_plus", version_compatible=True)
    build_engine(tiny_pipeline(tmp_path / "tiny.onnx"), out, cfg, trt_module=fake_trt)
    validator().validate(json.loads(sidecar_path(out).read_text()))


@pytest.mark.parametrize("case", CASES["cases"], ids=lambda c: c["name"])
def test_schema_rejects_each_violation(tmp_path, case):
    doc = edited(python_sidecar(tmp_path), case)
    errors = list(validator().iter_errors(doc))
    assert errors, "schema accepted %s" % case["name"]
    if case["python_rejects"]:
        (tmp_path / "x.engine.json").write_text(json.dumps(doc))
        with pytest.raises(EngineCorruptError, match="Hint:"):
            read_sidecar(tmp_path / "x.engine")


@pytest.mark.parametrize("case", CASES["beyond_schema"], ids=lambda c: c["name"])
def test_rules_beyond_the_schema_are_rejected_by_python(tmp_path, case):
    """Rules JSON Schema cannot state (palette length == class count): valid JSON Schema, refused by readers."""
    doc = edited(python_sidecar(tmp_path), case)
    assert not list(validator().iter_errors(doc))
    (tmp_path / "x.engine.json").write_text(json.dumps(doc))
    with pytest.raises(EngineCorruptError, match="Hint:"):
        read_sidecar(tmp_path / "x.engine")


def test_every_case_python_rejects_is_marked(tmp_path):
    """The 'python_rejects' flags are facts, not wishes: cases not marked load in Python today."""
    for case in CASES["cases"]:
        if case["python_rejects"]:
            continue
        (tmp_path / "x.engine.json").write_text(json.dumps(edited(python_sidecar(tmp_path), case)))
        try:
            read_sidecar(tmp_path / "x.engine")
        except EngineCorruptError:
            pytest.fail("%s is rejected by Python: mark it python_rejects" % case["name"])
