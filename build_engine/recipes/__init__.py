"""Recipes that turn third-party models into fcn_trt pipelines (TensorFlow tooling lives here).

* :mod:`~build_engine.recipes.mediapipe_selfie`: MediaPipe selfie segmentation (TFLite ->
  tf2onnx -> canonical ONNX -> pipeline), the shipped ``selfie`` model.
"""

__all__: list = []
