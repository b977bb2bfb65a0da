"""Engine builder against the strict TensorRT fakes of 8.6.1, 10.3.0, 10.16.1.11 and 11.4.0.106.

What reached TensorRT is read back from the fake's records and from the fake engine header
(``FAKETRT1`` + JSON header + ONNX bytes); the CUDA device comes from the strict cuda-python fake.
The ``build`` command line is tested in cli/test_build.py.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest
from onnx import TensorProto, helper

from build_engine.trt_builder import BuildConfig, build_engine, parse_nhw
from fcn_trt.errors import BackendUnavailableError, BuildError, ConfigError, NoCudaDeviceError, TensorRTCompatibilityError
from fcn_trt.metadata import METADATA_KEY, PipelineMetadata
from fcn_trt.sidecar import read_sidecar
from tests.build_engine._helpers import fake_engine_header as _header
from tests.build_engine._helpers import tiny_pipeline
from tests.build_engine._helpers import trt_major as _major
from tests.fakes.fake_tensorrt import parse_fake_engine


CONFIG = BuildConfig(
    min_shape=(1, 64, 96), opt_shape=(1, 120, 160), max_shape=(2, 240, 320),
    workspace_mib=256, optimization_level=4, progress=False,
)


def test_build_writes_engine_and_sidecar_with_every_setting(fake_trt, fake_cuda, pipeline, tmp_path):
    out = tmp_path / "tiny.engine"
    cfg = BuildConfig(**{**CONFIG.__dict__, "timing_cache": str(tmp_path / "tiny.cache")})
    assert build_engine(pipeline, out, cfg, trt_module=fake_trt) == out

    header = _header(out)
    assert header["trt_version"] == fake_trt.__version__
    assert header["profiles"] == [{"frame": {"min": [1, 64, 96, 3], "opt": [1, 120, 160, 3], "max": [2, 240, 320, 3]}}]
    assert header["memory_pools"] == {"WORKSPACE": 256 << 20}
    assert header["builder_optimization_level"] == 4
    assert header["precision_flags"] == []  # fp32 graph
    assert header["timing_cache"] is True
    # strong typing: explicit batch on 8.x, STRONGLY_TYPED on 10.x, implicit on 11
    flags = fake_trt.NetworkDefinitionCreationFlag
    expected_net_flags = {8: 1 << int(getattr(flags, "EXPLICIT_BATCH", 0)), 10: 1 << int(getattr(flags, "STRONGLY_TYPED", 0)),
                          11: 0}[_major(fake_trt)]
    assert header["network_flags"] == expected_net_flags
    assert header["strongly_typed"] is (_major(fake_trt) >= 10)

    side = read_sidecar(out)
    assert side.engine.tensorrt_version == fake_trt.__version__
    assert (side.engine.gpu_name, side.engine.compute_capability) == (
        fake_cuda.STATE.device_name, "%d.%d" % fake_cuda.STATE.compute_capability)
    assert side.engine.onnx_sha256 == hashlib.sha256(pipeline.read_bytes()).hexdigest()
    assert side.engine.precision == "fp32"
    assert side.engine.profiles["frame"]["max"] == [2, 240, 320, 3]
    assert side.engine.build_flags["workspace_mib"] == 256
    assert side.engine.build_flags["strongly_typed"] is (_major(fake_trt) >= 10)
    assert "python -m build_engine build" in side.engine.build_flags["command"]
    assert side.pipeline.class_names == ("a", "b", "c")
    assert Path(side.engine.build_flags["timing_cache"]).read_bytes().startswith(b"FAKETRTCACHE")

    cfg_obj = fake_trt._fake.last("IBuilderConfig")
    assert cfg_obj._timing_cache_ignore_mismatch is False
    if _major(fake_trt) >= 10:  # a progress monitor saw the build phases
        assert cfg_obj._progress_monitor.finished == ["Tactic selection", "Building engine"]
    else:
        assert not hasattr(fake_trt, "IProgressMonitor")


def test_timing_cache_is_reused_across_builds(fake_trt, fake_cuda, pipeline, tmp_path):
    cache = tmp_path / "t.cache"
    cfg = BuildConfig(**{**CONFIG.__dict__, "timing_cache": str(cache)})
    build_engine(pipeline, tmp_path / "a.engine", cfg, trt_module=fake_trt)
    first = json.loads(cache.read_bytes()[len(b"FAKETRTCACHE1"):])["entries"]
    build_engine(pipeline, tmp_path / "b.engine", cfg, trt_module=fake_trt)
    second = json.loads(cache.read_bytes()[len(b"FAKETRTCACHE1"):])["entries"]
    assert list(second.values()) == [v + 1 for v in first.values()]  # loaded, then extended


@pytest.mark.parametrize("precision", ["fp16", "int8"])
def test_reduced_precision_flags_only_on_weakly_typed_8x(fake_trt, fake_cuda, tmp_path, precision):
    graph = tiny_pipeline(tmp_path / f"tiny.{precision}.onnx", precision=precision)
    out = tmp_path / "p.engine"
    build_engine(graph, out, BuildConfig(precision=precision, progress=False), trt_module=fake_trt)
    header = _header(out)
    if _major(fake_trt) < 10:
        assert header["precision_flags"] == [precision.upper()]
        assert header["strongly_typed"] is False
    else:  # the graph carries the precision; TensorRT 10 rejects these flags, 11 removed them
        assert header["precision_flags"] == []
        assert header["strongly_typed"] is True
    assert read_sidecar(out).engine.precision == precision


def test_parse_failure_lists_every_parser_error(fake_trt, fake_cuda, tmp_path):
    meta = PipelineMetadata(class_names=("a", "b"), palette=((0, 0, 0), (1, 1, 1)))
    graph = helper.make_graph(
        [helper.make_node("NotAnOpA", ["frame"], ["x"], name="bad_a"),
         helper.make_node("NotAnOpB", ["x"], ["labels"], name="bad_b")],
        "bad",
        [helper.make_tensor_value_info("frame", TensorProto.UINT8, ["N", "H", "W", 3])],
        [helper.make_tensor_value_info("labels", TensorProto.UINT8, ["N", "H", "W"])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    helper.set_model_props(model, {METADATA_KEY: meta.to_json()})
    path = tmp_path / "bad.onnx"
    path.write_bytes(model.SerializeToString())
    # the parser rules of this TensorRT are checked first: one error naming every broken rule
    with pytest.raises(TensorRTCompatibilityError) as pre:
        build_engine(path, tmp_path / "bad.engine", BuildConfig(progress=False), trt_module=fake_trt)
    assert "NotAnOpA" in str(pre.value) and "NotAnOpB" in str(pre.value) and "unsupported-op" in str(pre.value)
    # overridden, the (fake) parser itself fails with the real parser's messages
    with pytest.raises(BuildError) as info:
        build_engine(path, tmp_path / "bad.engine", BuildConfig(progress=False, allow_trt_incompatible=True),
                     trt_module=fake_trt)
    msg = str(info.value)
    assert "2 parser errors" in msg and "NotAnOpA" in msg and "NotAnOpB" in msg
    assert "\n" not in msg
    if _major(fake_trt) >= 10:  # node names/operators only exist on ParserError from 10.0
        assert "'bad_a'" in msg
    assert not (tmp_path / "bad.engine").exists()


def test_no_device_fails_before_any_tensorrt_object(fake_trt, fake_cuda, pipeline, tmp_path):
    fake_cuda.STATE.device_count = 0
    out = tmp_path / "x.engine"
    with pytest.raises(NoCudaDeviceError) as info:
        build_engine(pipeline, out, BuildConfig(precision="fp32"), trt_module=fake_trt)
    assert fake_trt._fake.created == []
    msg = str(info.value)
    assert msg.startswith("no CUDA device") and "\n" not in msg
    assert "engines must be built on the target GPU" in msg
    assert str(pipeline) in msg and "python -m build_engine build" in msg and str(out) in msg
    assert not out.exists()


def test_no_cuda_python_is_a_no_device_error(fake_trt, pipeline, tmp_path, monkeypatch):
    for name in ("cuda", "cuda.bindings", "cuda.bindings.runtime", "cuda.cudart"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(NoCudaDeviceError, match="no CUDA runtime"):
        build_engine(pipeline, tmp_path / "x.engine", trt_module=fake_trt)
    assert fake_trt._fake.created == []


def test_missing_tensorrt_gives_install_hint(fake_cuda, pipeline, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorrt", None)
    with pytest.raises(BackendUnavailableError, match="fcn-trt\\[tensorrt\\]"):
        build_engine(pipeline, tmp_path / "x.engine")


def _has_dla(trt) -> bool:
    """TensorRT 11.0-11.4.0 has no DLA on Linux/Jetson (the fakes' 11 release is 11.4.0.106)."""
    return _major(trt) < 11


def test_dla_builds_use_a_static_profile_and_report_where_layers_run(dla_trt, fake_cuda, fp16_graph, tmp_path, caplog):
    dla_trt._fake.num_dla_cores = 2
    out = tmp_path / "dla.engine"
    with caplog.at_level("WARNING", logger="build_engine.trt_builder"):
        build_engine(fp16_graph, out, BuildConfig(dla_core=1, progress=False, min_shape=(1, 64, 96),
                                                  opt_shape=(1, 120, 160), max_shape=(2, 240, 320)), trt_module=dla_trt)
    assert any("static profile" in r.getMessage() for r in caplog.records)  # it says so
    header = _header(out)
    assert (header["default_device_type"], header["dla_core"]) == ("DLA", 1)
    assert "GPU_FALLBACK" in header["flags"]
    prof = header["profiles"][0]["frame"]
    assert prof["min"] == prof["opt"] == prof["max"] == [1, 120, 160, 3]
    # a dynamic profile would have put every layer on the GPU; static: the network's layers run on DLA
    assert any(name.startswith("Conv") or "conv" in name.lower() for name in header["dla_layers"]), header
    side = read_sidecar(out).engine
    assert side.build_flags["dla_core"] == 1
    placed = side.build_flags["dla_layers"]
    assert len(placed["dla"]) == len(header["dla_layers"]) and len(placed["gpu"]) == len(header["gpu_layers"])
    assert any("(CAST)" in n for n in placed["gpu"]) and any("(TOPK)" in n for n in placed["gpu"])
    assert side.profiles["frame"]["min"] == side.profiles["frame"]["max"] == [1, 120, 160, 3]


def test_no_gpu_fallback_with_layers_dla_cannot_run_is_refused(dla_trt, fake_cuda, fp16_graph, tmp_path):
    dla_trt._fake.num_dla_cores = 1
    with pytest.raises(ConfigError) as exc:
        build_engine(fp16_graph, tmp_path / "x.engine", BuildConfig(dla_core=0, gpu_fallback=False, progress=False),
                     trt_module=dla_trt)
    msg = str(exc.value)
    assert "cannot run on DLA" in msg and "(CAST)" in msg and "(TOPK)" in msg and "drop --no-gpu-fallback" in msg
    assert dla_trt._fake.builds == []


def test_fake_builder_enforces_the_dla_rules(dla_trt, fake_cuda, fp16_graph, tmp_path):
    """The fake refuses what real TensorRT refuses, whatever the builder code does."""
    trt = dla_trt
    trt._fake.num_dla_cores = 1
    logger = trt.Logger()

    def build(static: bool, fallback: bool):
        builder = trt.Builder(logger)
        from fcn_trt.backends import _trt as compat

        network = builder.create_network(compat.network_creation_flags(trt))
        assert trt.OnnxParser(network, logger).parse(fp16_graph.read_bytes())
        config = builder.create_builder_config()
        config.default_device_type = trt.DeviceType.DLA
        config.DLA_core = 0
        if fallback:
            config.set_flag(trt.BuilderFlag.GPU_FALLBACK)
        profile = builder.create_optimization_profile()
        big = (1, 120, 160, 3) if static else (2, 240, 320, 3)
        profile.set_shape("frame", (1, 120, 160, 3), (1, 120, 160, 3), big)
        config.add_optimization_profile(profile)
        return builder.build_serialized_network(network, config)

    blob = build(static=False, fallback=True)
    assert blob is not None and parse_fake_engine(bytes(blob))[0]["dla_layers"] == []  # all fell back
    assert build(static=False, fallback=False) is None
    assert "dynamic dimensions" in str(trt._fake.build_failures[-1])
    assert build(static=True, fallback=False) is None  # Cast / ArgMax cannot run on DLA
    assert "not supported on DLA" in str(trt._fake.build_failures[-1])
    blob = build(static=True, fallback=True)
    assert parse_fake_engine(bytes(blob))[0]["dla_layers"]


def test_dla_needs_dla_cores_and_fp16_or_int8(fake_trt, fake_cuda, pipeline, fp16_graph, tmp_path):
    with pytest.raises(ConfigError) as exc:  # the fake GPU has no DLA
        build_engine(fp16_graph, tmp_path / "a.engine", BuildConfig(dla_core=0, progress=False), trt_module=fake_trt)
    assert ("reports 0 DLA cores" if _has_dla(fake_trt) else "no DLA support") in str(exc.value)
    fake_trt._fake.num_dla_cores = 1
    if _has_dla(fake_trt):
        with pytest.raises(ConfigError, match="DLA core 1"):
            build_engine(fp16_graph, tmp_path / "b.engine", BuildConfig(dla_core=1, progress=False),
                         trt_module=fake_trt)
    with pytest.raises(ConfigError, match="DLA"):
        build_engine(pipeline, tmp_path / "c.engine", BuildConfig(dla_core=0), trt_module=fake_trt)


def test_dla_refused_on_tensorrt_11(no_dla_trt, fake_cuda, fp16_graph, tmp_path):
    no_dla_trt._fake.num_dla_cores = 2  # even where the device has DLA cores (Orin on JetPack 6)
    with pytest.raises(ConfigError) as exc:
        build_engine(fp16_graph, tmp_path / "a.engine", BuildConfig(dla_core=0, progress=False),
                     trt_module=no_dla_trt)
    msg = str(exc.value)
    assert "no DLA support on Linux/Jetson" in msg and "11.4.1" in msg and "JetPack 6" in msg
    assert "Builder" not in no_dla_trt._fake.created


def test_hardware_and_version_compatibility(fake_trt, fake_cuda, pipeline, tmp_path):
    out = tmp_path / "hc.engine"
    cfg = BuildConfig(hardware_compatibility="ampere_plus", version_compatible=True, exclude_lean_runtime=True,
                      progress=False)
    build_engine(pipeline, out, cfg, trt_module=fake_trt)
    header = _header(out)
    assert header["hardware_compatibility_level"] == "AMPERE_PLUS"
    assert {"VERSION_COMPATIBLE", "EXCLUDE_LEAN_RUNTIME"} <= set(header["flags"])
    flags = read_sidecar(out).engine.build_flags
    assert flags["hardware_compatibility"] == "ampere_plus" and flags["version_compatible"] is True

    same_cc = BuildConfig(hardware_compatibility="same_compute_capability", progress=False)
    if fake_trt.__version__ in ("8.6.1", "10.3.0"):
        with pytest.raises(ConfigError, match="same_compute_capability"):
            build_engine(pipeline, tmp_path / "s.engine", same_cc, trt_module=fake_trt)
    else:
        build_engine(pipeline, tmp_path / "s.engine", same_cc, trt_module=fake_trt)
        assert _header(tmp_path / "s.engine")["hardware_compatibility_level"] == "SAME_COMPUTE_CAPABILITY"


def test_nv12_profile_has_h_times_3_over_2_rows(fake_trt, fake_cuda, tmp_path):
    graph = tiny_pipeline(tmp_path / "nv12.onnx", input_format="nv12")
    out = tmp_path / "nv12.engine"
    build_engine(graph, out, CONFIG, trt_module=fake_trt)
    assert _header(out)["profiles"][0]["frame"] == {"min": [1, 96, 96], "opt": [1, 180, 160], "max": [2, 360, 320]}
    with pytest.raises(ConfigError, match="even"):
        build_engine(graph, out, BuildConfig(min_shape=(1, 63, 96)), trt_module=fake_trt)


def test_precision_mismatch_is_a_config_error(fake_trt, fake_cuda, pipeline, tmp_path):
    with pytest.raises(ConfigError, match="fp16"):
        build_engine(pipeline, tmp_path / "x.engine", BuildConfig(precision="fp16"), trt_module=fake_trt)
    assert fake_trt._fake.created == []


def test_engine_loads_in_the_fake_runtime_of_the_same_version_only(fake_trt, fake_cuda, pipeline, tmp_path):
    from tests.fakes.fake_tensorrt import make_fake_tensorrt

    out = build_engine(pipeline, tmp_path / "r.engine", CONFIG, trt_module=fake_trt)
    logger = fake_trt.Logger(fake_trt.Logger.ERROR)
    engine = fake_trt.Runtime(logger).deserialize_cuda_engine(out.read_bytes())
    names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
    assert names == ["frame", "labels"]
    assert engine.get_tensor_dtype("frame") == fake_trt.DataType.UINT8
    assert tuple(engine.get_tensor_profile_shape("frame", 0)[2]) == (2, 240, 320, 3)
    other = make_fake_tensorrt("10.3.0" if fake_trt.__version__ != "10.3.0" else "8.6.1")
    assert other.Runtime(other.Logger(other.Logger.INTERNAL_ERROR)).deserialize_cuda_engine(out.read_bytes()) is None


# --- configuration --------------------------------------------------------------------------------
def test_build_config_validation():
    with pytest.raises(ConfigError, match="min <= opt <= max"):
        BuildConfig(min_shape=(1, 480, 640), opt_shape=(1, 240, 320))
    with pytest.raises(ConfigError, match="0..5"):
        BuildConfig(optimization_level=7)
    with pytest.raises(ConfigError, match="version-compatible"):
        BuildConfig(exclude_lean_runtime=True)
    with pytest.raises(ConfigError, match="hardware compatibility"):
        BuildConfig(hardware_compatibility="turing_plus")
    assert parse_nhw("480x640") == (1, 480, 640) and parse_nhw("2x1080x1920") == (2, 1080, 1920)
    with pytest.raises(ConfigError):
        parse_nhw("480")
    assert BuildConfig().max_shape == (1, 1080, 1920)


@pytest.mark.gpu
def test_real_tensorrt_builds_and_loads_the_tiny_pipeline(tmp_path):
    """Only where a CUDA device and the real tensorrt exist (skipped elsewhere by tests/conftest.py)."""
    import tensorrt as trt

    graph = tiny_pipeline(tmp_path / "real.onnx")
    out = build_engine(graph, tmp_path / "real.engine",
                       BuildConfig(min_shape=(1, 32, 32), opt_shape=(1, 64, 64), max_shape=(1, 128, 128),
                                   workspace_mib=256, progress=False))
    engine = trt.Runtime(trt.Logger(trt.Logger.WARNING)).deserialize_cuda_engine(out.read_bytes())
    assert engine is not None
    assert [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)] == ["frame", "labels"]
    assert read_sidecar(out).engine.tensorrt_version == trt.__version__
