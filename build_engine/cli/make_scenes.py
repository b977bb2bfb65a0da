"""``python -m build_engine.training.make_scenes --out DIR``: procedural scenes as a PASCAL VOC dataset
(:func:`build_engine.training.make_scenes.write_scene_dataset`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from fcn_trt.cli.args import ScriptMain, script_main

from ..training.make_scenes import parse_size, write_scene_dataset

__all__ = ["make_parser", "command", "main"]


def make_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m build_engine.training.make_scenes``."""
    p = argparse.ArgumentParser(prog="python -m build_engine.training.make_scenes",
                                description="Write procedural robot/vehicle-view scenes as a PASCAL VOC dataset.")
    p.add_argument("--out", type=Path, required=True, help="VOC root folder to write")
    p.add_argument("--count", type=int, default=100, help="number of frames")
    p.add_argument("--size", default="240x320", help="HxW (default 240x320)")
    p.add_argument("--start-seed", type=int, default=0, help="scene seed of the first frame (held out: < 10**6)")
    p.add_argument("--split", default="val", help="split name (ImageSets/Segmentation/<split>.txt)")
    p.add_argument("--clip", type=int, default=None, metavar="SEED",
                   help="write consecutive frames of one moving-camera clip instead of independent scenes")
    p.add_argument("--jpeg-quality", type=int, default=95)
    p.add_argument("--no-progress", action="store_true")
    return p


def command(a: argparse.Namespace) -> int:
    """Write the dataset ``a`` describes."""
    ids = write_scene_dataset(a.out, a.count, parse_size(a.size), a.start_seed, a.split, a.clip,
                              a.jpeg_quality, progress=not a.no_progress)
    print("wrote %d frames to %s (split %s)" % (len(ids), a.out, a.split))
    return 0


main: ScriptMain = script_main(make_parser, command, prog="make_scenes")


if __name__ == "__main__":
    raise SystemExit(main())
