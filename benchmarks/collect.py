"""Assemble BENCHMARKS.md from the sections the benchmark scripts wrote to benchmarks/results/.

Usage (from the repository root): ``python -m benchmarks.collect``
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORDER = ("cpu", "precision_demo", "precision", "stream", "scaling", "selfcheck", "gpu")

HEADER = """# Benchmarks

Every table below was written by the command printed above it, on the machine, date and versions it
names; `python -m benchmarks.collect` assembles this file from `benchmarks/results/*.md`.
Ratios come from measurements interleaved in the same run (this development machine has 2 shared
cores and a noisy load: absolute milliseconds move, ratios much less).

**GPU numbers: not measured.** No GPU was available in the sessions that produced these results, so
nothing here was run on TensorRT or CUDA; the GPU section says so. On a GPU machine run
`fcn-trt selfcheck MODEL.onnx` and `python -m benchmarks.bench_gpu --out benchmarks/results/gpu.md`,
then `python -m benchmarks.collect`.
"""


def collect(results: Path, out: Path) -> Path:
    sections = {p.stem: p.read_text().strip() for p in sorted(results.glob("*.md"))}
    ordered = [sections.pop(k) for k in ORDER if k in sections] + [sections[k] for k in sorted(sections)]
    out.write_text(HEADER + "\n" + "\n\n".join(ordered) + "\n")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--results", default=str(ROOT / "benchmarks" / "results"))
    parser.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = parser.parse_args()
    print(f"wrote {collect(Path(args.results), Path(args.out))}")


if __name__ == "__main__":
    main()
