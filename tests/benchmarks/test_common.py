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
