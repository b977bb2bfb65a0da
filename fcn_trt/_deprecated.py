"""One-release aliases at moved module paths (L0).

A module that moved leaves behind a three-line module calling :func:`reexport`: importing the old
path gives the new module's public names and a :class:`DeprecationWarning` naming the new path.

Example:
    >>> ns = {}
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as seen:
    ...     warnings.simplefilter("always")
    ...     reexport("old.errors", "fcn_trt.errors", ns)
    >>> "ConfigError" in ns["__all__"], seen[0].category.__name__
    (True, 'DeprecationWarning')
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any, Dict

__all__ = ["reexport"]


def reexport(old: str, new: str, namespace: Dict[str, Any]) -> None:
    """Fill ``namespace`` (an alias module's ``globals()``) with module ``new``'s ``__all__`` and warn."""
    module = importlib.import_module(new)
    names = list(module.__all__)
    namespace.update({name: getattr(module, name) for name in names})
    namespace["__all__"] = names
    warnings.warn(f"{old} moved to {new}; import it from there ({old} is removed in the next release)",
                  DeprecationWarning, stacklevel=3)
