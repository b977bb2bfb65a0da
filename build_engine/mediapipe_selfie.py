"""Deprecated: ``build_engine.mediapipe_selfie`` moved to :mod:`build_engine.recipes.mediapipe_selfie`; this alias is removed in the next release."""

import warnings

from build_engine.recipes.mediapipe_selfie import *  # noqa: F401,F403
from build_engine.recipes.mediapipe_selfie import __all__  # noqa: F401

warnings.warn("build_engine.mediapipe_selfie moved to build_engine.recipes.mediapipe_selfie; import it from there (build_engine.mediapipe_selfie is removed in the next release)",
              DeprecationWarning, stacklevel=2)
