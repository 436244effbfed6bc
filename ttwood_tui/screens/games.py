"""The games screen: a new game from any scenario with a brain and a seed, the last game, or a save."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from engine.session import BRAIN_KINDS, SaveEntry, ScenarioEntry, TTWoodError, save_entries, scenario_entries
from ttwood_tui.messages import Listed


@dataclass
class GameChoice:
    """What the player chose: a new game (scenario, brain, seed) or a save to open."""

    scenario: str | None = None
    brain: str = "scripted"
    seed: int = 1
    save: Path | None = None


def scenario_text(e: ScenarioEntry) -> str:
    """``name (id, N creatures)`` over its description (markup), or why it cannot be read."""
    if e.error is not None:
        return f"[red]{escape(e.id)}: cannot be read[/red] {escape(e.error[:80])}"
    return f"[b]{escape(e.name)}[/b] ({e.id}, {e.creatures} creatures)\n  {escape(e.description)}"


def scenario_options() -> list[tuple[str, str]]:
    """``(id, text)`` for every scenario found, bad ones marked rather than hidden (reads every
    scenario file: call it off the UI thread)."""
    return [(e.id, scenario_text(e)) for e in scenario_entries()]


def save_options(saves: tuple[SaveEntry, ...], playing: str | Path | None = None) -> list[tuple[str, str]]:
    """``(file, text)`` for the saves listed (:func:`engine.session.save_entries`, newest first);
    a save that would be refused says why, except ``playing``, the one being written now."""
    out = []
    for e in saves:
        if playing is not None and Path(e.file) == Path(playing):
            text = f"{escape(e.name)} [dim](playing now)[/dim]"
        else:
            text = escape(e.name) if e.status == "ok" else f"{escape(e.name)} [dim]({escape(e.status)})[/dim]"
        out.append((e.file, text))
    return out


def list_games(folder: Path, purpose: str, *, scenarios: bool = True) -> Listed:
    """The scenarios (when asked) and the saves in ``folder``, for ``purpose`` (a save is read to
    say whether it opens, a scenario to say what it is: call it off the UI thread)."""
    try:
        found = scenario_entries() if scenarios else ()
        return Listed(purpose, found, save_entries(folder))
    except (TTWoodError, OSError) as exc:
        return Listed(purpose, (), (), f"cannot list {folder}: {exc}")


class GamesScreen(Screen[GameChoice | None]):
    """Pick a game; escape goes back to the one playing."""

    DEFAULT_CSS = """
    GamesScreen #games { padding: 1 2; }
    GamesScreen .section { text-style: bold; padding: 1 0 0 0; }
    GamesScreen OptionList { height: auto; max-height: 16; }
    GamesScreen Horizontal { height: auto; }
    GamesScreen Horizontal > Label { padding: 1 1 0 0; }
    GamesScreen Select { width: 24; }
    GamesScreen Input { width: 14; }
    """
    BINDINGS = [Binding("escape,g", "cancel", "back", id="games-back", tooltip="Back to the game being played.")]

    def __init__(self, saves_dir: Path, playing: Path | None = None, *, brain: str = BRAIN_KINDS[0], seed: int = 1) -> None:
        """``playing``: the save of the game being played, if it is being saved; ``brain`` and
        ``seed``: a new game's, until the player changes them (those of the game being played)."""
        super().__init__(id="games")
        self.saves_dir = saves_dir
        self.playing = playing
        self.brain = brain if brain in BRAIN_KINDS else BRAIN_KINDS[0]
        self.seed = seed
        self.saves: tuple[SaveEntry, ...] = ()
        """The saves listed, newest first (empty until they have been read)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="games"):
            yield Static("[b]Thousand Token Wood[/b] — choose a game", id="games-title")
            yield Label("a new game", classes="section")
            yield OptionList(id="scenarios")
            with Horizontal():
                yield Label("brain")
                yield Select([(k, k) for k in BRAIN_KINDS], value=self.brain, allow_blank=False, id="brain")
                yield Label("seed")
                yield Input(str(self.seed), type="integer", id="seed")
                yield Button("continue the last game", id="continue", disabled=True)
            yield Label("open a save", classes="section")
            yield OptionList(id="saves")
            yield Label(f"reading {escape(str(self.saves_dir))}/ …", id="no-saves")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#saves").display = False
        self._list()

    @work(thread=True, exclusive=True, exit_on_error=False, group="listing", description="list the scenarios and saves")
    def _list(self) -> None:
        """Read the scenarios and the saves off the UI thread; a :class:`Listed` message brings them."""
        self.post_message(list_games(self.saves_dir, "games"))

    @on(Listed)
    def _listed(self, message: Listed) -> None:
        message.stop()
        scenarios = self.query_one("#scenarios", OptionList)
        scenarios.add_options([Option(scenario_text(e), id=e.id) for e in message.scenarios])
        if scenarios.option_count:
            scenarios.highlighted = 0
        self.saves = message.saves
        saves = save_options(message.saves, self.playing)
        listed = self.query_one("#saves", OptionList)
        listed.add_options([Option(text, id=file) for file, text in saves])
        if saves:
            listed.highlighted = 0
        listed.display = bool(saves)
        empty = self.query_one("#no-saves", Label)
        empty.display = not saves
        empty.update(escape(message.error) if message.error else f"no saves in {escape(str(self.saves_dir))}/ yet")
        self.query_one("#continue", Button).disabled = not saves

    def _new_game(self, scenario: str) -> GameChoice:
        seed_text = self.query_one("#seed", Input).value.strip() or "1"
        return GameChoice(scenario=scenario, brain=str(self.query_one("#brain", Select).value), seed=int(seed_text))

    @on(OptionList.OptionSelected, "#scenarios")
    def _scenario(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._new_game(str(event.option.id)))

    @on(OptionList.OptionSelected, "#saves")
    def _save(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(GameChoice(save=Path(str(event.option.id)), brain=str(self.query_one("#brain", Select).value)))

    @on(Button.Pressed, "#continue")
    def _continue(self) -> None:
        if self.saves:
            self.dismiss(GameChoice(save=Path(self.saves[0].file), brain=str(self.query_one("#brain", Select).value)))

    def action_cancel(self) -> None:
        self.dismiss(None)
