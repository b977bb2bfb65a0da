"""The demo and the shipped demo model: smoke run, reproducible export, torch parity."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")
pytest.importorskip("onnxruntime")

from fcn_trt.demo import run as demo  # noqa: E402
from fcn_trt.metadata import PipelineMetadata  # noqa: E402
from fcn_trt.streaming import scenes  # noqa: E402
from tests._helpers import read_video  # noqa: E402
from tests.fcn_trt._shared import DEMO_ONNX, MODELS, needs_model  # noqa: E402

DEMO_NPZ = MODELS.parents[1] / "build_engine" / "training" / "demo_fcn8s_w8.npz"  # repository only, not in the wheel


@needs_model
def test_demo_smoke_run_writes_video_and_side_by_side(tmp_path):
    report = demo.run_demo(tmp_path / "out", frames=3, size=(64, 96), model=str(DEMO_ONNX), progress=False)
    assert report.frames == 3 and report.size == (64, 96) and report.backend == "onnxruntime"
    assert 0.0 <= report.pixel_accuracy <= 1.0 and 0.0 <= report.mean_iu <= 1.0
    assert set(report.class_iu) == set(scenes.CLASS_NAMES)
    assert report.mean_latency_ms > 0.0
    frames = read_video(report.video)
    assert len(frames) == 3 and all(frame.shape == (64, 96, 3) for frame in frames)
    side = cv2.imread(report.side_by_side)
    assert side.shape == (64, 3 * 96 + 8, 3)
    # the middle panel is the ground truth of the kept frame, colourised with the scene palette
    gt = list(scenes.generate_clip(demo.DEMO_CLIP_SEED, 3, (64, 96)))[1].labels
    expected = scenes.colorize_labels(gt)
    panel = side[:, 96 + 4: 2 * 96 + 4]
    assert (panel[40:] == expected[40:]).all(axis=2).mean() > 0.99  # below the caption box


@needs_model
def test_shipped_onnx_is_reproduced_from_shipped_npz(tmp_path):
    pytest.importorskip("onnx")
    import onnx

    from build_engine.training.train_demo import export_demo_pipeline

    out = export_demo_pipeline(DEMO_NPZ, tmp_path / "again.onnx")
    shipped = onnx.load(str(DEMO_ONNX))
    again = onnx.load(str(out))
    assert [n.op_type for n in again.graph.node] == [n.op_type for n in shipped.graph.node]
    a = {i.name: onnx.numpy_helper.to_array(i) for i in shipped.graph.initializer}
    b = {i.name: onnx.numpy_helper.to_array(i) for i in again.graph.initializer}
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    meta_a = {p.key: p.value for p in shipped.metadata_props}
    meta_b = {p.key: p.value for p in again.metadata_props}
    ma, mb = PipelineMetadata.from_json(meta_a["fcn_trt"]), PipelineMetadata.from_json(meta_b["fcn_trt"])
    assert ma.replace(extra={}) == mb.replace(extra={})
    assert ma.weights_sha256 == hashlib.sha256(DEMO_NPZ.read_bytes()).hexdigest()
    assert ma.class_names == scenes.CLASS_NAMES and ma.palette == scenes.PALETTE
    assert ma.channel_order == "rgb" and ma.width_divisor == 8 and ma.variant == "fcn8s"


@needs_model
def test_shipped_onnx_matches_torch_fcn8s_loaded_from_npz():
    torch = pytest.importorskip("torch")
    import fcn_trt
    from build_engine.training.torch_fcn import build_torch_fcn
    from build_engine.training.train_demo import preprocess_batch
    from build_engine.weights import load_weights

    net = build_torch_fcn("fcn8s", scenes.NUM_CLASSES, 8).eval()
    net.load_state_dict({k: torch.from_numpy(v) for k, v in load_weights(DEMO_NPZ).items()})
    frame = scenes.generate_frame(123, (72, 96))
    with torch.no_grad():
        ref = net(preprocess_batch([frame.image])).argmax(1)[0].numpy()
    with fcn_trt.Segmenter(DEMO_ONNX) as seg:
        labels = seg.run(frame.image).labels
    assert labels.shape == ref.shape
    assert (labels == ref).mean() > 0.995


def test_builtin_demo_name_resolves_when_registered():
    from fcn_trt import models

    if "demo" not in models.BUILTIN_MODELS:
        pytest.skip("'demo' not registered in fcn_trt.models.BUILTIN_MODELS yet")
    assert models.resolve_model("demo") == DEMO_ONNX
