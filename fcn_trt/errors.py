"""One exception hierarchy for the whole SDK.

Every error is an :class:`FcnTrtError` *and* the built-in exception that says what kind of mistake
it is, so plain ``except ValueError`` / ``except OSError`` code catches it too:

=========================================  =================  ========================================
kind of mistake                            built-in base      fcn_trt classes
=========================================  =================  ========================================
a value's content (frame shape, option     ``ValueError``     InputError, FrameShapeError,
range, model/metadata/sidecar content)                        EmptyFrameError, ConfigError,
                                                              FrameTooLargeError, ModelError and
                                                              its subclasses (ModelFormatError,
                                                              MetadataError, Engine*Error)
a value's type (None, a list, a PIL image  ``TypeError``      FrameTypeError, FrameDtypeError,
where an array or a path is needed)                           ConfigTypeError
a file, camera, stream or device           ``OSError``        ModelNotFoundError,
                                                              SidecarNotFoundError, SourceError and
                                                              its subclasses, CudaError,
                                                              NoCudaDeviceError
a missing optional package                 ``ImportError``    BackendUnavailableError
a library/build failure, a closed object   ``RuntimeError``   TensorRTError, BuildError,
                                                              AccuracyGateError, ClosedError
=========================================  =================  ========================================

Every message follows the same three parts, so a user reading one line knows what to do::

    <what> : expected <expected>, found <found>. Hint: <fix>

Build messages with :func:`format_message` (or pass ``expected=/found=/hint=`` to any error).

Example:
    >>> raise FrameShapeError("frame", expected="uint8 array of shape (H, W, 3)",
    ...                       found="shape (480, 640)", hint="convert grayscale with cv2.cvtColor")
    Traceback (most recent call last):
    ...
    fcn_trt.errors.FrameShapeError: frame: expected uint8 array of shape (H, W, 3), found shape (480, 640). Hint: convert grayscale with cv2.cvtColor
"""

from __future__ import annotations

import sys
from typing import Callable, Optional

__all__ = [
    "FcnTrtError",
    "InputError",
    "FrameTypeError",
    "FrameDtypeError",
    "FrameShapeError",
    "EmptyFrameError",
    "FrameTooLargeError",
    "ModelError",
    "ModelNotFoundError",
    "ModelFormatError",
    "TensorRTCompatibilityError",
    "MetadataError",
    "SidecarNotFoundError",
    "EngineError",
    "EngineCorruptError",
    "EngineMismatchError",
    "BackendUnavailableError",
    "CudaError",
    "NoCudaDeviceError",
    "TensorRTError",
    "BuildError",
    "AccuracyGateError",
    "SourceError",
    "SourceOpenError",
    "SourceEndedError",
    "ClosedError",
    "ConfigError",
    "ConfigTypeError",
    "format_message",
    "run_cli",
]


def format_message(
    what: str,
    expected: Optional[str] = None,
    found: Optional[str] = None,
    hint: Optional[str] = None,
) -> str:
    """Return ``"<what>: expected <expected>, found <found>. Hint: <hint>"`` (parts optional)."""
    parts = []
    if expected is not None:
        parts.append("expected " + expected)
    if found is not None:
        parts.append("found " + found)
    msg = what
    if parts:
        msg += ": " + ", ".join(parts)
    if hint:
        msg += ". Hint: " + hint
    return msg


class FcnTrtError(Exception):
    """Base class of every error raised by fcn_trt and build_engine."""

    exit_code = 1

    def __init__(
        self,
        what: str,
        expected: Optional[str] = None,
        found: Optional[str] = None,
        hint: Optional[str] = None,
    ) -> None:
        self.what = what
        self.expected = expected
        self.found = found
        self.hint = hint
        super().__init__(format_message(what, expected, found, hint))


# --- user input (frames, options) ---------------------------------------------------------------
class InputError(FcnTrtError, ValueError):
    """A frame or argument has the right type but an unusable value."""

    exit_code = 2


class FrameTypeError(FcnTrtError, TypeError):
    """The frame is not a numpy array (None, list, PIL image, tensor...)."""

    exit_code = 2


class FrameDtypeError(FrameTypeError):
    """The frame is a numpy array of the wrong dtype (float, uint16...)."""


class FrameShapeError(InputError):
    """The frame has the wrong rank, channel count or batch layout."""


class EmptyFrameError(InputError):
    """The frame has zero pixels (what a dead camera's ``read()`` often returns)."""


class FrameTooLargeError(InputError):
    """The frame needs more memory than the backend may use (see :func:`fcn_trt.tiling.segment_tiled`)."""


class ConfigError(InputError):
    """An option or combination of options is invalid."""


class ConfigTypeError(ConfigError, TypeError):
    """An option or argument has the wrong type (``Segmenter(None)``, ``threads="2"``...)."""


# --- models and engines -------------------------------------------------------------------------
class ModelError(FcnTrtError, ValueError):
    """A model file cannot be used (its content is wrong: a ValueError)."""

    exit_code = 3


class ModelNotFoundError(ModelError, FileNotFoundError):
    """The model path does not exist and is not a built-in model name."""


class ModelFormatError(ModelError):
    """The file is not a model this SDK understands (wrong suffix, not ONNX, not a pipeline)."""


class TensorRTCompatibilityError(ModelFormatError):
    """The ONNX graph breaks a rule of the TensorRT ONNX parser of a targeted major
    (``build_engine.trt_check``): that parser would reject it or import something else."""


class MetadataError(ModelError):
    """The model's fcn_trt metadata is missing or malformed."""


class EngineError(ModelError):
    """A TensorRT engine cannot be loaded."""


class EngineCorruptError(EngineError):
    """The engine file is truncated, corrupt or not a TensorRT engine."""


class EngineMismatchError(EngineError):
    """The engine was built for another TensorRT version, GPU or source model."""


class SidecarNotFoundError(EngineError, FileNotFoundError):
    """The engine's ``<name>.engine.json`` sidecar does not exist next to it."""


# --- backends and hardware ----------------------------------------------------------------------
class BackendUnavailableError(FcnTrtError, ImportError):
    """A backend's Python package (tensorrt, cuda-python, onnxruntime...) is not installed."""

    exit_code = 4


class CudaError(FcnTrtError, RuntimeError, OSError):
    """A CUDA runtime call failed; the message names the CUDA error (a device error: also OSError)."""

    exit_code = 4


class NoCudaDeviceError(CudaError):
    """No usable CUDA device or driver on this machine."""


class TensorRTError(FcnTrtError, RuntimeError):
    """A TensorRT call returned a failure (None, False) or its logger reported an error."""

    exit_code = 4


class BuildError(FcnTrtError, RuntimeError):
    """Graph export, quantization or engine building failed."""

    exit_code = 5


class AccuracyGateError(BuildError):
    """A reduced-precision graph lost more accuracy than its budget allows."""

    exit_code = 6


# --- streams ------------------------------------------------------------------------------------
class SourceError(FcnTrtError, IOError):
    """A camera, video, folder or URL source failed."""

    exit_code = 7


class SourceOpenError(SourceError):
    """The source could not be opened."""


class SourceEndedError(SourceError):
    """A live source stopped delivering frames (camera unplugged, stream dropped)."""


# --- lifetimes ----------------------------------------------------------------------------------
class ClosedError(FcnTrtError, RuntimeError):
    """An object was used after ``close()``."""


# --- inference servers (Triton) -----------------------------------------------------------------
class ServerError(FcnTrtError, RuntimeError):
    """An inference server (Triton) failed to start, or answered a request with an error."""

    exit_code = 8


class ServerUnreachableError(ServerError, ConnectionError):
    """No inference server answers at the URL (wrong host or port, server down)."""


class ServerTimeoutError(ServerError, TimeoutError):
    """The inference server did not answer within the timeout."""


class RemoteModelNotFoundError(ServerError, ModelNotFoundError):
    """The server answers but does not serve (or has not loaded) the named model."""


__all__ += ["ServerError", "ServerUnreachableError", "ServerTimeoutError", "RemoteModelNotFoundError"]


def run_cli(body: Callable[[], int], prog: str = "", debug: bool = False) -> int:
    """Run a command-line program's body and return its exit status (for CLIs and samples only).

    A user mistake (:class:`FcnTrtError`) becomes one ``[<prog>: ]error: <message>`` line on stderr
    and the error's :attr:`~FcnTrtError.exit_code`, never a traceback (``debug=True`` re-raises);
    Ctrl-C becomes ``interrupted`` and 130. Library code raises and never calls this.

    Example::

        def main(argv=None) -> int:
            args = parse_args(argv)
            return run_cli(lambda: run(args))
    """
    prefix = f"{prog}: " if prog else ""
    try:
        return int(body() or 0)
    except FcnTrtError as e:
        if debug:
            raise
        print(f"{prefix}error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print(f"{prefix}interrupted", file=sys.stderr)
        return 130
    except OSError as e:  # unwritable output folder, disk full...: the OS says it best
        if debug:
            raise
        print(f"{prefix}error: {e.strerror or e}: {e.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
