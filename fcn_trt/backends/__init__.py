"""Inference backends. Each is imported lazily by :class:`fcn_trt.Segmenter`."""
