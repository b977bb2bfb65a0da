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
import functools
import json
import numbers
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

from .errors import MetadataError

__all__ = [
    "PipelineMetadata", "METADATA_KEY", "SCHEMA", "INPUT_FORMATS", "PRECISIONS", "read_onnx_metadata",
    "model_properties", "read_model_metadata", "write_model_metadata", "check_pipeline_fields", "check_graph_io",
]

METADATA_KEY = "fcn_trt"
SCHEMA = "fcn_trt.pipeline/1"
INPUT_FORMATS = ("bgr", "rgb", "nv12")
PRECISIONS = ("fp32", "fp16", "int8")
_REEXPORT = "re-export the model with `python -m build_engine export`"

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
        check_pipeline_fields(
            {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}, "metadata"
        )
        # plain Python values (numpy scalars would not serialise to JSON), tuples (hashable, frozen)
        set_ = functools.partial(object.__setattr__, self)
        set_("class_names", tuple(self.class_names))
        set_("palette", tuple(tuple(int(v) for v in c) for c in self.palette))
        set_("mean", tuple(float(v) for v in self.mean))
        set_("std", tuple(float(v) for v in self.std))
        set_("outputs", tuple(self.outputs))
        set_("width_divisor", int(self.width_divisor))
        if self.inference_size is not None:
            set_("inference_size", (int(self.inference_size[0]), int(self.inference_size[1])))

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
    def from_dict(cls, d: Mapping[str, Any], where: str = "fcn_trt metadata") -> "PipelineMetadata":
        """Build from the JSON form, checking every field's type and range first (:class:`MetadataError`).

        Example:
            >>> PipelineMetadata.from_dict({"class_names": ["bg"], "palette": [["0", 0, 0]]})
            Traceback (most recent call last):
            ...
            fcn_trt.errors.MetadataError: fcn_trt metadata.palette[0][0]: expected an integer 0..255, found '0' (str). Hint: re-export the model with `python -m build_engine export`
        """
        if not isinstance(d, Mapping):
            raise MetadataError(where, expected="a JSON object", found=_found(d), hint=_REEXPORT)
        for key in ("class_names", "palette"):
            if key not in d:
                raise MetadataError(where, expected="fields class_names and palette", found="no %r" % key,
                                    hint=_REEXPORT)
        check_pipeline_fields(d, where)
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in d.items() if k in known}  # __post_init__ makes the sequences tuples
        if "extra" in kwargs:
            kwargs["extra"] = dict(kwargs["extra"])
        return cls(**kwargs)

    @classmethod
    def from_json(cls, text: str, where: str = "fcn_trt metadata") -> "PipelineMetadata":
        try:
            d = json.loads(text)
        except (TypeError, ValueError) as e:
            raise MetadataError(where, expected="valid JSON", found=str(e), hint=_REEXPORT) from None
        return cls.from_dict(d, where)


def read_onnx_metadata(props: Mapping[str, str], source: str = "model") -> PipelineMetadata:
    """Parse the ``fcn_trt`` entry of an ONNX model's ``metadata_props`` (as a dict)."""
    if METADATA_KEY not in props:
        raise MetadataError(
            "%s has no fcn_trt pipeline metadata" % source,
            expected="an ONNX pipeline graph exported by build_engine (uint8 'frame' in, 'labels' out)",
            found="metadata keys %s" % sorted(props),
            hint="wrap a bare network with `python -m build_engine export --onnx MODEL.onnx --out pipeline.onnx`",
        )
    return PipelineMetadata.from_json(props[METADATA_KEY], "%s metadata %r" % (source, METADATA_KEY))


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


# --- validation ---------------------------------------------------------------------------------
# The rules of fcn_trt/schemas/engine_sidecar.schema.json ($defs.pipeline), encoded without a JSON
# Schema library (the runtime needs numpy alone); tests/fcn_trt/test_metadata.py checks that both
# reject the same records. One rule the schema cannot state: one palette colour per class name.
def _found(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return "%s (%s)" % (text, type(value).__name__)


def _is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _is_array(v: Any) -> bool:
    return isinstance(v, (list, tuple))


def _fail(where: str, expected: str, value: Any) -> MetadataError:
    return MetadataError(where, expected=expected, found=_found(value), hint=_REEXPORT)


def _string_list(d: Mapping[str, Any], key: str, where: str, min_items: int = 0) -> None:
    v = d[key]
    if not _is_array(v) or len(v) < min_items:
        raise _fail("%s.%s" % (where, key), "a list of %sstrings" % ("at least %d " % min_items if min_items else ""), v)
    for i, item in enumerate(v):
        if not isinstance(item, str):
            raise _fail("%s.%s[%d]" % (where, key, i), "a string", item)


def _enum(d: Mapping[str, Any], key: str, where: str, allowed: Sequence[str]) -> None:
    if d[key] not in allowed or not isinstance(d[key], str):
        raise MetadataError("%s.%s" % (where, key), expected=" or ".join(repr(a) for a in allowed),
                            found=_found(d[key]), hint=_REEXPORT)


def check_pipeline_fields(d: Mapping[str, Any], where: str = "metadata") -> None:
    """Raise :class:`MetadataError` naming the first field of ``d`` (a pipeline record, JSON or
    dataclass form) whose type or range is wrong.

    Example:
        >>> check_pipeline_fields({"class_names": 5, "palette": []})
        Traceback (most recent call last):
        ...
        fcn_trt.errors.MetadataError: metadata.class_names: expected a list of at least 1 strings, found 5 (int). Hint: re-export the model with `python -m build_engine export`
    """
    if "schema" in d and not (isinstance(d["schema"], str) and d["schema"].startswith("fcn_trt.pipeline/")):
        raise _fail(where + ".schema", "a string starting with 'fcn_trt.pipeline/' (%s)" % SCHEMA, d["schema"])
    _string_list(d, "class_names", where, min_items=1)
    palette = d["palette"]
    if not _is_array(palette) or len(palette) < 1:
        raise _fail(where + ".palette", "a list of RGB triples", palette)
    for i, colour in enumerate(palette):
        if not _is_array(colour) or len(colour) != 3:
            raise _fail("%s.palette[%d]" % (where, i), "an RGB triple [r, g, b]", colour)
        for j, v in enumerate(colour):
            if not _is_int(v) or not 0 <= v <= 255:
                raise _fail("%s.palette[%d][%d]" % (where, i, j), "an integer 0..255", v)
    if len(palette) != len(d["class_names"]):
        raise MetadataError(
            where + ".palette", expected="one RGB colour per class name (%d)" % len(d["class_names"]),
            found="%d colours" % len(palette), hint=_REEXPORT,
        )
    if "input_format" in d:
        _enum(d, "input_format", where, INPUT_FORMATS)
    if "channel_order" in d:
        _enum(d, "channel_order", where, ("bgr", "rgb"))
    if "precision" in d:
        _enum(d, "precision", where, PRECISIONS)
    for key in ("mean", "std"):
        if key in d:
            v = d[key]
            if not _is_array(v) or not all(_is_number(x) for x in v):
                raise _fail("%s.%s" % (where, key), "a list of numbers", v)
    if d.get("inference_size") is not None:
        v = d["inference_size"]
        if not _is_array(v) or len(v) != 2 or not all(_is_int(x) and x >= 1 for x in v):
            raise _fail(where + ".inference_size", "null or [height, width] with integers >= 1", v)
    if "resize_back" in d and not isinstance(d["resize_back"], bool):
        raise _fail(where + ".resize_back", "true or false", d["resize_back"])
    if "outputs" in d:
        _string_list(d, "outputs", where)
        if "labels" not in d["outputs"]:
            raise _fail(where + ".outputs", "a list of output names that contains 'labels'", d["outputs"])
    for key in ("variant", "weights_sha256", "model_name"):
        if key in d and not isinstance(d[key], str):
            raise _fail("%s.%s" % (where, key), "a string", d[key])
    if "width_divisor" in d and not (_is_int(d["width_divisor"]) and d["width_divisor"] >= 1):
        raise _fail(where + ".width_divisor", "an integer >= 1", d["width_divisor"])
    if "extra" in d and not isinstance(d["extra"], Mapping):
        raise _fail(where + ".extra", "a JSON object", d["extra"])


def check_graph_io(
    meta: PipelineMetadata,
    frame_shape: Sequence[Any],
    output_names: Sequence[str],
    output_shapes: Optional[Mapping[str, Sequence[Any]]] = None,
    source: str = "model",
) -> None:
    """Raise :class:`MetadataError` where ``meta`` contradicts the graph it came with.

    ``frame_shape`` is the graph's ``frame`` input shape (ints, or strings/None/-1 for dynamic axes);
    ``output_names`` its outputs; ``output_shapes`` (optional) their shapes, used to check the class
    count against a ``logits`` output of static channel size.

    Example:
        >>> meta = PipelineMetadata(class_names=("bg", "fg"), palette=((0, 0, 0), (1, 1, 1)), input_format="nv12")
        >>> check_graph_io(meta, ["N", "H", "W", 3], ["labels"], source="m.onnx")
        Traceback (most recent call last):
        ...
        fcn_trt.errors.MetadataError: m.onnx: metadata input_format 'nv12': expected a graph input 'frame' of rank 3 ([N, H*3/2, W]), found shape ['N', 'H', 'W', 3]. Hint: re-export the model with `python -m build_engine export`
    """
    shape = list(frame_shape)
    if meta.input_format == "nv12":
        want, ok = "rank 3 ([N, H*3/2, W])", len(shape) == 3
    else:
        channels = shape[-1] if shape else None
        want = "rank 4 with 3 channels last ([N, H, W, 3])"
        ok = len(shape) == 4 and (not _is_int(channels) or channels in (3, -1))
    if not ok:
        raise MetadataError(
            "%s: metadata input_format %r" % (source, meta.input_format),
            expected="a graph input 'frame' of " + want, found="shape %s" % shape, hint=_REEXPORT,
        )
    missing = [o for o in meta.outputs if o not in output_names]
    if missing:
        raise MetadataError(
            "%s: metadata outputs" % source, expected="graph outputs %s" % list(meta.outputs),
            found="graph outputs %s (no %s)" % (list(output_names), ", ".join(missing)), hint=_REEXPORT,
        )
    logits = (output_shapes or {}).get("logits")
    if logits is not None and len(logits) == 4 and _is_int(logits[1]) and logits[1] > 0:
        classes = 2 if logits[1] == 1 else int(logits[1])  # one channel: a thresholded probability
        if classes == meta.num_classes:
            return
        raise MetadataError(
            "%s: metadata class_names" % source,
            expected="one name per class of the network (%d, from the 'logits' output)" % classes,
            found="%d names" % meta.num_classes, hint=_REEXPORT,
        )
