"""The shipped MediaPipe selfie segmenter (fcn_trt/models/selfie_segmentation.onnx): provenance,
its mask on scikit-image's astronaut.png against the reference mask, and pixel parity of the
pipeline graph with the bare converted network inside it. ONNX Runtime + OpenCV, no tensorflow."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import fcn_trt
from build_engine.recipes.mediapipe_selfie import SELFIE_SHA256, extract_bare_network, selfie_mask

cv2 = pytest.importorskip("cv2")

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "fcn_trt" / "models"
SHIPPED = MODELS / "selfie_segmentation.onnx"
REFERENCE_MASK = REPO / "tests" / "data" / "astronaut_selfie_mask.png"


def _skimage_image(name: str) -> np.ndarray:
    """A photo shipped in scikit-image's wheel, as uint8 BGR (read with OpenCV, no download)."""
    skdata = pytest.importorskip("skimage.data", reason="scikit-image ships the test photos")
    path = Path(skdata.__file__).parent / name
    if not path.exists():
        pytest.skip(f"{name} is not in this scikit-image")
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert img is not None, path
    return img


@pytest.fixture(scope="module")
def segmenter():
    with fcn_trt.Segmenter(SHIPPED) as seg:
        yield seg


@pytest.fixture(scope="module")
def bare_session():
    bare = extract_bare_network(SHIPPED)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    return ort.InferenceSession(bare.SerializeToString(), so, providers=["CPUExecutionProvider"])


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.logical_and(a, b).sum() / np.logical_or(a, b).sum())


def test_shipped_files_and_provenance():
    assert SHIPPED.stat().st_size < 5 * 1024 * 1024
    assert "Apache License" in (MODELS / "LICENSE-mediapipe.txt").read_text()
    card = (MODELS / "SELFIE_MODEL_CARD.md").read_text()
    assert SELFIE_SHA256[False] in card and "mediapipe==0.10.21" in card
    model = onnx.load(str(SHIPPED))
    onnx.checker.check_model(model)
    meta = json.loads({p.key: p.value for p in model.metadata_props}["fcn_trt"])
    assert meta["extra"]["license"] == "Apache-2.0"
    assert meta["extra"]["source_sha256"] == SELFIE_SHA256[False] == meta["weights_sha256"]
    assert "tf2onnx 1.17.0" in meta["extra"]["converter"]


def test_metadata_as_the_runtime_reads_it(segmenter):
    meta = segmenter.metadata
    assert meta.class_names == ("background", "person")
    assert meta.input_format == "bgr" and meta.channel_order == "rgb"
    assert meta.mean == (0.0, 0.0, 0.0) and meta.std == (255.0, 255.0, 255.0)
    assert meta.inference_size == (256, 256) and meta.resize_back
    assert meta.extra["output_kind"] == "probability"


def test_network_inside_is_byte_identical_to_the_converted_one():
    meta = json.loads({p.key: p.value for p in onnx.load(str(SHIPPED)).metadata_props}["fcn_trt"])
    bare = extract_bare_network(SHIPPED)
    assert hashlib.sha256(bare.SerializeToString()).hexdigest() == meta["extra"]["network_sha256"]
    assert [i.name for i in bare.graph.input] == ["input"] and [o.name for o in bare.graph.output] == ["probability"]
    ops = {n.op_type for n in bare.graph.node}
    assert "ConvTranspose" in ops and not any(op.startswith("TFL_") for op in ops)


def test_astronaut_mask_matches_reference(segmenter):
    frame = _skimage_image("astronaut.png")
    reference = cv2.imread(str(REFERENCE_MASK), cv2.IMREAD_UNCHANGED)
    assert reference.shape == frame.shape[:2] and set(np.unique(reference)) <= {0, 255}
    result = segmenter.run(frame)
    assert result.labels.shape == frame.shape[:2] and result.labels.dtype == np.uint8
    person = result.labels == 1
    assert _iou(person, reference > 127) >= 0.98
    # the person covers about half of the picture: a sanity check that the mask is not trivial
    assert 0.4 < person.mean() < 0.7
    assert result.class_fractions()["person"] == pytest.approx(person.mean())


@pytest.mark.parametrize("name", ["astronaut.png", "coffee.png", "chelsea.png"])
@pytest.mark.parametrize("crop", ["full", "256x256", "301x457"])
def test_pipeline_matches_bare_network_on_every_pixel(segmenter, bare_session, name, crop):
    """The graph's BGR->RGB, /255, resize, network, resize back and threshold == the bare network
    run on NumPy-preprocessed input (build_engine.mediapipe_selfie.selfie_mask)."""
    frame = _skimage_image(name)
    if crop == "256x256":  # the network's own size: both resizes are identities
        frame = cv2.resize(frame, (256, 256), interpolation=cv2.INTER_AREA)
    elif crop == "301x457":  # odd, non-square size
        frame = np.ascontiguousarray(frame[:301, :457])
    labels = segmenter.run(frame).labels
    expected = selfie_mask(bare_session, frame[:, :, ::-1])
    assert labels.shape == expected.shape
    np.testing.assert_array_equal(labels, expected.astype(np.uint8))
