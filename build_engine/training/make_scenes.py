"""Write procedural scenes (:mod:`fcn_trt.scenes`) as a PASCAL VOC segmentation dataset.

The folder it writes is what ``fcn-trt eval --data DIR --split SPLIT`` reads:
``JPEGImages/<id>.jpg``, ``SegmentationClass/<id>.png`` (palette PNG, class ids) and
``ImageSets/Segmentation/<split>.txt``.

Frame ``i`` of a still-image set uses scene seed ``start_seed + i`` (id ``scene_<seed>``); a clip
(``--clip SEED``) writes ``count`` consecutive frames of one moving-camera scene (ids
``clip<SEED>_<index>``). The demo model's training frames use seeds >= 10**7, so any start seed
with ``start_seed + count <= 10**6`` is held out.

Example::

    python -m build_engine.training.make_scenes --out /tmp/scenes_val --count 200 --size 240x320 --start-seed 0
    fcn-trt eval demo --data /tmp/scenes_val --split val
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Iterable, List, Optional, Sequence, Tuple

from fcn_trt._util import parse_hw
from fcn_trt.errors import ConfigError, FcnTrtError
from fcn_trt.eval.voc import write_split, write_voc_sample
from fcn_trt.streaming import scenes

__all__ = ["write_scene_dataset", "parse_size", "main"]


def parse_size(text: str) -> Tuple[int, int]:
    """``"240x320"`` -> ``(240, 320)`` (H x W), at least 8x8."""
    return parse_hw(text, "size", minimum=8)


def write_scene_dataset(
    root: Path,
    count: int,
    size: Tuple[int, int] = (240, 320),
    start_seed: int = 0,
    split: str = "val",
    clip: Optional[int] = None,
    jpeg_quality: int = 95,
    config: Optional[scenes.SceneConfig] = None,
    progress: bool = False,
) -> List[str]:
    """Write ``count`` frames to ``root`` in the VOC layout and list them in ``split``; return the ids."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ConfigError("count", expected="a positive number of frames", found=repr(count))
    named: Iterable[Tuple[str, Any]]
    if clip is not None:
        frames = scenes.generate_clip(int(clip), count, size, config)
        named = (("clip%d_%05d" % (clip, f.index), f) for f in frames)
    else:
        named = (("scene_%07d" % (start_seed + i), scenes.generate_frame(start_seed + i, size, config))
                 for i in range(count))
    if progress:
        from fcn_trt._progress import progress as bar

        named = bar(named, total=count, desc="scenes")
    ids: List[str] = []
    palette = [tuple(c) for c in scenes.PALETTE]
    for image_id, frame in named:
        write_voc_sample(root, image_id, frame.image, frame.labels, palette=palette, jpeg_quality=jpeg_quality)
        ids.append(image_id)
    write_split(root, split, ids)
    return ids


def main(argv: Optional[Sequence[str]] = None) -> int:
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
    a = p.parse_args(argv)
    try:
        ids = write_scene_dataset(a.out, a.count, parse_size(a.size), a.start_seed, a.split, a.clip,
                                  a.jpeg_quality, progress=not a.no_progress)
    except FcnTrtError as e:
        print("make_scenes: error: %s" % e, file=sys.stderr)
        return e.exit_code
    print("wrote %d frames to %s (split %s)" % (len(ids), a.out, a.split))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
