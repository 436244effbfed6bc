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
