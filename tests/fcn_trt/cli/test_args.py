"""fcn_trt.cli.args: the argument types, the render options applied, and a script's parser and main()."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from fcn_trt.cli.args import (
    add_progress_argument, add_render_arguments, frame_renderer, int_in_range, non_negative_int, positive_int,
    script_main, script_parser,
)
from fcn_trt.errors import ConfigError
from fcn_trt.result import SegmentationResult
from fcn_trt.streaming import LabelSmoother, render

NAMES = ("background", "road", "car")
PALETTE = ((0, 0, 0), (128, 64, 128), (0, 0, 142))


@pytest.mark.parametrize("parse,text,value", [
    (positive_int, "3", 3), (non_negative_int, "0", 0), (int_in_range(1, 256), "256", 256),
])
def test_integer_types_return_the_value(parse, text, value):
    assert parse(text) == value


@pytest.mark.parametrize("parse,text,message", [
    (positive_int, "0", "expected a positive integer, found 0"),
    (positive_int, "x", "expected a positive integer, found 'x'"),
    (non_negative_int, "-1", "expected an integer >= 0, found -1"),
    (non_negative_int, "1.5", "expected an integer >= 0, found '1.5'"),
    (int_in_range(1, 64), "65", "expected an integer in 1..64, found 65"),
    (int_in_range(1, 64), "", "expected an integer in 1..64, found ''"),
])
def test_integer_types_say_what_they_expected_and_found(parse, text, message):
    with pytest.raises(argparse.ArgumentTypeError) as e:
        parse(text)
    assert str(e.value) == message


def test_a_bad_integer_is_one_argparse_error_line(capsys):
    p = argparse.ArgumentParser(prog="prog")
    p.add_argument("--frames", type=positive_int)
    with pytest.raises(SystemExit) as e:
        p.parse_args(["--frames", "-2"])
    assert e.value.code == 2
    assert "argument --frames: expected a positive integer, found -2" in capsys.readouterr().err


def test_progress_argument():
    p = argparse.ArgumentParser()
    add_progress_argument(p)
    assert p.parse_args([]).no_progress is False and p.parse_args(["--no-progress"]).no_progress is True


def _results():
    rng = np.random.default_rng(0)
    return [SegmentationResult(labels=rng.integers(0, 3, (12, 16)).astype(np.uint8), class_names=NAMES,
                               palette=PALETTE) for _ in range(3)]


@pytest.mark.parametrize("argv", [[], ["--mode", "labels", "--alpha", "0.2", "--no-legend"], ["--smooth", "majority"]])
def test_frame_renderer_draws_what_the_render_options_ask_for(argv):
    p = argparse.ArgumentParser()
    add_render_arguments(p)
    args = p.parse_args(argv)
    draw = frame_renderer(args)
    smoother = None if args.smooth == "none" else LabelSmoother(args.smooth)
    frame = np.full((12, 16, 3), 90, np.uint8)
    for result in _results():  # the smoother's state carries from frame to frame
        expected = render(frame, smoother.smooth(result) if smoother else result, mode=args.mode, alpha=args.alpha,
                          legend=not args.no_legend, text=["fps 1"])
        np.testing.assert_array_equal(draw(frame, result, "bgr", text=["fps 1"]), expected)


DOC = """One line that says what the script does.

Examples:
    script.py --n 3
"""


def _make_parser():
    p = script_parser(DOC)
    p.add_argument("--n", type=positive_int, default=1)
    return p


def test_script_parser_describes_with_the_first_paragraph_and_keeps_the_examples_as_written():
    text = _make_parser().format_help()
    assert "One line that says what the script does." in text
    assert "Examples:\n    script.py --n 3" in text


def test_script_main_parses_runs_and_returns_the_exit_code():
    main = script_main(_make_parser, lambda args: args.n)
    assert main(["--n", "3"]) == 3


def test_script_main_turns_a_user_mistake_into_one_line_and_its_exit_code(capsys):
    def run(args):
        raise ConfigError("--n", expected="an even number", found=str(args.n))

    code = script_main(_make_parser, run, prog="script")(["--n", "3"])
    assert code == ConfigError.exit_code and code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("script: error: --n") and "an even number" in err[0]


def test_add_model_arguments():
    import argparse

    from fcn_trt.cli.args import add_model_arguments
    from fcn_trt.segmenter import BACKENDS

    p = argparse.ArgumentParser()
    add_model_arguments(p, default="selfie")
    assert vars(p.parse_args([])) == {"model": "selfie", "backend": None}
    assert p.parse_args(["--backend", "tensorrt", "--model", "m.engine"]).backend == "tensorrt"
    with pytest.raises(SystemExit):
        p.parse_args(["--backend", "cuda"])
    assert set(BACKENDS) == {"onnxruntime", "tensorrt"}


def test_add_render_arguments():
    import argparse

    from fcn_trt.cli.args import add_render_arguments
    from fcn_trt.streaming.drawing import RENDER_MODES

    p = argparse.ArgumentParser()
    add_render_arguments(p)
    assert vars(p.parse_args([])) == {"mode": "overlay", "alpha": 0.5, "smooth": "none", "no_legend": False}
    args = p.parse_args(["--mode", RENDER_MODES[-1], "--alpha", "0.2", "--smooth", "majority", "--no-legend"])
    assert (args.mode, args.alpha, args.smooth, args.no_legend) == ("side-by-side", 0.2, "majority", True)
