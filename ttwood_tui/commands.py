"""The command palette: every key's action, every legend, and each creature to inspect.

It lists what the session's view holds (the last finished turn), never the live wood.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

Command = tuple[str, str, Callable[[], Any]]
"""``(text, help, callback)``."""


class WoodCommands(Provider):
    """Commands about the wood being played."""

    def _commands(self) -> list[Command]:
        from ttwood_tui.app import TTWoodApp  # the app module imports this one

        app = self.app
        if not isinstance(app, TTWoodApp):
            return []
        out: list[Command] = []
        for b in app.BINDINGS:
            if isinstance(b, Binding):
                out.append((f"{b.description} ({b.key_display or b.key.split(',')[0]})", b.tooltip, partial(app.run_action, b.action)))
        view = app.session.view
        for lg in view.wood.legends:
            out.append((f"legend: {lg.name}", lg.description, partial(app.call_legend, lg.id)))
        for c in view.wood.creatures:
            out.append((f"inspect {c.name}", f"what {c.name} saw and answered", partial(app.action_inspect, c.name)))
        return out

    async def discover(self) -> Hits:
        for text, help_text, cb in self._commands():
            yield DiscoveryHit(text, cb, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, help_text, cb in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), cb, help=help_text)
