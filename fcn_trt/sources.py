"""Deprecated: ``fcn_trt.sources`` moved to :mod:`fcn_trt.streaming.sources` after 0.1.0; this alias is removed in the next release."""

import warnings

from .streaming.sources import *  # noqa: F401,F403
from .streaming.sources import __all__  # noqa: F401

warnings.warn("fcn_trt.sources moved to fcn_trt.streaming.sources; import it from there (fcn_trt.sources is removed in the next release)",
              DeprecationWarning, stacklevel=2)
