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
`benchmarks/gpu_check.sh` (about 10 minutes with TensorRT; `--quick` for the demo model only): it
records the environment, builds fp32/fp16/int8 engines of the demo and of a canonical-width FCN-8s,
runs `pytest -m gpu`, `fcn-trt selfcheck`, a two-frames-in-flight check and
`python -m benchmarks.bench_gpu`, and writes every number to `gpu_check_out/` (summary.md +
raw JSON); then copy `gpu_check_out/bench_gpu.md` to `benchmarks/results/gpu.md` and run
`python -m benchmarks.collect`. The script has only been run on a CPU machine so far (where it
records "no GPU" / "no TensorRT" and does the ONNX Runtime part).

**Graph version.** The CPU and precision tables were measured (2026-11) on pipeline graphs written
before the 2026-12 TensorRT parser-rule changes (`Shape` + `Slice` instead of `Shape(start, end)`,
shapes read after the frame's Cast, the uint8 labels written by their Cast instead of an `Identity`).
Those change only a few shape-bookkeeping nodes and labels are bit-identical
(`python -m build_engine.refresh_models --check`), but the tables were not re-measured on the new
graphs: the machine was loaded by parallel work for the whole session.
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
