"""Deprecated: ``fcn_trt.scenes`` moved to :mod:`fcn_trt.streaming.scenes` after 0.1.0; this alias is removed in the next release."""

import warnings

from .streaming.scenes import *  # noqa: F401,F403
from .streaming.scenes import __all__  # noqa: F401

warnings.warn("fcn_trt.scenes moved to fcn_trt.streaming.scenes; import it from there (fcn_trt.scenes is removed in the next release)",
              DeprecationWarning, stacklevel=2)
