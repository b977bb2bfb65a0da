"""Deprecated: ``fcn_trt.metrics`` moved to :mod:`fcn_trt.eval.metrics` after 0.1.0; this alias is removed in the next release."""

import warnings

from .eval.metrics import *  # noqa: F401,F403
from .eval.metrics import __all__  # noqa: F401

warnings.warn("fcn_trt.metrics moved to fcn_trt.eval.metrics; import it from there (fcn_trt.metrics is removed in the next release)",
              DeprecationWarning, stacklevel=2)
