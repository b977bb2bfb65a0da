"""Torch tooling: train the demo model, widen its weights, write scene datasets (needs ``torch``).

Apart from ``build_engine``'s export/precision/engine core, which never imports torch. The demo
model's training weights, :data:`DEMO_WEIGHTS`, live here, in the repository only: the runtime
wheel ships the pipeline ONNX built from them (``fcn_trt/models/demo_fcn8s_w8.onnx``), not them.

Example:
    >>> from build_engine.training import DEMO_WEIGHTS
    >>> DEMO_WEIGHTS.name
    'demo_fcn8s_w8.npz'
"""

from pathlib import Path

__all__ = ["DEMO_WEIGHTS"]

#: fp16 pytorch-fcn weights of the demo model (``fcn_trt.models`` "demo" is exported from them).
DEMO_WEIGHTS = Path(__file__).with_name("demo_fcn8s_w8.npz")
