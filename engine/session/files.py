"""Where the session's games are saved. The rules that turn a save's name into a path live in one
place, :mod:`engine.saves.catalog`; the session names them for its front ends."""

from __future__ import annotations

from pathlib import Path

from engine.saves.catalog import free_path, is_save, saves_dir

__all__ = ["free_path", "is_save", "saves_folder"]


def saves_folder() -> Path:
    """Where games are saved unless told otherwise (``engine.saves.saves_dir()``)."""
    return saves_dir()
