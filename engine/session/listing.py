"""What a front end offers the player to open: the scenarios found, the saves in a folder, the
kinds of brain, as small frozen records.

Listing reads files (each scenario is validated, each save's rows checked against their digests),
so a front end calls these off its UI thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine import scenario as scenarios
from engine.core.errors import TTWoodError
from engine.minds.factory import BRAIN_KINDS
from engine.saves import list_saves
from engine.session.views import printable

__all__ = ["BRAIN_KINDS", "SaveEntry", "ScenarioEntry", "save_entries", "scenario_entries"]


@dataclass(frozen=True, slots=True)
class ScenarioEntry:
    """A scenario found by id, or why it cannot be read."""

    id: str
    name: str
    description: str
    creatures: int
    """Its cast, generated creatures included."""
    error: str | None = None
    """Why it cannot be read (``None``: it can)."""


@dataclass(frozen=True, slots=True)
class SaveEntry:
    """A save in the saves folder, newest first."""

    file: str
    status: str
    """``ok``, or why it would be refused."""

    @property
    def name(self) -> str:
        """The file's name, fit to show."""
        return printable(Path(self.file).name)


def scenario_entries() -> tuple[ScenarioEntry, ...]:
    """Every scenario found, bad ones marked rather than hidden."""
    out = []
    for f in scenarios.known():
        try:
            sc, _ = scenarios.load_found(f)
            out.append(ScenarioEntry(f.id, printable(sc.meta.name), printable(sc.meta.description), len(sc.expanded_cast())))
        except TTWoodError as exc:
            out.append(ScenarioEntry(f.id, f.id, "", 0, printable(str(exc))))
    return tuple(out)


def save_entries(folder: Path) -> tuple[SaveEntry, ...]:
    """Every save in ``folder``, newest first, each with whether it opens (see
    :func:`engine.saves.list_saves`)."""
    return tuple(SaveEntry(str(row["file"]), printable(str(row["status"]))) for row in list_saves(folder))
