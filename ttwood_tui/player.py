"""The player's requests turned into session calls, and the Patron's results read back."""

from __future__ import annotations

from engine.session import Session, SessionError, describe
from engine.turn import actions as A
from engine.turn.game import TurnReport
from ttwood_tui.dialogs.act import Request


def carry_out(session: Session, actor: str, r: Request) -> str:
    """Queue what a request asks for; returns a line saying what was queued.

    Raises :class:`SessionError` (or pydantic's ``ValidationError`` for out-of-range numbers)."""
    v = r.values
    me = session.wood.by_name.get(actor)
    if me is None:
        raise SessionError(f"no creature called {actor!r}")
    if me.role == "patron":
        if r.kind == "lend":
            e = session.patron_lend(v["to"], v["pebbles"], v["interest"], v["due"])
        elif r.kind == "order":
            e = session.patron_order(v["side"], v["good"], v["qty"], v["price"])
        elif r.kind == "tip":
            e = session.patron_tip(v["to"], v["text"], bool(v["planted"]))
        elif r.kind == "broker":
            entries = session.patron_broker(v["seller"], v["buyer"], v["good"], v["qty"], v["price"], v["fee"])
            return "Patron queued: " + "; ".join(x.label for x in entries)
        else:
            raise SessionError(f"the Patron cannot {r.kind}")
        return f"Patron queued for turn {e.turn}: {e.label}"
    action: A.Action
    if r.kind == "produce":
        action = A.Produce(qty=v["qty"])
    elif r.kind == "order":
        action = A.PlaceOrder(side=v["side"], good=v["good"], qty=v["qty"], price=v["price"])
    elif r.kind in ("accept", "reject"):
        oid = int(v["offer"])
        action = A.Accept(id=oid) if r.kind == "accept" else A.Reject(id=oid)
    elif r.kind == "talk":
        action = A.Say(text=v["text"]) if v["to"] == "*" else A.Whisper(to=v["to"], text=v["text"])
    else:
        raise SessionError(f"{actor} cannot {r.kind} from this form")
    session.act_as(actor, action)
    return f"{actor} queued for turn {session.turn + 1}: {describe(action)}"


def patron_results(session: Session, report: TurnReport) -> list[tuple[str, bool]]:
    """What became of the Patron's and taken-over creatures' actions this turn: ``(line, applied)``."""
    out = []
    for d in report.decided:
        if session.brain_name(d.creature) != "human" and d.creature not in session.taken:
            continue
        for action, reason in d.results:
            ok = reason is None
            out.append((f"{d.creature}: {describe(action)} — {'done' if ok else 'refused: ' + reason}", ok))
        for p in d.answer.problems:
            out.append((f"{d.creature}: {p}", False))
    return out
