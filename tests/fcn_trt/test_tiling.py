"""Tiled inference: tile geometry, seamless merges, agreement with whole-image inference, memory."""

from __future__ import annotations

import tracemalloc

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import fcn_trt
from build_engine.fcn import structured_random_fcn_weights
from build_engine.pipeline import export_fcn_pipeline, save_model, wrap_network
from fcn_trt.errors import ConfigError
from fcn_trt.metadata import PipelineMetadata
from fcn_trt.streaming.scenes import generate_frame
from fcn_trt.tiling import segment_tiled, tile_grid, tile_starts

CLASSES = 5


def _small_rf_network(seed: int = 0) -> onnx.ModelProto:
    """Two 3x3 convs: a 5x5 receptive field, so tiles with overlap must reproduce the whole image exactly."""
    rng = np.random.default_rng(seed)
    w1 = numpy_helper.from_array((rng.standard_normal((8, 3, 3, 3)) * 0.05).astype(np.float32), "w1")
    w2 = numpy_helper.from_array(rng.standard_normal((CLASSES, 8, 3, 3)).astype(np.float32), "w2")
    nodes = [
        helper.make_node("Conv", ["input", "w1"], ["h"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("Conv", ["r", "w2"], ["logits"], pads=[1, 1, 1, 1]),
    ]
    graph = helper.make_graph(
        nodes, "small", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", CLASSES, "H", "W"])], [w1, w2],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _meta(outputs):
    return PipelineMetadata(
        class_names=tuple(f"c{i}" for i in range(CLASSES)), palette=tuple((i * 40, 0, 0) for i in range(CLASSES)),
        mean=(128.0, 128.0, 128.0), std=(64.0, 64.0, 64.0), outputs=outputs,
    )


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("tiling")
    small_logits = save_model(wrap_network(_small_rf_network(), _meta(("labels", "confidence", "logits"))), d / "small_logits.onnx")
    small_labels = save_model(wrap_network(_small_rf_network(), _meta(("labels",))), d / "small_labels.onnx")
    # A width-reduced FCN-8s whose score layers see input structure (zero-mean score weights), so its
    # labels vary across the image and depend on a ~400 px receptive field.
    w = structured_random_fcn_weights("fcn8s", CLASSES, 16, seed=0)
    fcn = export_fcn_pipeline(d / "fcn.onnx", "fcn8s", num_classes=CLASSES, width_divisor=16, weights=w,
                              outputs=("labels", "logits"))
    return {"small_logits": small_logits, "small_labels": small_labels, "fcn": fcn}


@pytest.fixture(scope="module")
def image():
    return generate_frame(1, (600, 800)).image


def test_tile_starts_cover_overlap_and_align():
    for length in (1, 255, 256, 257, 600, 800, 1000, 4000):
        starts = tile_starts(length, 256, 64, align=32)
        ends = [min(s + 256, length) for s in starts]
        assert starts[0] == 0 and ends[-1] == length
        assert all(s % 32 == 0 for s in starts)
        assert all(ends[i] - starts[i + 1] >= 64 for i in range(len(starts) - 1))  # every seam has context
        assert all(e - s <= 256 for s, e in zip(starts, ends))


def test_tile_starts_last_tile_respects_min_size():
    starts = tile_starts(520, 256, 64, align=32, min_size=200)
    assert 520 - starts[-1] >= 200


def test_tile_grid_rows_then_columns():
    grid = tile_grid(600, 800, tile=(256, 256), overlap=64)
    assert grid[0] == (0, 0, 256, 256)
    assert grid[-1][2:] == (600, 800)
    covered = np.zeros((600, 800), bool)
    for y0, x0, y1, x1 in grid:
        covered[y0:y1, x0:x1] = True
    assert covered.all()


@pytest.mark.parametrize("bad", [dict(tile=64, overlap=64), dict(tile=0, overlap=0), dict(tile=100, overlap=-1)])
def test_invalid_tiling_raises_config_error(bad):
    with pytest.raises(ConfigError):
        tile_starts(1000, bad["tile"], bad["overlap"], align=32)


@pytest.mark.parametrize("key,merge", [("small_logits", "logits"), ("small_labels", "labels"), ("small_logits", "labels")])
def test_small_receptive_field_tiling_is_exact(models, image, key, merge):
    with fcn_trt.Segmenter(models[key]) as seg:
        whole = seg.run(image)
        tiled = segment_tiled(seg, image, tile=256, overlap=32, merge=merge)
    assert tiled.labels.shape == image.shape[:2] and tiled.labels.dtype == np.uint8
    agreement = float((tiled.labels == whole.labels).mean())
    assert agreement >= 0.9999, agreement
    assert len(np.unique(whole.labels)) >= 3  # the comparison is not trivially constant
    assert tiled.class_names == whole.class_names and tiled.palette == whole.palette
    if whole.confidence is not None:
        np.testing.assert_allclose(tiled.confidence, whole.confidence, atol=1e-4)


def test_odd_image_size(models):
    img = generate_frame(2, (301, 517)).image
    with fcn_trt.Segmenter(models["small_labels"]) as seg:
        whole = seg.run(img)
        tiled = segment_tiled(seg, img, tile=(128, 160), overlap=32)
    assert np.array_equal(tiled.labels, whole.labels)


def test_image_within_one_tile_is_one_call(models):
    img = generate_frame(3, (120, 160)).image
    with fcn_trt.Segmenter(models["small_labels"]) as seg:
        assert np.array_equal(segment_tiled(seg, img, tile=256).labels, seg.run(img).labels)


def test_fcn_tiling_agrees_with_whole_image(models, image):
    # FCN models get a receptive-field-sized default overlap (416, capped at half the tile: 256 here).
    with fcn_trt.Segmenter(models["fcn"]) as seg:
        whole = seg.run(image)
        tiled = segment_tiled(seg, image, tile=512)
    assert len(np.unique(whole.labels)) >= 2
    m = 32
    interior = float((tiled.labels[m:-m, m:-m] == whole.labels[m:-m, m:-m]).mean())
    assert interior >= 0.99, interior


def test_merge_logits_needs_logits_output(models, image):
    with fcn_trt.Segmenter(models["small_labels"]) as seg:
        with pytest.raises(ConfigError, match="logits"):
            segment_tiled(seg, image, tile=256, merge="logits")
        with pytest.raises(ConfigError):
            segment_tiled(seg, image, tile=256, merge="average")


def test_memory_is_bounded_by_tile_size(models):
    # A tall image: whole-image logits would be 5 x 1600 x 400 float32 = 12.8 MB; tiling keeps one
    # band of tile rows (5 x 256 x 400 x 4 = 2 MB) plus the uint8/float32 outputs (0.64 + 2.56 MB).
    img = np.ascontiguousarray(np.tile(generate_frame(4, (200, 400)).image, (8, 1, 1)))
    h, w = img.shape[:2]
    with fcn_trt.Segmenter(models["small_logits"]) as seg:
        segment_tiled(seg, img[:300], tile=256, overlap=32)  # warm-up (ONNX Runtime arenas)
        tracemalloc.start()
        try:
            segment_tiled(seg, img, tile=256, overlap=32)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    outputs = h * w * (1 + 4)  # labels + confidence
    band = CLASSES * 256 * w * 4
    tile_bytes = 256 * 256 * (3 + CLASSES * 4 * 3 + 4 + 1)  # tile frame, logits + weighted copies, outputs
    whole_logits = CLASSES * h * w * 4
    assert peak < outputs + 3 * band + 4 * tile_bytes, peak
    assert peak < outputs + whole_logits, peak
