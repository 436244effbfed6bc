"""One creature's legal choices for one turn: the one description both action masks are drawn from.

:func:`engine.minds.legal.legal_choices` builds a :class:`Choices` from what the creature observes
and the scenario's rules; :mod:`engine.minds.grammar` renders it as a GBNF grammar (llama.cpp,
vLLM, SGLang) and :mod:`engine.minds.mask` as a JSON Schema (OpenAI-compatible servers, Ollama).
Both languages admit the same answers: compact JSON whose keys come in the order given here
(bundles: the scenario's goods, then pebbles). :func:`answer_json` writes any decision that way.

An answer is ``{"thinking": "...", "actions": [...]}``; each action is one of the :class:`Kind`
entries, a JSON object whose first key is ``type``. Its other keys are :class:`Field` entries, or
a :class:`Cases` where which fields follow, and their ranges, depend on each other (a bid's price
on its quantity, a loan's interest on its principal, an optional due turn).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from engine.core.assets import PEBBLES

SPEECH_FIRST = r"!#-;=-Z\]-~"
"""The first character of speech (a character class body, ASCII): printable, not a space, not
``"`` or ``\\`` (nothing to escape), not ``<`` or ``[`` (so no special-token string can be said)."""
SPEECH_CHARS = " " + SPEECH_FIRST
"""Every later character of speech: the same, and the space."""
THOUGHT_CHARS = " ,0-:a-z"
"""A thought is plain lower-case words, numbers, commas and colons (the teacher's reasons:
``cold coming: fell 4, sell firewood``); no quote or backslash, so nothing to escape."""


@dataclass(frozen=True, slots=True)
class Const:
    """Exactly this string."""

    value: str


@dataclass(frozen=True, slots=True)
class Ints:
    """An integer from ``lo`` to ``hi``, both included."""

    lo: int
    hi: int


@dataclass(frozen=True, slots=True)
class OneOf:
    """One of these strings (creatures' names) or integers (ids)."""

    values: tuple[str, ...] | tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Text:
    """A string of at most ``most`` characters: ``speech`` (not empty, :data:`SPEECH_FIRST` then
    :data:`SPEECH_CHARS`) or a ``thought`` (:data:`THOUGHT_CHARS`, may be empty)."""

    most: int
    kind: Literal["speech", "thought"]


@dataclass(frozen=True, slots=True)
class Bundle:
    """A JSON object of 1..``most`` assets, in the order of ``limits``, each 1..its limit."""

    limits: tuple[tuple[str, int], ...]
    most: int


Value = Const | Ints | OneOf | Text | Bundle


@dataclass(frozen=True, slots=True)
class Field:
    """One key of an action and what its value may be."""

    key: str
    value: Value


@dataclass(frozen=True, slots=True)
class Cases:
    """The keys that follow are one of these runs of parts (an empty run: optional keys left out)."""

    options: tuple[tuple[Part, ...], ...]


Part = Field | Cases


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of action the creature may take now: ``{"type": type, ...parts}``."""

    type: str
    parts: tuple[Part, ...]


@dataclass(frozen=True, slots=True)
class Limits:
    """How much an answer may say: fewer and shorter parts when the token allowance is small."""

    actions: int
    """Actions in one answer at most."""
    thinking: int
    """Characters of thought at most."""
    message: int
    """Characters of a say, whisper or note at most (0: no speech)."""
    bundle: int = 2
    """Assets on the asking side of an offer, and in a loan's collateral, at most."""
    locked: bool = True
    """A bid may count the pebbles locked in the creature's own open bids (to be cancelled first);
    ``False`` for a decoder that plans again after each action, which gives them back at the cancel."""
    promise: tuple[tuple[str, int], ...] = ()
    """What a forward offer may still give, by asset, when it is more than the creature holds now:
    the rules ask nothing of a forward offer until it is due, so a decoder that plans again after
    each action lets one promise what the creature held when the answer began (as the teacher,
    which bets its purse from before its shopping)."""


@dataclass(frozen=True, slots=True)
class Choices:
    """Everything one creature may answer this turn."""

    kinds: tuple[Kind, ...]
    actions: int
    """Actions in one answer at most (0 when there is nothing to do)."""
    thinking: int
    """Characters of thought at most."""
    message: int = 0
    """Characters of a say, whisper or note at most (0: no speech)."""


def cases(*options: Sequence[Part]) -> Part:
    """A :class:`Cases`, or the parts themselves when there is only one option of one part."""
    opts = tuple(tuple(o) for o in options)
    if len(opts) == 1 and len(opts[0]) == 1:
        return opts[0][0]
    return Cases(opts)


def optional(*parts: Part) -> Cases:
    """These keys, or none of them."""
    return Cases(((), tuple(parts)))


def flat(parts: Sequence[Part]) -> list[list[Field]]:
    """Every run of plain fields the parts allow (each :class:`Cases` option spliced in)."""
    runs: list[list[Field]] = [[]]
    for p in parts:
        if isinstance(p, Field):
            runs = [r + [p] for r in runs]
        else:
            runs = [r + tail for r in runs for o in p.options for tail in flat(o)]
    return runs


# ------------------------------------------------------------------ writing an answer the grammar's way
def _order(goods: Iterable[str]) -> dict[str, int]:
    return {a: i for i, a in enumerate([*goods, PEBBLES])}


def _spell(value: Any, rank: Mapping[str, int]) -> Any:
    if isinstance(value, dict):
        return {k: value[k] for k in sorted(value, key=lambda a: rank.get(a, len(rank))) if value[k]}
    return value


def action_json(action: Mapping[str, Any], goods: Iterable[str]) -> str:
    """One action (a ``model_dump()``) as the masks spell it: keys in the action's own order, empty
    optional keys (no due turn, no collateral) left out, bundle assets in the scenario's order."""
    rank = _order(goods)
    out = {k: _spell(v, rank) for k, v in action.items() if v is not None and v != {}}
    return json.dumps(out, separators=(",", ":"), ensure_ascii=True)


def answer_json(thinking: str, actions: Sequence[Mapping[str, Any]], goods: Iterable[str]) -> str:
    """A whole decision as the masks spell it (see :func:`action_json`)."""
    goods = list(goods)
    items = ",".join(action_json(a, goods) for a in actions)
    return '{"thinking":' + json.dumps(thinking, ensure_ascii=True) + ',"actions":[' + items + "]}"
