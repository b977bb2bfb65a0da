"""Re-export the shipped built-in models with the current graph builder.

When the graph builder changes (a TensorRT parser rule, a cheaper preprocessing), the ONNX files
shipped in ``fcn_trt/models`` must follow, without changing what they compute. This rebuilds each
one from its source (the demo from its weights, the selfie model from the network inside the old
pipeline), keeps its metadata, and refuses to write unless the new graph's labels equal the old
graph's bit for bit on a fixed frame set (ONNX Runtime)::

    python -m build_engine.refresh_models            # rewrite the shipped models in place
    python -m build_engine.refresh_models --check    # only report whether they are up to date

Example:
    >>> report = refresh_builtin("demo", out_dir="/tmp/models")      # doctest: +SKIP
    >>> report.identical_labels
    True
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import tempfile
from pathlib import Path
from typing import List, Optional, Sequence, Union

import numpy as np
import onnx

from fcn_trt.errors import BuildError, ConfigError, run_cli
from fcn_trt.models import BUILTIN_MODELS, models_dir

from .training import DEMO_WEIGHTS

__all__ = ["RefreshReport", "reference_frames", "refresh_builtin", "main"]

log = logging.getLogger(__name__)



@dataclasses.dataclass(frozen=True)
class RefreshReport:
    """What :func:`refresh_builtin` did for one model."""

    name: str
    path: Path
    frames: int
    identical_labels: bool
    graph_changed: bool


def reference_frames(seed: int = 0) -> List[np.ndarray]:
    """The fixed frame set the old and new graphs are compared on: procedural scenes at three sizes
    (odd sizes included), uniform noise, and a smooth gradient (uint8 BGR HxWx3)."""
    from fcn_trt.streaming import scenes

    frames = [scenes.generate_frame(seed + i, size=hw).image for i, hw in enumerate([(240, 320), (97, 131), (480, 640)])]
    rng = np.random.default_rng(seed)
    frames.append(rng.integers(0, 256, (120, 160, 3), dtype=np.uint8))
    ramp = np.linspace(0, 255, 200, dtype=np.float32)
    frames.append(np.stack([np.add.outer(ramp[:150] * 0.5, ramp * 0.5).astype(np.uint8)] * 3, axis=-1))
    return frames


def _labels(model: Union[Path, bytes], frames: Sequence[np.ndarray]) -> List[np.ndarray]:
    import onnxruntime as ort

    sess = ort.InferenceSession(model if isinstance(model, bytes) else str(model), providers=["CPUExecutionProvider"])
    return [sess.run(["labels"], {"frame": f[None]})[0][0] for f in frames]


def _rebuild(name: str, old: Path, tmp: Path) -> Path:
    if name == "demo":
        from .training.train_demo import export_demo_pipeline

        new = export_demo_pipeline(DEMO_WEIGHTS, tmp / "demo.onnx")
    elif name == "selfie":
        from .recipes.mediapipe_selfie import export_selfie_pipeline, extract_bare_network

        bare_path = tmp / "bare.onnx"
        onnx.save(extract_bare_network(old), str(bare_path))
        meta = onnx.load(str(old), load_external_data=False).metadata_props
        landscape = any(p.key == "fcn_trt" and "landscape" in p.value for p in meta)
        new = export_selfie_pipeline(bare_path, tmp / "selfie.onnx", landscape=landscape)
    else:
        raise ConfigError("built-in model", expected=" | ".join(sorted(BUILTIN_MODELS)), found=repr(name))
    # The metadata is the shipped model's (training record, provenance), not a fresh one.
    model = onnx.load(str(new))
    old_props = {p.key: p.value for p in onnx.load(str(old), load_external_data=False).metadata_props}
    del model.metadata_props[:]
    onnx.helper.set_model_props(model, old_props)
    from .pipeline import save_model

    return save_model(model, new)


def _same_graph(a: Path, b: Path) -> bool:
    ga, gb = onnx.load(str(a)).graph, onnx.load(str(b)).graph
    return [n.SerializeToString() for n in ga.node] == [n.SerializeToString() for n in gb.node]


def refresh_builtin(name: str, out_dir: Union[str, Path, None] = None, check_only: bool = False) -> RefreshReport:
    """Rebuild built-in model ``name``; write it to ``out_dir`` (default: the package's models folder)
    unless ``check_only``. Raises :class:`BuildError` (writing nothing) if any label differs."""
    if name not in BUILTIN_MODELS:
        raise ConfigError("built-in model", expected=" | ".join(sorted(BUILTIN_MODELS)), found=repr(name))
    old = models_dir() / BUILTIN_MODELS[name]
    frames = reference_frames()
    with tempfile.TemporaryDirectory(prefix="fcn_trt_refresh.") as d:
        new = _rebuild(name, old, Path(d))
        changed = not _same_graph(old, new)
        diffs = [int(np.count_nonzero(a != b)) for a, b in zip(_labels(old, frames), _labels(new, frames))]
        if any(diffs):
            raise BuildError(
                f"re-exported {name} model", expected="labels identical to the shipped model on every reference frame",
                found=f"{sum(diffs)} differing pixels (per frame {diffs})",
                hint="a graph-builder change altered what the model computes: fix the builder, not the model",
            )
        target = Path(out_dir or models_dir()) / BUILTIN_MODELS[name]
        if changed and not check_only:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(new.read_bytes())
            log.info("wrote %s", target)
    return RefreshReport(name=name, path=target, frames=len(frames), identical_labels=True, graph_changed=changed)


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m build_engine.refresh_models", description=__doc__.split("\n")[0])
    p.add_argument("names", nargs="*", default=sorted(BUILTIN_MODELS), help="built-in models (default: all)")
    p.add_argument("--check", action="store_true", help="only report; exit 1 if a model is out of date")
    p.add_argument("--out-dir", default=None, help="write here instead of the package's models folder")

    args = p.parse_args(argv)

    def run() -> int:
        stale = 0
        for name in args.names:
            r = refresh_builtin(name, args.out_dir, check_only=args.check)
            state = ("out of date" if args.check else "rewritten") if r.graph_changed else "up to date"
            print(f"{name}: {state}; labels identical on {r.frames} reference frames ({r.path.name})")
            stale += int(r.graph_changed)
        return 1 if (args.check and stale) else 0

    return run_cli(run, prog="refresh_models")


if __name__ == "__main__":
    raise SystemExit(main())
