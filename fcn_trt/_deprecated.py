"""One-release aliases at moved module paths and for moved names (L0).

A module that moved leaves behind a three-line module calling :func:`reexport`: importing the old
path gives the new module's public names and a :class:`DeprecationWarning` naming the new path.
A name that moved out of a module that stayed (the command-line helpers that left the library
modules for :mod:`fcn_trt.cli` and :mod:`build_engine.cli`) is served by that module's
``__getattr__`` (PEP 562), made by :func:`moved_names`: the new home is imported only when a user
touches the old name, with the same warning. The libraries never touch them (the test suite turns
these warnings into errors), so such a lookup is no import edge between layers.

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
import sys
import warnings
from typing import Any, Callable, Dict

__all__ = ["reexport", "moved_names", "run_moved_main", "MOVED_NAMES"]

#: old module -> {old name: "new.module:new_name"}: the command-line helpers that left the library
#: modules for fcn_trt.cli / build_engine.cli (their signatures are unchanged)
MOVED_NAMES: Dict[str, Dict[str, str]] = {
    "build_engine.compare": {"add_compare_parser": "build_engine.cli.compare:add_parser", "run_compare": "build_engine.cli.compare:command"},
    "build_engine.make_scenes": {"main": "build_engine.cli.make_scenes:main"},
    "build_engine.mediapipe_selfie": {"add_convert_selfie_parser": "build_engine.cli.convert_selfie:add_parser", "run_convert_selfie": "build_engine.cli.convert_selfie:command"},
    "build_engine.precision": {"add_fp16_parser": "build_engine.cli.fp16:add_parser", "run_fp16": "build_engine.cli.fp16:command"},
    "build_engine.quantize": {"add_quantize_parser": "build_engine.cli.quantize:add_parser", "run_quantize": "build_engine.cli.quantize:command"},
    "build_engine.train_demo": {"main": "build_engine.cli.train_demo:main"},
    "build_engine.trt_builder": {"add_build_parser": "build_engine.cli.build:add_parser", "run_build": "build_engine.cli.build:command"},
    "build_engine.widen": {"main": "build_engine.cli.widen:main"},
    "fcn_trt.demo": {"add_demo_parser": "fcn_trt.cli.demo:add_parser", "run_demo_command": "fcn_trt.cli.demo:command"},
    "fcn_trt.eval": {"add_eval_parser": "fcn_trt.cli.eval:add_parser", "run_eval_command": "fcn_trt.cli.eval:command"},
    "fcn_trt.inspect_engine": {"add_inspect_parser": "fcn_trt.cli.inspect:add_parser", "run_inspect": "fcn_trt.cli.inspect:command"},
    "fcn_trt.profile": {"add_profile_parser": "fcn_trt.cli.profile:add_parser", "run_profile_command": "fcn_trt.cli.profile:command"},
    "fcn_trt.render": {"add_render_arguments": "fcn_trt.cli.args:add_render_arguments"},
    "fcn_trt.segmenter": {"add_model_arguments": "fcn_trt.cli.args:add_model_arguments"},
    "fcn_trt.selfcheck": {"add_selfcheck_parser": "fcn_trt.cli.selfcheck:add_parser", "run_selfcheck_command": "fcn_trt.cli.selfcheck:command"},
}


def reexport(old: str, new: str, namespace: Dict[str, Any]) -> None:
    """Fill ``namespace`` (an alias module's ``globals()``) with module ``new``'s ``__all__`` and warn;
    names of ``old`` that moved elsewhere (:data:`MOVED_NAMES`) are served by its ``__getattr__``."""
    module = importlib.import_module(new)
    names = list(module.__all__)
    namespace.update({name: getattr(module, name) for name in names})
    namespace["__all__"] = names
    if old in MOVED_NAMES:
        namespace["__getattr__"] = moved_names(old)
    _warn_moved(old, new)


def run_moved_main(old: str) -> None:
    """``python -m <old path>``: exit with the ``main()`` that moved away from ``old``."""
    sys.exit(_resolve(MOVED_NAMES[old]["main"])())


def moved_names(module: str) -> Callable[[str], Any]:
    """The ``__getattr__`` of ``module`` serving its :data:`MOVED_NAMES` with a warning.

    Example:
        >>> __getattr__ = moved_names("fcn_trt.segmenter")
        >>> with warnings.catch_warnings(record=True) as seen:
        ...     warnings.simplefilter("always")
        ...     __getattr__("add_model_arguments").__module__, seen[0].category.__name__
        ('fcn_trt.cli.args', 'DeprecationWarning')
    """
    moved = MOVED_NAMES.get(module, {})  # run as a script (`python -m`), __name__ is "__main__"

    def __getattr__(name: str) -> Any:
        target = moved.get(name)
        if target is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        _warn_moved(f"{module}.{name}", target.replace(":", "."), stacklevel=3)
        return _resolve(target)

    return __getattr__


def _resolve(target: str) -> Any:
    """The object a ``"module:name"`` entry of :data:`MOVED_NAMES` names (its module imported now)."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def _warn_moved(old: str, new: str, stacklevel: int = 4) -> None:
    warnings.warn(f"{old} moved to {new}; import it from there ({old} is removed in the next release)",
                  DeprecationWarning, stacklevel=stacklevel)
