"""The UI renders views of finished turns only; what the player asks for mid-turn waits for the next turn.

A deliberately slow brain (its ``decide`` blocks until the test opens a gate) holds a turn half-way:
the wood has already moved on (meals eaten, the turn counter advanced) while the creatures think.
Everything the player presses meanwhile must show the last finished turn, and a take-over must
change hands only when the next turn starts.
"""

from __future__ import annotations

import dataclasses
import enum
import io
import threading
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from pydantic import BaseModel
from rich.console import Console
from textual.command import CommandPalette
from textual.message import Message
from textual.widgets import Input, Label, Select, Static

from engine.session import Session, SessionError, SessionView, lend
from engine.turn import actions as A
from engine.turn.brain import Answer, Brain, HoldsNothing
from engine.turn.observation import Observation
from tests.tui_helpers import SIZE, make_app, new_session, settle
from ttwood_tui.app import TTWoodApp
from ttwood_tui.messages import TurnDone
from ttwood_tui.screens.charts import ChartsScreen
from ttwood_tui.screens.inspector import InspectorScreen
from ttwood_tui.screens.main import MainScreen
from ttwood_tui.widgets.forest_map import ForestMap
from ttwood_tui.widgets.game_header import GameHeader
from ttwood_tui.widgets.ledgers import COLUMNS, Ledgers

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Gate(HoldsNothing):
    """A brain that decides like another, but first waits (inside the turn) while its gate is shut."""

    name = "slow"

    def __init__(self, inner: Brain) -> None:
        self.inner = inner
        self.entered = threading.Event()
        """Set when a turn reaches this brain."""
        self.opened = threading.Event()
        self.opened.set()

    def decide(self, observations: list[Observation]) -> list[Answer]:
        self.entered.set()
        assert self.opened.wait(30), "the test never opened the gate"
        return self.inner.decide(observations)


def gated_session() -> tuple[Session, Gate]:
    session = new_session()
    gate = Gate(session.game.brain_of("Oona"))
    session.game.set_brain("Oona", gate)
    return session, gate


def _text(widget: Static) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


def shown(app: TTWoodApp) -> dict[str, Any]:
    """What the main screen shows: the header, every ledger cell, and every map strip with its styles."""
    screen = app.main()
    assert screen is not None
    ledgers = screen.query_one(Ledgers)
    fmap = screen.query_one(ForestMap)
    header = screen.query_one(GameHeader)
    return {
        "header": (header.turn, header.season, header.game_name),
        "ledgers": {str(ledgers.get_row_at(i)[0]).split(" ", 1)[1]: [str(cell) for cell in ledgers.get_row_at(i)]
                    for i in range(ledgers.row_count)},
        "map": [[(s.text, str(s.style)) for s in fmap.render_line(y)] for y in range(fmap.virtual_size.height)],
        "prices": [str(label.render()) for label in screen.query("#prices Label").results(Label)],
    }


def live_differs(session: Session, view: SessionView) -> bool:
    """Whether the live wood has moved on from a view (it has, half-way through a turn)."""
    w = session.wood
    return w.turn != view.turn or any(
        c.total(a) != view.wood.creature(c.name).total(a) for c in w.creatures for a in w.assets
    )


# ---------------------------------------------------------------------- the session alone
def _immutable(value: object, path: str = "view") -> list[str]:
    """Paths inside a view that hold something mutable (should be none)."""
    if value is None or isinstance(value, str | int | float | bool | enum.Enum):
        return []
    if isinstance(value, BaseModel):  # actions: frozen pydantic models
        return [] if value.model_config.get("frozen") else [path]
    if isinstance(value, tuple):
        return [p for i, v in enumerate(value) for p in _immutable(v, f"{path}[{i}]")]
    if isinstance(value, MappingProxyType):
        return [p for k, v in value.items() for p in _immutable(v, f"{path}[{k!r}]")]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if not type(value).__dataclass_params__.frozen:  # type: ignore[attr-defined]
            return [path]
        return [p for f in dataclasses.fields(value) for p in _immutable(getattr(value, f.name), f"{path}.{f.name}")]
    return [f"{path} ({type(value).__name__})"]


def test_a_view_is_immutable_all_the_way_down_and_outlives_the_turns_after_it() -> None:
    session = new_session()
    session.player.patron_act(lend("Clover", 20, 2, 4))
    for _ in range(4):
        session.step()
    view = session.view
    assert _immutable(view) == []
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.wood.turn = 9  # type: ignore[misc]
    with pytest.raises(TypeError):
        view.wood.creatures[0].holdings["pebbles"] = 1  # type: ignore[index]
    before = repr(view)
    session.step()
    assert repr(view) == before, "playing on never changes a view already published"
    assert session.view.turn == view.turn + 1


def test_requests_made_while_a_turn_runs_apply_when_the_next_turn_starts() -> None:
    session, gate = gated_session()
    session.step()
    before = session.view
    gate.opened.clear()
    worker = threading.Thread(target=session.step)
    worker.start()
    try:
        assert gate.entered.wait(10)
        assert session.game.turn == 2 and live_differs(session, before), "the turn is half-way"
        assert session.view.wood is before.wood, "the view is still the finished turn 1"
        assert session.player.take_over("Hazel") == 3
        assert session.player.act_as("Hazel", A.Produce(qty=3)) == 3
        assert session.player.inject("beetle-blight") == 3
        [entry] = session.player.patron_act(lend("Clover", 20, 2, 4))
        assert entry.turn == 3
        assert session.game.brain_of("Hazel").name == "scripted", "no brain changes hands mid-turn"
        assert session.wood.pending_legends == []
        assert session.view.player.yours == ("Hazel",) and session.view.player.next_turn == 3
        assert session.view.player.pending_legends == ("beetle-blight",)
        with pytest.raises(SessionError, match="a turn is being played"):
            session.save()
    finally:
        gate.opened.set()
        worker.join(30)
    assert not worker.is_alive()
    turn2 = session.view.wood
    assert turn2.turn == 2
    hazel = turn2.creature("Hazel").decided
    assert hazel is not None and hazel.turn == 2 and hazel.brain == "scripted"
    assert session.history[-1]["legends"] == [] and entry.result is None

    session.step()
    hazel = session.view.wood.creature("Hazel").decided
    assert hazel is not None and hazel.brain == "human"
    assert [(r.action.type, r.reason) for r in hazel.results] == [("produce", None)]
    assert session.history[-1]["legends"] == ["beetle-blight"]
    assert entry.result == "offered"  # the Patron's loan: played, for Clover to take or not
    assert session.game.conservation()[0]


# ---------------------------------------------------------------------- the UI, with a Pilot
@pytest.mark.slow
async def test_inspect_charts_palette_and_take_over_while_a_slow_brain_thinks(tmp_path: Path) -> None:
    session, gate = gated_session()
    done: list[SessionView] = []

    def hook(message: Message) -> None:
        if isinstance(message, TurnDone):
            done.append(message.view)

    app = make_app(tmp_path, session=session, autosave=False)
    try:
        async with app.run_test(size=SIZE, message_hook=hook) as pilot:
            await pilot.press("n")
            await settle(app, pilot)
            turn1 = app.session.view
            before = shown(app)
            assert before["header"][0] == 1

            gate.opened.clear()
            await pilot.press("n")
            assert gate.entered.wait(10)
            assert app.busy and session.game.turn == 2 and live_differs(session, turn1)

            # Inspect: the creature's last finished turn, whatever the wood is doing now.
            await pilot.press("i")
            assert isinstance(app.screen, InspectorScreen) and app.screen.view.wood is turn1.wood
            assert "turn 1" in _text(app.screen.query_one("#who", Static))
            await pilot.press("right_square_bracket", "escape")

            # Charts: one finished turn.
            await pilot.press("c")
            assert isinstance(app.screen, ChartsScreen)
            assert "turns 1–1" in str(app.screen.query_one("#chart-gini Label", Label).render())
            await pilot.press("escape")

            # The command palette lists creatures and legends from the view.
            await pilot.press("ctrl+p")
            await pilot.pause()
            assert isinstance(app.screen, CommandPalette)
            await pilot.press(*"inspect Hazel")
            await pilot.pause(0.2)
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, MainScreen)

            # Take Hazel over, and queue her a turn and the Patron a loan: all for turn 3.
            await pilot.press("down", "down")
            assert app.selected() == "Hazel"
            await pilot.press("t")
            assert session.game.brain_of("Hazel").name == "scripted", "the turn in flight keeps its brains"
            assert app.session.view.player.yours == ("Hazel",)
            await pilot.press("a")
            app.screen.query_one("#produce-qty", Input).value = "3"
            await pilot.click("#produce-go")
            await pilot.pause()
            await pilot.press("p")
            assert "queued for turn 3" in str(app.screen.query_one("#act-title", Label).render())
            app.screen.query_one("#lend-to", Select).value = "Clover"
            await pilot.click("#lend-go")
            await pilot.pause()
            entry = session.player.patron_log[-1]
            assert entry.turn == 3 and entry.result is None

            # No torn state: the screen (re-rendered by each request) still shows turn 1, with
            # only Hazel's brain column changed to the player, and the turn in flight in the
            # tokens and thought columns: the scripted creatures (asked first) done, Oona thinking
            # in her slow brain, the Patron's turn still to come.
            assert app.busy and app.session.view.wood is turn1.wood
            now = shown(app)
            brain, tokens = COLUMNS.index("brain"), COLUMNS.index("tokens")
            assert now["ledgers"]["Hazel"][brain] == "human"
            now["ledgers"]["Hazel"][brain] = before["ledgers"]["Hazel"][brain]
            states = {name: cells[tokens] for name, cells in now["ledgers"].items()}
            assert states == {"Barnaby": "done", "Oona": "thinking", "Hazel": "done", "Clover": "done", "Rusk": "done",
                              "Patron": "waiting"}
            for name, cells in now["ledgers"].items():
                del cells[tokens:], before["ledgers"][name][tokens:]
            assert now == before

            gate.opened.set()
            await settle(app, pilot)
            turn2 = app.session.view
            assert turn2.turn == 2 and app.screen.query_one(GameHeader).turn == 2
            hazel = turn2.wood.creature("Hazel").decided
            assert hazel is not None and hazel.brain == "scripted", "turn 2 was still Hazel's own"
            assert entry.result is None
            # The inspector shows Hazel's turn 2 as her own brain played it, and who plays her next.
            await pilot.press("i")
            assert isinstance(app.screen, InspectorScreen) and app.screen.creature == "Hazel"
            assert "brain: human · turn 2" in _text(app.screen.query_one("#who", Static))
            assert "scripted brain" in _text(app.screen.query_one("#prompt", Static))
            await pilot.press("escape")

            await pilot.press("n")
            await settle(app, pilot)
            hazel = app.session.view.wood.creature("Hazel").decided
            assert hazel is not None and hazel.turn == 3 and hazel.brain == "human", "the take-over applied from turn 3"
            assert [(r.action.type, r.reason) for r in hazel.results] == [("produce", None)]
            assert entry.result == "offered"  # the Patron's loan: played, for Clover to take or not
            assert [v.turn for v in done] == [1, 2, 3]
            assert not app.errors
    finally:
        gate.opened.set()
    assert not app.errors
