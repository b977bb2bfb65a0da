"""Smoke run of the CPU benchmark on a tiny frame: every core method runs and the report is written."""

from __future__ import annotations

from pathlib import Path

from benchmarks import bench_cpu


def test_bench_cpu_writes_a_report_with_the_acceptance_ratios(tmp_path: Path):
    out = tmp_path / "cpu.md"
    rc = bench_cpu.main(["--sizes", "64x96", "--precisions", "fp32", "--methods", "sdk,bare,hand",
                         "--seconds", "0.05", "--core-seconds", "0", "--block", "3", "--discard", "1",
                         "--no-breakdown", "--out", str(out)])
    assert rc == 0
    text = out.read_text()
    for method in ("sdk", "bare", "hand"):
        assert f"| 64x96 | fp32 | {method} |" in text
    assert "SDK / bare = **" in text and "SDK / hand-written = **" in text and "paired" in text
    assert "labels SDK vs bare-net argmax agree on 100.00% of pixels" in text
    assert "each turn calls one method 3 times in a row" in text
