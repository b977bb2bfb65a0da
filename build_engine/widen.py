"""Deprecated: ``build_engine.widen`` moved to :mod:`build_engine.training.widen`; this alias is removed in the next release."""

import warnings

from build_engine.training.widen import *  # noqa: F401,F403
from build_engine.training.widen import __all__  # noqa: F401

warnings.warn("build_engine.widen moved to build_engine.training.widen; import it from there (build_engine.widen is removed in the next release)",
              DeprecationWarning, stacklevel=2)

if __name__ == "__main__":  # python -m build_engine.widen keeps working for one release
    import sys

    from build_engine.training.widen import main

    sys.exit(main())
