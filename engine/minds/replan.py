"""The rest of an answer, planned again after each action with what that action spent.

A turn's choices (:mod:`engine.minds.legal`) make every action legal on its own, on the purse and
the goods the creature holds when it starts to answer. The rules resolve an answer's actions in
order, so two bids that each fit the purse can together exceed it, and the second is refused. A
decoder that follows the answer (the llama brain) asks :class:`Replanner` at the end of each
action for the grammar of the rest: the same choices, computed on what is left (pebbles spent on
bids, fees and loans; goods given in asks and offers; no second ``produce``), for the actions that
remain. The answer then never spends a pebble twice, nor closes an order or offer twice.

An offer's goods are spent when they are written, and whether it is a forward offer (which gives
later, and so needs nothing now) is said after them (``due``): so the rest of an answer admits a
spot offer of what is left, and a forward offer of up to what the creature held when the answer
began (:attr:`~engine.minds.choices.Limits.promise`). What an accepted offer pays the creature
at once (a spot swap's goods, a loan's pebbles) is its to spend in the rest of the answer.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from engine.minds.allowance import AnswerPlan
from engine.minds.choices import Limits
from engine.minds.grammar import Node
from engine.minds.legal import legal_choices, promisable
from engine.minds.matcher import Matcher, derive_text
from engine.scenario import Scenario
from engine.turn import purse
from engine.turn.actions import ONE_ACTION
from engine.turn.observation import Observation
from engine.turn.purse import terms_of


def spend(o: Observation, sc: Scenario, action: dict[str, Any]) -> Observation:
    """What ``o`` holds free once ``action`` (as the answer spells it) has resolved: the purse's
    :func:`~engine.turn.purse.spend` of the action it spells (an action the rules could not read
    spends nothing: they would refuse it)."""
    try:
        typed = ONE_ACTION.validate_python(action)
    except ValidationError:
        return o
    return purse.spend(o, terms_of(o, sc), typed)


def rest_node(o: Observation, sc: Scenario, plan: AnswerPlan, left: int,
              promise: tuple[tuple[str, int], ...] = ()) -> Node:
    """After an action: up to ``left`` more (chosen on ``o``; a forward offer may ``promise`` what
    the creature held when the answer began), then the close."""
    c = plan.choices
    limits = Limits(left, c.thinking, c.message, locked=False, promise=promise)
    rest = legal_choices(o, sc, limits) if left > 0 else None
    return plan.form.rest_node(rest, left)


class Replanner:
    """Plans the rest of one creature's answer again at the end of each of its actions."""

    def __init__(self, o: Observation, sc: Scenario, plan: AnswerPlan) -> None:
        self.o, self.sc, self.plan = o, sc, plan
        self.done = 0
        """Actions planned for so far."""

    def after(self, before: Matcher, text: str, piece: str) -> Node | None:
        """The grammar of what is left after ``piece`` when an action of the answer ends inside it
        (``text``: the answer before ``piece``; ``before``: the matcher there), else ``None``."""
        form = self.plan.form
        if self.plan.choices.actions <= 1 or not form.ends_action(piece):
            return None
        cut = before.end_point(piece, form.close)
        if cut is None:
            return None
        acts = form.finished(text + piece[:cut], self.o)
        if not acts or len(acts) <= self.done:
            return None
        o = self.o
        for a in acts:
            o = spend(o, self.sc, a)
        self.done = len(acts)
        rest = rest_node(o, self.sc, self.plan, self.plan.choices.actions - len(acts), promisable(self.o))
        return derive_text(rest, piece[cut:])


    def follow(self, matcher: Matcher, before: str, piece: str) -> bool | None:
        """:func:`take` with this replanner (a :data:`~engine.minds.allowance.Step`)."""
        return take(matcher, self, before, piece)


def take(matcher: Matcher, replan: Replanner | None, before: str, piece: str) -> bool | None:
    """Follow ``piece`` of an answer (``before``: the answer so far) with ``matcher``, planning the
    rest again when an action ends in it: ``None`` when the grammar refuses the piece (the
    matcher is then unchanged), ``True`` when the rest was planned again, else ``False``."""
    node = matcher.node
    if not matcher.advance(piece):
        return None
    rest = replan.after(Matcher(node), before, piece) if replan is not None else None
    if rest is None:
        return False
    matcher.node = rest
    return True
