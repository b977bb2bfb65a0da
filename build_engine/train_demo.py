"""Deprecated: ``build_engine.train_demo`` moved to :mod:`build_engine.training.train_demo`; this alias is removed in the next release."""

import warnings

from build_engine.training.train_demo import *  # noqa: F401,F403
from build_engine.training.train_demo import __all__  # noqa: F401

warnings.warn("build_engine.train_demo moved to build_engine.training.train_demo; import it from there (build_engine.train_demo is removed in the next release)",
              DeprecationWarning, stacklevel=2)

if __name__ == "__main__":  # python -m build_engine.train_demo keeps working for one release
    import sys

    from build_engine.training.train_demo import main

    sys.exit(main())
