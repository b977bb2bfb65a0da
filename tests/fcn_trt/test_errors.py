"""fcn_trt.errors.run_cli: user mistakes become one line and an exit code, never a traceback."""

from __future__ import annotations

import pytest

from fcn_trt.errors import ModelNotFoundError, SourceOpenError, run_cli


def test_success_returns_the_body_status():
    assert run_cli(lambda: 0) == 0 and run_cli(lambda: None) == 0 and run_cli(lambda: 2) == 2


def test_user_mistake_is_one_line_and_its_exit_code(capsys):
    def body():
        raise SourceOpenError("camera /dev/video9", expected="a camera", found="nothing", hint="check the cable")

    code = run_cli(body)
    err = capsys.readouterr().err
    assert code == SourceOpenError("x").exit_code != 0
    assert err == "error: camera /dev/video9: expected a camera, found nothing. Hint: check the cable\n"
    assert run_cli(lambda: (_ for _ in ()).throw(ModelNotFoundError("model m")), prog="tool") == ModelNotFoundError("x").exit_code
    assert capsys.readouterr().err.startswith("tool: error: model m")


def test_interrupt_and_debug(capsys):
    def interrupted():
        raise KeyboardInterrupt

    assert run_cli(interrupted, prog="tool") == 130 and capsys.readouterr().err == "tool: interrupted\n"
    with pytest.raises(ModelNotFoundError):
        run_cli(lambda: (_ for _ in ()).throw(ModelNotFoundError("model m")), debug=True)
    with pytest.raises(ZeroDivisionError):  # a bug is not a user mistake: it keeps its traceback
        run_cli(lambda: 1 // 0)


# The README's promise: each error is also the built-in exception of its kind of mistake.
import fcn_trt.errors as errors  # noqa: E402

KINDS = {
    ValueError: ["InputError", "FrameShapeError", "EmptyFrameError", "FrameTooLargeError", "ConfigError",
                 "ConfigTypeError", "ModelError", "ModelNotFoundError", "ModelFormatError", "MetadataError",
                 "EngineError", "EngineCorruptError", "EngineMismatchError", "SidecarNotFoundError"],
    TypeError: ["FrameTypeError", "FrameDtypeError", "ConfigTypeError"],
    OSError: ["ModelNotFoundError", "SidecarNotFoundError", "SourceError", "SourceOpenError", "SourceEndedError",
              "CudaError", "NoCudaDeviceError"],
    ImportError: ["BackendUnavailableError"],
    RuntimeError: ["TensorRTError", "BuildError", "AccuracyGateError", "ClosedError", "CudaError"],
}


@pytest.mark.parametrize("base,name", [(b, n) for b, names in KINDS.items() for n in names],
                         ids=lambda v: getattr(v, "__name__", v))
def test_each_error_is_the_builtin_of_its_kind(base, name):
    cls = getattr(errors, name)
    e = cls("thing", expected="a", found="b", hint="c")
    assert isinstance(e, base) and isinstance(e, errors.FcnTrtError)
    assert str(e) == "thing: expected a, found b. Hint: c"


def test_every_public_error_has_a_builtin_kind():
    public = [getattr(errors, n) for n in errors.__all__ if isinstance(getattr(errors, n), type)]
    for cls in public:
        if cls is errors.FcnTrtError:
            continue
        assert any(issubclass(cls, base) for base in KINDS), cls.__name__
