"""How much a creature may answer under the token budget: the plan for one answer.

The budget is a hard rule: prompt + answer ≤ ``[budget] tokens``. The answer's allowance is what
the prompt leaves. Every token adds at least one character, so a grammar whose longest answer has
``n`` characters can always finish in ``n`` tokens — but the longest answer of six actions is far
longer than a real one (a few characters a token). So there are two ways to keep an answer
within its allowance:

* **closing** (the llama brain, which follows the answer as it grows): the grammar admits up to
  the scenario's ``max_actions`` actions, and the decoder starts another action only while at
  least :attr:`AnswerPlan.reserve` tokens remain (the longest action, a comma and the closing
  ``]}``); otherwise it closes the answer itself.
* **static** (a server, which cannot be stopped between actions): the grammar admits as many
  actions as fit the allowance at their longest.

Both choose the richest thought and message lengths (:data:`TIERS`) that leave room to act.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from engine.core.errors import TTWoodError
from engine.minds.choices import Choices, Limits
from engine.minds.forms import JSON, AnswerForm
from engine.minds.grammar import Node, max_len, to_gbnf
from engine.minds.legal import legal_choices
from engine.minds.mask import mask_schema
from engine.minds.matcher import Matcher
from engine.scenario import Scenario
from engine.turn.observation import Observation
from engine.turn.purse import held, own_open, pays

TIERS: tuple[tuple[int, int], ...] = ((80, 100), (64, 80), (48, 64), (32, 48), (24, 32), (16, 24), (0, 0))
"""``(thinking, message)`` characters at most, richest first."""
CLOSE = JSON.close
"""What closes a JSON answer after its last action (each spelling says its own: ``plan.form.close``)."""
SLACK = 2
"""Tokens kept beyond the closing text (a token that crosses into the next action is cut back)."""
STATIC_ACTIONS = 3
"""A static plan takes the richest tier that still fits this many actions (or the scenario's
``max_actions`` when fewer)."""

Step = Callable[[Matcher, str, str], "bool | None"]
"""Follows one piece of an answer: (matcher, the answer before it, the piece) → ``None`` when the
grammar refuses it (see :func:`engine.minds.replan.take`)."""


@dataclass(frozen=True, slots=True)
class AnswerPlan:
    """One creature's answer this turn: what it may say, and how long it may take."""

    choices: Choices
    node: Node
    """The grammar of the whole answer."""
    max_tokens: int
    """Tokens the answer may take, its end token included (the budget less the prompt)."""
    reserve: int | None
    """Closing plans: tokens that must remain to start another action (else close with ``]}``);
    ``None``: the grammar's longest answer fits as it is."""
    form: AnswerForm = JSON
    """How the answer is spelled (:mod:`engine.minds.forms`)."""

    @property
    def closing(self) -> bool:
        return self.reserve is not None

    def gbnf(self) -> str:
        """The grammar as GBNF (llama.cpp, vLLM, SGLang)."""
        return to_gbnf(self.node)

    def schema(self) -> dict[str, Any]:
        """The same choices as a JSON Schema (OpenAI-compatible servers, Ollama)."""
        return mask_schema(self.choices)

    def matcher(self) -> Matcher:
        """A fresh :class:`Matcher` at the start of the answer."""
        return Matcher(self.node)

    def must_close(self, used: int) -> bool:
        """Whether, with ``used`` answer tokens spent, no other action may start."""
        return self.reserve is not None and self.max_tokens - 1 - used < self.reserve

    def refusal(self, text: str, count: Callable[[str], int], step: Step | None = None) -> str | None:
        """Why a decoder under this plan could not write ``text`` (``None``: it could), counting
        tokens with ``count``: the grammar does not admit it, the decoder would have closed it
        before one of its actions, or it is longer than the allowance. ``step`` follows one
        character as a decoder that plans again after each action does
        (:func:`engine.minds.replan.take`); by default the matcher alone follows it."""
        m = self.matcher()
        started = 0
        for i, ch in enumerate(text):
            if self.form.starts_action(ch) and m.can_end_with(self.form.close):  # between two actions: another one starts here
                started += 1
                if self.must_close(count(text[:i])):
                    return f"the allowance closes the answer before action {started}"
            if not (m.advance(ch) if step is None else step(m, text[:i], ch) is not None):
                return f"not admitted by the grammar at character {i}"
        if not m.complete():
            return "not a complete answer"
        if count(text) > self.max_tokens - 1:
            return f"longer than the allowance of {self.max_tokens - 1} tokens"
        return None


def _freed(o: Observation) -> Observation | None:
    """``o`` with what its own orders and spot offers hold back in its purse and larder, what
    offers to it would pay it at once (a loan's pebbles, a spot swap's goods), and its open-order
    and open-offer slots free: the most a replanned answer's cancels and accepts can open up
    (None when it has nothing open and nothing offered)."""
    if not own_open(o) and not o.offers_to_me:
        return None
    free = dict(o.free)
    for bundle in [held(x) for x in own_open(o)] + [pays(y) for y in o.offers_to_me]:
        for asset, qty in bundle.items():
            free[asset] = free.get(asset, 0) + qty
    return replace(o, free=free, my_orders=[], my_offers=[])


def _sizes(o: Observation, sc: Scenario, thinking: int, message: int, locked: bool,
           form: AnswerForm = JSON) -> tuple[Choices, Node | None, int, int]:
    """The choices at these lengths, their action node, and the longest head and action."""
    choices = legal_choices(o, sc, Limits(o.max_actions, thinking, message, locked=locked))
    act = form.action_node(choices) if choices.kinds else None
    return choices, act, max_len(form.head_node(choices)), max_len(act) if act is not None else 0


def plan_answer(o: Observation, sc: Scenario, prompt_tokens: int, budget: int, *, closing: bool = True,
                replanned: bool = False, form: AnswerForm = JSON) -> AnswerPlan:
    """The plan for a creature whose prompt takes ``prompt_tokens`` of ``budget`` (see the module's
    notes for ``closing``). ``replanned``: the decoder plans the rest again after each action
    (:mod:`engine.minds.replan`), so a bid counts no locked pebbles until a cancel gives them back.
    ``form``: how the answer is spelled (:mod:`engine.minds.forms`).
    A clear error when the prompt leaves no room to answer."""
    max_tokens = budget - prompt_tokens
    room = max_tokens - 1  # the end token
    best: tuple[int, Choices] | None = None
    freed = _freed(o) if replanned and closing else None
    for thinking, message in TIERS:
        choices, node, head, act = _sizes(o, sc, thinking, message, not replanned, form)
        if freed is not None:  # a cancel may free what makes a later action longer
            act = max(act, _sizes(freed, sc, thinking, message, False, form)[3])
        if closing:
            reserve = act + 1 + len(form.close) + SLACK
            if choices.actions and head + reserve <= room:
                return AnswerPlan(choices, form.answer_node(choices, node), max_tokens, reserve, form)
            continue
        k = min(choices.actions, (room - head - len(form.close) + 1) // (act + 1)) if choices.actions else 0
        if k >= 1 and (best is None or k > best[0]):
            best = (k, choices)
        if k >= min(o.max_actions, STATIC_ACTIONS):
            break
    if best is not None:
        k, choices = best
        fitted = Choices(choices.kinds, k, choices.thinking, choices.message)
        return AnswerPlan(fitted, form.answer_node(fitted), max_tokens, None, form)
    nothing = Choices((), 0, 0)
    node = form.answer_node(nothing)
    if max_len(node) > room:
        raise TTWoodError(
            f"{o.name}'s prompt takes {prompt_tokens} of {budget} tokens, leaving no room to answer: "
            "raise [budget] tokens in the scenario"
        )
    return AnswerPlan(nothing, node, max_tokens, None, form)


def least_room(o: Observation, sc: Scenario) -> int:
    """The fewest answer tokens (its end token included) with which a closing plan lets ``o``'s
    creature take one action: at the smallest thought and message, its head, its longest action,
    the close and the slack (what :func:`plan_answer` asks of its last tier)."""
    thinking, message = TIERS[-1]
    choices, _, head, act = _sizes(o, sc, thinking, message, True)
    if not choices.actions:
        return max_len(JSON.answer_node(Choices((), 0, 0))) + 1
    return head + act + 1 + len(CLOSE) + SLACK + 1
