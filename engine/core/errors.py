"""Errors that cross the engine's boundary, each with a title and a message a user can act on."""

from __future__ import annotations


class TTWoodError(Exception):
    """Base of every error the command line turns into one clear message."""

    title = "error"

    def __init__(self, message: str, *, title: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if title is not None:
            self.title = title

    def __str__(self) -> str:
        return self.message


class ScenarioError(TTWoodError):
    """A scenario file could not be read or is not valid."""

    title = "scenario error"


class EngineBug(TTWoodError):
    """An internal invariant broke: a bug in the engine, never a user mistake."""

    title = "internal error"


MAX_SEED = 2**63 - 1
"""The largest seed: a save stores it as SQLite's 64-bit integer and as JSON."""


def check_seed(seed: int) -> int:
    """``seed`` if a game can be played and saved with it, else a clear :class:`TTWoodError`."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise TTWoodError(f"seed {seed!r}: a seed is a whole number from 0 to {MAX_SEED:,} (2**63 - 1)")
    return seed
