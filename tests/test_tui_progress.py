"""A turn that shows its thinking: while a (fake, slow) model brain decodes, each creature's row says
waiting, thinking or done with its tokens so far, and its thought is written into the row before
the turn ends."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.text import Text

from engine.session import Session
from engine.turn import progress
from engine.turn.brain import Answer, Brain, HoldsNothing
from engine.turn.observation import Observation
from tests.tui_helpers import SIZE, make_app, new_session, settle
from ttwood_tui.widgets.game_header import GameHeader
from ttwood_tui.widgets.ledgers import Ledgers

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Decoding(HoldsNothing):
    """Thinks as a model brain does, in steps the test releases one at a time: each step it tells
    the watch each creature's answer so far (the scripted brain's answer, written out)."""

    name = "decoding"
    STEPS = 2

    def __init__(self, inner: Brain) -> None:
        self.inner = inner
        self.reached = [threading.Event() for _ in range(self.STEPS)]
        self.release = [threading.Event() for _ in range(self.STEPS)]
        self.thoughts: list[str] = []

    def decide(self, observations: list[Observation]) -> list[Answer]:
        answers = self.inner.decide(observations)
        watch = progress.current()
        assert watch is not None, "the TUI watches every turn"
        first, second = observations[0].name, observations[1].name
        self.thoughts = [a.thinking for a in answers]
        thought = answers[0].thinking
        # step 1: the first creature half-way through its thought (the second not started)
        watch.saw([(first, 7, '{"thinking":"' + thought[:12], False)])
        self._pause(0)
        # step 2: the first is done, the second has begun
        watch.saw([(first, 15, '{"thinking":"' + thought + '","actions":[]}', True),
                   (second, 3, '{"thinking":"' + answers[1].thinking[:5], False)])
        self._pause(1)
        return answers

    def _pause(self, step: int) -> None:
        self.reached[step].set()
        assert self.release[step].wait(30), "the test never released the brain"


def cell(ledgers: Ledgers, name: str, column: str) -> str:
    value = ledgers.get_cell(name, column)
    return value.plain if isinstance(value, Text) else str(value)


async def until(pilot, ok: Callable[[], bool]) -> None:  # noqa: ANN001
    """Let the app handle what the worker posted until ``ok`` holds."""
    for _ in range(200):
        if ok():
            return
        await pilot.pause(0.01)
    raise AssertionError("the screen never showed it")


def slow_session() -> tuple[Session, Decoding]:
    session = new_session()
    brain = Decoding(session.game.brain_of("Barnaby"))
    for name in ("Barnaby", "Oona"):  # the cast's first two: everyone else waits for them
        session.game.set_brain(name, brain)
    return session, brain


async def test_rows_show_waiting_thinking_done_and_the_thought_before_the_turn_ends(tmp_path: Path) -> None:
    session, brain = slow_session()
    app = make_app(tmp_path, session=session, autosave=False)
    async with app.run_test(size=SIZE) as pilot:
        ledgers = app.screen.query_one(Ledgers)
        header = app.screen.query_one(GameHeader)
        n = ledgers.row_count
        await pilot.press("n")
        assert brain.reached[0].wait(10)
        await until(pilot, lambda: cell(ledgers, "Barnaby", "tokens") == "thinking 7")
        assert app.busy and app.session.turn == 0, "the turn has not ended"
        assert cell(ledgers, "Oona", "tokens") == "thinking"
        for name in ("Hazel", "Clover", "Rusk", "Patron"):
            assert cell(ledgers, name, "tokens") == "waiting"
            assert cell(ledgers, name, "thought") == "—"
        assert cell(ledgers, "Barnaby", "thought") == " ".join(brain.thoughts[0][:12].split())
        header_text = str(header.render())
        assert "↻ thinking…" in header_text and f"0/{n} done" in header_text

        brain.release[0].set()
        assert brain.reached[1].wait(10)
        await until(pilot, lambda: cell(ledgers, "Barnaby", "tokens") == "done 15")
        assert cell(ledgers, "Oona", "tokens") == "thinking 3"
        assert app.session.turn == 0
        assert f"1/{n} done" in str(header.render())

        brain.release[1].set()
        await settle(app, pilot)
        assert app.session.turn == 1
        # the turn's view replaces the progress: tokens as counted, each creature's whole thought
        d = app.session.view.wood.creature("Barnaby").decided
        assert d is not None and d.thinking
        assert cell(ledgers, "Barnaby", "tokens") == "—"
        assert d.thinking.startswith(cell(ledgers, "Barnaby", "thought").rstrip("…"))
        assert "took" in str(header.render()) and "↻" not in str(header.render())


async def test_a_turn_that_fails_half_way_leaves_no_creature_thinking(tmp_path: Path) -> None:
    class Fails(HoldsNothing):
        name = "fails"

        def decide(self, observations: list[Observation]) -> list[Answer]:
            watch = progress.current()
            assert watch is not None
            watch.saw([(observations[0].name, 4, '{"thinking":"I will', False)])
            reached.set()
            assert go.wait(30), "the test never let the brain fail"
            raise RuntimeError("the model fell over")

    reached, go = threading.Event(), threading.Event()
    session = new_session()
    session.game.set_brain("Barnaby", Fails())
    app = make_app(tmp_path, session=session, autosave=False)
    async with app.run_test(size=SIZE) as pilot:
        ledgers = app.screen.query_one(Ledgers)
        await pilot.press("n")
        assert reached.wait(10)
        await until(pilot, lambda: cell(ledgers, "Barnaby", "thought") == "I will")
        go.set()
        await until(pilot, lambda: not app.busy)
        await pilot.pause()
        assert app.errors and "the model fell over" in app.errors[-1]
        assert app.session.turn == 0
        assert {cell(ledgers, n, "tokens") for n in ("Barnaby", "Oona", "Patron")} == {"—"}
        assert cell(ledgers, "Barnaby", "thought") == "—"
