"""Write what the C++ tests compare against, with the Python SDK, at test time (a ctest fixture).

Usage: python make_reference.py OUT_DIR DEMO_MODEL

OUT_DIR/manifest.json lists every case; frames, labels and confidence maps are raw little-endian
files (uint8 HxWx3, uint8 HxW, float32 HxW). Nothing here is stored in the repository: the
labels come from the same ONNX file the C++ side loads, run by fcn_trt.Segmenter right now.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np


def tiny_pipeline(path: Path, input_format: str = "bgr") -> Path:
    """A pipeline graph around a 1x1-conv "network", with confidence and logits, labels at
    inference size (no resize back): exercises the outputs the demo model lacks."""
    import onnx
    from onnx import TensorProto, helper

    from build_engine.pipeline import save_model, wrap_network
    from fcn_trt.metadata import PipelineMetadata

    rng = np.random.default_rng(0)
    w = helper.make_tensor("w", TensorProto.FLOAT, [3, 3, 1, 1], rng.standard_normal(9).tolist())
    graph = helper.make_graph(
        [helper.make_node("Conv", ["input", "w"], ["logits"])], "tiny",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 3, "H", "W"])], [w],
    )
    net = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    meta = PipelineMetadata(
        class_names=("a", "b", "c"), palette=((0, 0, 0), (255, 0, 0), (0, 255, 0)),
        inference_size=(24, 40), resize_back=False, outputs=("labels", "confidence", "logits"),
        input_format=input_format,
    )
    onnx.checker.check_model(net)
    return save_model(wrap_network(net, meta), path)


def foreign_model(path: Path) -> None:
    """A valid ONNX model without fcn_trt metadata (someone else's network)."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])], "foreign",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 8, 8])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def wrong_io_model(path: Path, demo: Path) -> None:
    """fcn_trt metadata on a graph whose input is float, not a uint8 frame."""
    import onnx
    from onnx import TensorProto, helper

    meta = {p.key: p.value for p in onnx.load(str(demo)).metadata_props}
    graph = helper.make_graph(
        [helper.make_node("Cast", ["frame"], ["labels"], to=TensorProto.UINT8)], "wrong_io",
        [helper.make_tensor_value_info("frame", TensorProto.FLOAT, ["N", "H", "W", 3])],
        [helper.make_tensor_value_info("labels", TensorProto.UINT8, ["N", "H", "W", 3])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    helper.set_model_props(model, meta)
    onnx.save(model, str(path))


def run_cases(seg, cases, out: Path, batch: bool = False) -> list:
    frames = [c[1] for c in cases]
    results = seg.run_batch(frames) if batch else [seg.run(f) for f in frames]
    entries = []
    for (name, frame), r in zip(cases, results):
        (out / (name + ".frame.bin")).write_bytes(np.ascontiguousarray(frame).tobytes())
        (out / (name + ".labels.bin")).write_bytes(np.ascontiguousarray(r.labels, np.uint8).tobytes())
        entry = {"name": name, "height": int(frame.shape[0]), "width": int(frame.shape[1]),
                 "channels": int(frame.shape[2]) if frame.ndim == 3 else 1,
                 "label_height": int(r.labels.shape[0]), "label_width": int(r.labels.shape[1]),
                 "frame": name + ".frame.bin", "labels": name + ".labels.bin",
                 "distinct_labels": int(len(np.unique(r.labels)))}
        if r.confidence is not None:
            (out / (name + ".confidence.bin")).write_bytes(np.ascontiguousarray(r.confidence, "<f4").tobytes())
            entry["confidence"] = name + ".confidence.bin"
        entries.append(entry)
    return entries


def main(out: Path, demo: Path) -> int:
    from fcn_trt import Segmenter
    from fcn_trt.metadata import read_onnx_metadata
    from fcn_trt.streaming.scenes import generate_frame
    from fcn_trt.sidecar import EngineInfo, EngineSidecar, write_sidecar

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    manifest = {"demo_model": str(demo.resolve())}
    with Segmenter(demo) as seg:
        sizes = [(64, 96), (97, 131), (120, 160), (240, 320)]  # odd sizes too: the graph crops exactly
        single = [("demo_%dx%d" % s, generate_frame(seed=i + 1, size=s).image) for i, s in enumerate(sizes)]
        manifest["demo"] = run_cases(seg, single, out)
        batch = [("demo_batch%d" % i, generate_frame(seed=10 + i, size=(120, 160)).image) for i in range(3)]
        manifest["demo_batch"] = run_cases(seg, batch, out, batch=True)
        meta = seg.metadata

    tiny = tiny_pipeline(out / "tiny_confidence.onnx")
    with Segmenter(tiny) as seg:
        cases = [("tiny_%dx%d" % s, generate_frame(seed=20 + i, size=s).image) for i, s in enumerate([(48, 80), (61, 77)])]
        manifest["tiny"] = run_cases(seg, cases, out)
    manifest["tiny_model"] = str(tiny.resolve())

    # nv12: (H*3/2) x W single-channel frames (Y plane, then interleaved UV)
    tiny_nv12 = tiny_pipeline(out / "tiny_nv12.onnx", input_format="nv12")
    rng = np.random.default_rng(3)
    with Segmenter(tiny_nv12) as seg:
        cases = [("nv12_%dx%d" % s, rng.integers(0, 256, (s[0] * 3 // 2, s[1]), dtype=np.uint8)) for s in [(48, 80), (62, 78)]]
        manifest["nv12"] = run_cases(seg, cases, out)
    manifest["nv12_model"] = str(tiny_nv12.resolve())

    foreign_model(out / "foreign.onnx")
    wrong_io_model(out / "wrong_io.onnx", demo)
    (out / "corrupt.onnx").write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    data = demo.read_bytes()
    (out / "truncated.onnx").write_bytes(data[: len(data) // 2])
    (out / "empty.onnx").write_bytes(b"")

    # an engine sidecar as Python writes it (the engine itself is not needed to read it)
    import onnx

    info = EngineInfo(
        tensorrt_version="10.3.0", gpu_name="Orin", compute_capability="8.7", precision="fp32",
        onnx_sha256="0" * 64,
        build_flags={"onnx": demo.name, "command": "python -m build_engine build %s --out python.engine" % demo.name,
                     "version_compatible": False, "hardware_compatibility": "none"},
        profiles={"frame": {"min": [1, 64, 64, 3], "opt": [1, 240, 320, 3], "max": [2, 480, 640, 3]}},
    )
    assert read_onnx_metadata({p.key: p.value for p in onnx.load(str(demo)).metadata_props}) == meta
    write_sidecar(out / "python.engine", EngineSidecar(pipeline=meta, engine=info))
    (out / "python.engine").write_bytes(b"not a TensorRT plan: the C++ reader must stop at the sidecar")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: make_reference.py OUT_DIR DEMO_MODEL")
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root (build_engine)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
