"""A saved game derived from what a forger cannot change unnoticed: its scenario, its seed and its tape.

A save's hashes are plain sha256: anyone can edit a stored state (move pebbles, mint them with a
matching flow in the books) and recompute every hash. So nothing in a save that can be
recomputed is believed. Opening, resuming, rewinding and replaying a save all play the game
again from turn 0 with the scenario, the seed and the recorded answers (no model is loaded),
and compare what they make with what is stored, turn by turn: the turn's hash and record
(metrics, creatures, events, orders), every stored state, and every finished contract. The
first difference refuses the save. What a save can still decide is only what a player could:
the scenario (validated like any scenario file) and each creature's answers (validated by the
rules like any brain's).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.saves.convert import outputs, steady_metrics, turn_check
from engine.saves.snapshot import Snapshotter
from engine.saves.tape import TapeBrain
from engine.turn.game import Game
from engine.turn.report import TurnReport

if TYPE_CHECKING:
    from engine.saves.load import LoadedSave


@dataclass(slots=True)
class ReplayResult:
    """What a replay found."""

    path: str
    turns: int
    """Turns replayed."""
    verified: bool
    """Whether every turn was compared with what the save stores."""
    ok: bool
    """True when nothing differed (always True when not verifying and the tape ran out cleanly)."""
    first_mismatch: int | None = None
    """The first turn that differs from the recording (0: the starting state)."""
    what: str | None = None
    """What differed: ``"turn"`` (its outputs or the state's fingerprint), ``"state"`` (the
    whole state, compared on keyframe turns), ``"record"`` (the turn's stored metrics,
    creatures, events or orders are not what the replay made, though the hash matches) or
    ``"contract"`` (a stored finished contract is not the one the replay finished)."""
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

    def why(self) -> str:
        """The difference in words (for a refusal)."""
        if self.misses:
            t, c = self.misses[0]
            return f"the tape has no answer for {c} on turn {t}"
        what = {
            "turn": "its recorded outcome",
            "state": "its stored state",
            "record": "its stored record (metrics, creatures, events or orders)",
            "contract": "its stored finished contracts",
        }.get(self.what or "", "it")
        at = "the start" if self.first_mismatch == 0 else f"turn {self.first_mismatch}"
        return f"at {at}, {what} is not what the scenario, the seed and the tape make"


class _Stored:
    """What the save stores for turns up to ``last``, to compare with the derived game."""

    def __init__(self, save: LoadedSave, last: int) -> None:
        con = save.con
        self.full = dict(con.execute("SELECT turn, full_hash FROM turns WHERE full_hash IS NOT NULL AND turn <= ?",
                                     (last,)).fetchall())
        self.records = {r[0]: r[1:] for r in con.execute(
            "SELECT turn, metrics, creatures, events, orders FROM turns WHERE turn <= ?", (last,))}
        self.contracts = {r[0]: (r[1], r[2]) for r in con.execute(
            "SELECT seq, turn, record FROM contracts WHERE turn <= ?", (last,))}


def derive(save: LoadedSave, last: int, *, verify: bool = True,
           on_turn: Callable[[TurnReport], None] | None = None) -> tuple[Game, ReplayResult]:
    """Play ``save``'s game from turn 0 to ``last`` with its tape; with ``verify``, compare every
    turn with what the save stores and stop at the first difference (see the module's docstring)."""
    stored = _Stored(save, last) if verify else None
    tape = TapeBrain(save.tape(1, last))
    game = Game(save.scenario, save.seed, tape)
    result = ReplayResult(str(save.path), 0, verify, True)
    snap = Snapshotter()

    def differs(t: int, what: str, want: object, got: object) -> bool:
        if want == got:
            return False
        result.ok, result.first_mismatch, result.what = False, t, what
        if isinstance(want, str | None) and isinstance(got, str):
            result.expected_hash, result.actual_hash = want, got
        return True

    if stored is not None and differs(0, "state", stored.full.get(0), snap.encode(game)[1]):
        return game, result
    def check(report: TurnReport) -> bool:
        """After each replayed turn: True (stop) at the first that differs from the save."""
        result.turns = report.turn
        result.reports.append(report)
        if on_turn is not None:
            on_turn(report)
        return stored is not None and _differs_at(report.turn, game, report, save, stored, snap, differs)

    game.run(last, check, before=lambda t: save.ask_legends(game, t))
    if stored is not None and result.ok:
        differs(last, "contract", len(stored.contracts), snap.finished_count)
    result.misses = list(tape.misses)
    if result.misses:
        result.ok = False
    return game, result


def _differs_at(t: int, game: Game, report: TurnReport, save: LoadedSave, stored: _Stored, snap: Snapshotter,
                differs: Callable[[int, str, object, object], bool]) -> bool:
    made = outputs(game, report)
    if differs(t, "turn", save.hashes[t], turn_check(game, *made[1:])):
        return True
    metrics, creatures, events, orders = stored.records[t]
    if differs(t, "record", (steady_metrics(metrics), creatures, events, orders), made[1:]):
        return True
    if t in stored.full:
        if differs(t, "state", stored.full[t], hashlib.sha256(snap.state(game)).hexdigest()):
            return True
    else:
        snap.fold_finished(game)
    return any(differs(t, "contract", stored.contracts.get(seq), (t, enc.decode())) for seq, _, enc in snap.take_finished())
