"""The terminal UI, headless: a Pilot presses the keys a player would."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text
from textual.widgets import Input, Select, Static

from engine.saves import open_save
from engine.session import Session, SessionView, describe
from engine.turn.brain import HoldsNothing
from tests.tui_helpers import SIZE, make_app, new_session, settle, state
from ttwood.cli_play import brain_maker
from ttwood_tui.dialogs.act import ActionDialog
from ttwood_tui.dialogs.pick import PickDialog
from ttwood_tui.screens.charts import ChartsScreen
from ttwood_tui.screens.games import GameChoice, GamesScreen
from ttwood_tui.screens.inspector import InspectorScreen
from ttwood_tui.screens.main import MainScreen
from ttwood_tui.widgets.game_header import GameHeader, seconds_text
from ttwood_tui.widgets.ledgers import COLUMNS, Ledgers

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _text(widget: Static) -> str:
    """What a Static shows, as plain text (Rich renderables rendered wide, without styles)."""
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


@pytest.mark.slow
async def test_new_game_steps_inspect_legend_patron_loan_save_quit_open(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        # Steps: n plays exactly one turn each, and the header follows.
        for _ in range(3):
            await pilot.press("n")
            await settle(app, pilot)
        assert app.session.turn == 3
        assert app.screen.query_one(GameHeader).turn == 3
        ledgers = app.screen.query_one(Ledgers)
        assert ledgers.row_count == len(app.session.wood.creatures)

        # Inspect the creature under the cursor: a scripted brain says so, and its actions are listed
        # with what the rules made of them.
        await pilot.press("i")
        assert isinstance(app.screen, InspectorScreen)
        first = app.session.wood.creatures[0].name
        assert app.screen.creature == first
        assert "scripted brain" in _text(app.screen.query_one("#prompt", Static))
        answer = _text(app.screen.query_one("#answer", Static))
        d = app.session.view.wood.creature(first).decided
        assert d is not None and d.turn == 3
        assert d.results, "the scripted woodcutter acts every turn"
        for r in d.results:
            assert describe(r.action) in answer
        assert answer.count("applied") == sum(r.reason is None for r in d.results)
        assert "Barnaby" in _text(app.screen.query_one("#who", Static))
        await pilot.press("right_square_bracket")
        assert app.screen.creature == app.session.wood.creatures[1].name
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)

        # A legend: chosen in the dialog, fires when the next turn starts.
        await pilot.press("l")
        assert isinstance(app.screen, PickDialog)
        ids = [lg.id for lg in app.session.view.wood.legends]
        await pilot.press(*(["down"] * ids.index("beetle-blight")), "enter")
        assert app.session.view.player.pending_legends == ("beetle-blight",)
        await pilot.press("n")
        await settle(app, pilot)
        assert app.session.history[-1]["legends"] == ["beetle-blight"]
        assert any(m.source == "beetle-blight" for m in app.session.wood.modifiers)

        # A Patron loan: queued from the form, validated by the rules in the next turn.
        patron_before = app.session.patron.total("pebbles")
        await pilot.press("p")
        assert isinstance(app.screen, ActionDialog)
        app.screen.query_one("#lend-to", Select).value = "Clover"
        app.screen.query_one("#lend-pebbles", Input).value = "20"
        await pilot.click("#lend-go")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        entry = app.session.player.patron_log[-1]
        assert entry.result is None and entry.action.type == "lend"
        await pilot.press("n")
        await settle(app, pilot)
        assert entry.result == "offered", entry.result  # not "done": Clover has yet to take the loan
        from ttwood_tui.player import patron_results

        assert any(line.startswith("Patron: lend") and line.endswith("— offered") and ok
                   for line, ok in patron_results(app.session.view)), patron_results(app.session.view)
        events = [e.text for h in [app.session.game.reports[-1]] for e in h.events]
        assert any("Patron offers to lend Clover 20 pebbles" in t for t in events)
        assert app.session.patron.total("pebbles") == patron_before, "an open loan offer only locks the principal"
        assert app.session.patron.escrow["pebbles"] == 20
        assert app.session.game.conservation()[0]

        # Save, then quit (which saves too).
        await pilot.press("s")
        saved = app.session.save_path
        assert saved is not None and saved.parent == tmp_path and saved.suffix == ".ttwood"
        alone = tmp_path / "copy" / saved.name
        alone.parent.mkdir()
        shutil.copyfile(saved, alone)  # the main file alone, without the write-ahead log
        with open_save(alone) as copy:
            assert copy.turns == app.session.turn, "after s the file by itself holds every turn"
        before = state(app.session)
        history = list(app.session.history)
        await pilot.press("q")
        await pilot.pause()
    assert not app.is_running
    assert not app.errors
    assert not Path(f"{saved}-wal").exists(), "quitting leaves one self-contained file"

    # Open: a fresh app opens the save from the games screen and plays the very same game on.
    other = make_app(tmp_path, session=new_session(seed=99))
    async with other.run_test(size=SIZE) as pilot:
        await pilot.press("o")
        await settle(other, pilot)  # the saves (and scenarios) are listed off the UI thread
        assert isinstance(other.screen, PickDialog)
        ids = [oid for oid, _ in other.screen.options]
        assert str(saved) in ids and len(ids) == 2, "the saved game and the one just started"
        await pilot.press(*(["down"] * ids.index(str(saved))), "enter")
        await settle(other, pilot)
        await pilot.pause()
        assert state(other.session) == before
        assert other.session.history == history
        assert other.screen.query_one(GameHeader).turn == before[0]
        # And it goes on exactly as the original would have.
        original = Session.open(saved, brain_maker("scripted"))
        original.step()
        await pilot.press("n")
        await settle(other, pilot)
        assert state(other.session) == state(original)
    assert not other.errors


async def test_space_plays_until_paused_and_pausing_waits_for_the_turn(tmp_path: Path) -> None:
    app = make_app(tmp_path, autosave=False)
    app.speed = 5  # no pause between turns
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")
        for _ in range(200):
            await pilot.pause(0.01)
            if app.session.turn >= 3:
                break
        await pilot.press("space")
        assert not app.playing
        await settle(app, pilot)
        stopped = app.session.turn
        assert stopped >= 3
        await pilot.pause(0.2)
        assert app.session.turn == stopped, "no turn starts after pausing"
        assert app.screen.query_one(GameHeader).turn == stopped


async def test_speed_keys_change_the_pause_between_turns(tmp_path: Path) -> None:
    app = make_app(tmp_path, autosave=False)
    async with app.run_test(size=SIZE) as pilot:
        start = app.speed
        await pilot.press("plus")
        assert app.speed == start + 1
        await pilot.press("minus", "minus")
        assert app.speed == start - 1
        header = app.screen.query_one(GameHeader)
        # Pacing reads as pacing (it read "speed 0.5 turn/s", like a measured speed) ...
        assert header.pace == "2 s between turns"
        text = str(header.render())
        assert "‖ paused, 2 s between turns" in text and "turn/s" not in text and "took" not in text
        # ... and once a turn is played the header says how long it took, measured.
        await pilot.press("n")
        await settle(app, pilot)
        seconds = app.session.view.turn_seconds
        assert seconds is not None and 0 < seconds < 60
        assert f"turn 1 took {seconds_text(seconds)}" in str(header.render())


async def test_a_failing_brain_shows_an_error_and_the_app_keeps_running(tmp_path: Path) -> None:
    class Broken(HoldsNothing):
        name = "broken"

        def decide(self, observations):  # noqa: ANN001, ANN201
            raise RuntimeError("the model fell over")

    session = new_session()
    session.game.set_brain("Barnaby", Broken())
    app = make_app(tmp_path, session=session, autosave=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await settle(app, pilot)
        assert app.is_running
        assert app.errors and "the model fell over" in app.errors[-1]
        assert not app.busy and not app.playing
        # The player can still use the app: give Barnaby a working brain back and play on.
        app.session.game.set_brain("Barnaby", app.session.game.brain_of("Oona"))
        await pilot.press("n")
        await settle(app, pilot)
        assert app.session.history[-1]["turn"] == app.session.turn


async def test_take_over_a_creature_and_play_its_turn(tmp_path: Path) -> None:
    app = make_app(tmp_path, autosave=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "down")  # Hazel, the squirrel
        assert app.screen.selected() == "Hazel"
        await pilot.press("t")
        assert "Hazel" in app.session.view.player.yours
        assert app.session.view.brain("Hazel") == "human"
        await pilot.press("a")
        assert isinstance(app.screen, ActionDialog) and app.screen.actor == "Hazel"
        app.screen.query_one("#produce-qty", Input).value = "3"
        await pilot.click("#produce-go")
        await pilot.pause()
        acorns = app.session.wood.by_name["Hazel"].total("acorns")
        await pilot.press("n")
        await settle(app, pilot)
        d = app.session.view.wood.creature("Hazel").decided
        assert d is not None and d.brain == "human"
        assert [(r.action.type, r.reason) for r in d.results] == [("produce", None)], "Hazel did exactly what the player queued"
        assert app.session.wood.by_name["Hazel"].total("acorns") != acorns
        await pilot.press("t")
        assert "Hazel" not in app.session.view.player.yours and app.session.view.brain("Hazel") == "scripted"


async def test_refused_patron_action_is_reported_with_its_reason(tmp_path: Path) -> None:
    app = make_app(tmp_path, autosave=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        app.screen.query_one("#lend-pebbles", Input).value = "5000"
        await pilot.click("#lend-go")
        await pilot.pause()
        await pilot.press("n")
        await settle(app, pilot)
        entry = app.session.player.patron_log[-1]
        assert entry.result is not None and entry.result != "done"
        assert "pebbles" in entry.result


async def test_charts_games_and_help_screens_open_and_close(tmp_path: Path) -> None:
    app = make_app(tmp_path, autosave=False)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(2):
            await pilot.press("n")
            await settle(app, pilot)
        await pilot.press("c")
        assert isinstance(app.screen, ChartsScreen)
        assert "turns 1–2" in str(app.screen.query_one("#chart-gini Label", Static).render())
        await pilot.press("escape")
        await pilot.press("g")
        await settle(app, pilot)  # the saves (and scenarios) are listed off the UI thread
        assert isinstance(app.screen, GamesScreen)
        await pilot.press("escape")
        await pilot.press("question_mark")
        help_text = "".join(_text(s) for s in app.screen.query(Static))
        for b in app.BINDINGS:
            assert b.tooltip in help_text.replace("\n", " ") or b.tooltip[:30] in help_text
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_new_game_from_the_games_screen(tmp_path: Path) -> None:
    app = make_app(tmp_path, autosave=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await settle(app, pilot)
        await pilot.press("g")
        await settle(app, pilot)  # the saves (and scenarios) are listed off the UI thread
        app.screen.query_one("#seed", Input).value = "11"
        app.screen.query_one("#scenarios").focus()
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert app.session.turn == 0 and app.session.game.seed == 11
        assert app.screen.session is app.session


async def test_the_games_screen_starts_from_the_game_being_played(tmp_path: Path) -> None:
    """A new game from the games screen had the llama brain and seed 1 whatever `ttwood play
    --brain scripted --seed 3` started; and it said market-50 had 5 creatures (its cast before
    the generated ones)."""
    from ttwood_tui.screens.games import scenario_options

    app = make_app(tmp_path, autosave=False)  # scripted, seed 3
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")
        await settle(app, pilot)  # the saves (and scenarios) are listed off the UI thread
        assert isinstance(app.screen, GamesScreen)
        assert app.screen.query_one("#brain", Select).value == "scripted"
        assert app.screen.query_one("#seed", Input).value == "3"
    labels = dict(scenario_options())
    assert "(market-50, 50 creatures)" in labels["market-50"]
    assert "(thousand-token-wood, 5 creatures)" in labels["thousand-token-wood"]


async def test_readable_at_80_by_24(tmp_path: Path) -> None:
    app = make_app(tmp_path, autosave=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await settle(app, pilot)
        assert app.screen.has_class("-narrow")
        ledgers = app.screen.query_one(Ledgers)
        assert ledgers.region.height >= len(app.session.wood.creatures) + 1, "every creature's row is on screen"
        assert app.screen.query_one("#map").region.height == app.session.wood.scenario.map.height


async def test_the_ledgers_draw_a_turn_at_its_own_column_widths_whenever_they_are_drawn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A refresh may draw the ledgers before the table is next idle (a busy machine makes that
    likely): the rows are drawn at the widths of what they hold, and stay so. (A DataTable measures
    its columns only when next idle and kept the cells it had drawn at the old widths: a turn's
    goods and health were cut short until the next change, and the snapshots failed now and then.)"""
    shown = Ledgers.show

    def show_and_draw(self: Ledgers, view: SessionView) -> None:
        shown(self, view)
        for y in range(self.size.height):  # a refresh before the table is next idle
            self.render_line(y)

    monkeypatch.setattr(Ledgers, "show", show_and_draw)
    app = make_app(tmp_path, autosave=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        ledgers = app.screen.query_one(Ledgers)
        before = {str(key.value): column.get_render_width(ledgers) for key, column in ledgers.columns.items()}
        await pilot.press("n")
        await settle(app, pilot)
        assert ledgers.size.height > ledgers.row_count
        after = {str(key.value): column.get_render_width(ledgers) for key, column in ledgers.columns.items()}
        assert after["goods"] > before["goods"] and after["health"] > before["health"], "turn 1 widens columns"
        for y, c in enumerate(app.session.view.wood.creatures, start=1):
            drawn = ledgers.render_line(y).text
            for column, cell in zip(COLUMNS, ledgers.get_row(c.name), strict=False):
                text = (cell if isinstance(cell, Text) else Text.from_markup(cell)).plain
                assert f" {text} " in drawn, f"{c.name}'s {column} is drawn whole: {drawn!r}"


async def test_rewind_branches_a_new_game_at_an_earlier_turn(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(4):
            await pilot.press("n")
            await settle(app, pilot)
        first = app.session.save_path
        await pilot.press("r")
        await pilot.press("2", "enter")
        await settle(app, pilot)
        await pilot.pause()
        assert app.session.turn == 2
        assert app.session.save_path != first and app.session.save_path.name.endswith("-from-2.ttwood")
        fresh = new_session()
        fresh.step()
        fresh.step()
        assert state(app.session) == state(fresh)
        await pilot.press("n")
        await settle(app, pilot)
        assert app.session.turn == 3
    assert not app.errors


async def test_keys_answer_while_a_turn_is_being_decided(tmp_path: Path) -> None:
    """A brain that thinks for as long as the test likes: the UI keeps answering meanwhile."""
    import threading

    release = threading.Event()
    started = threading.Event()

    class Slow(HoldsNothing):
        name = "slow"

        def __init__(self, inner) -> None:  # noqa: ANN001
            self.inner = inner

        def decide(self, observations):  # noqa: ANN001, ANN201
            started.set()
            assert release.wait(30), "the test never released the brain"
            return self.inner.decide(observations)

    session = new_session()
    session.game.set_brain("Oona", Slow(session.game.brain_of("Oona")))
    app = make_app(tmp_path, session=session, autosave=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        assert started.wait(10)
        assert app.busy and app.screen.query_one(GameHeader).thinking
        assert "↻ thinking…" in str(app.screen.query_one(GameHeader).render())
        await pilot.press("c")  # the UI answers while the engine thinks
        assert isinstance(app.screen, ChartsScreen)
        await pilot.press("escape", "plus")
        assert app.speed == 2
        await pilot.press("n")  # asking again does not start a second turn
        assert app.session.history == []
        release.set()
        await settle(app, pilot)
        await pilot.pause(0.1)
        assert len(app.session.history) == 1 and app.session.turn == 1
        assert not app.screen.query_one(GameHeader).thinking


def test_play_opens_a_save_by_the_name_saves_list_shows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`ttwood saves list` names a save "thousand-token-wood-seed4"; `ttwood play` given that name
    said there was no such scenario. A bare name that is no scenario but a save resumes it (a dot in
    it too), and so does NAME.ttwood from another folder; a scenario's id still starts a new game,
    and a name that is neither is refused, naming both."""
    from engine import scenario as scenarios
    from engine.core.errors import ScenarioError
    from engine.elders.scripted import ScriptedBrain
    from engine.minds.factory import BrainChoice
    from engine.saves import Autosaver
    from engine.turn.game import Game
    from ttwood.cli_play import open_session, tab_args

    monkeypatch.setenv("TTWOOD_SAVES_DIR", str(tmp_path))
    sc, text = scenarios.load(None)
    for name in ("wood-seed4", "thousand-token-wood", "wood.v2"):
        game = Game(sc, 4, ScriptedBrain())
        with Autosaver.create(tmp_path / f"{name}.ttwood", game, scenario_text=text,
                              brains=BrainChoice(kind="scripted").describe()) as saver:
            saver.record(game.step())
            saver.record(game.step())
    session = open_session("wood-seed4", "llama", 1)
    try:
        assert session.turn == 2 and session.brain_label == "scripted"
    finally:
        session.close()
    assert tab_args("wood-seed4", "llama", 1) == ["play", "--seed", "1", str(tmp_path / "wood-seed4.ttwood")]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # NAME.ttwood: here if it is here, else in the saves folder
    for ref in ("wood.v2", "wood-seed4.ttwood"):
        other = open_session(ref, "scripted", 1)
        try:
            assert other.turn == 2, ref
        finally:
            other.close()
    fresh = open_session("thousand-token-wood", "scripted", 1)
    try:
        assert fresh.turn == 0  # the scenario, not the save of the same name
    finally:
        fresh.close()
    with pytest.raises(ScenarioError, match=r"no scenario called 'no-such-wood'.*a save to resume \(`ttwood saves list`\)"):
        open_session("no-such-wood", "scripted", 1)
    with pytest.raises(ScenarioError, match=r"a save to resume \(the save 'wood-seed4'\?\)"):
        open_session("wood-seed5", "scripted", 1)  # a typo'd save name


def test_play_takes_the_model_and_server_options_the_readme_names() -> None:
    """The README says a resumed `ttwood play SAVE` may change --threads, --base-url and --timeout,
    but play had no such options ("No such option: --base-url"), and `--brain http` could reach
    only the default server."""
    from typer.testing import CliRunner

    from ttwood.cli import app
    from ttwood.cli_play import brain_maker
    from ttwood.options import brain_choice

    args = ["play", "--brain", "http", "--model", "m", "--base-url", "http://127.0.0.1:9/v1", "--server", "vllm",
            "--timeout", "5", "--threads", "2"]
    r = CliRunner().invoke(app, args)
    assert "No such option" not in r.output and "needs a terminal" in str(r.exception), r.output  # no terminal here
    options = brain_choice("http", 1, base_url="http://h:1/v1", server="vllm", timeout=5.0, threads=2)
    choice = brain_maker("http", 4, options).choice  # a game the player opens later keeps the options
    assert (choice.base_url, choice.server, choice.timeout, choice.threads, choice.seed) == ("http://h:1/v1", "vllm", 5.0, 2, 4)


async def test_play_says_where_it_saved_and_how_to_go_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Quitting `ttwood play` said nothing; it now names the save, its turn, and the command that
    goes on with it, which opens the game where it was left."""
    from ttwood.cli_play import farewell, open_session

    monkeypatch.setenv("TTWOOD_SAVES_DIR", str(tmp_path))
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await settle(app, pilot)
    path = app.session.save_path
    assert path is not None and path.parent == tmp_path
    line = farewell(app.session)
    assert line == f"saved {path} at turn 1: go on with `ttwood play {path.stem}`"
    again = open_session(path.stem, "scripted", 1)
    try:
        assert again.turn == 1
    finally:
        again.close()
    unsaved = new_session()
    try:
        assert farewell(unsaved) is None  # not saved: nothing to say
    finally:
        unsaved.close()


async def test_a_big_wood_leaves_room_for_prices_talk_and_events(tmp_path: Path) -> None:
    """market-50 (a 36x18 map, 50 creatures) at 160x50: the map took most of the width and the
    ledgers all the height, so the prices, the talk and the events were off the screen."""
    session = Session.new("market-50", brain_maker("scripted"), 1)
    app = make_app(tmp_path, session, autosave=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("n")
        await settle(app, pilot)
        screen = app.screen
        for panel in ("#prices", "#talk", "#events"):
            region = screen.query_one(panel).region
            assert region.height >= 5 and region.bottom <= 50, (panel, region)
        assert screen.query_one("#map-box").region.width <= 80  # half the width at most: the map scrolls
        assert screen.query_one("#ledgers").region.width >= 70


async def test_the_header_says_a_game_is_being_opened_not_thought_about(tmp_path: Path) -> None:
    """Opening a long save took half a minute under "⟳ thinking…", as if the creatures were
    deciding: the header now says what the wood is busy with."""
    app = make_app(tmp_path, autosave=False)
    async with app.run_test(size=SIZE) as pilot:
        app._load(GameChoice(scenario="credit-crunch", brain="scripted", seed=2))
        text = str(app.screen.query_one(GameHeader).render())
        assert "↻ starting the game…" in text and "thinking" not in text
        await settle(app, pilot)
        await pilot.pause(0.1)
        assert app.session.game.scenario.meta.id == "credit-crunch" and not app.busy
        saved = app.session.save()
        app._load(GameChoice(save=saved, brain="scripted"))
        assert "↻ opening the save (it is checked turn by turn)…" in str(app.screen.query_one(GameHeader).render())
        await settle(app, pilot)
        await pilot.pause(0.1)
        assert app.session.save_path == saved and not app.busy


async def test_the_patron_can_broker_a_deal_at_80_by_24(tmp_path: Path) -> None:
    """At 80x24 the broker form's fee and button were below the dialog's edge and could not be
    reached; and its buyer was the seller by default, a deal the rules refuse."""
    from textual.widgets import Button, TabbedContent

    app = make_app(tmp_path, autosave=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("p")
        dialog = app.screen
        assert isinstance(dialog, ActionDialog)
        dialog.query_one("#act-tabs", TabbedContent).active = "tab-broker"
        await pilot.pause()
        seller, buyer = dialog.query_one("#broker-seller", Select).value, dialog.query_one("#broker-buyer", Select).value
        assert seller != buyer, (seller, buyer)
        button = dialog.query_one("#broker-go", Button)
        button.focus()
        await pilot.pause(0.2)
        assert 0 <= button.region.y and button.region.bottom <= 24, button.region  # scrolled into view
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        queued = app.session.player.patron_log[-2:]
        assert [e.label.split(" ")[0] for e in queued] == ["broker:", "broker:"], [e.label for e in queued]
        assert all(e.action.type == "offer" and e.result is None for e in queued)  # for the next turn


def test_the_farewell_never_names_a_scenario_for_a_save(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A save called river-bend.ttwood in the saves folder: `ttwood play river-bend` would start
    the scenario anew, so the farewell names the file; a name like an option does too."""
    from types import SimpleNamespace

    from engine.saves import SaveError
    from ttwood.cli_play import as_save, farewell, open_session

    monkeypatch.setenv("TTWOOD_SAVES_DIR", str(tmp_path))
    for stem in ("river-bend", "-x"):
        path = tmp_path / f"{stem}.ttwood"
        line = farewell(SimpleNamespace(save_path=path, turn=4))  # type: ignore[arg-type]
        assert line == f"saved {path} at turn 4: go on with `ttwood play {path}`", line
    assert farewell(SimpleNamespace(save_path=tmp_path / "my-wood.ttwood", turn=4)).endswith("`ttwood play my-wood`")  # type: ignore[arg-type, union-attr]
    with pytest.raises(SaveError):
        open_session("w" * 300 + ".ttwood", "scripted", 1)  # too long for the file system: one message
    assert as_save("w" * 300 + ".ttwood") == "w" * 300 + ".ttwood"
