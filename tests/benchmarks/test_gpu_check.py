"""The prepared GPU check (benchmarks/gpu_check.sh + benchmarks/gpu_check.py), on a CPU machine.

The script itself runs end to end on a tiny pipeline model: it must exit 0, record why each GPU or
TensorRT step did not run, do the CPU work it can (graphs, ONNX Runtime numbers) and write a
summary that says "no GPU" / "no TensorRT". The Python pieces that need CUDA or TensorRT run here
on the strict fakes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks import gpu_check
from tests.build_engine._precision_helpers import toy_pipeline
from tests.fcn_trt.backends.test_tensorrt_backend import make_engine

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "gpu_check.sh"


def _steps(out: Path) -> dict:
    return {s["step"]: s for s in map(json.loads, (out / "steps.jsonl").read_text().splitlines())}


@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("timeout") is None,
                    reason="needs bash and coreutils timeout")
def test_script_on_this_machine_records_every_step_and_writes_the_summary(tmp_path):
    model = toy_pipeline(tmp_path / "toy.onnx", np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]], np.float32))
    out = tmp_path / "gpu check out"  # a space in the path must not break the script
    env = dict(os.environ, PYTHON=sys.executable)
    proc = subprocess.run(["bash", str(SCRIPT), "--quick", "--out", str(out), "--model", str(model),
                           "--skip", "pytest_gpu"], cwd=str(tmp_path), env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    facts = json.loads((out / "raw" / "env.json").read_text())
    steps = _steps(out)
    summary = (out / "summary.md").read_text()
    data = json.loads((out / "summary.json").read_text())
    assert data["has_gpu"] is facts["has_gpu"] and data["has_tensorrt"] is facts["has_tensorrt"]
    assert steps["env"]["status"] == "ok"
    assert steps["pytest_gpu"] == dict(steps["pytest_gpu"], status="skipped", reason="skipped on request (--skip)")
    # every TensorRT step is listed as such, and on a machine without GPU/TensorRT it says why it stopped
    trt_steps = [s for s in steps.values() if "trt" in s["needs"].split(",")]
    assert {s["step"] for s in trt_steps} >= {"build_demo_fp32", "selfcheck_demo_fp16", "overlap_demo_fp16",
                                              "bench_gpu"}
    if not facts["has_gpu"]:
        assert "**no GPU**" in summary
        for s in trt_steps + [steps["cuda_roundtrip"]]:
            assert s["status"] == "skipped" and s["reason"].startswith("no GPU"), s
    if not facts["has_tensorrt"]:
        assert "**no TensorRT**" in summary and "Steps that need TensorRT: build_demo_fp32" in summary
    # the CPU work that needs neither GPU nor TensorRT was done
    if facts["has_onnx"] and facts["has_onnxruntime"]:
        for name in ("demo_fp32", "demo_fp16", "demo_int8", "ort"):
            assert steps[name]["status"] == "ok", steps[name]
        ort_rows = json.loads((out / "raw" / "ort.json").read_text())["rows"]
        assert {r["graph"] for r in ort_rows if "median_ms" in r} == {"demo.onnx", "demo.fp16.onnx", "demo.int8.onnx"}
        agreement = {r["graph"]: r["agreement_vs_fp32"] for r in ort_rows if "agreement_vs_fp32" in r}
        assert agreement["demo.fp16.onnx"] > 0.9
        assert "## ONNX Runtime" in summary
    assert (out / "logs" / "env.log").is_file()


def test_summary_from_records_alone(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "env.json").write_text(json.dumps({
        "has_gpu": True, "has_tensorrt": False, "version_tensorrt": "unavailable: ModuleNotFoundError",
        "torch_device": {"cuda_available": True, "device": "NVIDIA H200"}, "time_utc": "2026-12-03T00:00:00Z"}))
    (tmp_path / "raw" / "torch.json").write_text(json.dumps({
        "device": "NVIDIA H200", "model": "canonical FCN-8s", "rows": [{"dtype": "float16", "size": "500x500",
                                                                        "median_ms": 3.25}]}))
    (tmp_path / "steps.jsonl").write_text("\n".join(json.dumps(s) for s in [
        {"step": "env", "status": "ok", "seconds": 3, "needs": "py", "reason": ""},
        {"step": "build_demo_fp16", "status": "skipped", "seconds": 0, "needs": "gpu,trt",
         "reason": "no TensorRT: the tensorrt module does not import"},
    ]) + "\nnot json\n")
    assert gpu_check.main(["summary", "--out", str(tmp_path)]) == 0
    md = (tmp_path / "summary.md").read_text()
    assert "**no TensorRT**" in md and "**no GPU**" not in md
    assert "| build_demo_fp16 | skipped | 0 | gpu,trt | no TensorRT: the tensorrt module does not import |" in md
    assert "| float16 | 500x500 | 3.25 |" in md and "Steps that need TensorRT: build_demo_fp16." in md


def test_cuda_step_on_the_strict_cuda_fake(tmp_path, fake_cuda):
    fake_cuda.STATE.capture_supported = True
    out = tmp_path / "cuda.json"
    assert gpu_check.main(["cuda", "--out", str(out), "--quick"]) == 0
    res = json.loads(out.read_text())
    assert res["checks"] == {"round_trip_1MiB": True, "two_streams_event_order": True, "cuda_graph_replay": True}
    one_mib = res["bandwidth"][0]
    st = fake_cuda.STATE
    assert one_mib["h2d_ms"] == pytest.approx(st.copy_latency_ms + (1 << 20) / st.copy_bytes_per_ms)


def test_cuda_step_without_a_device_says_why(tmp_path, fake_cuda):
    fake_cuda.STATE.driver_error = fake_cuda.cudaError_t.cudaErrorInsufficientDriver
    out = tmp_path / "cuda.json"
    assert gpu_check.main(["cuda", "--out", str(out)]) == gpu_check.EXIT_MISSING
    res = json.loads(out.read_text())
    assert res["status"] == "missing prerequisite" and "cudaErrorInsufficientDriver" in res["reason"]


def test_overlap_step_on_the_fakes(tmp_path, fake_trt, fake_cuda):
    engine = make_engine(tmp_path, fake_trt)
    out = tmp_path / "overlap.json"
    assert gpu_check.main(["overlap", "--engine", str(engine), "--out", str(out), "--quick"]) == 0
    res = json.loads(out.read_text())
    assert res["labels_identical"] is True and res["frames"] == 16 and res["frame"] == "16x16"
    assert set(res["last_stage_timings_ms"]) == {"h2d", "compute", "d2h"}


def test_quantize_piece_calibrates_on_synthetic_frames_without_opencv(tmp_path):
    onnx = pytest.importorskip("onnx")
    model = toy_pipeline(tmp_path / "toy.onnx", np.eye(3, dtype=np.float32))
    out = tmp_path / "toy.int8.onnx"
    assert gpu_check.main(["quantize", str(model), str(out), "--frames", "2", "--size", "32x48"]) == 0
    ops = {n.op_type for n in onnx.load(str(out)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops


def test_torch_piece_without_cuda_says_why(tmp_path):
    torch = pytest.importorskip("torch")
    out = tmp_path / "torch.json"
    code = gpu_check.main(["torch", "--out", str(out), "--quick"])
    res = json.loads(out.read_text())
    if torch.cuda.is_available():  # a GPU machine: the reference was measured
        assert code == 0 and res["rows"]
    else:
        assert code == gpu_check.EXIT_MISSING and "torch.cuda.is_available() is False" in res["reason"]
