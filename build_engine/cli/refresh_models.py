"""``python -m build_engine.refresh_models [NAMES] [--check]``: re-export the shipped built-in models
(:func:`build_engine.refresh_models.refresh_builtin`)."""

from __future__ import annotations

import argparse

from fcn_trt.cli.args import ScriptMain, script_main
from fcn_trt.models import BUILTIN_MODELS

from ..refresh_models import refresh_builtin

__all__ = ["make_parser", "command", "main"]


def make_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m build_engine.refresh_models``."""
    p = argparse.ArgumentParser(prog="python -m build_engine.refresh_models",
                                description="Re-export the shipped built-in models with the current graph builder.")
    p.add_argument("names", nargs="*", default=sorted(BUILTIN_MODELS), help="built-in models (default: all)")
    p.add_argument("--check", action="store_true", help="only report; exit 1 if a model is out of date")
    p.add_argument("--out-dir", default=None, help="write here instead of the package's models folder")
    return p


def command(args: argparse.Namespace) -> int:
    """Refresh (or with ``--check`` only check) each model; 1 if ``--check`` finds one out of date."""
    stale = 0
    for name in args.names:
        r = refresh_builtin(name, args.out_dir, check_only=args.check)
        state = ("out of date" if args.check else "rewritten") if r.graph_changed else "up to date"
        print(f"{name}: {state}; labels identical on {r.frames} reference frames ({r.path.name})")
        stale += int(r.graph_changed)
    return 1 if (args.check and stale) else 0


main: ScriptMain = script_main(make_parser, command, prog="refresh_models")


if __name__ == "__main__":
    raise SystemExit(main())
