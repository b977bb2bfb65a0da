"""Fixture ``fake_cuda``: installs tests/fakes/fake_cuda.py as cuda-python's runtime module.

Use it from a test module with ``from tests.fakes.fixtures_cuda import fake_cuda  # noqa: F401``
(or import it in tests/conftest.py). The fake is installed under every import path fcn_trt.cuda
may use (``cuda.bindings.runtime`` and ``cuda.cudart``), whether or not the real cuda-python is
installed, and reset (no allocations, one fake "sm_87" device) before and after each test.
"""

from __future__ import annotations

import sys
import types

import pytest

from tests.fakes import fake_cuda as _fake_cuda_module


def install_fake_cuda(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """Install the fake into sys.modules (undone by ``monkeypatch``) and return it, reset."""
    fc = _fake_cuda_module
    fc.reset()
    cuda_pkg = types.ModuleType("cuda")
    cuda_pkg.__path__ = []  # a package, so `from cuda import cudart` resolves attributes
    bindings = types.ModuleType("cuda.bindings")
    bindings.__path__ = []
    bindings.__version__ = "13.0.0"  # type: ignore[attr-defined]  (cuda-python whose runtime the fake reports)
    bindings.runtime = fc  # type: ignore[attr-defined]
    cuda_pkg.bindings = bindings  # type: ignore[attr-defined]
    cuda_pkg.cudart = fc  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cuda", cuda_pkg)
    monkeypatch.setitem(sys.modules, "cuda.bindings", bindings)
    monkeypatch.setitem(sys.modules, "cuda.bindings.runtime", fc)
    monkeypatch.setitem(sys.modules, "cuda.cudart", fc)
    return fc


@pytest.fixture
def fake_cuda(monkeypatch: pytest.MonkeyPatch):
    """The fake cuda-python runtime module, installed and reset; reset again after the test."""
    fc = install_fake_cuda(monkeypatch)
    yield fc
    fc.reset()
