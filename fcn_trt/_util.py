"""Small helpers every layer may use (L0: imports nothing of fcn_trt but :mod:`fcn_trt.errors`).

:func:`parse_hw` is the one grammar of a frame size in fcn_trt and build_engine (CLI flags and the
library functions that accept a size as text).

Example:
    >>> parse_hw("480x640"), parse_hw("480,640"), parse_hw("224", square=True)
    ((480, 640), (480, 640), (224, 224))
"""

from __future__ import annotations

from typing import Optional, Tuple

from .errors import ConfigError

__all__ = ["parse_hw", "SIZE_GRAMMAR"]

#: how the one size grammar reads, for messages
SIZE_GRAMMAR = "HxW or H,W with positive integers, e.g. 480x640"


def parse_hw(text: object, what: str = "--size", minimum: int = 1, maximum: Optional[int] = None,
             square: bool = False) -> Tuple[int, int]:
    """``"HxW"`` / ``"H,W"`` (and ``"S"`` for SxS where ``square``) -> ``(h, w)``; :class:`ConfigError`
    naming ``what`` otherwise.

    ``minimum``/``maximum`` bound both sides (inclusive). A lone number is a size only where
    ``square`` says so (the calibration size, as in 0.1.0); elsewhere it is a mistake (width or square?).
    """
    parts = str(text).strip().lower().replace(",", "x").split("x")
    try:
        if len(parts) != 2 and not (square and len(parts) == 1):
            raise ValueError
        h, w = (int(parts[0]), int(parts[-1]))
    except ValueError:
        grammar = SIZE_GRAMMAR.replace(" with", ", or S for SxS, with") if square else SIZE_GRAMMAR
        raise ConfigError(what, expected=grammar, found=repr(text)) from None
    if h < max(1, minimum) or w < max(1, minimum) or (maximum is not None and (h > maximum or w > maximum)):
        bounds = f"between {max(1, minimum)} and {maximum}" if maximum is not None else f"at least {max(1, minimum)}"
        raise ConfigError(what, expected=f"H and W {bounds}", found=repr(text))
    return h, w
