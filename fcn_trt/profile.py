"""Deprecated alias of :mod:`fcn_trt.tools.profiling` (moved after 0.1.0; removed in the next release)."""

from ._deprecated import reexport

reexport(__name__, "fcn_trt.tools.profiling", globals())
