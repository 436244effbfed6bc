"""The header: the game's name, turn, season, the pause between turns, how long the last turn
took, and whether the wood is playing or thinking (how many creatures are done, and for how long
the turn has run, measured)."""

from __future__ import annotations

import time

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget


def seconds_text(seconds: float) -> str:
    """``3 ms``, ``420 ms``, ``3.1 s``, ``75 s``: a measured time, as precise as it is worth."""
    if seconds < 1:
        return f"{max(1, round(seconds * 1000))} ms"
    return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"


class GameHeader(Widget):
    """One line at the top; parents set its attributes, it renders them."""

    DEFAULT_CSS = """
    GameHeader { height: 1; background: $primary-background; color: $text; padding: 0 1; }
    """

    game_name: reactive[str] = reactive("")
    turn: reactive[int] = reactive(0)
    season: reactive[str] = reactive("")
    pace: reactive[str] = reactive("")
    """The pause between turns while playing, as the player set it (``pause 1 s``)."""
    last_turn: reactive[float | None] = reactive(None)
    """Seconds the last turn took to play, measured (``None``: none played here yet)."""
    playing: reactive[bool] = reactive(False)
    thinking: reactive[bool] = reactive(False)
    doing: reactive[str] = reactive("thinking")
    """What the wood is busy with while ``thinking`` (a turn, or opening a game)."""
    extra: reactive[str] = reactive("")
    progress: reactive[str] = reactive("")
    """How far the turn in flight is (``2/5 done``), while ``thinking``."""
    started: reactive[float | None] = reactive(None)
    """When the turn in flight started (``time.monotonic``), measured by the session: the header
    counts its seconds while ``thinking``."""

    def on_mount(self) -> None:
        self.set_interval(0.5, self._tick)

    def _tick(self) -> None:
        if self.thinking and self.started is not None:
            self.refresh()

    def render(self) -> Text:
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(self.game_name, style="bold")
        t.append("  turn ", style="dim")
        t.append(str(self.turn), style="bold")
        if self.last_turn is not None:
            t.append(" took ", style="dim")
            t.append(seconds_text(self.last_turn))
        t.append(f"  {self.season}", style="bold green")
        t.append("  ")
        t.append("▶ playing" if self.playing else "‖ paused", style="bold green" if self.playing else "bold yellow")
        if self.pace:
            t.append(f", {self.pace}", style="dim")
        if self.thinking:
            t.append(f"  ↻ {self.doing}…", style="bold cyan")
            if self.progress:
                t.append(f" {self.progress}", style="cyan")
            if self.started is not None:
                t.append(f" {seconds_text(time.monotonic() - self.started)}", style="cyan")
        if self.extra:
            t.append(f"  {self.extra}", style="magenta")
        return t
