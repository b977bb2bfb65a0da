"""Deprecated: ``fcn_trt.validation`` moved to :mod:`fcn_trt._frames` after 0.1.0; this alias is removed in the next release."""

import warnings

from ._frames import *  # noqa: F401,F403
from ._frames import __all__  # noqa: F401

warnings.warn("fcn_trt.validation moved to fcn_trt._frames; import it from there (fcn_trt.validation is removed in the next release)",
              DeprecationWarning, stacklevel=2)
