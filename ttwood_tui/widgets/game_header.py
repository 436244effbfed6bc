"""The header: the game's name, turn, season, speed, and whether the wood is playing or thinking."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget


class GameHeader(Widget):
    """One line at the top; parents set its attributes, it renders them."""

    DEFAULT_CSS = """
    GameHeader { height: 1; background: $primary-background; color: $text; padding: 0 1; }
    """

    game_name: reactive[str] = reactive("")
    turn: reactive[int] = reactive(0)
    season: reactive[str] = reactive("")
    speed: reactive[str] = reactive("")
    playing: reactive[bool] = reactive(False)
    thinking: reactive[bool] = reactive(False)
    doing: reactive[str] = reactive("thinking")
    """What the wood is busy with while ``thinking`` (a turn, or opening a game)."""
    extra: reactive[str] = reactive("")

    def render(self) -> Text:
        t = Text()
        t.append(self.game_name, style="bold")
        t.append("  turn ", style="dim")
        t.append(str(self.turn), style="bold")
        t.append(f"  {self.season}", style="bold green")
        t.append("  speed ", style="dim")
        t.append(self.speed)
        t.append("  ")
        t.append("▶ playing" if self.playing else "⏸ paused", style="bold green" if self.playing else "bold yellow")
        if self.thinking:
            t.append(f"  ⟳ {self.doing}…", style="bold cyan")
        if self.extra:
            t.append(f"  {self.extra}", style="magenta")
        return t
