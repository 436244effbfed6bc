"""The command palette: every key's action, every legend, and each creature to inspect or take over."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from ttwood_tui.app import TTWoodApp


class WoodCommands(Provider):
    """Commands about the wood being played."""

    def _commands(self) -> list[tuple[str, str, object]]:
        app: TTWoodApp = self.app  # type: ignore[assignment]
        out: list[tuple[str, str, object]] = []
        for b in app.BINDINGS:
            if hasattr(b, "action"):
                out.append((f"{b.description} ({b.key_display or b.key.split(',')[0]})", b.tooltip, partial(app.run_action, b.action)))
        for lg in app.session.legends():
            out.append((f"legend: {lg.name}", lg.description, partial(app._legend_chosen, lg.id)))
        for c in app.session.wood.creatures:
            out.append((f"inspect {c.name}", f"what {c.name} saw and answered", partial(app.action_inspect, c.name)))
        return out

    async def discover(self) -> Hits:
        for text, help_text, cb in self._commands():
            yield DiscoveryHit(text, cb, help=help_text)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, help_text, cb in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), cb, help=help_text)  # type: ignore[arg-type]
