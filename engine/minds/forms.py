"""The two spellings of an answer a model may write, behind one face.

* ``json`` (:mod:`engine.minds.grammar`): ``{"thinking":"…","actions":[{"type":…},…]}`` — what an
  OpenAI-compatible server's JSON Schema needs, and what adapters trained before the terse spelling
  learned.
* ``lines`` (:mod:`engine.minds.lines`): a thought on the first line, one action a line, an empty
  line at the end — the same decision in about a third of the tokens.

Both are drawn from the same :class:`~engine.minds.choices.Choices`, both read back to the same
actions, and a property test (``tests/test_choices.py``) ties them. The llama brain writes the
spelling its adapter learned (the adapter's metadata says which), and JSON for a model with no
adapter (it follows the worked example, and the grammar forces most of it); the HTTP brain keeps
``json``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any, Protocol

from engine.minds import grammar, lines
from engine.minds.choices import Choices, action_json, answer_json
from engine.minds.grammar import Lit, Node, Rep, seq
from engine.turn.actions import Action, parse_decision, validate_items
from engine.turn.observation import Observation

FORM_NAMES = ("lines", "json")
"""The spellings, the default first."""


class AnswerForm(Protocol):
    """What a decoder, the re-planner, the allowance and the dataset ask of a spelling."""

    name: str
    close: str
    """What closes the answer after its last action."""
    instruction: str
    """How the prompt's rules ask for it."""

    def shape(self, action: Mapping[str, Any], goods: Iterable[str]) -> str:
        """One action as the prompt's list of shapes shows it."""
        ...

    def head_node(self, choices: Choices) -> Node: ...
    def action_node(self, choices: Choices) -> Node: ...
    def answer_node(self, choices: Choices, act: Node | None = None) -> Node: ...
    def rest_node(self, rest: Choices | None, left: int) -> Node:
        """After an action: up to ``left`` more of ``rest``, then the close."""
        ...
    def write(self, thinking: str, actions: Sequence[Mapping[str, Any]], goods: Iterable[str]) -> str: ...
    def parse(self, raw: str, o: Observation) -> tuple[list[Action], list[str], str]:
        """``(actions, problems, thinking)`` of a raw answer; never raises."""
        ...
    def ends_action(self, piece: str) -> bool:
        """Whether an action may end inside ``piece`` (a cheap test before the exact one)."""
        ...
    def starts_action(self, ch: str) -> bool:
        """Whether ``ch``, where the answer could close, begins another action."""
        ...
    def finished(self, text: str, o: Observation) -> list[dict[str, Any]] | None:
        """The complete actions of an answer that has just finished one (``None``: unreadable)."""
        ...


class JsonForm:
    name = "json"
    close = "]}"
    instruction = "Answer with one JSON object only."

    def shape(self, action: Mapping[str, Any], goods: Iterable[str]) -> str:
        return action_json(action, goods)

    def head_node(self, choices: Choices) -> Node:
        return grammar.head_node(choices)

    def action_node(self, choices: Choices) -> Node:
        return grammar.action_node(choices)

    def answer_node(self, choices: Choices, act: Node | None = None) -> Node:
        return grammar.answer_node(choices, act)

    def rest_node(self, rest: Choices | None, left: int) -> Node:
        if rest is None or not rest.kinds or left <= 0:
            return Lit(self.close)
        return seq(Rep(seq(",", grammar.action_node(rest)), 0, left), self.close)

    def write(self, thinking: str, actions: Sequence[Mapping[str, Any]], goods: Iterable[str]) -> str:
        return answer_json(thinking, actions, goods)

    def parse(self, raw: str, o: Observation) -> tuple[list[Action], list[str], str]:
        return parse_decision(raw, o.max_actions)

    def ends_action(self, piece: str) -> bool:
        return "}" in piece

    def starts_action(self, ch: str) -> bool:
        return ch in ",{"

    def finished(self, text: str, o: Observation) -> list[dict[str, Any]] | None:
        if text.find('"actions":[') < 0:
            return None
        try:
            got = json.loads(text + self.close)
        except json.JSONDecodeError:
            return None
        acts = got.get("actions") if isinstance(got, dict) else None
        return [a for a in acts if isinstance(a, dict)] if isinstance(acts, list) else None


@lru_cache(maxsize=64)
def _reader(names: tuple[str, ...], goods: tuple[str, ...]) -> lines.LineReader:
    return lines.LineReader(names, goods)


def reader_for(o: Observation) -> lines.LineReader:
    """The line reader of ``o``'s wood: its creatures' names and its goods."""
    return _reader(tuple(sorted({o.name, *(n.name for n in o.neighbours)})), tuple(o.goods))


class LinesForm:
    name = "lines"
    close = lines.CLOSE
    instruction = "Answer in lines: your thought, then one action a line, then an empty line."

    def shape(self, action: Mapping[str, Any], goods: Iterable[str]) -> str:
        return lines.action_line(action, goods).rstrip(lines.END)

    def head_node(self, choices: Choices) -> Node:
        return lines.head_node(choices)

    def action_node(self, choices: Choices) -> Node:
        return lines.action_node(choices)

    def answer_node(self, choices: Choices, act: Node | None = None) -> Node:
        return lines.answer_node(choices, act)

    def rest_node(self, rest: Choices | None, left: int) -> Node:
        return lines.rest_node(rest, left)

    def write(self, thinking: str, actions: Sequence[Mapping[str, Any]], goods: Iterable[str]) -> str:
        return lines.answer_lines(thinking, actions, goods)

    def parse(self, raw: str, o: Observation) -> tuple[list[Action], list[str], str]:
        thought, got = reader_for(o).read(raw)
        problems = [f"line {i + 2} is not an action: {x[:60]!r}" for i, x in enumerate(got) if isinstance(x, str)]
        items = [x for x in got if isinstance(x, dict)]
        actions, more = validate_items(items, o.max_actions)
        return actions, problems + more, thought[:2000]

    def ends_action(self, piece: str) -> bool:
        return lines.END in piece

    def starts_action(self, ch: str) -> bool:
        return ch != lines.CLOSE

    def finished(self, text: str, o: Observation) -> list[dict[str, Any]] | None:
        return reader_for(o).complete(text)


def form_of(answer: str) -> str:
    """The spelling an answer is written in (a dataset's, so its adapter says what it learned)."""
    return JSON.name if answer.startswith('{"thinking":') else LINES.name


JSON = JsonForm()
LINES = LinesForm()
FORMS: dict[str, AnswerForm] = {"json": JSON, "lines": LINES}
