"""Every kind of graph the SDK writes passes the TensorRT parser rules of 8.6, 10 and 11
(build_engine.trt_check), and still computes the same labels on ONNX Runtime.

The rules themselves (with their sources) are tested one by one in test_trt_check.py; here the
graphs are: FCN-8s/16s/32s/at-once; bgr/rgb/nv12; in-graph resize with and without resize-back;
confidence and logits outputs; fp16 (emitted and converted); int8 per target; wrapped NCHW/NHWC
user networks with logits/probability/sigmoid outputs; fixed-size networks; the shipped models.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from build_engine.fcn import build_fcn, random_fcn_weights
from build_engine.pipeline import NetworkSpec, export_fcn_pipeline, wrap_network
from build_engine.precision import to_fp16_pipeline
from build_engine.quantize import QuantizeConfig, quantize_pipeline
from build_engine.trt_check import TARGETS, check_model
from fcn_trt.metadata import PipelineMetadata
from fcn_trt.models import BUILTIN_MODELS, models_dir
from tests.build_engine._precision_helpers import channel_argmax_network
from tests.build_engine.test_pipeline import nhwc_sigmoid_net


def assert_compatible(model, targets=TARGETS):
    report = check_model(model, targets)
    assert report.ok, report.format()
    assert report.targets == tuple(targets)


def meta(n: int, **kw) -> PipelineMetadata:
    return PipelineMetadata(class_names=tuple(f"c{i}" for i in range(n)), palette=tuple((i, i, i) for i in range(n)), **kw)


@pytest.mark.parametrize("variant", ["fcn8s", "fcn16s", "fcn32s", "fcn8s-atonce"])
def test_fcn_variants(variant, tmp_path):
    assert_compatible(export_fcn_pipeline(tmp_path / "m.onnx", variant, 3, 32))


@pytest.mark.parametrize("input_format", ["bgr", "rgb", "nv12"])
@pytest.mark.parametrize("size, resize_back", [(None, True), ((64, 96), True), ((64, 96), False)])
def test_input_formats_sizes_and_outputs(input_format, size, resize_back, tmp_path):
    path = export_fcn_pipeline(tmp_path / "m.onnx", "fcn8s", 3, 32, input_format=input_format,
                               inference_size=size, resize_back=resize_back,
                               outputs=("labels", "confidence", "logits"))
    assert_compatible(path)


@pytest.mark.parametrize("how", ["emitted", "converted"])
def test_fp16(how, tmp_path):
    if how == "emitted":
        path = export_fcn_pipeline(tmp_path / "m.onnx", "fcn8s", 3, 32, precision="fp16", outputs=("labels", "confidence"))
        assert_compatible(path)
    else:
        fp32 = export_fcn_pipeline(tmp_path / "m.onnx", "fcn8s", 3, 32, outputs=("labels", "logits"))
        assert_compatible(to_fp16_pipeline(fp32))


@pytest.fixture(scope="module")
def fp32_pipeline(tmp_path_factory):
    return export_fcn_pipeline(tmp_path_factory.mktemp("t") / "fcn.onnx", "fcn8s", 3, 16)


@pytest.mark.parametrize("target", ["8.6", "10", "11"])
def test_int8_graph_passes_its_own_target(fp32_pipeline, target, tmp_path):
    frames = np.random.default_rng(0).integers(0, 256, (2, 48, 48, 3), dtype=np.uint8)
    out = quantize_pipeline(fp32_pipeline, tmp_path / "q.onnx", frames, QuantizeConfig(method="minmax", trt_target=target),
                            show_progress=False)
    assert_compatible(out, (target,))
    others = tuple(t for t in TARGETS if (t == "8.6") != (target == "8.6"))
    report = check_model(out, others)  # the deconvolution weight axis differs between 8.x and 10+
    assert {v.rule for v in report.violations} == {"qdq-deconv-weight-axis"}, report.format()
    # one violation per deconvolution (upscore2, upscore_pool4, upscore8), each naming every other major
    assert sorted(v.node.split(".")[0] for v in report.violations) == ["net/upscore2", "net/upscore8",
                                                                       "net/upscore_pool4"]
    assert all(v.targets == others for v in report.violations)


@pytest.mark.parametrize("kind", ["probability", "sigmoid_logits"])
def test_wrapped_nhwc_single_channel_fixed_size(kind):
    m = meta(2, input_format="rgb", channel_order="rgb", mean=(0, 0, 0), std=(255, 255, 255),
             outputs=("labels", "confidence"))
    assert_compatible(wrap_network(nhwc_sigmoid_net(kind=kind), m, NetworkSpec(output_kind=kind)))


@pytest.mark.parametrize("size", [None, (40, 56)])
def test_wrapped_nchw_logits(size):
    net = channel_argmax_network(np.eye(3, dtype=np.float32))
    assert_compatible(wrap_network(net, meta(3, outputs=("labels", "confidence", "logits")),
                                   NetworkSpec(input_size=size)))


def test_bare_fcn_network_alone():
    net = build_fcn("fcn8s", 3, 32, random_fcn_weights("fcn8s", 3, 32, seed=1))
    assert_compatible(net)


@pytest.mark.parametrize("name", sorted(BUILTIN_MODELS))
def test_shipped_models(name):
    assert_compatible(onnx.load(str(models_dir() / BUILTIN_MODELS[name])))
