"""Deprecated: ``fcn_trt.render`` moved to :mod:`fcn_trt.streaming.drawing` after 0.1.0; this alias is removed in the next release."""

import warnings

from .streaming.drawing import *  # noqa: F401,F403
from .streaming.drawing import __all__  # noqa: F401

warnings.warn("fcn_trt.render moved to fcn_trt.streaming.drawing; import it from there (fcn_trt.render is removed in the next release)",
              DeprecationWarning, stacklevel=2)
