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
