"""The layering of ARCHITECTURE.md: desktop → reports → db → resources, Qt only in desktop."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {"resources": 0, "db": 1, "reports": 2, "desktop": 3}


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]


@pytest.mark.parametrize("package", ["resources", "db", "reports"])
def test_no_qt_and_no_upward_imports(package):
    for path in (ROOT / package).rglob("*.py"):
        for name in _imports(path):
            assert name not in ("PySide6", "shiboken6", "PyQt5", "PyQt6"), f"{path} imports Qt"
            if name in LAYERS:
                assert LAYERS[name] <= LAYERS[package], f"{path} imports {name} (imports go desktop → reports → db → resources)"


def test_no_sql_outside_db():
    for package in ("desktop", "reports"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert ".execute(" not in text and ".query(" not in text, f"{path} talks to the database directly"


def test_packages_resolve_inside_this_repository():
    import db, desktop, reports, resources
    for module in (db, desktop, reports, resources):
        assert Path(module.__file__).resolve().parent.parent == ROOT, module.__file__
