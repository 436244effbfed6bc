"""Forms for the player's actions: the Patron's (lend, order, tip, broker) and a taken-over
creature's (produce, order, answer an offer, say, whisper).

A form only collects values; it dismisses with a :class:`Request` and the app hands that to the
session, where the action is built and later validated by the rules like any creature's. A form
is filled from the view of the last finished turn, even while the next turn is being played.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Switch, TabbedContent, TabPane

from engine.session import SessionView, WoodView

ENTER_SUBMITS = {"tab-lend": "lend", "tab-order": "order", "tab-tip": "tip", "tab-broker": "broker",
                 "tab-produce": "produce", "tab-talk": "talk"}
"""What Enter in a field of each tab does (the tab of offers has two buttons and no field)."""


@dataclass
class Request:
    """What the player asked for: a kind (the Patron's ``lend``, ``order``, ``tip``, ``broker``; a
    creature's ``produce``, ``order``, ``accept``, ``reject``, ``talk``) and its values."""

    kind: str
    values: dict[str, Any] = field(default_factory=dict)


def tip_text(wood: WoodView, good: str, planted: bool) -> str:
    """A suggested tip about a good: the true reference price, or a planted doubling of it."""
    price = wood.reference[good]
    if planted:
        return f"Psst: {good} will fetch {price * 2} pebbles by next turn. Buy all you can."
    return f"Psst: {good} trades at {price} pebbles; it is worth no more."


class ActionDialog(ModalScreen[Request | None]):
    """Tabs of small forms; each tab's button dismisses with its :class:`Request`."""

    DEFAULT_CSS = """
    ActionDialog { align: center middle; }
    ActionDialog > VerticalScroll { width: 100; max-width: 100%; height: auto; max-height: 95%;
        border: round $accent; background: $surface; padding: 0 1; }
    ActionDialog #act-title { text-style: bold; padding: 0 0 1 0; }
    ActionDialog Horizontal { height: auto; }
    ActionDialog Horizontal > Label { width: 18; padding: 1 1 0 0; }
    ActionDialog Input { width: 1fr; }
    ActionDialog Select { width: 1fr; }
    ActionDialog #act-error { color: $error; height: auto; }
    ActionDialog #act-keys { color: $text-muted; height: auto; }
    ActionDialog #act-tabs Tab { padding: 0 2; }
    ActionDialog TabPane { height: auto; width: 100%; }
    ActionDialog TabbedContent { height: auto; width: 100%; }
    /* The focused control stands out: a bright border on fields, reversed text on buttons. */
    ActionDialog Input:focus, ActionDialog Switch:focus { border: tall $warning; }
    ActionDialog Select:focus > SelectCurrent { border: tall $warning; }
    ActionDialog Button:focus, ActionDialog Button.-primary:focus, ActionDialog Button.-success:focus,
    ActionDialog Button.-error:focus { text-style: bold reverse; border-top: tall $warning; border-bottom: tall $warning; }
    ActionDialog Tabs:focus .-active { text-style: bold reverse; }
    """
    BINDINGS = [Binding("escape", "cancel", "cancel", id="act-cancel", tooltip="Close without acting.")]

    def __init__(self, view: SessionView, actor: str) -> None:
        """``actor``: the Patron's name, or the creature the player has taken over."""
        super().__init__(id="act")
        self.view = view
        self.wood = view.wood
        self.actor = actor
        self.is_patron = self.wood.creature(actor).role == "patron"

    # ------------------------------------------------------------------ layout
    def _others(self) -> list[tuple[str, str]]:
        return [(c.name, c.name) for c in self.wood.creatures if c.alive and c.name != self.actor]

    def _goods(self) -> list[tuple[str, str]]:
        return [(g, g) for g in self.wood.goods]

    def _row(self, label: str, widget: Input | Select[str] | Switch) -> Horizontal:
        return Horizontal(Label(label), widget)

    def _int(self, id_: str, value: int | str = "") -> Input:
        return Input(str(value), type="integer", id=id_)

    def compose(self) -> ComposeResult:
        me = self.wood.creature(self.actor)
        title = f"{self.actor} acts (queued for turn {self.view.player.next_turn}; the rules check it then)"
        with VerticalScroll():  # a small terminal scrolls to the focused field and the button
            yield Label(title, id="act-title")
            with TabbedContent(id="act-tabs"):
                if self.is_patron:
                    yield from self._patron_tabs()
                else:
                    yield from self._creature_tabs(me.makes)
            yield Label("", id="act-error")
            yield Label("enter in a field: the tab's button · tab: next control · escape: close, nothing queued", id="act-keys")

    def on_mount(self) -> None:
        """The first field of the first form has the focus (its bright border shows where typing goes)."""
        first = self.query("#act-tabs TabPane").first().query("Input, Select, Switch, Button")
        if first:
            first.first().focus()

    def _patron_tabs(self) -> ComposeResult:
        others, goods = self._others(), self._goods()
        first_good = goods[0][0] if goods else ""
        with TabPane("lend", id="tab-lend"):
            yield self._row("to", Select(others, id="lend-to", allow_blank=False))
            yield self._row("pebbles", self._int("lend-pebbles", 20))
            yield self._row("interest, pebbles", self._int("lend-interest", 3))  # on top of the loan
            yield self._row("due in turns", self._int("lend-due", 4))
            yield Button("offer the loan", id="lend-go", variant="primary")
        with TabPane("order", id="tab-order"):
            yield self._row("side", Select([("buy", "buy"), ("sell", "sell")], id="order-side", allow_blank=False))
            yield self._row("good", Select(goods, id="order-good", allow_blank=False))
            yield self._row("qty", self._int("order-qty", 2))
            yield self._row("price", self._int("order-price", self.wood.reference[first_good] if first_good else 1))
            yield Button("place the order", id="order-go", variant="primary")
        with TabPane("tip", id="tab-tip"):
            yield self._row("to", Select(others, id="tip-to", allow_blank=False))
            yield self._row("about", Select(goods, id="tip-good", allow_blank=False))
            yield self._row("planted (a lie)", Switch(False, id="tip-planted", tooltip="A false tip: the price doubled"))
            yield self._row("text", Input(tip_text(self.wood, first_good, False), id="tip-text"))
            yield Button("whisper the tip", id="tip-go", variant="primary")
        with TabPane("broker", id="tab-broker"):
            yield self._row("seller", Select(others, id="broker-seller", allow_blank=False))
            buyer = Select(others, id="broker-buyer", allow_blank=False)
            if len(others) > 1:
                buyer.value = others[1][0]  # not the seller: a deal needs two creatures
            yield self._row("buyer", buyer)
            yield self._row("good", Select(goods, id="broker-good", allow_blank=False))
            yield self._row("qty", self._int("broker-qty", 2))
            yield self._row("price each", self._int("broker-price", self.wood.reference[first_good] if first_good else 1))
            yield self._row("your fee", self._int("broker-fee", 2))
            yield Button("broker the deal", id="broker-go", variant="primary")

    def _creature_tabs(self, makes: str | None) -> ComposeResult:
        others, goods = self._others(), self._goods()
        me = self.wood.creature(self.actor)
        with TabPane("produce", id="tab-produce"):
            yield Label(f"you make {makes}, at most {me.capacity} a turn" if makes else "you make nothing")
            yield self._row("qty", self._int("produce-qty", me.capacity))
            yield Button("produce", id="produce-go", variant="primary", disabled=not makes)
        with TabPane("order", id="tab-order"):
            yield self._row("side", Select([("buy", "buy"), ("sell", "sell")], id="order-side", allow_blank=False))
            yield self._row("good", Select(goods, id="order-good", allow_blank=False))
            yield self._row("qty", self._int("order-qty", 2))
            yield self._row("price", self._int("order-price", 4))
            yield Button("place the order", id="order-go", variant="primary")
        offers = [o for o in self.wood.offers if o.to == me.name]
        with TabPane("offers to you", id="tab-reply"):
            choices = [(f"#{o.id} from {o.sender}: {o.terms()}", str(o.id)) for o in offers]
            if choices:
                yield Select(choices, id="reply-offer", allow_blank=False)
                with Horizontal():
                    yield Button("accept", id="accept-go", variant="success")
                    yield Button("reject", id="reject-go", variant="error")
            else:
                yield Label("no open offers to you")
        with TabPane("talk", id="tab-talk"):
            yield self._row("to", Select([("everyone (the clearing)", "*"), *others], id="talk-to", allow_blank=False))
            yield self._row("text", Input("", id="talk-text", placeholder="what to say"))
            yield Button("speak", id="talk-go", variant="primary")

    # ------------------------------------------------------------------ reading the forms
    def _value(self, id_: str) -> Any:
        w = self.query_one(f"#{id_}")
        if isinstance(w, Input):
            if w.type == "integer":
                if not w.value.strip():
                    raise ValueError(f"{id_.split('-', 1)[1]} is empty")
                return int(w.value)
            return w.value
        if isinstance(w, Switch):
            return w.value
        assert isinstance(w, Select)
        return w.value

    def _fields(self, *ids: str) -> dict[str, Any]:
        return {i.split("-", 1)[1]: self._value(i) for i in ids}

    @on(Select.Changed, "#tip-good")
    @on(Switch.Changed, "#tip-planted")
    def _suggest_tip(self) -> None:
        good = self._value("tip-good")
        if isinstance(good, str):
            self.query_one("#tip-text", Input).value = tip_text(self.wood, good, bool(self._value("tip-planted")))

    @on(Button.Pressed)
    def _go(self, event: Button.Pressed) -> None:
        event.stop()
        self.submit((event.button.id or "").removesuffix("-go"))

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        """Enter in a field does what its tab's button does."""
        event.stop()
        pane = self.query_one("#act-tabs", TabbedContent).active
        kind = ENTER_SUBMITS.get(pane)
        if kind is not None:
            self.submit(kind)

    def submit(self, kind: str) -> None:
        """Read the form of ``kind`` and close with its :class:`Request` (or say what is wrong)."""
        spec = {
            "lend": ("lend-to", "lend-pebbles", "lend-interest", "lend-due"),
            "order": ("order-side", "order-good", "order-qty", "order-price"),
            "tip": ("tip-to", "tip-text", "tip-planted"),
            "broker": ("broker-seller", "broker-buyer", "broker-good", "broker-qty", "broker-price", "broker-fee"),
            "produce": ("produce-qty",),
            "accept": ("reply-offer",),
            "reject": ("reply-offer",),
            "talk": ("talk-to", "talk-text"),
        }.get(kind)
        if spec is None:
            return
        try:
            values = self._fields(*spec)
        except ValueError as exc:
            self.query_one("#act-error", Label).update(str(exc))
            return
        if kind == "talk" and not str(values["text"]).strip():
            self.query_one("#act-error", Label).update("say something first: the text is empty")
            return
        self.dismiss(Request(kind, values))

    def action_cancel(self) -> None:
        self.dismiss(None)
