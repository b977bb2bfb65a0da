"""The demo: a held-out generated clip segmented by the shipped demo model (layer L5).

``fcn-trt demo`` is :func:`run_demo` plus printing. The scenes themselves are
:mod:`fcn_trt.streaming.scenes` (the ``"synthetic"`` camera source uses them too).

Example:
    >>> from fcn_trt.demo import run_demo
    >>> print(run_demo("out", frames=30).summary())                    # doctest: +SKIP
"""

from typing import TYPE_CHECKING

from .._deprecated import moved_names
from .run import DEMO_CLIP_SEED, SIDE_BY_SIDE_NAME, VIDEO_NAME, DemoReport, parse_size, run_demo

__all__ = ["run_demo", "DemoReport", "DEMO_CLIP_SEED", "VIDEO_NAME", "SIDE_BY_SIDE_NAME", "parse_size"]


if not TYPE_CHECKING:  # names that moved to the command line (_deprecated.MOVED_NAMES), one release
    __getattr__ = moved_names(__name__)
