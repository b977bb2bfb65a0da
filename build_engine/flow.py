"""The one-step flow: an fp32 pipeline graph -> (fp16 / int8 Q/DQ graph) -> TensorRT engine + sidecar.

``python -m build_engine build MODEL.onnx --precision int8 --calib FRAMES`` is this function plus
printing; the conversion writes its graph next to the engine so the same graph can be rebuilt on
another GPU.

Example:
    >>> report = build_pipeline_engine("fcn8s.onnx", "fcn8s.engine",                # doctest: +SKIP
    ...                                BuildConfig(precision="int8"), calib="frames/")
    >>> report.graph, report.engine                                                 # doctest: +SKIP
    (PosixPath('fcn8s.int8.onnx'), PosixPath('fcn8s.engine'))
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any, Optional, Tuple, Union

from fcn_trt.errors import ConfigError

from .trt_builder import BuildConfig, build_engine, read_pipeline_metadata

__all__ = ["EngineBuildReport", "prepare_graph", "build_pipeline_engine"]

log = logging.getLogger(__name__)

PathLike = Union[str, Path]


@dataclasses.dataclass(frozen=True)
class EngineBuildReport:
    """What :func:`build_pipeline_engine` wrote.

    Attributes:
        model: the pipeline graph it was given.
        graph: the graph the engine was built from (``model``, or its fp16/int8 conversion).
        conversion: ``""`` (none), ``"fp16"`` or ``"int8"`` (then ``calibration`` names the frames).
        engine: the engine file; its sidecar is ``<engine>.json``.
    """

    model: Path
    graph: Path
    conversion: str
    calibration: Optional[str]
    engine: Path

    @property
    def sidecar(self) -> Path:
        return self.engine.with_name(self.engine.name + ".json")

    def lines(self) -> Tuple[str, ...]:
        """Printable lines (what ``python -m build_engine build`` prints)."""
        out = []
        if self.conversion == "int8":
            out.append("wrote %s (int8 Q/DQ graph calibrated on %s)" % (self.graph, self.calibration))
        elif self.conversion == "fp16":
            out.append("wrote %s (fp16 graph)" % self.graph)
        out.append("wrote %s and %s" % (self.engine, self.sidecar.name))
        return tuple(out)


def prepare_graph(model: PathLike, out: PathLike, precision: Optional[str], calib: Optional[str] = None,
                  show_progress: bool = True) -> Tuple[Path, str]:
    """The graph to build for ``precision`` and the conversion made: ``(model, "")`` when the graph
    already is that precision, else its fp16 / int8 (Q/DQ, calibrated on ``calib``) conversion,
    written next to ``out`` as ``<out stem>.fp16.onnx`` / ``<out stem>.int8.onnx``."""
    model, out = Path(model), Path(out)
    meta = read_pipeline_metadata(model)
    if precision is None or precision == meta.precision:
        return model, ""
    if meta.precision != "fp32":
        raise ConfigError(
            "--precision %s for %s" % (precision, model.name), expected="an fp32 graph to convert",
            found="a %s graph" % meta.precision, hint="pass the fp32 pipeline graph, or omit --precision",
        )
    if precision == "int8":
        if not calib:
            raise ConfigError(
                "--precision int8 for %s" % model.name, expected="--calib SRC (frames to calibrate on)",
                found="no --calib", hint="add --calib FOLDER|VIDEO|VOC_ROOT, or build the output of "
                "`python -m build_engine quantize %s ...`" % model.name,
            )
        from .quantize import quantize_pipeline

        graph = out.with_name(out.stem + ".int8.onnx")
        quantize_pipeline(model, graph, calib, show_progress=show_progress)
        log.info("wrote %s (int8 Q/DQ graph calibrated on %s)", graph, calib)
        return graph, "int8"
    from .precision import to_fp16_pipeline

    graph = out.with_name(out.stem + ".fp16.onnx")
    to_fp16_pipeline(model, graph)
    log.info("wrote %s (fp16 graph)", graph)
    return graph, "fp16"


def build_pipeline_engine(model: PathLike, out: Optional[PathLike] = None, config: Optional[BuildConfig] = None, *,
                          calib: Optional[str] = None, trt_module: Any = None) -> EngineBuildReport:
    """Convert ``model`` to ``config.precision`` if needed, then build the engine (on this GPU).

    Args:
        model: an fp32 (or already fp16/int8) pipeline graph from ``python -m build_engine export``.
        out: the engine to write (default: ``model`` with suffix ``.engine``).
        config: build options; ``config.precision`` selects the conversion.
        calib: frames to calibrate int8 on (folder, video, VOC root).
        trt_module: the ``tensorrt`` module (tests pass a fake).
    """
    model = Path(model)
    out_path = Path(out) if out is not None else model.with_suffix(".engine")
    config = config or BuildConfig()
    graph, conversion = prepare_graph(model, out_path, config.precision, calib, config.progress)
    engine = build_engine(graph, out_path, config, trt_module=trt_module)
    return EngineBuildReport(model=model, graph=graph, conversion=conversion,
                             calibration=str(calib) if conversion == "int8" else None, engine=Path(engine))
