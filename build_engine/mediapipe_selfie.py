"""Deprecated alias of :mod:`build_engine.recipes.mediapipe_selfie` (moved after 0.1.0; removed in the next release)."""

from fcn_trt._deprecated import reexport

reexport("build_engine.mediapipe_selfie", "build_engine.recipes.mediapipe_selfie", globals())
