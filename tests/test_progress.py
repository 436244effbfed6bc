"""A turn in flight, creature by creature: the thought read from a partial answer in either spelling,
the watch a brain may tell, and the session's views of it."""

from __future__ import annotations

import json

import pytest

from engine.elders.scripted import ScriptedBrain
from engine.session import Session, TurnInFlight
from engine.turn import progress
from engine.turn.brain import Answer, HoldsNothing
from engine.turn.observation import Observation
from engine.turn.progress import Progress, Watch, thought_so_far

THOUGHT = 'Winter comes: I need "firewood" — 3 at most.\nThen honey.'


def json_answer(thought: str) -> str:
    return '{"thinking":' + json.dumps(thought, ensure_ascii=False) + ',"actions":[{"type":"say","text":"hi"}]}'


@pytest.mark.parametrize("ascii_only", [False, True])
def test_every_prefix_of_a_json_answer_reads_as_a_prefix_of_its_thought(ascii_only: bool) -> None:
    """However the answer is cut (inside an escape too), the thought so far is the start of the
    whole thought, and the whole answer gives the whole thought."""
    whole = '{"thinking":' + json.dumps(THOUGHT, ensure_ascii=ascii_only) + ',"actions":[]}'
    seen = [thought_so_far(whole[:i]) for i in range(len(whole) + 1)]
    for s in seen:
        assert THOUGHT.startswith(s), s
    assert seen[-1] == THOUGHT
    assert seen[len('{"thinking":"Winter')] == "Winter"
    assert all(a == b or b.startswith(a) for a, b in zip(seen, seen[1:], strict=False)), "it only grows"


def test_a_terse_answer_thinks_on_its_first_line() -> None:
    assert thought_so_far("I need firewood") == "I need firewood"
    assert thought_so_far("I need firewood before winter\nbuy firewood 3 @5\nsay hi") == "I need firewood before winter"
    assert thought_so_far("") == ""


def test_json_not_yet_at_its_thought_and_odd_escapes() -> None:
    assert thought_so_far('{"thi') == ""
    assert thought_so_far('{"actions":[],"thinking":"late') == "late"
    assert thought_so_far('{ "thinking" : "spaced') == "spaced"
    assert thought_so_far('{"thinking":"bad \\q escape"}') == "bad \\q escape"
    # half of a pair of escapes that make one character: left out until the other half comes
    assert thought_so_far('{"thinking":"owl \\ud83e') == "owl "
    assert thought_so_far('{"thinking":"owl \\ud83e\\udd89"}') == "owl \U0001f989"


def test_a_watch_tells_its_listener_every_change_in_cast_order() -> None:
    heard: list[tuple[Progress, ...]] = []
    now = [0.0]
    w = Watch(heard.append, clock=lambda: now[0])
    w.waiting(["Barnaby", "Oona"])
    assert not w.due(), "a brain waits its turn after the game's own mark"
    w.thinking(["Oona"])
    now[0] += w.every
    assert w.due()
    w.saw([("Oona", 4, b'{"thinking":"I lend \xe2\x80', False)])  # cut inside a character
    w.answered(["Oona"], [Answer([], thinking="I lend.", meta={"answer_tokens": 9})])
    assert [[(p.name, p.state, p.tokens, p.thought) for p in snap] for snap in heard] == [
        [("Barnaby", "waiting", 0, ""), ("Oona", "waiting", 0, "")],
        [("Barnaby", "waiting", 0, ""), ("Oona", "thinking", 0, "")],
        [("Barnaby", "waiting", 0, ""), ("Oona", "thinking", 4, "I lend ")],
        [("Barnaby", "waiting", 0, ""), ("Oona", "done", 9, "I lend.")],
    ]


class Reporting(HoldsNothing):
    """Writes each answer in two steps, telling whoever watches (as a model brain does)."""

    name = "reporting"

    def __init__(self) -> None:
        self.watches: list[Watch | None] = []

    def decide(self, observations: list[Observation]) -> list[Answer]:
        watch = progress.current()
        self.watches.append(watch)
        half = f"{observations[0].name} thinks \x1b[2J"
        if watch is not None:
            watch.saw([(o.name, 3, '{"thinking":"' + half, False) for o in observations])
        return [Answer([], raw=json_answer(half + "hard."), thinking=half + "hard.", meta={"answer_tokens": 12})
                for _ in observations]


def test_a_session_step_shows_its_watcher_the_turn_as_it_decodes() -> None:
    session = Session.new(None, lambda sc: ScriptedBrain(), 3)
    brain = Reporting()
    session.game.set_brain("Oona", brain)
    heard: list[TurnInFlight] = []
    session.step(heard.append)
    names = [c.name for c in session.view.wood.creatures if c.alive]
    assert heard and all(h.turn == 1 and [c.name for c in h.creatures] == names for h in heard)
    oona = [next(c for c in h.creatures if c.name == "Oona") for h in heard]
    # the scripted brain (the cast's first) answers, then Oona's brain thinks, then the Patron's
    assert [(c.state, c.tokens) for c in oona] == [("waiting", 0)] * 3 + [("thinking", 0), ("thinking", 3)] + [("done", 12)] * 3
    # the thought as written so far, its escape sequence spelled out for the screen
    assert oona[4].thought == "Oona thinks <U+001B>[2J"
    assert oona[5].thought == "Oona thinks <U+001B>[2Jhard."
    scripted = [n for n in names if session.game.brain_of(n).name == "scripted"]
    assert [h.done for h in heard] == [0, 0, len(scripted), len(scripted), len(scripted), len(scripted) + 1,
                                       len(scripted) + 1, len(names)]
    assert all(a.seconds <= b.seconds for a, b in zip(heard, heard[1:], strict=False))

    # A turn no one watches: the brain finds no watch, and plays the same.
    session.step()
    assert brain.watches[0] is not None and brain.watches[1] is None
    assert progress.current() is None
