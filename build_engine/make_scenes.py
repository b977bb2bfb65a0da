"""Deprecated: ``build_engine.make_scenes`` moved to :mod:`build_engine.training.make_scenes`; this alias is removed in the next release."""

import warnings

from build_engine.training.make_scenes import *  # noqa: F401,F403
from build_engine.training.make_scenes import __all__  # noqa: F401

warnings.warn("build_engine.make_scenes moved to build_engine.training.make_scenes; import it from there (build_engine.make_scenes is removed in the next release)",
              DeprecationWarning, stacklevel=2)

if __name__ == "__main__":  # python -m build_engine.make_scenes keeps working for one release
    import sys

    from build_engine.training.make_scenes import main

    sys.exit(main())
