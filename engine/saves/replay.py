"""Exact replay: the game re-simulated from its seed and its tape, checked turn by turn."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.saves.convert import outputs, steady_metrics, turn_check
from engine.saves.load import open_save
from engine.saves.snapshot import Snapshotter
from engine.saves.tape import TapeBrain
from engine.turn.game import Game
from engine.turn.report import TurnReport


@dataclass(slots=True)
class ReplayResult:
    """What a replay found."""

    path: str
    turns: int
    """Turns replayed."""
    verified: bool
    """Whether every turn's state was compared with its recorded hash."""
    ok: bool
    """True when nothing differed (always True when not verifying and the tape ran out cleanly)."""
    first_mismatch: int | None = None
    """The first turn that differs from the recording (0: the starting state)."""
    what: str | None = None
    """What differed: ``"turn"`` (its outputs or the state's fingerprint), ``"state"`` (the
    whole state, compared on keyframe turns) or ``"record"`` (the turn's stored metrics,
    creatures, events or orders are not what the replay made, though the hash matches)."""
    expected_hash: str | None = None
    actual_hash: str | None = None
    misses: list[tuple[int, str]] = field(default_factory=list)
    """``(turn, creature)`` the tape had no answer for."""
    reports: list[TurnReport] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The JSON ``ttwood replay --json`` prints."""
        return {
            "file": self.path, "turns": self.turns, "verified": self.verified, "ok": self.ok,
            "first_mismatch": self.first_mismatch, "what": self.what, "expected_hash": self.expected_hash,
            "actual_hash": self.actual_hash, "misses": [list(m) for m in self.misses],
            "per_turn": [r.summary() for r in self.reports],
        }


def replay(path: str | Path, verify: bool = True, on_turn: Callable[[TurnReport], None] | None = None) -> ReplayResult:
    """Play the saved game again from turn 0 with the tape brain (no model loaded).

    With ``verify``, every turn is compared with the recording (its outputs and the state's
    fingerprint, see :func:`engine.saves.convert.turn_check`), keyframe turns also by the hash of
    the whole state, and the replay stops at the first turn that differs.
    """
    with open_save(path, full_check=False) as save:
        save.check_digests()
        full = dict(save.con.execute("SELECT turn, full_hash FROM turns WHERE full_hash IS NOT NULL").fetchall())
        stored = {r[0]: r[1:] for r in save.con.execute("SELECT turn, metrics, creatures, events, orders FROM turns")}
        tape = TapeBrain(save.tape())
        game = Game(save.scenario, save.seed, tape)
        result = ReplayResult(str(path), 0, verify, True)
        snap = Snapshotter()

        def differs(t: int, what: str, want: str, got: str) -> bool:
            if want == got:
                return False
            result.ok, result.first_mismatch, result.what = False, t, what
            result.expected_hash, result.actual_hash = want, got
            return True

        if verify and differs(0, "state", full[0], snap.encode(game)[1]):
            return result
        for t in range(1, save.turns + 1):
            report = save.step(game, t)
            result.turns = t
            result.reports.append(report)
            if on_turn is not None:
                on_turn(report)
            if verify:
                made = outputs(game, report)
                if differs(t, "turn", save.hashes[t], turn_check(game, *made[1:])):
                    break
                metrics, creatures, events, orders = stored[t]
                if (steady_metrics(metrics), creatures, events, orders) != made[1:]:
                    result.ok, result.first_mismatch, result.what = False, t, "record"
                    break
                if t in full:
                    data = snap.state(game)
                    if differs(t, "state", full[t], hashlib.sha256(data).hexdigest()):
                        break
                else:
                    snap.fold_finished(game)
        result.misses = list(tape.misses)
        if result.misses:
            result.ok = False
        return result
