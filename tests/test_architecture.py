"""The tree shows the architecture: layers import downwards, modules stay small, packages
say what they hold, and estimators read the Panel through its public API only."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "impact"
MAX_LINES = 600


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def test_import_contracts_hold():
    """The layers and family-independence contracts of pyproject.toml (import-linter)."""
    cli = pytest.importorskip("importlinter.cli")
    root = Path(__file__).resolve().parents[1]
    assert cli.lint_imports(config_filename=str(root / "pyproject.toml"), no_cache=True) == 0


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_is_over_the_size_limit(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(SRC)} has {lines} lines; split it"


@pytest.mark.parametrize(
    "package",
    sorted(p.parent for p in SRC.rglob("__init__.py")),
    ids=lambda p: str(p.relative_to(SRC.parent)),
)
def test_every_package_says_what_it_holds(package):
    doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8")))
    assert doc and len(doc.split()) >= 8, f"{package.name}/__init__.py needs a docstring"
    if package != SRC:  # the root imports lazily from every layer, for the public names
        assert "Layer" in doc, f"{package.name}/__init__.py must say what it may import"


PRIVATE_PANEL = re.compile(r"\b(?:panel|p)\._(?:cohort|frame|view|codes|values|cache|cached)\b")


def test_only_the_panel_package_reads_private_panel_attributes():
    offenders = [
        f"{path.relative_to(SRC)}:{number}"
        for path in _modules()
        if SRC / "panel" not in path.parents
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if PRIVATE_PANEL.search(line)
    ]
    assert not offenders, f"use the Panel's read API instead: {offenders}"
