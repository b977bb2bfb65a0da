"""``python -m build_engine build``: fp16 / int8 conversion, DLA reports and one-line errors, against the
strict TensorRT and cuda-python fakes."""

from __future__ import annotations

import numpy as np
import onnx

from fcn_trt.errors import NoCudaDeviceError
from fcn_trt.sidecar import read_sidecar, sidecar_path
from tests.build_engine._helpers import fake_engine_header as _header
from tests.build_engine._helpers import trt_major as _major


def test_cli_build_converts_to_fp16_and_builds(fake_trt, fake_cuda, pipeline, tmp_path, capsys):
    from build_engine.cli import main

    out = tmp_path / "cli.engine"
    rc = main(["build", str(pipeline), "--out", str(out), "--precision", "fp16", "--min", "1x64x64",
               "--opt", "1x128x128", "--max", "1x256x256", "--workspace", "64", "--no-progress"])
    assert rc == 0
    assert (tmp_path / "cli.fp16.onnx").is_file()
    side = read_sidecar(out)
    assert side.engine.precision == "fp16" and side.engine.build_flags["onnx"].endswith("cli.fp16.onnx")
    assert _header(out)["memory_pools"] == {"WORKSPACE": 64 << 20}
    assert sidecar_path(out).is_file()


def test_cli_without_device_prints_one_line(fake_trt, fake_cuda, pipeline, tmp_path, capsys):
    from build_engine.cli import main

    fake_cuda.STATE.device_count = 0
    rc = main(["build", str(pipeline), "--out", str(tmp_path / "n.engine")])
    err = capsys.readouterr().err.strip()
    assert rc == NoCudaDeviceError.exit_code
    assert len(err.splitlines()) == 1 and "no CUDA device" in err and str(pipeline) in err
    assert fake_trt._fake.created == []


def test_cli_int8_quantizes_on_calib_frames_then_builds(fake_trt, fake_cuda, pipeline, tmp_path, monkeypatch):
    import cv2

    monkeypatch.setenv("FCN_TRT_CACHE", str(tmp_path / "cache"))  # calibration frame cache stays in tmp

    from build_engine.cli import main

    frames = tmp_path / "frames"
    frames.mkdir()
    rng = np.random.default_rng(1)
    for i in range(2):
        cv2.imwrite(str(frames / f"{i}.png"), rng.integers(0, 255, (32, 48, 3), dtype=np.uint8))
    out = tmp_path / "q.engine"
    assert main(["build", str(pipeline), "--out", str(out), "--precision", "int8", "--calib", str(frames),
                 "--no-progress"]) == 0
    qdq = onnx.load(str(tmp_path / "q.int8.onnx"))
    assert any(n.op_type == "QuantizeLinear" for n in qdq.graph.node)
    assert read_sidecar(out).engine.precision == "int8"
    assert _header(out)["precision_flags"] == (["INT8"] if _major(fake_trt) < 10 else [])


def test_cli_int8_without_calib_is_a_config_error(fake_trt, fake_cuda, pipeline, tmp_path, capsys):
    from build_engine.cli import main

    assert main(["build", str(pipeline), "--out", str(tmp_path / "q.engine"), "--precision", "int8"]) == 2
    assert "--calib" in capsys.readouterr().err


def test_cli_dla_build_says_where_layers_run_and_that_the_profile_is_static(dla_trt, fake_cuda, fp16_graph, tmp_path,
                                                                           capsys):
    from build_engine.cli import main

    dla_trt._fake.num_dla_cores = 1
    out = tmp_path / "t.engine"
    assert main(["build", str(fp16_graph), "--out", str(out), "--dla-core", "0", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    side = read_sidecar(out).engine.build_flags["dla_layers"]
    assert "DLA core 0: %d layers on DLA, %d on the GPU" % (len(side["dla"]), len(side["gpu"])) in printed
    assert "static profile 1x480x640x3: frames must have exactly this shape" in printed
    assert main(["build", str(fp16_graph), "--out", str(out), "--dla-core", "0", "--no-gpu-fallback",
                 "--no-progress"]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "cannot run on DLA" in err  # one readable line, no traceback
