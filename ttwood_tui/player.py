"""The player's requests turned into session calls, and the player's results read back from a view."""

from __future__ import annotations

from typing import Any

from engine import session as S
from engine.session import Session, SessionError, SessionView, acting, describe, outcome
from ttwood_tui.dialogs.act import Request


def carry_out(session: Session, actor: str, r: Request) -> str:
    """Queue what a request asks for; returns a line saying what was queued and for which turn.

    Raises :class:`SessionError` (or pydantic's ``ValidationError`` for out-of-range numbers)."""
    v = r.values
    if actor == session.view.player.patron:
        return _patron(session, r.kind, v)
    action: acting.Action
    if r.kind == "produce":
        action = acting.produce(v["qty"])
    elif r.kind == "order":
        action = acting.place_order(v["side"], v["good"], v["qty"], v["price"])
    elif r.kind in ("accept", "reject"):
        oid = int(v["offer"])
        action = acting.accept(oid) if r.kind == "accept" else acting.reject(oid)
    elif r.kind == "talk":
        action = acting.speak(v["to"], v["text"])
    else:
        raise SessionError(f"{actor} cannot {r.kind} from this form")
    turn = session.player.act_as(actor, action)
    return f"{actor} queued for turn {turn}: {describe(action)}"


def _patron(session: Session, kind: str, v: dict[str, Any]) -> str:
    moves: list[S.Move]
    if kind == "lend":
        moves = S.lend(v["to"], v["pebbles"], v["interest"], v["due"])
    elif kind == "order":
        moves = S.order(v["side"], v["good"], v["qty"], v["price"])
    elif kind == "tip":
        moves = S.tip(v["to"], v["text"], bool(v["planted"]))
    elif kind == "broker":
        moves = S.broker(v["seller"], v["buyer"], v["good"], v["qty"], v["price"], v["fee"])
    else:
        raise SessionError(f"the Patron cannot {kind}")
    entries = session.player.patron_act(moves)
    if kind == "broker":
        return "Patron queued: " + "; ".join(x.label for x in entries)
    return f"Patron queued for turn {entries[0].turn}: {entries[0].label}"


def patron_results(view: SessionView) -> list[tuple[str, bool]]:
    """What became of the actions the player decided in the view's turn: ``(line, applied)``."""
    out = []
    for c in view.wood.creatures:
        d = c.decided
        if d is None or d.turn != view.turn or d.brain != "human":
            continue
        for r in d.results:
            ok = r.reason is None
            out.append((f"{c.name}: {describe(r.action)} — {outcome(r.action, None) if ok else 'refused: ' + str(r.reason)}", ok))
        for p in d.problems:
            out.append((f"{c.name}: {p}", False))
    return out
