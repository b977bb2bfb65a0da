"""``python -m build_engine export --onnx``: a network from another framework wraps into the pipeline graph
from the command line (the command lives in build_engine/cli/__init__.py)."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

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
