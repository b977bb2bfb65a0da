"""`fcn-trt demo` (fcn_trt/cli/demo.py): the scores it prints, its bad options and a foreign model."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

pytest.importorskip("cv2")
pytest.importorskip("onnxruntime")

from fcn_trt.cli import demo as demo_cli  # noqa: E402
from fcn_trt.cli import make_parser  # noqa: E402
from fcn_trt.demo import run as demo  # noqa: E402
from fcn_trt.errors import ModelError  # noqa: E402
from fcn_trt.metadata import PipelineMetadata  # noqa: E402
from tests.fcn_trt._shared import DEMO_ONNX, needs_model  # noqa: E402


@needs_model
def test_demo_command_prints_scores(tmp_path, capsys):
    args = make_parser().parse_args(["demo", "--out", str(tmp_path), "--frames", "2", "--size", "48x64",
                                     "--model", str(DEMO_ONNX), "--no-progress"])
    assert args.func is demo_cli.command
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "mean IU" in out and "pixel accuracy" in out and "ms/frame" in out
    assert (tmp_path / demo.VIDEO_NAME).exists() and (tmp_path / demo.SIDE_BY_SIDE_NAME).exists()


def test_demo_rejects_bad_options_and_foreign_models(tmp_path, capsys):
    parser = make_parser()
    args = parser.parse_args(["demo", "--out", str(tmp_path), "--size", "big"])
    assert demo_cli.command(args) == 2
    assert "--size: expected HxW" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parser.parse_args(["demo", "--frames", "0"])

    closed = []

    class VocModel:
        metadata = PipelineMetadata(class_names=("background", "aeroplane"), palette=((0, 0, 0), (128, 0, 0)))
        backend = SimpleNamespace(name="fake")

        def close(self):
            closed.append(True)

    with pytest.raises(ModelError, match="scene classes"):
        demo.run_demo(tmp_path, frames=2, size=(48, 64), segmenter_factory=lambda m, b: VocModel(), progress=False)
    assert closed == [True]
