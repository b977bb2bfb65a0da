"""Deprecated alias of :mod:`build_engine.training.torch_fcn` (moved after 0.1.0; removed in the next release)."""

from fcn_trt._deprecated import reexport

reexport("build_engine.torch_fcn", "build_engine.training.torch_fcn", globals())
