"""ONNX Runtime backend: runs the pipeline graph on the CPU (or CUDA with onnxruntime-gpu).

Example:
    >>> backend = OnnxRuntimeBackend("model.onnx")                         # doctest: +SKIP
    >>> backend.infer(frames)["labels"].shape                              # doctest: +SKIP
    (1, 480, 640)
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Mapping, Sequence, Tuple, Union

import numpy as np

from .._imports import require_onnxruntime
from .._progress import progress
from ..errors import (
    BackendUnavailableError, ConfigError, ConfigTypeError, ModelFormatError, ModelNotFoundError,
)
from ..metadata import check_graph_io, read_onnx_metadata
from .base import Backend, LayerTimes

__all__ = ["OnnxRuntimeBackend", "parse_ort_profile"]

log = logging.getLogger(__name__)


def _choose_providers(ort, providers: Union[str, Sequence[str], None]) -> list:
    available = ort.get_available_providers()
    if providers is None or providers == "auto":
        chosen = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
        return chosen
    if isinstance(providers, str):
        providers = [providers]
    missing = [p for p in providers if p not in available]
    if missing:
        raise BackendUnavailableError(
            "ONNX Runtime execution providers", expected="one of " + ", ".join(available),
            found=", ".join(missing), hint="install onnxruntime-gpu for CUDAExecutionProvider",
        )
    return list(providers)


def parse_ort_profile(events: Sequence[Mapping[str, Any]], skip_runs: int = 1) -> Tuple[Dict[str, List[float]], Dict[str, str]]:
    """Per-node kernel times (ms) from ONNX Runtime's profiling JSON (a list of trace events).

    The first ``skip_runs`` occurrences of each node (the warm-up runs) are dropped.
    """
    times: Dict[str, List[float]] = {}
    ops: Dict[str, str] = {}
    seen: Dict[str, int] = {}
    for ev in events:
        if ev.get("cat") != "Node" or not str(ev.get("name", "")).endswith("_kernel_time"):
            continue
        name = str(ev["name"])[: -len("_kernel_time")]
        seen[name] = seen.get(name, 0) + 1
        if seen[name] <= skip_runs:
            continue
        times.setdefault(name, []).append(float(ev.get("dur", 0.0)) / 1000.0)  # us -> ms
        ops[name] = str((ev.get("args") or {}).get("op_name", ""))
    return times, ops


class OnnxRuntimeBackend(Backend):
    """Runs a pipeline ONNX graph with ONNX Runtime.

    Args:
        path: the pipeline ``.onnx`` (uint8 ``frame`` in, ``labels`` out).
        providers: ``"auto"`` (CUDA if onnxruntime-gpu has it, else CPU), a provider name or list.
        threads: intra-op threads (0 = ONNX Runtime's default: all cores).
    """

    name = "onnxruntime"
    title = "ONNX Runtime"

    def __init__(self, path: Union[str, Path], providers: Union[str, Sequence[str], None] = "auto", threads: int = 0) -> None:
        if isinstance(threads, bool) or not isinstance(threads, int):
            raise ConfigTypeError("threads", expected="an integer >= 0 (0 = all cores)",
                                  found="%r (%s)" % (threads, type(threads).__name__))
        if not 0 <= threads <= 1024:
            raise ConfigError("threads", expected="an integer in 0..1024 (0 = all cores)", found=repr(threads),
                              hint="pass threads=0 to let ONNX Runtime use every core")
        if providers is not None and not isinstance(providers, str) and not (
                isinstance(providers, (list, tuple)) and all(isinstance(p, str) for p in providers)):
            raise ConfigTypeError("providers", expected="'auto', a provider name or a list of names",
                                  found="%r (%s)" % (providers, type(providers).__name__))
        ort = require_onnxruntime("ONNX Runtime backend")
        path = Path(path)
        if not path.is_file():
            raise ModelNotFoundError("model file", expected="an existing .onnx file", found=str(path))
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = int(threads)
        opts.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(str(path), sess_options=opts, providers=_choose_providers(ort, providers))
        except BackendUnavailableError:
            raise
        except Exception as e:  # onnxruntime raises its own Fail/InvalidProtobuf/... classes
            raise ModelFormatError(
                f"{path.name}", expected="an ONNX model ONNX Runtime can load", found=str(e).splitlines()[0][:300],
                hint="re-export it with `python -m build_engine export`",
            ) from None
        self._version = ort.__version__
        meta = self._session.get_modelmeta().custom_metadata_map
        self._metadata = read_onnx_metadata(meta, source=path.name)
        inputs = self._session.get_inputs()
        names = [o.name for o in self._session.get_outputs()]
        if len(inputs) != 1 or inputs[0].name != "frame" or inputs[0].type != "tensor(uint8)" or "labels" not in names:
            raise ModelFormatError(
                path.name, expected="a pipeline graph with one uint8 input 'frame' and an output 'labels'",
                found=f"inputs {[(i.name, i.type) for i in inputs]}, outputs {names}",
                hint="wrap the bare network with `python -m build_engine export --onnx`",
            )
        check_graph_io(self._metadata, inputs[0].shape, names,
                       {o.name: o.shape for o in self._session.get_outputs()}, source=path.name)
        self._output_names = names
        batch = inputs[0].shape[0]
        self._max_batch = batch if isinstance(batch, int) and batch > 0 else 0
        self._providers = self._session.get_providers()
        self.path = path
        self._closed = False

    @property
    def providers(self) -> Tuple[str, ...]:
        return tuple(self._providers)

    def infer(self, frames: np.ndarray) -> Dict[str, np.ndarray]:
        self._check_open()
        outs = self._session.run(self._output_names, {"frame": frames})
        return dict(zip(self._output_names, outs))

    def describe(self) -> Dict[str, str]:
        return {"backend": self.name, "version": self._version, "device": ",".join(self._providers)}

    def profile_layers(self, frames: np.ndarray, runs: int, show_progress: bool = False) -> LayerTimes:
        """Per-node kernel times over ``runs`` runs after one warm-up, from ONNX Runtime's profiler.

        A separate profiling session on the same model and providers (profiling slows every run
        of the session it is on). Capability :class:`~fcn_trt.backends.base.LayerProfiled`.
        """
        ort = require_onnxruntime("ONNX Runtime layer profile")
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        opts.enable_profiling = True
        with tempfile.TemporaryDirectory(prefix="fcn_trt_profile.") as tmp:
            opts.profile_file_prefix = os.path.join(tmp, "ort")
            sess = ort.InferenceSession(str(self.path), sess_options=opts, providers=list(self._providers))
            for _ in progress(range(runs + 1), desc="layers", enabled=show_progress):
                sess.run(self._output_names, {"frame": frames})
            path = sess.end_profiling()
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        events = data["traceEvents"] if isinstance(data, dict) else data
        times, ops = parse_ort_profile(events, skip_runs=1)
        return times, ops, (
            f"ONNX Runtime profiling (enable_profiling), per-node kernel time, mean of {runs} runs after 1 warm-up, "
            f"separate session on the same model and providers")

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._session = None
