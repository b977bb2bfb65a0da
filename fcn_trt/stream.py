"""Deprecated: ``fcn_trt.stream`` moved to :mod:`fcn_trt.streaming.stream` after 0.1.0; this alias is removed in the next release."""

import warnings

from .streaming.stream import *  # noqa: F401,F403
from .streaming.stream import __all__  # noqa: F401

warnings.warn("fcn_trt.stream moved to fcn_trt.streaming.stream; import it from there (fcn_trt.stream is removed in the next release)",
              DeprecationWarning, stacklevel=2)
