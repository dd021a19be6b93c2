"""Every runtime dependency declared in pyproject.toml is imported by the package.

A dependency that no module imports costs every user an install for nothing; it
belongs in the optional extra of the feature that will use it. Imports inside
functions (the lazily imported libraries) count, and so do modules named to
``importlib.import_module`` or the package's ``import_optional``.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# distributions whose import name differs from their normalised distribution name
IMPORT_NAMES = {
    "scikit-learn": "sklearn",
    "pyyaml": "yaml",
    "pillow": "PIL",
    "beautifulsoup4": "bs4",
    "python-dateutil": "dateutil",
    "opencv-python": "cv2",
    "pyfixest": "pyfixest",
}


def distribution_name(requirement: str) -> str:
    """``"scikit-learn[alldeps]>=1.3; python_version>'3'"`` -> ``"scikit-learn"``."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if match is None:
        raise ValueError(f"cannot read a distribution name from {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def import_name(distribution: str) -> str:
    """The top-level module a distribution installs (by the map above, or its name)."""
    return IMPORT_NAMES.get(distribution, distribution.replace("-", "_"))


def imported_modules(source_root: Path) -> set[str]:
    """Top-level names of every module imported anywhere under ``source_root``."""
    names: set[str] = set()
    for path in source_root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
            elif isinstance(node, ast.Call) and node.args:
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                first = node.args[0]
                if (
                    called in ("import_module", "import_optional")
                    and isinstance(first, ast.Constant)
                    and isinstance(first.value, str)
                ):
                    names.add(first.value.split(".")[0])
    return names


def unused(requirements: list[str], imported: set[str]) -> list[str]:
    """The requirements whose module is not among ``imported``."""
    names = [distribution_name(r) for r in requirements]
    return [name for name in names if import_name(name) not in imported]


def test_every_runtime_dependency_is_imported():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    dead = unused(project["dependencies"], imported_modules(ROOT / "src" / "impact"))
    assert not dead, (
        f"runtime dependencies {dead} are imported by no module under src/impact: "
        "use them, or move them to the optional extra of the feature that needs them"
    )


def test_the_check_finds_a_dependency_nobody_imports():
    assert distribution_name("Scikit_Learn[all]>=1.3; python_version>'3.10'") == "scikit-learn"
    assert unused(["numpy>=1.26", "scikit-learn>=1.3"], {"numpy"}) == ["scikit-learn"]
    assert unused(["scikit-learn>=1.3"], {"sklearn"}) == []


def test_lazy_imports_count(tmp_path):
    (tmp_path / "a.py").write_text(
        "def f():\n    from linearmodels.panel import covariance\n"
        "    return import_optional('pyarrow', extra='parquet', purpose='x')\n"
    )
    assert {"linearmodels", "pyarrow"} <= imported_modules(tmp_path)
