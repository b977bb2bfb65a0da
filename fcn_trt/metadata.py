"""Pipeline metadata: what a pipeline graph (or an engine built from it) expects and produces.

The same record travels in three places:

* ONNX ``metadata_props`` under the key ``"fcn_trt"`` (a JSON string), written by ``build_engine``;
* the engine sidecar ``<name>.engine.json`` (``{"pipeline": {...}, "engine": {...}}``);
* :attr:`fcn_trt.Segmenter.metadata` at run time.

Example:
    >>> meta = PipelineMetadata(class_names=("background", "person"), palette=((0, 0, 0), (255, 0, 0)))
    >>> PipelineMetadata.from_json(meta.to_json()) == meta
    True
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Dict, Mapping, Optional, Tuple

from .errors import MetadataError

__all__ = ["PipelineMetadata", "METADATA_KEY", "SCHEMA", "INPUT_FORMATS", "read_onnx_metadata", "model_properties",
           "read_model_metadata", "write_model_metadata"]

METADATA_KEY = "fcn_trt"
SCHEMA = "fcn_trt.pipeline/1"
INPUT_FORMATS = ("bgr", "rgb", "nv12")

#: Caffe BGR mean of pytorch-fcn's VOC checkpoints (no division by a std).
CAFFE_BGR_MEAN = (104.00698793, 116.66876762, 122.67891434)
#: ImageNet statistics in 0..255 units, RGB order.
IMAGENET_RGB_MEAN = (123.675, 116.28, 103.53)
IMAGENET_RGB_STD = (58.395, 57.12, 57.375)


@dataclasses.dataclass(frozen=True)
class PipelineMetadata:
    """Everything the runtime needs to know about a pipeline graph.

    Attributes:
        class_names: one name per class id.
        palette: one RGB triple per class id (0..255).
        input_format: layout of the uint8 ``frame`` input: ``"bgr"``/``"rgb"`` ([N,H,W,3]) or
            ``"nv12"`` ([N,H*3/2,W]).
        channel_order: channel order the *network* was trained on (``"bgr"`` or ``"rgb"``).
        mean, std: per-channel statistics in ``channel_order``, in 0..255 units.
        inference_size: ``(h, w)`` the frame is resized to inside the graph, or ``None``.
        resize_back: whether the graph resizes scores back to the frame's size (labels at frame
            resolution). When False and an inference size is set, labels come at inference size.
        outputs: names of the graph outputs (``"labels"`` always, ``"confidence"``, ``"logits"``).
        variant: ``"fcn8s"``, ``"fcn16s"``, ``"fcn32s"``, ``"fcn8s-atonce"`` or ``"custom"``.
        width_divisor: channel-width divisor of a width-reduced FCN (1 = canonical).
        weights_sha256: sha256 of the weights file the graph was built from ("" if random).
        precision: ``"fp32"``, ``"fp16"`` or ``"int8"``.
        model_name: human-readable name.
        extra: free-form extra fields (provenance, licence, calibration...).
    """

    class_names: Tuple[str, ...]
    palette: Tuple[Tuple[int, int, int], ...]
    input_format: str = "bgr"
    channel_order: str = "bgr"
    mean: Tuple[float, ...] = CAFFE_BGR_MEAN
    std: Tuple[float, ...] = (1.0, 1.0, 1.0)
    inference_size: Optional[Tuple[int, int]] = None
    resize_back: bool = True
    outputs: Tuple[str, ...] = ("labels",)
    variant: str = "custom"
    width_divisor: int = 1
    weights_sha256: str = ""
    precision: str = "fp32"
    model_name: str = ""
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    schema: str = SCHEMA

    def __post_init__(self) -> None:
        if len(self.class_names) == 0:
            raise MetadataError("metadata.class_names", expected="at least one class", found="none")
        if len(self.palette) != len(self.class_names):
            raise MetadataError(
                "metadata.palette",
                expected="one RGB colour per class (%d)" % len(self.class_names),
                found="%d colours" % len(self.palette),
            )
        if self.input_format not in INPUT_FORMATS:
            raise MetadataError(
                "metadata.input_format", expected=" or ".join(INPUT_FORMATS), found=repr(self.input_format)
            )
        if self.channel_order not in ("bgr", "rgb"):
            raise MetadataError("metadata.channel_order", expected="bgr or rgb", found=repr(self.channel_order))

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def frame_channels(self) -> Optional[int]:
        """Channels of one input frame (3), or None for the planar nv12 layout."""
        return None if self.input_format == "nv12" else 3

    def replace(self, **changes: Any) -> "PipelineMetadata":
        """Return a copy with ``changes`` applied (validation runs again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> Dict[str, Any]:
        d = dataclasses.asdict(self)
        d["extra"] = dict(self.extra)
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "PipelineMetadata":
        if not isinstance(d, Mapping):
            raise MetadataError("fcn_trt metadata", expected="a JSON object", found=type(d).__name__)
        schema = d.get("schema", SCHEMA)
        if not str(schema).startswith("fcn_trt.pipeline/"):
            raise MetadataError("fcn_trt metadata schema", expected=SCHEMA, found=repr(schema))
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in d.items() if k in known}
        try:
            kwargs["class_names"] = tuple(str(c) for c in kwargs["class_names"])
            kwargs["palette"] = tuple(tuple(int(v) for v in c) for c in kwargs["palette"])
        except KeyError as e:
            raise MetadataError(
                "fcn_trt metadata", expected="fields class_names and palette", found="no %s" % e,
                hint="re-export the model with `python -m build_engine export`",
            ) from None
        for key in ("mean", "std", "outputs"):
            if key in kwargs:
                kwargs[key] = tuple(kwargs[key])
        if kwargs.get("inference_size") is not None:
            kwargs["inference_size"] = tuple(int(v) for v in kwargs["inference_size"])
        return cls(**kwargs)

    @classmethod
    def from_json(cls, text: str) -> "PipelineMetadata":
        try:
            d = json.loads(text)
        except ValueError as e:
            raise MetadataError("fcn_trt metadata", expected="valid JSON", found=str(e)) from None
        return cls.from_dict(d)


def read_onnx_metadata(props: Mapping[str, str], source: str = "model") -> PipelineMetadata:
    """Parse the ``fcn_trt`` entry of an ONNX model's ``metadata_props`` (as a dict)."""
    if METADATA_KEY not in props:
        raise MetadataError(
            "%s has no fcn_trt pipeline metadata" % source,
            expected="an ONNX pipeline graph exported by build_engine (uint8 'frame' in, 'labels' out)",
            found="metadata keys %s" % sorted(props),
            hint="wrap a bare network with `python -m build_engine export --onnx MODEL.onnx --out pipeline.onnx`",
        )
    return PipelineMetadata.from_json(props[METADATA_KEY])


def model_properties(model: Any) -> Dict[str, str]:
    """An ONNX ``ModelProto``'s ``metadata_props`` as a dict (no onnx import needed)."""
    return {p.key: p.value for p in model.metadata_props}


def read_model_metadata(model: Any, source: str = "model") -> PipelineMetadata:
    """The fcn_trt metadata of an ONNX ``ModelProto`` (:class:`MetadataError` for a bare network).

    The one reader of pipeline metadata from a loaded ONNX model (build_engine uses it too).
    """
    return read_onnx_metadata(model_properties(model), source=source)


def write_model_metadata(model: Any, meta: PipelineMetadata) -> Any:
    """Replace (or add) the fcn_trt entry of an ONNX ``ModelProto``'s ``metadata_props``, keeping the
    other entries in their order; returns ``model`` (changed in place). The one writer."""
    others = [(k, v) for k, v in model_properties(model).items() if k != METADATA_KEY]
    del model.metadata_props[:]
    for key, value in others + [(METADATA_KEY, meta.to_json())]:
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    return model
