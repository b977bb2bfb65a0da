"""`fcn-trt inspect` (fcn_trt/cli/inspect.py) on an engine built with the strict TensorRT fakes."""

from __future__ import annotations


def test_inspect_with_fakes_lists_io_tensors(fake_trt, fake_cuda, tmp_path, capsys):
    from build_engine.trt_builder import BuildConfig, build_engine
    from fcn_trt.cli import make_parser
    from tests.build_engine._helpers import tiny_pipeline

    graph = tiny_pipeline(tmp_path / "t.onnx")
    engine = build_engine(graph, tmp_path / "t.engine",
                          BuildConfig(min_shape=(1, 8, 8), opt_shape=(1, 16, 16), max_shape=(1, 32, 32), progress=False),
                          trt_module=fake_trt)
    args = make_parser().parse_args(["inspect", str(engine)])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "input  frame        UINT8  [-1, -1, -1, 3]  profile min (1, 8, 8, 3) opt (1, 16, 16, 3) max (1, 32, 32, 3)" in out
    assert "output labels" in out
