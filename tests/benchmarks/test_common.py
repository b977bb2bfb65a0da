"""benchmarks._common.round_robin: how calls are interleaved, kept and discarded."""

from __future__ import annotations

from typing import List

import pytest

from benchmarks._common import round_robin


def _recorder(calls: List[str], name: str):
    def fn() -> None:
        calls.append(name)

    return fn


def test_one_call_per_turn_alternates_the_order_each_round():
    calls: List[str] = []
    fns = {"a": _recorder(calls, "a"), "b": _recorder(calls, "b")}
    out = round_robin(fns, reps=2, warmup=0, gap_s=0)
    assert calls == ["a", "b", "b", "a"]
    assert {k: len(v) for k, v in out.items()} == {"a": 2, "b": 2}


def test_blocks_call_each_method_in_a_row_and_keep_only_the_calls_after_the_discarded_ones():
    calls: List[str] = []
    fns = {"a": _recorder(calls, "a"), "b": _recorder(calls, "b")}
    out = round_robin(fns, reps=2, warmup=1, gap_s=0, block=3, discard=1)
    assert calls == ["a", "b"] + ["a"] * 3 + ["b"] * 3 + ["b"] * 3 + ["a"] * 3
    assert {k: len(v) for k, v in out.items()} == {"a": 4, "b": 4}
    assert all(ms >= 0 for v in out.values() for ms in v)


def test_timers_replace_the_wall_clock_of_their_method():
    fns = {"a": lambda: None}
    out = round_robin(fns, reps=3, warmup=0, gap_s=0, timers={"a": lambda: 7.5}, block=2, discard=1)
    assert out == {"a": [7.5, 7.5, 7.5]}


@pytest.mark.parametrize("block,discard", [(0, 0), (2, 2), (2, -1)])
def test_impossible_blocks_are_refused(block, discard):
    with pytest.raises(ValueError, match="block"):
        round_robin({"a": lambda: None}, reps=1, block=block, discard=discard)


def test_paired_ratio_cancels_a_slow_stretch_that_slows_both_methods():
    from benchmarks._common import median, paired_ratio

    # round 1 quiet, rounds 2-3 slowed 3x for both methods; a is 10 % faster than b in every round
    a = [9.0, 9.0, 27.0, 27.0, 27.0, 27.0]
    b = [10.0, 10.0, 30.0, 30.0, 30.0, 30.0]
    assert paired_ratio(a, b, per_round=2) == pytest.approx(0.9)
    # ... which a ratio of medians over mismatched stretches would not give
    assert median(a[:2] + a[2:3]) / median(b[2:]) != pytest.approx(0.9)


def test_paired_ratio_refuses_series_that_are_not_whole_rounds():
    from benchmarks._common import paired_ratio

    with pytest.raises(ValueError, match="whole rounds"):
        paired_ratio([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], per_round=2)
    with pytest.raises(ValueError, match="whole rounds"):
        paired_ratio([1.0, 2.0], [1.0], per_round=1)


def test_timed_sweep_sizes_the_rounds_by_one_untimed_call_of_each():
    from benchmarks._common import timed_sweep

    calls: List[str] = []
    fns = {"a": _recorder(calls, "a"), "b": _recorder(calls, "b")}
    out = timed_sweep(fns, seconds=0.0)  # no time budget: the fewest rounds round_robin is given (3)
    assert calls[:2] == ["a", "b"] and len(calls) == 2 + 2 * 3
    assert {k: len(v) for k, v in out.items()} == {"a": 3, "b": 3}


def test_ticks_count_from_zero_until_stopped():
    import threading

    from benchmarks._common import ticks

    stop = threading.Event()
    seen = []
    for n in ticks(stop, period_s=0.001):
        seen.append(n)
        if n == 4:
            stop.set()
    assert seen == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("show", [True, False])
def test_publish_prints_writes_and_says_where(tmp_path, capsys, show):
    from benchmarks._common import publish

    out = tmp_path / "results" / "x.md"
    assert publish(["## title", "| a |"], str(out), show=show) == 0
    assert out.read_text() == "## title\n| a |\n"
    printed = capsys.readouterr().out.splitlines()
    assert printed == (["## title", "| a |"] if show else []) + [f"wrote {out}"]


def test_publish_to_no_file_only_prints(capsys):
    from benchmarks._common import publish

    assert publish(["## title"], "") == 0
    assert capsys.readouterr().out == "## title\n"


def test_argument_parser_has_the_model_option_and_the_docstring_summary():
    from benchmarks._common import BENCHMARK_MODEL_HELP, argument_parser

    p = argument_parser("Summary line.\n\nDetails not shown.")
    assert p.description == "Summary line." and p.parse_args([]).model is None
    assert BENCHMARK_MODEL_HELP in " ".join(p.format_help().split())
    p = argument_parser("Doc.", "what --model is", model_default="demo")
    assert p.parse_args([]).model == "demo" and p.parse_args(["--model", "m.onnx"]).model == "m.onnx"
