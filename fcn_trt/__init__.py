"""fcn_trt: FCN-8s segmentation as one TensorRT engine, with an ONNX Runtime CPU fallback."""
