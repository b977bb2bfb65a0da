"""Deprecated: ``fcn_trt.selfcheck`` moved to :mod:`fcn_trt.tools.check` after 0.1.0; this alias is removed in the next release."""

import warnings

from .tools.check import *  # noqa: F401,F403
from .tools.check import __all__  # noqa: F401

warnings.warn("fcn_trt.selfcheck moved to fcn_trt.tools.check; import it from there (fcn_trt.selfcheck is removed in the next release)",
              DeprecationWarning, stacklevel=2)
