"""Shared helpers of the benchmark scripts: round-robin timing, the benchmark model, report headers.

Run the scripts from the repository root as modules (``python -m benchmarks.bench_cpu``) or with the
package installed.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shlex
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from fcn_trt.tools.sysinfo import system_info

RESULTS = Path(__file__).resolve().parent / "results"
# What --model means where the script measures benchmark_model(args.model, ...).
BENCHMARK_MODEL_HELP = "pipeline .onnx or built-in name (default: demo, else width/8 FCN-8s)"


def argument_parser(doc: str, model_help: str = BENCHMARK_MODEL_HELP,
                    model_default: Optional[str] = None) -> argparse.ArgumentParser:
    """A script's parser: described by the first paragraph of its docstring ``doc``, with its ``--model`` option."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--model", default=model_default, help=model_help)
    return parser


def parse_sizes(text: str) -> List[Tuple[int, int]]:
    from fcn_trt.tools.profiling import parse_size

    return [parse_size(s, "--sizes") for s in text.split(",") if s.strip()]


def round_robin(fns: Mapping[str, Callable[[], object]], reps: int, warmup: int = 1,
                timers: Optional[Mapping[str, Callable[[], float]]] = None, gap_s: float = 0.02,
                block: int = 1, discard: int = 0) -> Dict[str, List[float]]:
    """Time every function ``block`` times in a row per round, ``reps`` rounds (after ``warmup``
    untimed rounds), in ms; the first ``discard`` calls of each turn are run but not kept.

    Interleaving spreads machine noise (other processes, frequency changes) over every method
    instead of biasing whichever ran during a noisy second. ``timers[name]``, when given, is a
    function that runs one measurement itself and returns its milliseconds (for baselines that
    time only part of their work).

    ``block > 1`` measures each method the way it is used: called back to back in a loop. With one
    call per turn (``block=1``), every measurement starts right after a *different* session ran, and
    ONNX Runtime's intra-op pool spin-waits after a run: on a small machine those spinning threads,
    or the wake-up of parked ones, slow whichever session runs next, and a baseline that starts with
    a few ms of numpy work hides that cost. Discarding the first calls of each turn removes the
    switch. ``gap_s`` of idle time before each turn is the older, weaker remedy.
    """
    if block < 1 or not 0 <= discard < block:
        raise ValueError(f"need block >= 1 and 0 <= discard < block, got block={block}, discard={discard}")
    timers = timers or {}
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    out: Dict[str, List[float]] = {k: [] for k in fns}
    for r in range(reps):
        names = list(fns)
        if r % 2:  # alternate the order too, so no method always runs right after the same one
            names.reverse()
        for name in names:
            if gap_s:
                time.sleep(gap_s)
            for i in range(block):
                if name in timers:
                    ms = timers[name]()
                else:
                    t0 = time.perf_counter()
                    fns[name]()
                    ms = (time.perf_counter() - t0) * 1e3
                if i >= discard:
                    out[name].append(ms)
    return out


def paired_ratio(a: Sequence[float], b: Sequence[float], per_round: int) -> float:
    """Median over rounds of (median of ``a``'s calls in that round / median of ``b``'s).

    ``a`` and ``b`` come from the same :func:`round_robin` run, ``per_round`` kept calls per
    method per round. Each round's two loops ran within a fraction of a second of each other, so a
    slow stretch of a shared machine slows both and cancels in their ratio; a ratio of medians over
    the whole run does not cancel it.
    """
    if per_round < 1 or len(a) != len(b) or len(a) % per_round or not a:
        raise ValueError(f"need two equally long, non-empty series of whole rounds of {per_round} calls, "
                         f"got {len(a)} and {len(b)}")
    ra = np.median(np.reshape(np.asarray(a, float), (-1, per_round)), axis=1)
    rb = np.median(np.reshape(np.asarray(b, float), (-1, per_round)), axis=1)
    return float(np.median(ra / rb))


def reps_for(seconds: float, round_ms: float, lo: int = 3, hi: int = 50) -> int:
    """Rounds that fit in ``seconds`` when one round costs ``round_ms``."""
    if round_ms <= 0:
        return hi
    return int(max(lo, min(hi, seconds * 1e3 / round_ms)))


def timed_sweep(fns: Mapping[str, Callable[[], object]], seconds: float) -> Dict[str, List[float]]:
    """:func:`round_robin` over ``fns`` for as many rounds as fit in ``seconds``, sized by one untimed call of each."""
    t0 = time.perf_counter()
    for fn in fns.values():
        fn()
    return round_robin(fns, reps_for(seconds, (time.perf_counter() - t0) * 1e3), warmup=0)


def ticks(stop: threading.Event, period_s: float) -> Iterator[int]:
    """Yield 0, 1, 2... every ``period_s`` seconds on a fixed schedule (a late tick does not delay the
    next ones) until ``stop`` is set: the capture clock of a simulated camera."""
    t_next = time.perf_counter()
    n = 0
    while not stop.is_set():
        t_next += period_s
        delay = t_next - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        yield n
        n += 1


def median(v: Sequence[float]) -> float:
    return float(np.median(np.asarray(v, dtype=np.float64)))


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile of ``values`` (linear interpolation); NaN for no values."""
    return float(np.percentile(np.asarray(values, np.float64), p)) if len(values) else float("nan")


def synthetic_frame(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A BGR frame of 8x8 noise blocks (structure at several scales, labels not all one class)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(-(-h // 8), -(-w // 8), 3), dtype=np.uint8)
    return np.ascontiguousarray(np.repeat(np.repeat(small, 8, 0), 8, 1)[:h, :w])


def benchmark_model(model: Optional[str], workdir: Path, width_divisor: int = 8,
                    num_classes: int = 21) -> Tuple[Path, str]:
    """The pipeline .onnx to benchmark and a description of it.

    ``model`` (a path or built-in name) wins; else the shipped demo model when present; else a
    width/``width_divisor`` FCN-8s with random weights exported to ``workdir``.
    """
    from fcn_trt.errors import ModelNotFoundError
    from fcn_trt.models import resolve_model

    for candidate in ([model] if model else ["demo"]):
        try:
            path = resolve_model(candidate)
            return path, f"{candidate} ({path.name})"
        except ModelNotFoundError:
            if model:
                raise
    from build_engine.pipeline import export_fcn_pipeline

    path = export_fcn_pipeline(workdir / f"fcn8s_w{width_divisor}.onnx", "fcn8s", num_classes=num_classes,
                               width_divisor=width_divisor, seed=0)
    return path, (f"FCN-8s width/{width_divisor}, {num_classes} classes, random weights (no demo model shipped), "
                  "exported by build_engine.pipeline.export_fcn_pipeline")


def header(title: str, extra: Sequence[str] = (), start_load: Optional[str] = None) -> List[str]:
    """Markdown lines: the exact command, date, machine, versions and load (``start_load``: the
    :func:`load` string taken when the run started; header() itself runs at the end)."""
    info = system_info(device=None)
    argv = [Path(sys.executable).name, "-m", "benchmarks." + Path(sys.argv[0]).stem] + sys.argv[1:]
    lines = [
        f"## {title}",
        "",
        f"- command: `{' '.join(shlex.quote(a) for a in argv)}` (from the repository root)",
        f"- date: {datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}",
        f"- machine: {info['cpu_model']}, {info['cpu_count']} cores, {info['os']}",
        f"- versions: python {info['python']}, numpy {info['numpy']}, onnxruntime {info['onnxruntime']}, "
        f"opencv {info['opencv']}, onnx {info['onnx']}, torch {_torch_version()}",
        f"- load average at start (1/5/15 min): {start_load or 'not recorded'}",
    ]
    lines += [f"- {e}" for e in extra]
    return lines + [""]


def load() -> str:
    if not hasattr(os, "getloadavg"):
        return "n/a"
    return " / ".join(f"{v:.2f}" for v in os.getloadavg())


def _torch_version() -> str:
    from fcn_trt.tools.sysinfo import package_version

    return package_version("torch") or "not installed"


def write_markdown(path: Path, lines: Sequence[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    return path


def publish(lines: Sequence[str], out: Union[str, Path, None], show: bool = True) -> int:
    """Print the markdown section ``lines`` (when ``show``), write it to ``out`` (nowhere when empty) and say
    where; the script's exit status, 0."""
    if show:
        print("\n".join(lines))
    if out:
        print(f"wrote {write_markdown(Path(out), lines)}")
    return 0
