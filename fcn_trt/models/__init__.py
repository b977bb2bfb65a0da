"""Built-in models shipped with the package, opened by name: ``Segmenter("demo")``.

Example:
    >>> sorted(BUILTIN_MODELS)                       # doctest: +SKIP
    ['demo', 'selfie']
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, Union

from ..errors import ConfigTypeError, ModelNotFoundError

__all__ = ["BUILTIN_MODELS", "resolve_model", "models_dir"]

#: name -> file in this folder (added as the models are shipped).
BUILTIN_MODELS: Dict[str, str] = {
    "demo": "demo_fcn8s_w8.onnx",
    "selfie": "selfie_segmentation.onnx",
}


def models_dir() -> Path:
    return Path(__file__).resolve().parent


def resolve_model(model: Union[str, Path]) -> Path:
    """A path to a model file: an existing path, or a built-in name from :data:`BUILTIN_MODELS`."""
    choices = "a .onnx/.engine path or a built-in name (" + ", ".join(sorted(BUILTIN_MODELS)) + ")"
    if not isinstance(model, (str, os.PathLike)):
        raise ConfigTypeError("model", expected=choices, found="%r (%s)" % (model, type(model).__name__),
                              hint='pass a path or a name, e.g. Segmenter("demo")')
    if not str(model).strip():
        raise ModelNotFoundError("model", expected=choices, found="an empty string", hint="check the path")
    path = Path(model)
    if path.is_dir():
        raise ModelNotFoundError("model", expected=choices, found="folder %s" % path,
                                 hint="pass the model file inside it")
    if path.exists():
        return path
    name = str(model)
    if name in BUILTIN_MODELS:
        builtin = models_dir() / BUILTIN_MODELS[name]
        if builtin.exists():
            return builtin
    raise ModelNotFoundError(
        "model", expected="an existing .onnx/.engine file or a built-in name (" + ", ".join(sorted(BUILTIN_MODELS)) + ")",
        found=repr(name), hint="export one with `python -m build_engine export`, or check the path",
    )
