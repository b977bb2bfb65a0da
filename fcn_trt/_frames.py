"""Frame validation: every frame is checked before it reaches a backend.

Valid frames are numpy uint8 arrays of shape (H, W, 3) (``bgr``/``rgb`` pipelines) or (H*3/2, W)
(``nv12``). Views (slices, negative strides) are accepted and copied to a contiguous array.

Example:
    >>> import numpy as np
    >>> validate_frame(np.zeros((4, 6, 3), np.uint8), "bgr").shape
    (4, 6, 3)
"""

from __future__ import annotations

import inspect
from typing import Any, List, Mapping, Sequence, Tuple, Union

import numpy as np

from .errors import ConfigError, EmptyFrameError, FrameDtypeError, FrameShapeError, FrameTypeError

__all__ = ["validate_frame", "validate_batch", "frame_hw", "check_options"]

_GRAYSCALE = "a grayscale frame: convert it with cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)"
_FIXES = {  # channel count of an (H, W, C) frame -> what it probably is and the fix
    1: "a single-channel frame: convert it with cv2.cvtColor(frame[..., 0], cv2.COLOR_GRAY2BGR)",
    2: "a 2-channel frame is not an image layout OpenCV decodes to: a packed YUYV camera frame converts with "
       "cv2.cvtColor(frame, cv2.COLOR_YUV2BGR_YUYV) (UYVY: COLOR_YUV2BGR_UYVY); ask the camera for BGR "
       "(CAP_PROP_CONVERT_RGB=1)",
    4: "a 4-channel (BGRA/RGBA) frame: drop alpha with cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)",
}


def _type_hint(frame: object, input_format: str) -> str:
    """How to turn a non-array frame into what the model takes."""
    module = type(frame).__module__.split(".")[0]
    if module == "PIL":
        if input_format == "rgb":
            return "pass np.asarray(image.convert('RGB')) (PIL images are RGB, as this model expects)"
        return ("PIL images are RGB and this model takes BGR: pass "
                "cv2.cvtColor(np.asarray(image.convert('RGB')), cv2.COLOR_RGB2BGR) (or np.asarray(image.convert('RGB'))"
                "[..., ::-1])")
    if module == "torch":
        return "pass tensor.permute(1, 2, 0).cpu().numpy() as uint8 HxWx3 (tensors are usually CHW RGB floats)"
    return "pass np.asarray(frame, dtype=np.uint8)"


def _expected(input_format: str) -> str:
    if input_format == "nv12":
        return "uint8 nv12 array of shape (H*3/2, W) with even H and W"
    return "uint8 %s array of shape (H, W, 3)" % input_format.upper()


def _check_array(frame: object, input_format: str, what: str) -> np.ndarray:
    if frame is None:
        raise FrameTypeError(
            what, expected="a numpy array (" + _expected(input_format) + ")", found="None",
            hint="the camera or file read failed (cv2.VideoCapture.read() returned ok=False?)",
        )
    if not isinstance(frame, np.ndarray):
        raise FrameTypeError(
            what, expected="a numpy array (" + _expected(input_format) + ")", found=type(frame).__name__,
            hint=_type_hint(frame, input_format),
        )
    if frame.dtype != np.uint8:
        hint = "convert with frame.astype(np.uint8)"
        if frame.dtype.kind == "f":
            hint = "frames are raw camera bytes 0..255, not normalised floats: use (frame * 255).clip(0, 255).astype(np.uint8) if it is in 0..1"
        raise FrameDtypeError(what, expected=_expected(input_format), found=f"dtype {frame.dtype}", hint=hint)
    if frame.size == 0:
        raise EmptyFrameError(
            what, expected=_expected(input_format), found=f"an empty array of shape {frame.shape}",
            hint="the source returned no pixels: check the camera/file",
        )
    return frame


def validate_frame(frame: object, input_format: str = "bgr", what: str = "frame") -> np.ndarray:
    """Return ``frame`` as a C-contiguous uint8 array, or raise a typed error saying what is wrong."""
    arr = _check_array(frame, input_format, what)
    if input_format == "nv12":
        if arr.ndim != 2 or arr.shape[0] % 3 or (arr.shape[0] * 2 // 3) % 2 or arr.shape[1] % 2:
            raise FrameShapeError(
                what, expected=_expected(input_format), found=f"shape {arr.shape}",
                hint="pass the Y plane followed by the interleaved UV plane, as cv2.COLOR_BGR2YUV_NV12 would give",
            )
    elif arr.ndim != 3 or arr.shape[2] != 3:
        if arr.ndim == 2:
            fix = _GRAYSCALE
        elif arr.ndim == 3 and arr.shape[2] in _FIXES:
            fix = _FIXES[arr.shape[2]]
        elif arr.ndim == 4:
            fix = "a batch: use run_batch(frames)"
        elif arr.ndim == 3 and arr.shape[0] == 3:
            fix = "a CHW array: transpose it with frame.transpose(1, 2, 0)"
        else:
            fix = "pass one HxWx3 image"
        raise FrameShapeError(what, expected=_expected(input_format), found=f"shape {arr.shape}", hint=fix)
    return np.ascontiguousarray(arr)


def validate_batch(frames: object, input_format: str = "bgr") -> np.ndarray:
    """Stack a list of same-sized frames, or check a 4-D (nv12: 3-D) array, into one contiguous batch."""
    if isinstance(frames, np.ndarray):
        arr = _check_array(frames, input_format, "frames")
        batch_ndim = 3 if input_format == "nv12" else 4
        if arr.ndim != batch_ndim:
            raise FrameShapeError(
                "frames", expected=f"a batch of shape (N, {'H*3/2, W' if input_format == 'nv12' else 'H, W, 3'})",
                found=f"shape {arr.shape}", hint="use run(frame) for a single frame",
            )
        return np.stack([validate_frame(f, input_format, f"frames[{i}]") for i, f in enumerate(arr)]) \
            if not arr.flags.c_contiguous else validate_frame_batch_shape(arr, input_format)
    if not isinstance(frames, (list, tuple)):
        raise FrameTypeError(
            "frames", expected="a list of frames or an (N, H, W, 3) uint8 array", found=type(frames).__name__
        )
    if len(frames) == 0:
        raise EmptyFrameError("frames", expected="at least one frame", found="an empty list")
    checked: List[np.ndarray] = [validate_frame(f, input_format, f"frames[{i}]") for i, f in enumerate(frames)]
    shapes = {f.shape for f in checked}
    if len(shapes) != 1:
        raise FrameShapeError(
            "frames", expected="frames of one size in a batch", found="sizes " + ", ".join(str(s) for s in sorted(shapes)),
            hint="resize them to one size, or call run() per frame",
        )
    return np.stack(checked)


def validate_frame_batch_shape(arr: np.ndarray, input_format: str) -> np.ndarray:
    """Check the per-frame shape of a contiguous batch without copying it."""
    validate_frame(arr[0], input_format, "frames[0]")
    return arr


def frame_hw(frame: np.ndarray, input_format: str) -> Tuple[int, int]:
    """(H, W) of the image a frame holds (nv12 has H*3/2 rows)."""
    if input_format == "nv12":
        return frame.shape[-2] * 2 // 3, frame.shape[-1]
    return frame.shape[-3], frame.shape[-2]


FrameLike = Union[np.ndarray, Sequence[np.ndarray]]


def check_options(func: Any, options: Mapping[str, Any], what: str) -> None:
    """Raise :class:`~fcn_trt.errors.ConfigError` naming the keyword ``options`` that ``func`` does not take.

    Example:
        >>> def open_it(path, threads=0): ...
        >>> check_options(open_it, {"thread": 2}, "onnxruntime backend")
        Traceback (most recent call last):
        ...
        fcn_trt.errors.ConfigError: onnxruntime backend options: expected one of threads, found unknown option 'thread'. Hint: did you mean 'threads'?
    """
    params = inspect.signature(func).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    known = [n for n, p in params.items() if n not in ("self", "path", "url")  # the model's location: not an option
             and p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    unknown = [k for k in options if k not in known]
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], known, n=1)
        raise ConfigError(
            "%s options" % what, expected="one of " + ", ".join(known),
            found="unknown option%s %s" % ("s" if len(unknown) > 1 else "", ", ".join(repr(k) for k in unknown)),
            hint=("did you mean %r?" % close[0]) if close else "see help(%s)" % getattr(func, "__qualname__", what),
        )
