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


def test_inspect_with_fakes_lists_io_tensors(fake_trt, fake_cuda, tmp_path, capsys):
    import argparse

    from build_engine.trt_builder import BuildConfig, build_engine
    from fcn_trt.cli.inspect import add_parser as add_inspect_parser
    from tests.build_engine.test_trt_builder import tiny_pipeline

    graph = tiny_pipeline(tmp_path / "t.onnx")
    engine = build_engine(graph, tmp_path / "t.engine",
                          BuildConfig(min_shape=(1, 8, 8), opt_shape=(1, 16, 16), max_shape=(1, 32, 32), progress=False),
                          trt_module=fake_trt)
    parser = argparse.ArgumentParser()
    add_inspect_parser(parser.add_subparsers())
    args = parser.parse_args(["inspect", str(engine)])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "input  frame        UINT8  [-1, -1, -1, 3]  profile min (1, 8, 8, 3) opt (1, 16, 16, 3) max (1, 32, 32, 3)" in out
    assert "output labels" in out
