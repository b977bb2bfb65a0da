"""Deprecated: ``fcn_trt.datasets`` moved to :mod:`fcn_trt.eval.voc` after 0.1.0; this alias is removed in the next release."""

import warnings

from ..eval.voc import *  # noqa: F401,F403
from ..eval.voc import __all__  # noqa: F401

warnings.warn("fcn_trt.datasets moved to fcn_trt.eval.voc; import it from there (fcn_trt.datasets is removed in the next release)",
              DeprecationWarning, stacklevel=2)
