"""Deprecated alias of :mod:`build_engine.training.train_demo` (moved after 0.1.0; removed in the next release)."""

from typing import TYPE_CHECKING

from fcn_trt._deprecated import moved_names, reexport

reexport("build_engine.train_demo", "build_engine.training.train_demo", globals())


if not TYPE_CHECKING:  # names that moved to the command line (_deprecated.MOVED_NAMES), one release
    __getattr__ = moved_names(__name__)


if __name__ == "__main__":  # python -m build_engine.train_demo keeps working for one release
    import sys

    from build_engine.cli.train_demo import main

    sys.exit(main())
