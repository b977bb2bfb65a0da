"""One progress-bar helper for every long loop of the SDK.

Wraps :func:`tqdm.tqdm` when tqdm is installed (an optional dependency) and the bar is enabled;
otherwise returns the iterable's own iterator, printing nothing.

Example:
    >>> list(progress(range(3), desc="frames", enabled=False))
    [0, 1, 2]
"""

from __future__ import annotations

from typing import Iterable, Iterator, Optional, TypeVar

__all__ = ["progress"]

T = TypeVar("T")


def progress(
    iterable: Iterable[T],
    total: Optional[int] = None,
    desc: str = "",
    enabled: bool = True,
) -> Iterator[T]:
    """Iterate ``iterable`` with a tqdm bar (written to stderr) when tqdm is installed and ``enabled``.

    ``total`` defaults to ``len(iterable)`` when it has one. The bar disables itself when stderr is
    not a terminal (tqdm's ``disable=None``), so logs and CI output stay clean.
    """
    if enabled:
        try:
            from tqdm import tqdm
        except ImportError:
            tqdm = None
        if tqdm is not None:
            if total is None:
                try:
                    total = len(iterable)  # type: ignore[arg-type]
                except TypeError:
                    total = None
            return iter(tqdm(iterable, total=total, desc=desc or None, disable=None, dynamic_ncols=True))
    return iter(iterable)
