"""Small helpers every layer may use (L0: imports nothing of fcn_trt but :mod:`fcn_trt.errors`).

:func:`parse_hw` is the one grammar of a frame size in fcn_trt and build_engine (CLI flags and the
library functions that accept a size as text). :class:`Closeable` is the one ``with`` block of
every object that has an idempotent ``close()``; :func:`read_proc_value` the one reader of a
``Key: value`` line of a Linux /proc file.

Example:
    >>> parse_hw("480x640"), parse_hw("480,640"), parse_hw("224", square=True)
    ((480, 640), (480, 640), (224, 224))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Optional, Tuple, TypeVar

from .errors import ConfigError

if TYPE_CHECKING:
    import threading

__all__ = ["parse_hw", "SIZE_GRAMMAR", "Closeable", "read_proc_value"]

_C = TypeVar("_C", bound="Closeable")
_V = TypeVar("_V")

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


def read_proc_value(path: str, key: str, parse: Callable[[str], _V]) -> Optional[_V]:
    """``parse`` of the first word after ``key:`` in a ``Key: value`` file such as /proc/meminfo.

    None when the file cannot be read, has no such line, or ``parse`` rejects the word (ValueError),
    so that callers fall back to another way of knowing.

    Example:
        >>> read_proc_value("/no/such/file", "MemAvailable", int) is None
        True
    """
    try:
        with open(path, encoding="ascii") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return parse(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


class Closeable:
    """A context manager whose ``with`` block ends in :meth:`close` (which subclasses define).

    Example:
        >>> class Door(Closeable):
        ...     shut = False
        ...     def close(self): self.shut = True
        >>> with Door() as d:
        ...     d.shut
        False
        >>> d.shut
        True
    """

    _lock: "threading.Lock"  # these two: for the subclasses that call _first_close()
    _closed: bool

    def close(self) -> None:
        """Release what the object holds. Idempotent."""
        raise NotImplementedError

    def _first_close(self) -> bool:
        """Set ``self._closed`` under ``self._lock``; True only for the call that closed it (once)."""
        with self._lock:
            if self._closed:
                return False
            self._closed = True
            return True

    def __enter__(self: _C) -> _C:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
