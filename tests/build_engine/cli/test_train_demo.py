"""``python -m build_engine.training.train_demo`` (build_engine/cli/train_demo.py): the parser and its size lists."""

from __future__ import annotations


def test_train_demo_parser():
    from build_engine.cli.train_demo import _parse_sizes, make_parser

    args = make_parser().parse_args(["--out", "run", "--sizes", "4x240x320,2x360x480"])
    assert _parse_sizes(args.sizes) == [(4, 240, 320), (2, 360, 480)] and args.steps == 600
