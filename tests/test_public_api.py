"""The public surface is locked: each package's root ``__all__`` equals the list in docs/DESIGN.md."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Dict, List

import pytest

ROOT = Path(__file__).resolve().parents[1]


def documented() -> Dict[str, List[str]]:
    text = (ROOT / "docs" / "DESIGN.md").read_text()
    table = text.split("<!-- public-api:start -->")[1].split("<!-- public-api:end -->")[0]
    out: Dict[str, List[str]] = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            out[cells[0].strip("`")] = re.findall(r"`([^`]+)`", cells[2])
    return out


def test_the_design_document_lists_every_package():
    packages = {".".join(p.relative_to(ROOT).parts[:-1]) for pkg in ("fcn_trt", "build_engine")
                for p in (ROOT / pkg).rglob("__init__.py")}
    aliases = {"fcn_trt.datasets"}  # a one-release alias of fcn_trt.eval.voc, not API
    assert set(documented()) == packages - aliases


@pytest.mark.parametrize("package", sorted(documented()))
def test_root_all_equals_the_documented_list(package):
    module = importlib.import_module(package)
    names = list(getattr(module, "__all__"))
    assert len(names) == len(set(names)), f"{package}.__all__ lists a name twice"
    assert sorted(names) == sorted(documented()[package]), (
        f"{package}.__all__ differs from docs/DESIGN.md: "
        f"undocumented {sorted(set(names) - set(documented()[package]))}, "
        f"missing {sorted(set(documented()[package]) - set(names))}")
    for name in names:
        assert hasattr(module, name), f"{package}.{name} is listed but not defined"
