"""Reading ONNX files for the offline tools: one loader, one pair of errors.

Example:
    >>> from onnx import helper
    >>> m = helper.make_model(helper.make_graph([], "g", [], []))
    >>> load_onnx(m) is m
    True
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Union

import onnx

from fcn_trt.errors import ModelFormatError, ModelNotFoundError

__all__ = ["load_onnx", "ModelLike"]

ModelLike = Union[onnx.ModelProto, str, Path]


def load_onnx(model: ModelLike, hint: Optional[str] = None, what: str = "ONNX model") -> onnx.ModelProto:
    """``model`` as a ModelProto (one given is returned as is); a missing file is
    :class:`ModelNotFoundError` naming ``what``, an unreadable one :class:`ModelFormatError` (with ``hint``)."""
    if isinstance(model, onnx.ModelProto):
        return model
    path = Path(model)
    if not path.is_file():
        raise ModelNotFoundError(what, expected="an existing .onnx file", found=str(path))
    try:
        return onnx.load(str(path))
    except Exception as e:  # noqa: BLE001 - protobuf raises DecodeError and friends
        raise ModelFormatError(str(path), expected="an ONNX model", found=str(e).splitlines()[0][:200] or "unreadable",
                               hint=hint) from None
