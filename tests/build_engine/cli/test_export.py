"""``python -m build_engine export``: its user mistakes, and networks from elsewhere (``--onnx``) wrapped into
the pipeline graph from the command line (the command lives in build_engine/cli/__init__.py)."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

from tests._helpers import run_module
from tests.build_engine._helpers import PRESETS, manual_preprocess


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_torch_exported_nchw_logits_network_wraps_from_the_cli(tmp_path):
    """A network from another framework (PyTorch, BatchNorm, its own names) wraps with no code changes."""
    import subprocess
    import sys

    torch = pytest.importorskip("torch")

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.c = torch.nn.Conv2d(3, 8, 3, padding=1)
            self.bn = torch.nn.BatchNorm2d(8)
            self.o = torch.nn.Conv2d(8, 3, 1)

        def forward(self, x):
            return self.o(torch.relu(self.bn(self.c(x))))

    torch.manual_seed(0)
    net = Net().eval()
    bare = tmp_path / "torch_net.onnx"
    torch.onnx.export(net, (torch.rand(1, 3, 32, 32),), str(bare), dynamo=False, opset_version=17,
                      input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "n", 2: "h", 3: "w"}, "y": {0: "n", 2: "h", 3: "w"}})
    out = tmp_path / "wrapped.onnx"
    p = subprocess.run([sys.executable, "-m", "build_engine", "export", "--onnx", str(bare), "--preset", "imagenet",
                        "--num-classes", "3", "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    bgr = np.random.default_rng(11).integers(0, 256, (2, 29, 41, 3), dtype=np.uint8)
    labels = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(None, {"frame": bgr})[0]
    order, mean, std = PRESETS["imagenet"]
    with torch.no_grad():
        ref = net(torch.from_numpy(manual_preprocess(bgr, order, mean, std))).numpy()
    assert (labels == ref.argmax(1)).mean() >= 0.999
    assert len(np.unique(labels)) == 3  # all classes occur: the comparison is not trivial


@pytest.mark.parametrize("args,needle", [
    (["export", "--width-divisor", "7", "--out", "x.onnx"], "width_divisor"),
    (["export", "--size", "12", "--out", "x.onnx"], "--size"),
    (["export", "--mean", "1,2", "--out", "x.onnx"], "--mean"),
    (["export", "--weights", "nope.npz", "--out", "x.onnx"], "nope.npz"),
    (["export", "--onnx", "nope.onnx", "--out", "x.onnx"], "nope.onnx"),
])
def test_export_mistakes(tmp_path, args, needle):
    p = run_module("build_engine", *args)
    assert p.returncode != 0 and "Traceback" not in p.stderr
    assert needle in p.stderr.strip().splitlines()[-1]


def test_export_wraps_an_existing_onnx(tmp_path):
    import onnx

    from build_engine.fcn import build_fcn

    bare = tmp_path / "bare.onnx"
    onnx.save(build_fcn("fcn32s", 3, 32), str(bare))
    out = tmp_path / "wrapped.onnx"
    p = run_module("build_engine", "export", "--onnx", bare, "--num-classes", "3", "--preset", "caffe", "--size", "64x64",
                   "--out", out)
    assert p.returncode == 0, p.stderr
    import fcn_trt

    with fcn_trt.Segmenter(out) as seg:
        assert seg.run(np.zeros((30, 40, 3), np.uint8)).labels.shape == (30, 40)
        assert seg.metadata.inference_size == (64, 64)
