"""Deprecated: ``build_engine.torch_fcn`` moved to :mod:`build_engine.training.torch_fcn`; this alias is removed in the next release."""

import warnings

from build_engine.training.torch_fcn import *  # noqa: F401,F403
from build_engine.training.torch_fcn import __all__  # noqa: F401

warnings.warn("build_engine.torch_fcn moved to build_engine.training.torch_fcn; import it from there (build_engine.torch_fcn is removed in the next release)",
              DeprecationWarning, stacklevel=2)
