"""Where the session's games are saved: the saves folder, and names that do not clobber a save."""

from __future__ import annotations

from pathlib import Path

from engine.saves import SUFFIX, saves_dir


def saves_folder() -> Path:
    """Where games are saved unless told otherwise (``engine.saves.saves_dir()``)."""
    return saves_dir()


def is_save(ref: str) -> bool:
    """Whether a command-line argument names a saved game rather than a scenario."""
    return ref.endswith(SUFFIX)


def free_path(folder: Path, stem: str) -> Path:
    """``folder/STEM.ttwood``, or ``STEM-2``, ``STEM-3``… when that is taken."""
    path = folder / f"{stem}{SUFFIX}"
    n = 2
    while path.exists():
        path = folder / f"{stem}-{n}{SUFFIX}"
        n += 1
    return path
