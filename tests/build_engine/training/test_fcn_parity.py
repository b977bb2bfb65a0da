"""Parity: the ONNX graph builder (build_engine.fcn, no torch) against an independent PyTorch FCN.

Each case: random torch weights (He-normal body, non-zero score layers, perturbed bilinear
upsampling so ConvTranspose in/out axes matter) -> .npz / .pth file -> build_engine.weights ->
build_fcn(weights=...) -> ONNX Runtime, compared with the torch forward on the same input.
Acceptance: max |logit difference| <= 1e-4 * max |torch logit| and >= 99.9% label agreement.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

from build_engine.fcn import build_fcn  # noqa: E402
from build_engine.training.torch_fcn import VARIANTS, build_torch_fcn, randomize_fcn_  # noqa: E402
from build_engine.weights import check_weights, infer_fcn_config, load_weights, save_npz  # noqa: E402
from fcn_trt.metadata import CAFFE_BGR_MEAN, IMAGENET_RGB_MEAN, IMAGENET_RGB_STD, PipelineMetadata  # noqa: E402

REL_TOL = 1e-4
MIN_AGREEMENT = 0.999


# --- helpers --------------------------------------------------------------------------------------
def _torch_net(variant: str, n_class: int, width_divisor: int, seed: int = 0):
    net = randomize_fcn_(build_torch_fcn(variant, n_class, width_divisor), seed=seed)
    return net.eval()


def _torch_logits(net, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return net(torch.from_numpy(np.ascontiguousarray(x))).numpy()


def _session(model):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def _preprocessed(rng: np.random.Generator, n: int, h: int, w: int) -> np.ndarray:
    """A Caffe-preprocessed BGR image batch: uint8 pixels minus the VOC mean, NCHW float32."""
    frame = rng.integers(0, 256, size=(n, h, w, 3), dtype=np.uint8)
    return (frame.astype(np.float32) - np.float32(CAFFE_BGR_MEAN)).transpose(0, 3, 1, 2).copy()


def _assert_parity(ref: np.ndarray, got: np.ndarray) -> tuple:
    assert got.shape == ref.shape and got.dtype == np.float32
    scale = float(np.abs(ref).max())
    assert scale > 1e-3, "degenerate reference: all logits ~0"
    rel = float(np.abs(got - ref).max()) / scale
    ref_labels = ref.argmax(1)
    agreement = float((got.argmax(1) == ref_labels).mean())
    assert len(np.unique(ref_labels)) > 1, "degenerate reference: a single predicted class"
    assert rel <= REL_TOL, f"max relative logit error {rel:.3g} > {REL_TOL}"
    assert agreement >= MIN_AGREEMENT, f"label agreement {agreement:.5f} < {MIN_AGREEMENT}"
    return rel, agreement


def _onnx_from_file(path, variant, n_class, width_divisor):
    weights = load_weights(path)
    check_weights(weights, variant, n_class, width_divisor)
    model = build_fcn(variant, n_class, width_divisor, weights=weights)
    onnx.checker.check_model(model)
    return model


def _onnx_logits(model, x: np.ndarray) -> np.ndarray:
    (got,) = _session(model).run(["logits"], {"input": x})
    return got


def _assert_file_matches_torch(net, path, config: tuple, x: np.ndarray) -> None:
    """The graph built from the weights file ``path`` (``config`` = variant, n_class, width_divisor)
    gives ``net``'s logits on ``x``."""
    _assert_parity(_torch_logits(net, x), _onnx_logits(_onnx_from_file(path, *config), x))


# --- bare network ---------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("batch,height,width", [(2, 97, 131), (1, 64, 64)])
def test_fcn_matches_torch_width8(tmp_path, variant, batch, height, width):
    n_class = 5
    net = _torch_net(variant, n_class, 8, seed=VARIANTS.index(variant))
    path = save_npz(net.state_dict(), tmp_path / f"{variant}.npz")
    x = _preprocessed(np.random.default_rng(height), batch, height, width)
    _assert_file_matches_torch(net, path, (variant, n_class, 8), x)


def test_fcn_dynamic_shapes_one_session(tmp_path):
    """One ONNX Runtime session serves several batch sizes and frame sizes (dynamic N, H, W)."""
    net = _torch_net("fcn8s", 3, 8, seed=11)
    sess = _session(_onnx_from_file(save_npz(net.state_dict(), tmp_path / "w.npz"), "fcn8s", 3, 8))
    rng = np.random.default_rng(0)
    for n, h, w in [(1, 33, 47), (3, 80, 60), (1, 1, 1)]:
        x = _preprocessed(rng, n, h, w)
        (got,) = sess.run(["logits"], {"input": x})
        ref = _torch_logits(net, x)
        assert got.shape == (n, 3, h, w)
        assert float(np.abs(got - ref).max()) <= REL_TOL * float(np.abs(ref).max())


def test_fcn8s_canonical_width(tmp_path):
    """The canonical FCN-8s (VGG16 widths, 134 M parameters) at a small frame: the 100-pixel pad
    makes conv1 run at 262x262, so the full topology and every crop offset is exercised."""
    net = _torch_net("fcn8s", 21, 1, seed=5)
    path = save_npz(net.state_dict(), tmp_path / "fcn8s.npz")
    assert infer_fcn_config(load_weights(path)) == ("fcn8s", 21, 1)
    _assert_file_matches_torch(net, path, ("fcn8s", 21, 1), _preprocessed(np.random.default_rng(1), 1, 64, 64))


def test_fp16_npz_storage_matches_rounded_torch_weights(tmp_path):
    """fp16 .npz storage: the graph equals a torch net holding the same fp16-rounded weights."""
    net = _torch_net("fcn16s", 4, 8, seed=2)
    path = save_npz(net.state_dict(), tmp_path / "w16.npz", dtype=np.float16)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(p.half().float())
    _assert_file_matches_torch(net, path, ("fcn16s", 4, 8), _preprocessed(np.random.default_rng(3), 1, 50, 70))


# --- .pth round trips -----------------------------------------------------------------------------
@pytest.mark.parametrize("form", ["state_dict", "checkpoint"])
def test_pth_round_trip(tmp_path, form):
    net = _torch_net("fcn8s", 6, 8, seed=7)
    sd = net.state_dict()
    if form == "state_dict":
        obj = sd
    else:  # pytorch-fcn Trainer checkpoint of a DataParallel model
        obj = {"epoch": 1, "iteration": 10, "arch": "FCN8s", "best_mean_iu": 0.0,
               "optim_state_dict": {}, "model_state_dict": {"module." + k: v for k, v in sd.items()}}
    path = tmp_path / ("w.pth" if form == "state_dict" else "ckpt.pt")
    torch.save(obj, path)
    assert infer_fcn_config(load_weights(path)) == ("fcn8s", 6, 8)
    _assert_file_matches_torch(net, path, ("fcn8s", 6, 8), _preprocessed(np.random.default_rng(4), 2, 97, 131))


def test_pytorch_fcn_initialisation_loads_and_runs(tmp_path):
    """pytorch-fcn's own init (zero convs, bilinear deconvs) loads; every logit is then 0."""
    net = build_torch_fcn("fcn32s", 3, 8).eval()
    torch.save(net.state_dict(), tmp_path / "init.pth")
    model = _onnx_from_file(tmp_path / "init.pth", "fcn32s", 3, 8)
    x = _preprocessed(np.random.default_rng(0), 1, 40, 40)
    got = _onnx_logits(model, x)
    np.testing.assert_array_equal(got, _torch_logits(net, x))
    assert not got.any()


# --- the whole pipeline (uint8 frame in) ----------------------------------------------------------
def _metadata(n_class: int, **kw) -> PipelineMetadata:
    return PipelineMetadata(
        class_names=tuple(f"class{i}" for i in range(n_class)),
        palette=tuple((i * 40 % 256, i * 90 % 256, i * 150 % 256) for i in range(n_class)),
        outputs=("labels", "confidence", "logits"),
        **kw,
    )


@pytest.mark.parametrize(
    "input_format,channel_order,mean,std",
    [
        ("bgr", "bgr", CAFFE_BGR_MEAN, (1.0, 1.0, 1.0)),  # pytorch-fcn VOC checkpoints
        ("rgb", "bgr", CAFFE_BGR_MEAN, (1.0, 1.0, 1.0)),  # RGB camera, Caffe-trained net
        ("bgr", "rgb", IMAGENET_RGB_MEAN, IMAGENET_RGB_STD),  # OpenCV frames, ImageNet-trained net
    ],
)
def test_pipeline_matches_torch_on_manually_preprocessed_frame(tmp_path, input_format, channel_order, mean, std):
    wrap_network = pytest.importorskip("build_engine.pipeline").wrap_network
    n_class = 5
    variant = "fcn8s"
    net = _torch_net(variant, n_class, 8, seed=9)
    network = _onnx_from_file(save_npz(net.state_dict(), tmp_path / "w.npz"), variant, n_class, 8)
    meta = _metadata(n_class, input_format=input_format, channel_order=channel_order, mean=mean,
                     std=std, variant=variant, width_divisor=8)
    sess = _session(wrap_network(network, meta))

    frame = np.random.default_rng(12).integers(0, 256, size=(2, 97, 131, 3), dtype=np.uint8)
    labels, confidence, logits = sess.run(["labels", "confidence", "logits"], {"frame": frame})

    # what a pytorch-fcn user does by hand: reorder channels, subtract mean, divide std, NCHW
    x = frame.astype(np.float32)
    if input_format != channel_order:
        x = x[..., ::-1]
    x = ((x - np.float32(mean)) / np.float32(std)).transpose(0, 3, 1, 2).copy()
    ref = _torch_logits(net, x)

    _assert_parity(ref, logits)
    assert labels.dtype == np.uint8 and labels.shape == (2, 97, 131)
    assert float((labels == ref.argmax(1)).mean()) >= MIN_AGREEMENT
    ref_prob = torch.softmax(torch.from_numpy(ref), dim=1).max(1).values.numpy()
    assert confidence.shape == (2, 97, 131)
    np.testing.assert_allclose(confidence, ref_prob, atol=1e-4)
