"""What every ``fcn-trt`` command shares: argument types and groups, and how a command is run.

The library never sees argparse: a command module parses, calls one library function with plain
values, and prints the frozen report it gets back. User mistakes become one line
(``fcn-trt: error: ...``) and the error's exit code (:func:`fcn_trt.errors.run_cli`).

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(); add_model_arguments(p)
    >>> vars(p.parse_args(["--model", "m.onnx"]))
    {'model': 'm.onnx', 'backend': None}
    >>> parse_hw("480x640")       # the one size grammar; handlers parse, so a bad size is one line
    (480, 640)
"""

from __future__ import annotations

import argparse
import importlib
import logging
from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol, Sequence, Tuple

from .._util import parse_hw
from ..backends import BACKENDS
from ..errors import run_cli

if TYPE_CHECKING:
    import numpy as np

    from ..result import SegmentationResult

__all__ = [
    "positive_int", "non_negative_int", "int_in_range", "parse_hw", "add_model_arguments", "add_backend_argument",
    "add_progress_argument", "add_render_arguments", "frame_renderer", "run_parsed", "add_plugin_parsers",
    "add_command", "run_main", "script_parser", "script_main", "ScriptMain",
]


def _checked_int(text: str, accept: Callable[[int], bool], expected: str) -> int:
    """``int(text)`` if ``accept`` takes it, else an ``argparse.ArgumentTypeError`` saying ``expected``."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected %s, found %r" % (expected, text)) from None
    if not accept(value):
        raise argparse.ArgumentTypeError("expected %s, found %d" % (expected, value))
    return value


def positive_int(text: str) -> int:
    """argparse type: a positive integer (for --frames, --limit...)."""
    return _checked_int(text, lambda value: value >= 1, "a positive integer")


def int_in_range(lo: int, hi: int) -> Callable[[str], int]:
    """argparse type factory: an integer in ``lo..hi`` (``--num-classes``, ``--width-divisor``...).

    Example:
        >>> int_in_range(1, 256)("21")
        21
    """
    def parse(text: str) -> int:
        return _checked_int(text, lambda value: lo <= value <= hi, "an integer in %d..%d" % (lo, hi))

    parse.__name__ = "integer %d..%d" % (lo, hi)
    return parse


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0 (for counts where 0 means "none" or "the default")."""
    return _checked_int(text, lambda value: value >= 0, "an integer >= 0")


def add_backend_argument(parser: Any) -> None:
    """``--backend`` (default: from the model's suffix)."""
    parser.add_argument("--backend", choices=list(BACKENDS), default=None, help="default: from the model's suffix")


def add_progress_argument(parser: Any) -> None:
    """``--no-progress`` (commands that show a progress bar while they work)."""
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def add_model_arguments(parser: Any, default: Optional[str] = "demo") -> None:
    """Add ``--model`` and ``--backend`` (what :class:`fcn_trt.Segmenter` takes) to an argparse parser."""
    parser.add_argument("--model", default=default,
                        help="pipeline .onnx, TensorRT .engine, or built-in name (default: %s)" % default)
    add_backend_argument(parser)


def add_render_arguments(parser: Any) -> None:
    """Add ``--mode``, ``--alpha``, ``--smooth`` and ``--no-legend`` (what :func:`fcn_trt.render.render` and
    :class:`fcn_trt.render.LabelSmoother` take) to an argparse parser; ``--smooth none`` means no smoothing."""
    from ..streaming.drawing import RENDER_MODES

    parser.add_argument("--mode", choices=RENDER_MODES, default="overlay", help="what to draw (default: overlay)")
    parser.add_argument("--alpha", type=float, default=0.5, help="overlay opacity (default: 0.5)")
    parser.add_argument("--smooth", choices=["none", "ema", "majority"], default="none",
                        help="temporal smoothing of labels across frames (default: none)")
    parser.add_argument("--no-legend", action="store_true", help="hide the class legend")


def frame_renderer(args: argparse.Namespace) -> Callable[..., "np.ndarray"]:
    """What the :func:`add_render_arguments` options ask for, as ``draw(frame, result, input_format, text=())``:
    the BGR image of ``result`` (smoothed across the frames drawn so far unless ``--smooth none``) over ``frame``.

    Example (``samples/segment_video.py``)::

        draw = frame_renderer(args)
        for r in seg.stream(args.input, live=False):
            writer.write(draw(r.frame, r.result, seg.metadata.input_format))
    """
    from ..streaming import LabelSmoother, render, to_bgr

    smoother = None if args.smooth == "none" else LabelSmoother(args.smooth)

    def draw(frame: "np.ndarray", result: "SegmentationResult", input_format: str,
             text: Sequence[str] = ()) -> "np.ndarray":
        shown = smoother.smooth(result) if smoother else result
        return render(to_bgr(frame, input_format), shown, mode=args.mode, alpha=args.alpha, legend=not args.no_legend,
                      text=text)

    return draw


def add_command(sub: Any, name: str, command: Callable[[argparse.Namespace], int], help: str,
                description: Optional[str] = None) -> argparse.ArgumentParser:
    """A subcommand parser whose handler is ``command`` (``args.func``)."""
    p = sub.add_parser(name, help=help, description=description or help)
    p.set_defaults(func=command)
    return p  # type: ignore[no-any-return]


def run_main(parse_args: Callable[[Optional[Sequence[str]]], argparse.Namespace],
             run: Callable[[argparse.Namespace], int], argv: Optional[Sequence[str]] = None, prog: str = "") -> int:
    """``main()`` of a script (the samples): parse, run, a user mistake is one ``error:`` line and its exit code."""
    args = parse_args(argv)
    return run_cli(lambda: run(args), prog)


def script_parser(doc: str) -> argparse.ArgumentParser:
    """The parser of a script (the samples) whose docstring is ``doc``: its first paragraph is the
    description, the rest (examples, notes) the epilog, printed as written."""
    summary, _, rest = doc.partition("\n\n")
    return argparse.ArgumentParser(description=summary, epilog=rest, formatter_class=argparse.RawDescriptionHelpFormatter)


class ScriptMain(Protocol):
    """``main(argv=None) -> exit code`` of a script (what :func:`script_main` returns)."""

    def __call__(self, argv: Optional[Sequence[str]] = None) -> int: ...


def script_main(make_parser: Callable[[], argparse.ArgumentParser], run: Callable[[argparse.Namespace], int],
                prog: str = "") -> ScriptMain:
    """``main(argv=None)`` of a script: parse ``argv`` with a new ``make_parser()``, then :func:`run_main`.

    Example:
        >>> def make_parser():
        ...     p = argparse.ArgumentParser()
        ...     p.add_argument("words", nargs="*")
        ...     return p
        >>> main = script_main(make_parser, lambda args: len(args.words))
        >>> main(["a", "b"])
        2
    """
    def main(argv: Optional[Sequence[str]] = None) -> int:
        return run_main(lambda args: make_parser().parse_args(args), run, argv, prog)

    return main


def add_plugin_parsers(sub: Any, plugins: Sequence[Tuple[str, str]]) -> None:
    """Add the subcommands that live in their own modules (``(module, add_parser function)``).

    For build_engine's CLI, whose commands import optional heavy packages (onnx, torch): a module
    missing its optional dependency drops its command instead of breaking the whole CLI.
    """
    for module, func in plugins:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name == module:
                continue
            raise
        add_parser = getattr(mod, func, None)
        if add_parser is not None:
            add_parser(sub)


def run_parsed(parser: argparse.ArgumentParser, argv: Optional[Sequence[str]], prog: str, level: int) -> int:
    """Parse and run ``args.func`` under :func:`fcn_trt.errors.run_cli` (one-line errors, exit codes)."""
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else level, format="%(levelname)s %(name)s: %(message)s")
    return run_cli(lambda: args.func(args), prog, debug=args.verbose)
