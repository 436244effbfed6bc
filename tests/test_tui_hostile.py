"""A save from someone else, opened in the terminal UI: its text reaches the screen only as text
(no right-to-left override or escape sequence gets to the terminal), and a thought of megabytes
neither freezes the inspector nor is kept whole in the view."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import Static

from engine.elders.scripted import ScriptedBrain
from engine.session import LONGEST, Session, printable
from engine.turn.brain import Answer
from tests.tui_helpers import SIZE, make_app, settle
from ttwood.cli_play import open_session
from ttwood_tui.screens.inspector import InspectorScreen

pytestmark = pytest.mark.anyio

RLO = "\u202e"
HUGE = 10_000_000


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Forger(ScriptedBrain):
    """Plays as the scripted brain, but Barnaby's thoughts are a trap: a right-to-left override, an
    escape sequence, and ten megabytes."""

    def decide(self, observations):  # noqa: ANN001, ANN201
        answers: list[Answer] = super().decide(observations)
        for o, a in zip(observations, answers, strict=True):
            if o.name == "Barnaby":
                a.thinking = f"gnimmalf{RLO} I will \x1b[2J\x1b]0;pwned\x07 sell" + "x" * HUGE
                a.raw = f"{{{RLO}}}"
        return answers


def test_printable_spells_out_controls_and_caps_length() -> None:
    assert printable(f"a{RLO}b\x1b[31mc\td\ne") == "a<U+202E>b<U+001B>[31mc\td\ne"
    assert printable("\u2066x\u2069\u200fy\r") == "<U+2066>x<U+2069><U+200F>y<U+000D>"
    long = printable("y" * (LONGEST + 5))
    assert long.startswith("y" * LONGEST) and long.endswith("… (5 more characters not shown)")


def _shared_save(tmp_path: Path) -> Path:
    """A save someone else made with the forging brain."""
    session = Session.new(None, lambda sc: Forger(), 3)
    path = session.start_saving(tmp_path / "shared.ttwood")
    session.step()
    session.close()
    return path


async def test_a_shared_saves_trap_text_reaches_the_screen_as_text(tmp_path: Path) -> None:
    path = _shared_save(tmp_path)
    session = open_session(str(path), "scripted", 1)
    decided = session.view.wood.creature("Barnaby").decided
    assert decided is not None
    assert RLO not in decided.thinking and "\x1b" not in decided.thinking and "<U+202E>" in decided.thinking
    assert len(decided.thinking) < LONGEST + 200, "the view keeps a screenful, not ten megabytes"
    assert decided.raw == "{<U+202E>}"
    app = make_app(tmp_path, session=session, autosave=False)
    async with app.run_test(size=SIZE) as pilot:
        started = time.monotonic()
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, InspectorScreen)
        answer = app.screen.query_one("#answer", Static)
        console = Console(width=200, record=True, file=io.StringIO())
        console.print(answer.content)
        shown = console.export_text()
        took = time.monotonic() - started
        assert took < 10, f"the inspector took {took:.1f} s to open"
        assert RLO not in shown and "\x1b" not in shown and "gnimmalf<U+202E>" in shown
        await pilot.press("escape", "q")
        await settle(app, pilot)
