"""Deprecated: ``fcn_trt.sysinfo`` moved to :mod:`fcn_trt.tools.sysinfo` after 0.1.0; this alias is removed in the next release."""

import warnings

from .tools.sysinfo import *  # noqa: F401,F403
from .tools.sysinfo import __all__  # noqa: F401

warnings.warn("fcn_trt.sysinfo moved to fcn_trt.tools.sysinfo; import it from there (fcn_trt.sysinfo is removed in the next release)",
              DeprecationWarning, stacklevel=2)
