"""Offline tools: FCN graph construction, weight import, pipeline wrapping, quantization and
TensorRT engine building. The runtime package :mod:`fcn_trt` never imports this package."""
