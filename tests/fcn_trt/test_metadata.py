"""Pipeline metadata validation: every wrong type or range is a MetadataError naming the field,
what was expected and what was found; metadata that contradicts its graph is refused at load."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fcn_trt.errors import FcnTrtError, MetadataError
from fcn_trt.metadata import PipelineMetadata, check_graph_io, read_onnx_metadata

GOOD = {"class_names": ["bg", "person"], "palette": [[0, 0, 0], [255, 0, 0]]}


def with_(**changes):
    d = json.loads(json.dumps(GOOD))
    d.update(changes)
    return d


# (name, record, field named in the message, words of the "expected" part, words of the "found" part)
BAD = [
    ("palette_strings", with_(palette=[["0", 0, 0], [255, 0, 0]]), "palette[0][0]", "integer 0..255", "'0' (str)"),
    ("palette_float", with_(palette=[[0, 0, 0.5], [255, 0, 0]]), "palette[0][2]", "integer 0..255", "0.5 (float)"),
    ("palette_bool", with_(palette=[[0, 0, True], [255, 0, 0]]), "palette[0][2]", "integer 0..255", "True (bool)"),
    ("palette_256", with_(palette=[[0, 0, 256], [255, 0, 0]]), "palette[0][2]", "integer 0..255", "256 (int)"),
    ("palette_negative", with_(palette=[[0, -1, 0], [255, 0, 0]]), "palette[0][1]", "integer 0..255", "-1 (int)"),
    ("palette_pair", with_(palette=[[0, 0], [255, 0, 0]]), "palette[0]", "RGB triple", "[0, 0] (list)"),
    ("palette_string", with_(palette="red"), "palette", "list of RGB triples", "'red' (str)"),
    ("palette_short", with_(palette=[[0, 0, 0]]), "palette", "one RGB colour per class name (2)", "1 colours"),
    ("class_names_int", with_(class_names=5), "class_names", "list of at least 1 strings", "5 (int)"),
    ("class_names_string", with_(class_names="bg,person"), "class_names", "list", "'bg,person' (str)"),
    ("class_names_empty", with_(class_names=[], palette=[]), "class_names", "at least 1", "[] (list)"),
    ("class_name_number", with_(class_names=["bg", 7]), "class_names[1]", "a string", "7 (int)"),
    ("class_name_null", with_(class_names=["bg", None]), "class_names[1]", "a string", "None (NoneType)"),
    ("input_format_yuyv", with_(input_format="yuyv"), "input_format", "'bgr' or 'rgb' or 'nv12'", "'yuyv' (str)"),
    ("input_format_upper", with_(input_format="BGR"), "input_format", "'bgr'", "'BGR' (str)"),
    ("channel_order_gbr", with_(channel_order="gbr"), "channel_order", "'bgr' or 'rgb'", "'gbr' (str)"),
    ("precision_fp64", with_(precision="fp64"), "precision", "'fp32' or 'fp16' or 'int8'", "'fp64' (str)"),
    ("mean_string", with_(mean="104,117,123"), "mean", "a list of numbers", "(str)"),
    ("std_strings", with_(std=["1", "1", "1"]), "std", "a list of numbers", "(list)"),
    ("inference_size_three", with_(inference_size=[240, 320, 3]), "inference_size", "[height, width]", "[240, 320, 3]"),
    ("inference_size_zero", with_(inference_size=[0, 320]), "inference_size", "integers >= 1", "[0, 320]"),
    ("inference_size_string", with_(inference_size="240x320"), "inference_size", "null or [height, width]", "(str)"),
    ("resize_back_string", with_(resize_back="true"), "resize_back", "true or false", "'true' (str)"),
    ("outputs_without_labels", with_(outputs=["confidence"]), "outputs", "contains 'labels'", "['confidence']"),
    ("outputs_string", with_(outputs="labels"), "outputs", "a list of strings", "'labels' (str)"),
    ("width_divisor_zero", with_(width_divisor=0), "width_divisor", "an integer >= 1", "0 (int)"),
    ("width_divisor_float", with_(width_divisor=2.0), "width_divisor", "an integer >= 1", "2.0 (float)"),
    ("variant_number", with_(variant=8), "variant", "a string", "8 (int)"),
    ("extra_string", with_(extra="none"), "extra", "a JSON object", "'none' (str)"),
    ("schema_other", with_(schema="other/1"), "schema", "fcn_trt.pipeline/", "'other/1' (str)"),
]


@pytest.mark.parametrize("record,field,expected,found", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_field_is_a_metadata_error_naming_it(record, field, expected, found):
    with pytest.raises(MetadataError) as info:
        PipelineMetadata.from_dict(record)
    e = info.value
    assert isinstance(e, ValueError) and isinstance(e, FcnTrtError)
    assert e.what == "fcn_trt metadata." + field
    assert expected in e.expected and found in e.found
    assert "Hint:" in str(e)


@pytest.mark.parametrize("record,field", [(b[1], b[2]) for b in BAD], ids=[b[0] for b in BAD])
def test_onnx_metadata_props_name_the_model(record, field):
    with pytest.raises(MetadataError, match=r"^m\.onnx metadata 'fcn_trt'\.%s: expected " % field.replace("[", r"\[")
                       .replace("]", r"\]")):
        read_onnx_metadata({"fcn_trt": json.dumps(record)}, source="m.onnx")


@pytest.mark.parametrize("text,found", [("{not json", "Expecting property name"), ("[1, 2]", "list"),
                                        ("5", "int"), ("null", "NoneType")])
def test_not_an_object(text, found):
    with pytest.raises(MetadataError, match="expected (valid JSON|a JSON object), found .*" + found):
        read_onnx_metadata({"fcn_trt": text})


def test_missing_required_fields_say_which():
    with pytest.raises(MetadataError, match="expected fields class_names and palette, found no 'palette'"):
        PipelineMetadata.from_dict({"class_names": ["a"]})


def test_python_construction_is_checked_too():
    with pytest.raises(MetadataError, match=r"metadata\.class_names: expected a list of at least 1 strings, found 5"):
        PipelineMetadata(class_names=5, palette=())  # type: ignore[arg-type]
    with pytest.raises(MetadataError, match=r"metadata\.palette\[0\]\[0\]: expected an integer 0\.\.255"):
        PipelineMetadata(class_names=("a",), palette=((300, 0, 0),))


def test_numpy_integers_and_round_trip_are_accepted():
    meta = PipelineMetadata(class_names=("a", "b"), palette=((np.uint8(1), 2, 3), (4, 5, np.int64(6))),
                            inference_size=(240, 320), outputs=("labels", "confidence"))
    assert PipelineMetadata.from_json(meta.to_json()) == meta


# --- consistency with the graph ------------------------------------------------------------------
def meta(**changes):
    return PipelineMetadata.from_dict(with_(**changes))


@pytest.mark.parametrize("fmt,shape,expected", [
    ("nv12", ["N", "H", "W", 3], "rank 3"),
    ("bgr", ["N", "H", "W"], "rank 4 with 3 channels last"),
    ("rgb", [1, 3, 240, 320], "rank 4 with 3 channels last"),
])
def test_input_format_that_contradicts_the_frame_input(fmt, shape, expected):
    with pytest.raises(MetadataError) as info:
        check_graph_io(meta(input_format=fmt), shape, ["labels"], source="m.onnx")
    assert info.value.what == "m.onnx: metadata input_format %r" % fmt
    assert expected in info.value.expected and str(shape) in info.value.found


def test_declared_outputs_missing_from_the_graph():
    with pytest.raises(MetadataError, match=r"expected graph outputs \['labels', 'confidence'\], found graph "
                                            r"outputs \['labels'\] \(no confidence\)"):
        check_graph_io(meta(outputs=["labels", "confidence"]), ["N", "H", "W", 3], ["labels"])


@pytest.mark.parametrize("channels,names,ok", [(5, 2, False), (2, 2, True), (1, 2, True), (1, 3, False)])
def test_class_count_against_a_static_logits_output(channels, names, ok):
    m = PipelineMetadata(class_names=tuple("c%d" % i for i in range(names)), palette=((0, 0, 0),) * names)
    call = lambda: check_graph_io(m, ["N", "H", "W", 3], ["labels", "logits"],  # noqa: E731
                                  {"logits": ["N", channels, "h", "w"]})
    if ok:
        call()
    else:
        with pytest.raises(MetadataError, match="expected one name per class of the network \\(%d" % max(channels, 2)):
            call()
