"""FCN weight import: pytorch-fcn ``.pth``/``.pt`` checkpoints and ``.npz`` archives -> numpy.

Weights travel as ``dict[str, np.ndarray]`` (float32) keyed by pytorch-fcn parameter names
(``conv1_1.weight``, ..., ``fc6.weight``, ``score_fr.weight``, ``upscore2.weight``, ...). numpy is the
only dependency; torch is imported lazily, only to read ``.pth``/``.pt`` files.

Example:
    >>> import tempfile, os, numpy as np
    >>> d = tempfile.mkdtemp()
    >>> path = save_npz({"conv1_1.weight": np.ones((8, 3, 3, 3), np.float32)}, os.path.join(d, "w.npz"),
    ...                 dtype=np.float16)
    >>> w = load_weights(path)
    >>> w["conv1_1.weight"].dtype, w["conv1_1.weight"].shape
    (dtype('float32'), (8, 3, 3, 3))
    >>> len(weights_sha256(path))
    64
"""

from __future__ import annotations

import logging
import os
import zipfile
from pathlib import Path
from typing import Any, Dict, Mapping, Tuple, Union

import numpy as np

from fcn_trt._hashing import file_sha256
from fcn_trt.sidecar import make_temp_file
from fcn_trt.errors import BackendUnavailableError, ConfigError, ModelFormatError, ModelNotFoundError

from .fcn_spec import fcn_parameter_shapes

__all__ = [
    "WEIGHT_SUFFIXES",
    "load_weights",
    "state_dict_to_numpy",
    "infer_fcn_config",
    "check_weights",
    "save_npz",
    "weights_sha256",
]

log = logging.getLogger(__name__)

PathLike = Union[str, "os.PathLike[str]"]
Weights = Dict[str, np.ndarray]

#: File suffixes :func:`load_weights` understands.
WEIGHT_SUFFIXES = (".npz", ".pth", ".pt")

_TORCH_HINT = 'pip install "fcn-trt[torch]" (torch is only needed to read .pth/.pt files)'
_MAX_LISTED = 12


# --------------------------------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------------------------------
def load_weights(path: PathLike) -> Weights:
    """Read FCN weights from ``path`` into ``{pytorch-fcn name: float32 array}``.

    * ``.npz``: one array per parameter name (float16/float64 arrays are converted to float32);
    * ``.pth`` / ``.pt``: a pytorch-fcn state dict, or a pytorch-fcn training checkpoint (a dict with
      ``"model_state_dict"``); a ``"module."`` prefix (``nn.DataParallel``) is removed. Read with
      ``torch.load(map_location="cpu", weights_only=True)``: no pickled code runs.

    Raises:
        ModelNotFoundError: ``path`` does not exist.
        ModelFormatError: unknown suffix, unreadable or non-weight content.
        BackendUnavailableError: a ``.pth``/``.pt`` file and torch is not installed.

    Example:
        >>> load_weights("missing.npz")
        Traceback (most recent call last):
        ...
        fcn_trt.errors.ModelNotFoundError: weights file: expected an existing .npz, .pth or .pt file, found no file at 'missing.npz'. Hint: check the path
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if not p.is_file():
        raise ModelNotFoundError(
            "weights file",
            expected="an existing .npz, .pth or .pt file",
            found="no file at %r" % str(path),
            hint="check the path",
        )
    if suffix == ".npz":
        weights = _load_npz(p)
    elif suffix in (".pth", ".pt"):
        weights = _load_torch(p)
    else:
        raise ModelFormatError(
            "weights file %s" % p.name,
            expected="suffix " + ", ".join(WEIGHT_SUFFIXES),
            found=repr(p.suffix or "(none)"),
            hint="convert the weights with build_engine.weights.save_npz, or rename a torch "
            "state dict to .pth",
        )
    if not weights:
        raise ModelFormatError(
            "weights file %s" % p.name, expected="at least one parameter array", found="none"
        )
    log.info("loaded %d weight arrays from %s", len(weights), p)
    return weights


def _load_npz(path: Path) -> Weights:
    try:
        with np.load(path, allow_pickle=False) as archive:
            raw = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise ModelFormatError(
            "weights file %s" % path.name,
            expected="a numpy .npz archive of float arrays",
            found="unreadable content (%s)" % e,
            hint="write weights with build_engine.weights.save_npz",
        ) from None
    return {name: _to_float32(name, arr, path.name) for name, arr in raw.items()}


def _to_float32(name: str, arr: np.ndarray, source: str) -> np.ndarray:
    if not np.issubdtype(arr.dtype, np.floating):
        raise _not_floating(name, source, "array", arr.dtype)
    return np.ascontiguousarray(arr, dtype=np.float32)


def _not_floating(name: str, source: str, kind: str, dtype: Any) -> ModelFormatError:
    """The error for weight ``name`` whose ``kind`` ("array" or "tensor") holds integers or bools."""
    return ModelFormatError("weight %r in %s" % (name, source), expected="a floating-point " + kind, found="dtype %s" % dtype)


def _import_torch() -> Any:
    try:
        import torch
    except ImportError:
        raise BackendUnavailableError(
            "reading .pth/.pt weights needs PyTorch",
            expected="the torch package",
            found="it is not installed",
            hint=_TORCH_HINT,
        ) from None
    return torch


def _load_torch(path: Path) -> Weights:
    torch = _import_torch()
    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises UnpicklingError, RuntimeError, EOFError... for bad files
        raise ModelFormatError(
            "weights file %s" % path.name,
            expected="a torch state dict or pytorch-fcn checkpoint readable with weights_only=True",
            found="%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else ""),
            hint="save only tensors: torch.save(model.state_dict(), path)",
        ) from None
    return state_dict_to_numpy(_extract_state_dict(obj, path.name), source=path.name)


def _extract_state_dict(obj: Any, source: str) -> Mapping[str, Any]:
    if not isinstance(obj, Mapping):
        raise ModelFormatError(
            "weights file %s" % source,
            expected="a state dict (dict of tensors) or a checkpoint dict with 'model_state_dict'",
            found=type(obj).__name__,
            hint="save with torch.save(model.state_dict(), path)",
        )
    for key in ("model_state_dict", "state_dict"):  # pytorch-fcn Trainer / common trainers
        if key in obj and isinstance(obj[key], Mapping):
            log.info("%s: using the checkpoint's %r", source, key)
            return obj[key]
    return obj


def state_dict_to_numpy(state_dict: Mapping[str, Any], source: str = "state dict") -> Weights:
    """Convert a torch state dict (tensors or arrays) to ``{name: float32 ndarray}``.

    A leading ``"module."`` (``nn.DataParallel``/``DistributedDataParallel``) is removed from
    every name.

    Example:
        >>> import numpy as np
        >>> state_dict_to_numpy({"module.fc7.bias": np.zeros(4, np.float16)})["fc7.bias"].dtype
        dtype('float32')
    """
    out: Weights = {}
    for name, value in state_dict.items():
        key = str(name)
        if key.startswith("module."):
            key = key[len("module."):]
        if hasattr(value, "detach"):  # torch.Tensor, without importing torch
            value = value.detach().cpu()
            if not value.is_floating_point():
                raise _not_floating(name, source, "tensor", value.dtype)
            value = value.float().numpy()
        elif not isinstance(value, np.ndarray):
            raise ModelFormatError(
                "entry %r in %s" % (name, source),
                expected="a tensor",
                found=type(value).__name__,
                hint="pass model.state_dict() (or a checkpoint's 'model_state_dict')",
            )
        if key in out:
            raise ModelFormatError(
                "weight %r in %s" % (key, source),
                expected="each parameter once",
                found="it both with and without the 'module.' prefix",
            )
        out[key] = _to_float32(str(name), value, source)
    return out


# --------------------------------------------------------------------------------------------------
# configuration and validation
# --------------------------------------------------------------------------------------------------
def infer_fcn_config(weights: Mapping[str, np.ndarray]) -> Tuple[str, int, int]:
    """Return ``(variant, num_classes, width_divisor)`` implied by parameter names and shapes.

    ``score_pool3`` + ``upscore8`` -> ``"fcn8s"``; ``upscore16`` -> ``"fcn16s"``; ``upscore`` ->
    ``"fcn32s"``. FCN-8s-at-once has exactly FCN-8s's parameters (it only scales pool3/pool4 in the
    forward pass), so its weights are reported as ``"fcn8s"``: pass ``variant="fcn8s-atonce"``
    explicitly for pytorch-fcn's ``fcn8s-atonce`` checkpoints. num_classes comes from
    ``score_fr.weight``, width_divisor from ``conv1_1.weight`` (64 output channels = 1).

    Example:
        >>> import numpy as np
        >>> infer_fcn_config({"conv1_1.weight": np.zeros((8, 3, 3, 3)),
        ...                   "score_fr.weight": np.zeros((5, 512, 1, 1)),
        ...                   "upscore.weight": np.zeros((5, 5, 64, 64))})
        ('fcn32s', 5, 8)
    """
    for key in ("conv1_1.weight", "score_fr.weight"):
        if key not in weights:
            raise ModelFormatError(
                "FCN weights",
                expected="pytorch-fcn parameter names (conv1_1.weight ... score_fr.weight)",
                found="no %r among %s" % (key, _preview(sorted(weights))),
                hint="rename the parameters to pytorch-fcn's names",
            )
    conv1 = np.shape(weights["conv1_1.weight"])
    score = np.shape(weights["score_fr.weight"])
    if len(conv1) != 4 or conv1[1] != 3 or conv1[0] < 1 or 64 % conv1[0]:
        raise ModelFormatError(
            "conv1_1.weight",
            expected="shape (64/d, 3, 3, 3) for a width divisor d dividing 64",
            found="shape %s" % (conv1,),
        )
    if len(score) != 4 or score[0] < 1:
        raise ModelFormatError(
            "score_fr.weight", expected="shape (num_classes, C, 1, 1)", found="shape %s" % (score,)
        )
    if "score_pool3.weight" in weights and "upscore8.weight" in weights:
        variant = "fcn8s"
    elif "upscore16.weight" in weights:
        variant = "fcn16s"
    elif "upscore.weight" in weights:
        variant = "fcn32s"
    else:
        raise ModelFormatError(
            "FCN weights",
            expected="upscore8 + score_pool3 (FCN-8s), upscore16 (FCN-16s) or upscore (FCN-32s)",
            found="none of them",
            hint="check the file holds a complete pytorch-fcn model",
        )
    return variant, int(score[0]), 64 // int(conv1[0])


def check_weights(
    weights: Mapping[str, np.ndarray], variant: str, num_classes: int, width_divisor: int = 1
) -> None:
    """Raise :class:`ModelFormatError` unless ``weights`` match the FCN exactly.

    One message lists every missing key, unexpected key and shape mismatch (expected vs found).

    Example:
        >>> check_weights({}, "fcn32s", 5, 8)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        fcn_trt.errors.ModelFormatError: weights for fcn32s (5 classes, width divisor 8): expected 33 parameters ...
    """
    expected_shapes = fcn_parameter_shapes(variant, num_classes, width_divisor)
    missing = [k for k in expected_shapes if k not in weights]
    unexpected = sorted(k for k in weights if k not in expected_shapes)
    mismatched = [
        "%s expected %s found %s" % (k, tuple(shape), tuple(np.shape(weights[k])))
        for k, shape in expected_shapes.items()
        if k in weights and tuple(np.shape(weights[k])) != tuple(shape)
    ]
    if not (missing or unexpected or mismatched):
        return
    problems = []
    if missing:
        problems.append("missing %d: %s" % (len(missing), _preview(missing)))
    if unexpected:
        problems.append("unexpected %d: %s" % (len(unexpected), _preview(unexpected)))
    if mismatched:
        problems.append("shape mismatch %d: %s" % (len(mismatched), _preview(mismatched)))
    hint = "pass the variant, num_classes and width divisor the weights were trained with"
    try:
        guess = infer_fcn_config(weights)
    except ModelFormatError:
        guess = None
    if guess is not None and guess != (variant, num_classes, width_divisor):
        hint += " (these weights look like variant=%s, num_classes=%d, width_divisor=%d)" % guess
    raise ModelFormatError(
        "weights for %s (%d classes, width divisor %d)" % (variant, num_classes, width_divisor),
        expected="%d parameters with pytorch-fcn names and shapes" % len(expected_shapes),
        found="; ".join(problems),
        hint=hint,
    )


def _preview(items: Any) -> str:
    items = list(items)
    text = ", ".join(str(i) for i in items[:_MAX_LISTED])
    if len(items) > _MAX_LISTED:
        text += ", ... (%d more)" % (len(items) - _MAX_LISTED)
    return "[" + text + "]"


# --------------------------------------------------------------------------------------------------
# saving and hashing
# --------------------------------------------------------------------------------------------------
def save_npz(weights: Mapping[str, Any], path: PathLike, dtype: Any = np.float32) -> Path:
    """Write ``weights`` to an uncompressed ``.npz`` (float32 or float16 storage); return its path.

    Accepts numpy arrays or torch tensors (a state dict). The file is written to a temporary name
    and renamed, so a crash never leaves a truncated archive behind.

    Example:
        >>> import tempfile, os, numpy as np
        >>> save_npz({"fc7.bias": np.zeros(3)}, os.path.join(tempfile.mkdtemp(), "w.npz")).suffix
        '.npz'
    """
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float32), np.dtype(np.float16)):
        raise ConfigError("save_npz dtype", expected="numpy.float32 or numpy.float16", found=str(dt))
    out = Path(path)
    if out.suffix.lower() != ".npz":
        raise ConfigError(
            "weights output path", expected="a .npz file name", found=repr(str(path)),
            hint="name the file <model>.npz",
        )
    arrays = {name: value.astype(dt) for name, value in state_dict_to_numpy(weights).items()}
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = make_temp_file(out)  # mkstemp's 0600 would ignore the user's umask
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)  # type: ignore[arg-type]  # numpy stubs type **kwds as allow_pickle
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    log.info("wrote %d %s weight arrays to %s", len(arrays), dt.name, out)
    return out


def weights_sha256(path: PathLike) -> str:
    """Hex sha256 of a weights file (recorded as ``PipelineMetadata.weights_sha256``).

    :func:`fcn_trt._hashing.file_sha256` plus the error a user needs: a missing file raises
    :class:`~fcn_trt.errors.ModelNotFoundError` instead of an OSError traceback.
    """
    p = Path(path)
    if not p.is_file():
        raise ModelNotFoundError(
            "weights file", expected="an existing file", found="no file at %r" % str(path)
        )
    return file_sha256(p)
