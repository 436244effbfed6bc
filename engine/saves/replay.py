"""Exact replay: the game re-simulated from its seed and its tape, checked turn by turn."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from engine.saves.derive import ReplayResult, derive
from engine.saves.load import damaged, open_save
from engine.turn.report import TurnReport

__all__ = ["ReplayResult", "replay"]


def replay(path: str | Path, verify: bool = True, on_turn: Callable[[TurnReport], None] | None = None) -> ReplayResult:
    """Play the saved game again from turn 0 with the tape brain (no model loaded).

    With ``verify``, every turn is compared with the recording (its outputs and the state's
    fingerprint, see :func:`engine.saves.convert.turn_check`, its stored record, keyframe turns
    also by the hash of the whole state, and the finished contracts), and the replay stops at the
    first turn that differs.
    """
    with open_save(path, full_check=False) as save:
        save.check_digests()
        try:
            _, result = derive(save, save.turns, verify=verify, on_turn=on_turn)
        except sqlite3.DatabaseError as exc:
            raise damaged(path, exc) from None
        return result
