"""The player's keys: call a legend, act as the Patron, take a creature over and act as it.

These work at any time, even while a turn is being decided: the session queues each request and
applies it when the next turn starts, and says which turn that is. Forms are filled from the view
of the last finished turn.
"""

from __future__ import annotations

from pydantic import ValidationError
from rich.markup import escape

from engine.session import TTWoodError
from ttwood_tui.base import WoodAppBase
from ttwood_tui.dialogs.act import ActionDialog, Request
from ttwood_tui.dialogs.pick import PickDialog
from ttwood_tui.player import carry_out


class PlayerHands(WoodAppBase):
    """Legends, the Patron, and creatures taken over."""

    def action_legend(self) -> None:
        legends = self.session.view.wood.legends
        if not legends:
            self.show_error("this scenario has no legends the player can call")
            return
        options = [(lg.id, f"[b]{escape(lg.name)}[/b]\n  {escape(lg.description)}") for lg in legends]
        self.push_screen(PickDialog("Fire a legend at the start of the next turn", options, id="legend-dialog"), self.call_legend)

    def call_legend(self, legend_id: str | None) -> None:
        """Ask for a legend (``None``: the player changed their mind)."""
        if legend_id is None:
            return
        try:
            turn = self.session.player.inject(legend_id)
        except TTWoodError as exc:
            self.show_error(exc.message)
            return
        name = next(lg.name for lg in self.session.view.wood.legends if lg.id == legend_id)
        self.notify(f"{name} will strike when turn {turn} starts")
        self.note(f"legend called: {name} (turn {turn})", "bold magenta")

    def action_patron(self) -> None:
        view = self.session.view
        patron = view.player.patron
        if patron is None:
            self.show_error("this game has no Patron (it was started with --no-patron)")
            return
        self.push_screen(ActionDialog(view, patron), lambda r: self._request(patron, r))

    def action_act(self) -> None:
        view = self.session.view
        yours = sorted(view.player.yours)
        if not yours:
            self.show_error("take a creature over first (t on its ledger row)")
            return
        name = self.selected()
        actor = name if name in yours else yours[0]
        self.push_screen(ActionDialog(view, actor), lambda r: self._request(actor, r))

    def _request(self, actor: str, request: Request | None) -> None:
        """Queue what a form asked for, and say what was queued, or that nothing was (the form was
        closed, or the rules' bounds refused a number)."""
        if request is None:
            self.notify(f"nothing queued for {actor} (the form was closed)", timeout=4)
            return
        try:
            text = carry_out(self.session, actor, request)
        except (TTWoodError, ValidationError) as exc:
            why = exc.message if isinstance(exc, TTWoodError) else _pydantic_text(exc)
            self.show_error(f"{why}; nothing was queued for {actor}")
            return
        self.say(text, "bold yellow")
        self.refresh_view()

    def action_take_over(self) -> None:
        name = self.selected()
        if name is None:
            return
        player = self.session.player
        try:
            if name in self.session.view.player.yours:
                turn = player.give_back(name)
                text = f"{name} is back with its own brain from turn {turn}"
            else:
                turn = player.take_over(name)
                self.playing = False
                text = f"you play {name} from turn {turn}: a to act, n to end the turn"
        except TTWoodError as exc:
            self.show_error(exc.message)
            return
        self.say(text, "bold magenta")
        self.refresh_view()
        self.header_state()


def _pydantic_text(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "value"
    return f"{where}: {err['msg']}"
