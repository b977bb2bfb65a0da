"""Deprecated: ``fcn_trt.inspect_engine`` moved to :mod:`fcn_trt.tools.inspect` after 0.1.0; this alias is removed in the next release."""

import warnings

from .tools.inspect import *  # noqa: F401,F403
from .tools.inspect import __all__  # noqa: F401

warnings.warn("fcn_trt.inspect_engine moved to fcn_trt.tools.inspect; import it from there (fcn_trt.inspect_engine is removed in the next release)",
              DeprecationWarning, stacklevel=2)
