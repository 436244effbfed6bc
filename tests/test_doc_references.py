"""What the code's docstrings and comments point a reader to exists: every ``:mod:``/``:func:``/...
reference to our own modules resolves, and every document named is in the repository.

A review found ``ttwood_tui.games`` (the module is ``ttwood_tui.saving``), ``engine.text.clean_text``
(now ``engine.core.text``) and "DESIGN's One turn", a document the repository does not hold.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("engine", "ttwood", "ttwood_tui")
ROLE = re.compile(r":(?:mod|func|class|meth|data|attr|exc):`~?((?:engine|ttwood|ttwood_tui)(?:\.\w+)+)`")
DOCUMENT = re.compile(r"\b([A-Z][A-Z_]+)(?:\.md\b|'s \")")


def _sources() -> list[Path]:
    return [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]


def _resolves(ref: str) -> bool:
    parts = ref.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.split(".")[0] not in PACKAGES:
                return True  # an optional extra that is not installed (torch): nothing to check here
            continue
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def test_every_reference_to_our_code_resolves() -> None:
    broken = [(p.relative_to(ROOT).as_posix(), ref) for p in _sources() for ref in ROLE.findall(p.read_text()) if not _resolves(ref)]
    assert broken == []


def test_every_document_the_code_names_is_in_the_repository() -> None:
    named = {(p.relative_to(ROOT).as_posix(), doc) for p in _sources() for doc in DOCUMENT.findall(p.read_text())}
    assert {(where, doc) for where, doc in named if not (ROOT / f"{doc}.md").is_file()} == set()
