"""Deprecated alias of :mod:`fcn_trt.tools.profiling` (moved after 0.1.0; removed in the next release)."""

from typing import TYPE_CHECKING

from ._deprecated import moved_names, reexport

reexport(__name__, "fcn_trt.tools.profiling", globals())


if not TYPE_CHECKING:  # names that moved to the command line (_deprecated.MOVED_NAMES), one release
    __getattr__ = moved_names(__name__)
