"""pyproject.toml declares what the code imports, and imports what it declares.

A review found ``openai`` declared and never imported, and ``sqlalchemy``, ``jinja2`` and
``aiohttp-jinja2`` imported but installed only because other packages happen to need them.
"""

from __future__ import annotations

import ast
import importlib.metadata as md
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OWN = {"engine", "ttwood", "ttwood_tui", "ttwood_scenarios", "tests", "__future__"}


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0]).lower()


def _declared(requirements: list[str]) -> set[str]:
    """The distributions the requirements install by name, those of their extras included
    (``dask[distributed]`` declares ``distributed``)."""
    names = set()
    for req in requirements:
        names.add(_name(req))
        extras = re.search(r"\[([^\]]+)\]", req)
        for extra in extras.group(1).split(",") if extras else []:
            for sub in md.requires(_name(req)) or []:
                if re.search(rf"extra\s*==\s*['\"]{re.escape(extra.strip())}['\"]", sub):
                    names.add(_name(sub))
    return names


def _imported(folders: list[str]) -> set[str]:
    """The distributions whose modules the code under ``folders`` imports (the standard library's
    and our own left out)."""
    modules = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module.split(".")[0])
    modules -= set(sys.stdlib_module_names) | OWN
    dists = md.packages_distributions()
    return {_name(d) for m in modules for d in dists.get(m, [m])}


def test_the_code_imports_what_pyproject_declares_and_nothing_else() -> None:
    from engine.minds.brains.models import EMBEDDED_PACKAGE

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = _declared(project["dependencies"])
    train = _declared(project["optional-dependencies"]["train"])
    test = _declared(project["optional-dependencies"]["test"])
    used = _imported(["engine", "ttwood", "ttwood_tui"]) | {_name(EMBEDDED_PACKAGE)}  # the model file's package, found by name
    assert used - runtime - train == set(), "imported, not declared"
    assert runtime - used == {"dask"}, "declared, never imported"  # dask[distributed]: `dask scheduler` for a cluster
    assert _imported(["tests"]) - runtime - train - test == set(), "tests import it, the test extra lacks it"
