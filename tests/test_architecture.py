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


# What screens and the command line may import from db: the one door (db.store), value
# types (db.records, db.errors), the public pure rules (db.public), where files live
# (db.paths) and the start-up probe that reads the sign-in window's facts (db.first_look).
DESKTOP_MAY_IMPORT = {"db", "db.store", "db.records", "db.errors", "db.public", "db.paths", "db.first_look"}


def _db_modules_imported(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "db":
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] == "db":
            if node.module == "db":
                for alias in node.names:     # `from db import clients` imports the module db.clients
                    yield node.lineno, f"db.{alias.name}"
            else:
                yield node.lineno, node.module


def test_screens_and_the_command_line_use_only_the_store_and_public_types():
    wrong = [f"{path.relative_to(ROOT)}:{line} imports {module}"
             for path in (ROOT / "desktop").rglob("*.py")
             for line, module in _db_modules_imported(path) if module not in DESKTOP_MAY_IMPORT]
    assert wrong == []


def test_the_store_exposes_no_sqlite_types_in_its_public_signatures():
    import inspect
    import typing
    from db.store import PART_NAMES, CaseStore
    store = CaseStore(None)
    for name in PART_NAMES:
        part = getattr(store, name)
        for attr in dir(type(part)):
            method = getattr(type(part), attr)
            if attr.startswith("_") or not callable(method):
                continue
            text = str(inspect.signature(method)) + str(typing.get_type_hints(method, include_extras=False)
                                                          if False else method.__annotations__)
            assert "sqlite" not in text.lower() and "Database" not in text, f"store.{name}.{attr}: {text}"
