"""The engine, the modes and the bank importers stay pure: no Flask, SQLAlchemy or Socket.IO (engine: stdlib only)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "quizengine"
FORBIDDEN = {"flask", "flask_socketio", "flask_login", "flask_wtf", "sqlalchemy", "socketio", "engineio", "alembic"}


def _imports(path: Path) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, node.lineno))
    return found


@pytest.mark.parametrize("folder", ["engine", "modes", "banks/importing"])
def test_no_web_or_database_imports(folder: str) -> None:
    files = sorted((PACKAGE / folder).rglob("*.py"))
    assert files, f"quizengine/{folder} has no modules"
    bad = [
        f"{path.relative_to(PACKAGE)}:{line} imports {name}"
        for path in files
        for name, line in _imports(path)
        if name.split(".")[0] in FORBIDDEN
    ]
    assert not bad, "\n".join(bad)


def test_engine_uses_only_the_standard_library() -> None:
    bad = [
        f"{path.relative_to(PACKAGE)}:{line} imports {name}"
        for path in sorted((PACKAGE / "engine").rglob("*.py"))
        for name, line in _imports(path)
        if name.split(".")[0] not in sys.stdlib_module_names and not name.startswith("quizengine.engine")
    ]
    assert not bad, "\n".join(bad)
