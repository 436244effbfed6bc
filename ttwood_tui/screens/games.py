"""The games screen: a new game from any scenario with a brain and a seed, the last game, or a save."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from engine import scenario as scenarios
from engine.core.errors import TTWoodError
from engine.minds.factory import BRAIN_KINDS
from engine.saves import list_saves


@dataclass
class GameChoice:
    """What the player chose: a new game (scenario, brain, seed) or a save to open."""

    scenario: str | None = None
    brain: str = "scripted"
    seed: int = 1
    save: Path | None = None


def scenario_options() -> list[tuple[str, str]]:
    """``(id, "name — description")`` for every scenario found, bad ones marked rather than hidden."""
    out = []
    for f in scenarios.known():
        try:
            sc, _ = scenarios.load_found(f)
            cast = len(sc.expanded_cast())  # generated creatures too
            out.append((f.id, f"[b]{escape(sc.meta.name)}[/b] ({f.id}, {cast} creatures)\n  {escape(sc.meta.description)}"))
        except TTWoodError as exc:
            out.append((f.id, f"[red]{f.id}: cannot be read[/red] {escape(str(exc)[:80])}"))
    return out


def save_options(folder: Path, playing: Path | None = None) -> list[tuple[str, str]]:
    """``(file, text)`` for every save in a folder, newest first (``engine.saves.list_saves``); a
    save that would be refused says why, except ``playing``, the one being written now."""
    out = []
    for row in list_saves(folder):
        file = str(row["file"])
        name = Path(file).name
        if playing is not None and Path(file) == playing:
            text = f"{name} [dim](playing now)[/dim]"
        else:
            text = name if row["status"] == "ok" else f"{name} [dim]({row['status']})[/dim]"
        out.append((file, text))
    return out


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

    def compose(self) -> ComposeResult:
        saves = save_options(self.saves_dir, self.playing)
        with Vertical(id="games"):
            yield Static("[b]Thousand Token Wood[/b] — choose a game", id="games-title")
            yield Label("a new game", classes="section")
            yield OptionList(*[Option(text, id=sid) for sid, text in scenario_options()], id="scenarios")
            with Horizontal():
                yield Label("brain")
                yield Select([(k, k) for k in BRAIN_KINDS], value=self.brain, allow_blank=False, id="brain")
                yield Label("seed")
                yield Input(str(self.seed), type="integer", id="seed")
                yield Button("continue the last game", id="continue", disabled=not saves)
            yield Label("open a save", classes="section")
            if saves:
                yield OptionList(*[Option(text, id=file) for file, text in saves], id="saves")
            else:
                yield Label(f"no saves in {self.saves_dir}/ yet", id="no-saves")
        yield Footer(compact=True)

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
        saves = save_options(self.saves_dir, self.playing)
        if saves:
            self.dismiss(GameChoice(save=Path(saves[0][0]), brain=str(self.query_one("#brain", Select).value)))

    def action_cancel(self) -> None:
        self.dismiss(None)
