"""ONNX Runtime backend: runs the pipeline graph on the CPU (or CUDA with onnxruntime-gpu).

Example:
    >>> backend = OnnxRuntimeBackend("model.onnx")                         # doctest: +SKIP
    >>> backend.infer(frames)["labels"].shape                              # doctest: +SKIP
    (1, 480, 640)
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Dict, Sequence, Tuple, Union

import numpy as np

from .._imports import require_onnxruntime
from ..errors import (
    BackendUnavailableError, ClosedError, ConfigError, ConfigTypeError, ModelFormatError, ModelNotFoundError,
)
from ..metadata import PipelineMetadata, check_graph_io, read_onnx_metadata
from .base import Backend

__all__ = ["OnnxRuntimeBackend"]

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


class OnnxRuntimeBackend(Backend):
    """Runs a pipeline ONNX graph with ONNX Runtime.

    Args:
        path: the pipeline ``.onnx`` (uint8 ``frame`` in, ``labels`` out).
        providers: ``"auto"`` (CUDA if onnxruntime-gpu has it, else CPU), a provider name or list.
        threads: intra-op threads (0 = ONNX Runtime's default: all cores).
    """

    name = "onnxruntime"

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
    def metadata(self) -> PipelineMetadata:
        return self._metadata

    @property
    def max_batch(self) -> int:
        return self._max_batch

    @property
    def providers(self) -> Tuple[str, ...]:
        return tuple(self._providers)

    def infer(self, frames: np.ndarray) -> Dict[str, np.ndarray]:
        if self._closed:
            raise ClosedError("OnnxRuntimeBackend", expected="an open backend", found="closed", hint="create a new Segmenter")
        outs = self._session.run(self._output_names, {"frame": frames})
        return dict(zip(self._output_names, outs))

    def describe(self) -> Dict[str, str]:
        return {"backend": self.name, "version": self._version, "device": ",".join(self._providers)}

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._session = None
