"""Deprecated: ``fcn_trt.profile`` moved to :mod:`fcn_trt.tools.profiling` after 0.1.0; this alias is removed in the next release."""

import warnings

from .tools.profiling import *  # noqa: F401,F403
from .tools.profiling import __all__  # noqa: F401

warnings.warn("fcn_trt.profile moved to fcn_trt.tools.profiling; import it from there (fcn_trt.profile is removed in the next release)",
              DeprecationWarning, stacklevel=2)
