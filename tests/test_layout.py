"""The house keeps its shape: rooms import one way, modules and functions stay small."""

from __future__ import annotations

import ast
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("engine", "ttwood", "ttwood_tui")
MODULE_LINES = 400
FUNCTION_LINES = 60


def _sources() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def test_rooms_import_one_way() -> None:
    """The import-linter contracts in pyproject.toml: world <- economy <- turn <- minds/saves <-
    session <- bench/UI/CLI, and the engine never imports a screen."""
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml")) == 0


def test_no_module_over_the_limit() -> None:
    long = {str(p.relative_to(ROOT)): n for p in _sources() if (n := len(p.read_text().splitlines())) > MODULE_LINES}
    assert long == {}, f"modules over {MODULE_LINES} lines"


def test_no_function_over_the_limit() -> None:
    long: dict[str, int] = {}
    for p in _sources():
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                if n > FUNCTION_LINES:
                    long[f"{p.relative_to(ROOT)}:{node.lineno} {node.name}"] = n
    assert long == {}, f"functions over {FUNCTION_LINES} lines"
