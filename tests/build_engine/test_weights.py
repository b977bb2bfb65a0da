"""build_engine.weights: loading .npz/.pth, config inference, validation, saving, hashing."""

from __future__ import annotations

import hashlib
import sys

import numpy as np
import pytest

from build_engine.fcn import VARIANTS, fcn_parameter_shapes, random_fcn_weights
from build_engine.weights import (
    check_weights,
    infer_fcn_config,
    load_weights,
    save_npz,
    state_dict_to_numpy,
    weights_sha256,
)
from fcn_trt.errors import BackendUnavailableError, ConfigError, ModelFormatError, ModelNotFoundError
from tests._helpers import raises_with

try:
    import torch
except ImportError:  # the .npz path must work without torch
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


@pytest.fixture(scope="module")
def small_weights():
    return random_fcn_weights("fcn8s", num_classes=5, width_divisor=16, seed=3)


# --- npz ------------------------------------------------------------------------------------------
def test_npz_round_trip_float32_is_exact(tmp_path, small_weights):
    path = save_npz(small_weights, tmp_path / "w.npz")
    loaded = load_weights(path)
    assert sorted(loaded) == sorted(small_weights)
    for name, arr in small_weights.items():
        assert loaded[name].dtype == np.float32
        np.testing.assert_array_equal(loaded[name], arr)


def test_npz_float16_storage_is_upcast(tmp_path, small_weights):
    path = save_npz(small_weights, tmp_path / "w16.npz", dtype=np.float16)
    with np.load(path) as raw:
        assert raw["fc6.weight"].dtype == np.float16
    loaded = load_weights(path)
    for name, arr in small_weights.items():
        assert loaded[name].dtype == np.float32
        np.testing.assert_array_equal(loaded[name], arr.astype(np.float16).astype(np.float32))
    # fp16 storage is about half the size
    assert path.stat().st_size < 0.6 * save_npz(small_weights, tmp_path / "w32.npz").stat().st_size


def test_npz_float64_is_converted(tmp_path):
    np.savez(tmp_path / "w.npz", **{"fc7.bias": np.arange(3, dtype=np.float64)})
    w = load_weights(tmp_path / "w.npz")
    assert w["fc7.bias"].dtype == np.float32
    np.testing.assert_array_equal(w["fc7.bias"], [0, 1, 2])


def test_missing_file(tmp_path):
    with pytest.raises(ModelNotFoundError, match="no file at") as info:
        load_weights(tmp_path / "nope.npz")
    assert isinstance(info.value, FileNotFoundError)
    with pytest.raises(ModelNotFoundError):
        weights_sha256(tmp_path / "nope.npz")


def test_save_npz_rejects_bad_dtype_and_suffix(tmp_path, small_weights):
    with pytest.raises(ConfigError, match="float32 or numpy.float16"):
        save_npz(small_weights, tmp_path / "w.npz", dtype=np.int8)
    with pytest.raises(ConfigError, match=r"\.npz file name"):
        save_npz(small_weights, tmp_path / "w.bin")
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_weights_sha256(tmp_path, small_weights):
    path = save_npz(small_weights, tmp_path / "w.npz")
    digest = weights_sha256(path)
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    changed = dict(small_weights, **{"fc7.bias": small_weights["fc7.bias"] + 1})
    assert weights_sha256(save_npz(changed, tmp_path / "w2.npz")) != digest


# --- state dicts ----------------------------------------------------------------------------------
def test_state_dict_to_numpy_strips_dataparallel_prefix():
    sd = {"module.fc7.bias": np.ones(2, np.float16), "score_fr.bias": np.zeros(2)}
    out = state_dict_to_numpy(sd)
    assert sorted(out) == ["fc7.bias", "score_fr.bias"]
    assert all(v.dtype == np.float32 for v in out.values())


def test_state_dict_to_numpy_rejects_duplicates_and_non_tensors():
    with pytest.raises(ModelFormatError, match="each parameter once"):
        state_dict_to_numpy({"fc7.bias": np.ones(2), "module.fc7.bias": np.ones(2)})
    with pytest.raises(ModelFormatError, match="expected a tensor, found str"):
        state_dict_to_numpy({"arch": "FCN8s"})


# --- .pth -----------------------------------------------------------------------------------------
def _torch_net(variant="fcn8s", n_class=5, width_divisor=16, seed=0):
    from build_engine.training.torch_fcn import build_torch_fcn, randomize_fcn_

    return randomize_fcn_(build_torch_fcn(variant, n_class, width_divisor), seed=seed)


def _assert_same(weights, state_dict):
    assert sorted(weights) == sorted(state_dict)
    for name, t in state_dict.items():
        np.testing.assert_array_equal(weights[name], t.numpy())


def _assert_saved_loads_as(obj, path, state_dict):
    """``torch.save(obj, path)``; ``load_weights(path)`` then gives exactly ``state_dict``'s tensors."""
    torch.save(obj, path)
    _assert_same(load_weights(path), state_dict)


@needs_torch
def test_pth_state_dict(tmp_path):
    sd = _torch_net().state_dict()
    _assert_saved_loads_as(sd, tmp_path / "w.pth", sd)


@needs_torch
def test_pt_training_checkpoint_with_dataparallel_prefix(tmp_path):
    """pytorch-fcn's Trainer saves {'epoch', 'iteration', 'arch', 'optim_state_dict',
    'model_state_dict', 'best_mean_iu'}; a DataParallel model prefixes names with 'module.'."""
    net = _torch_net()
    sd = net.state_dict()
    optim = torch.optim.SGD(net.parameters(), lr=1e-3, momentum=0.9)
    ckpt = {
        "epoch": 3,
        "iteration": 1000,
        "arch": "FCN8s",
        "optim_state_dict": optim.state_dict(),
        "model_state_dict": {"module." + k: v for k, v in sd.items()},
        "best_mean_iu": 0.5,
    }
    _assert_saved_loads_as(ckpt, tmp_path / "checkpoint.pt", sd)


@needs_torch
def test_pth_half_precision_is_upcast(tmp_path):
    sd = {k: v.half() for k, v in _torch_net().state_dict().items()}
    torch.save(sd, tmp_path / "half.pth")
    w = load_weights(tmp_path / "half.pth")
    assert all(v.dtype == np.float32 for v in w.values())
    np.testing.assert_array_equal(w["fc6.weight"], sd["fc6.weight"].float().numpy())


@needs_torch
def test_pth_without_torch_says_how_to_install(tmp_path, monkeypatch):
    torch.save({"fc7.bias": torch.zeros(2)}, tmp_path / "w.pth")
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    with pytest.raises(BackendUnavailableError, match=r'pip install "fcn-trt\[torch\]"') as info:
        load_weights(tmp_path / "w.pth")
    assert isinstance(info.value, ImportError)


# --- torch reference vs the graph builder's parameter table ----------------------------------------
@needs_torch
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("width_divisor", [1, 8])
def test_torch_fcn_parameters_match_fcn_parameter_shapes(variant, width_divisor):
    from build_engine.training.torch_fcn import build_torch_fcn

    with torch.device("meta"):  # shapes only: no 134 M-parameter allocation
        net = build_torch_fcn(variant, 21, width_divisor)
    got = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert got == dict(fcn_parameter_shapes(variant, 21, width_divisor))


# --- infer_fcn_config / check_weights -------------------------------------------------------------
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("width_divisor,num_classes", [(1, 21), (4, 2), (64, 7)])
def test_infer_fcn_config(variant, width_divisor, num_classes):
    shapes = fcn_parameter_shapes(variant, num_classes, width_divisor)
    fake = {k: np.broadcast_to(np.float32(0), s) for k, s in shapes.items()}  # no 0.5 GB allocation
    expected_variant = "fcn8s" if variant == "fcn8s-atonce" else variant  # indistinguishable
    assert infer_fcn_config(fake) == (expected_variant, num_classes, width_divisor)
    check_weights(fake, variant, num_classes, width_divisor)  # complete set: no error


def test_infer_fcn_config_errors():
    with pytest.raises(ModelFormatError, match="conv1_1.weight"):
        infer_fcn_config({"fc7.bias": np.zeros(3)})
    base = {"conv1_1.weight": np.zeros((8, 3, 3, 3)), "score_fr.weight": np.zeros((5, 512, 1, 1))}
    with pytest.raises(ModelFormatError, match="upscore8 \\+ score_pool3"):
        infer_fcn_config(base)
    with pytest.raises(ModelFormatError, match="width divisor"):
        infer_fcn_config(dict(base, **{"conv1_1.weight": np.zeros((48, 3, 3, 3))}))


def test_check_weights_reports_everything_in_one_message(small_weights):
    w = dict(small_weights)
    del w["score_pool3.weight"]
    del w["upscore8.weight"]
    w["extra.weight"] = np.zeros(1, np.float32)
    w["fc7.bias"] = np.zeros(7, np.float32)
    with raises_with(ModelFormatError, "missing 2: [score_pool3.weight, upscore8.weight]",
                     "unexpected 1: [extra.weight]", "fc7.bias expected (256,) found (7,)"):
        check_weights(w, "fcn8s", 5, 16)


def test_check_weights_hints_the_real_config(small_weights):
    with raises_with(ModelFormatError, "shape mismatch", "... (",  # long lists are truncated
                     "variant=fcn8s, num_classes=5, width_divisor=16"):
        check_weights(small_weights, "fcn8s", 21, 1)
    with pytest.raises(ModelFormatError, match=r"missing 1: \[upscore16.weight\]; unexpected 4: \[score_pool3.bias"):
        check_weights(small_weights, "fcn16s", 5, 16)


# --- files that are not weights -------------------------------------------------------------------
class _Pickled:  # not loadable with weights_only=True
    pass


@pytest.mark.parametrize("name,write,match", [
    pytest.param("w.npz", lambda p: np.savez(p, **{"fc7.bias": np.arange(3)}), r"fc7\.bias.*floating-point.*int",
                 id="npz_integer_array"),
    pytest.param("bad.npz", lambda p: p.write_bytes(b"this is not a zip archive"), "numpy .npz archive",
                 id="corrupt_npz"),
    pytest.param("empty.npz", lambda p: np.savez(p), "at least one parameter", id="empty_npz"),
    pytest.param("weights.onnx", lambda p: p.write_bytes(b"\x00"),
                 r"expected suffix \.npz, \.pth, \.pt, found '\.onnx'", id="unknown_suffix"),
    pytest.param("evil.pth", lambda p: torch.save({"model": _Pickled()}, p), "weights_only=True", marks=needs_torch,
                 id="pth_with_arbitrary_objects"),
    pytest.param("list.pth", lambda p: torch.save([torch.zeros(2)], p), "found list", marks=needs_torch,
                 id="pth_not_a_dict"),
    pytest.param("int.pth", lambda p: torch.save({"fc7.bias": torch.arange(3)}, p), r"fc7\.bias.*floating-point tensor",
                 marks=needs_torch, id="pth_integer_tensor"),
    pytest.param("bad.pth", lambda p: p.write_bytes(b"garbage"), "torch state dict", marks=needs_torch,
                 id="corrupt_pth"),
])
def test_a_file_that_is_not_weights_is_a_format_error(tmp_path, name, write, match):
    write(tmp_path / name)
    with pytest.raises(ModelFormatError, match=match):
        load_weights(tmp_path / name)
