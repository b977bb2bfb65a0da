"""`python -m build_engine make-scenes` (build_engine/cli/make_scenes.py): a VOC split of procedural scenes
that reads back exactly."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("cv2")

from fcn_trt.streaming import scenes  # noqa: E402


def test_make_scenes_writes_a_voc_split_that_reads_back_exactly(tmp_path):
    from build_engine.cli.make_scenes import main
    from build_engine.training.make_scenes import write_scene_dataset
    from fcn_trt.eval.voc import VocDataset

    ids = write_scene_dataset(tmp_path / "voc", 3, (48, 64), start_seed=7, split="val")
    ds = VocDataset(tmp_path / "voc", "val")
    assert list(ds.ids) == ids == ["scene_0000007", "scene_0000008", "scene_0000009"]
    image_id, image, labels = ds[1]
    np.testing.assert_array_equal(labels, scenes.generate_frame(8, (48, 64)).labels)
    assert image.shape == (48, 64, 3)
    assert main(["--out", str(tmp_path / "clip"), "--count", "2", "--size", "32x48", "--clip", "4",
                 "--no-progress"]) == 0
    assert list(VocDataset(tmp_path / "clip", "val").ids) == ["clip4_00000", "clip4_00001"]
    assert main(["--out", str(tmp_path / "bad"), "--size", "tiny"]) == 2
