"""Deprecated alias of :mod:`build_engine.recipes.mediapipe_selfie` (moved after 0.1.0; removed in the next release)."""

from typing import TYPE_CHECKING

from fcn_trt._deprecated import moved_names, reexport

reexport("build_engine.mediapipe_selfie", "build_engine.recipes.mediapipe_selfie", globals())


if not TYPE_CHECKING:  # names that moved to the command line (_deprecated.MOVED_NAMES), one release
    __getattr__ = moved_names(__name__)
