"""Small models and frames shared by the precision / quantize / compare tests and their command-line tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from build_engine.pipeline import save_model, wrap_network
from fcn_trt.metadata import PipelineMetadata

EYE = np.eye(3, dtype=np.float32)  # label = argmax of (B, G, R)
SWAPPED = EYE[[2, 1, 0]]  # label = argmax of (R, G, B): blue and red classes swapped


def channel_argmax_network(weights: np.ndarray, name: str = "toy") -> onnx.ModelProto:
    """A bare NCHW network: 1x1 Conv 3 -> C with the given [C,3] weights (logits = weighted channels)."""
    w = np.asarray(weights, np.float32).reshape(len(weights), 3, 1, 1)
    conv = helper.make_node("Conv", ["image", "w"], ["scores"], name="conv", kernel_shape=[1, 1])
    graph = helper.make_graph(
        [conv], name,
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", len(w), "H", "W"])],
        [numpy_helper.from_array(w, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def toy_pipeline(path: Path, weights: np.ndarray, precision: str = "fp32") -> Path:
    """Pipeline of :func:`channel_argmax_network` (mean 0, std 1, bgr): label = strongest weighted channel."""
    n = len(weights)
    meta = PipelineMetadata(
        class_names=tuple(f"c{i}" for i in range(n)), palette=tuple((i, i, i) for i in range(n)),
        mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0), precision=precision,
    )
    return save_model(wrap_network(channel_argmax_network(weights), meta), path)


def dominant_channel_frames(n=4, size=(32, 40), seed=0):
    """Random frames with one clearly dominant channel per pixel (no argmax ties)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        f = rng.integers(0, 100, size + (3,), dtype=np.uint8)
        winner = rng.integers(0, 3, size)
        np.put_along_axis(f, winner[..., None], 200, axis=2)
        out.append(f)
    return out


def write_image_folder(folder: Path, frames) -> Path:
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(frames):
        assert cv2.imwrite(str(folder / f"frame_{i:03d}.png"), f)
    return folder


def scene_frames(n: int, size=(64, 64), seed: int = 100):
    from fcn_trt.streaming.scenes import generate_frame

    return [generate_frame(seed + i, size) for i in range(n)]
