"""Immutable views of a finished turn: what a front end may read while the next turn runs.

The session publishes a :class:`SessionView` after every turn (and again, with only its
:class:`PlayerView` changed, whenever the player asks for something). Every part is a frozen
dataclass holding tuples, strings, numbers and read-only mappings copied out of the game, so a
screen can render one while the engine changes the wood in another thread and never see half a
turn. Build one with :func:`engine.session.seeing.wood_view`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TypeVar

from engine.turn import actions as A
from engine.world.tiles import TileKind

K = TypeVar("K")
V = TypeVar("V")


def frozen(d: Mapping[K, V]) -> Mapping[K, V]:
    """A read-only copy of a mapping."""
    return MappingProxyType(dict(d))


LONGEST = 16_000
"""Characters of one free text (a thought, a raw answer, a prompt) a view keeps. A real answer is
a few thousand at most (the token budget); a save from someone else may hold megabytes, which a
screen would take minutes to lay out."""
_UNSHOWN = re.compile("[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\u061c\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2069\\ufeff\\ufff9-\\ufffb]")
"""Control characters (escape sequences, carriage returns; not tabs and line breaks), the
bidirectional marks, overrides and isolates that make a terminal draw text in another order than
it is stored, and the zero-width and separator characters that hide or break text."""


def printable(text: str, longest: int = LONGEST) -> str:
    """Text as a screen may show it: each control or bidirectional-override character spelled out
    (``<U+202E>``), and at most ``longest`` characters, the rest counted."""
    if len(text) > longest:
        text = f"{text[:longest]}… ({len(text) - longest:,} more characters not shown)"
    return _UNSHOWN.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)


@dataclass(frozen=True, slots=True)
class ResultView:
    """One action a creature took and what the rules made of it."""

    action: A.Action
    reason: str | None
    """``None``: applied; else why it was refused."""


@dataclass(frozen=True, slots=True)
class PromptView:
    """The prompt a model brain saw, with what it measured."""

    text: str
    sections: tuple[tuple[str, str], ...]
    """Each section of the prompt and its tokens (as recorded), in order."""
    prompt_tokens: int | None
    answer_tokens: int | None
    head: tuple[tuple[str, str], ...]
    """``(key, value)`` of the call's model, latency, seed and token cap, those it recorded."""


@dataclass(frozen=True, slots=True)
class DecidedView:
    """A creature's latest turn: its brain's answer and what the rules made of each action."""

    turn: int
    """The turn it was decided in."""
    brain: str
    """The kind of brain that decided (``human`` when the player did)."""
    results: tuple[ResultView, ...]
    problems: tuple[str, ...]
    """Parts of the answer that could not be read as actions."""
    raw: str | None
    thinking: str
    prompt: PromptView | None
    """``None`` when the brain recorded no prompt."""
    tokens: int | None
    """Prompt plus answer tokens; ``None`` when the brain counts none."""


@dataclass(frozen=True, slots=True)
class InboxView:
    """One thing in a creature's inbox, read next turn."""

    turn: int
    kind: str
    sender: str
    text: str


@dataclass(frozen=True, slots=True)
class OfferView:
    """An open offer between two creatures (by name)."""

    id: int
    kind: str
    sender: str
    to: str
    give: Mapping[str, int]
    get: Mapping[str, int]
    principal: int
    interest: int
    due: int | None = None
    """The turn it is due (a forward trade or a loan), ``None`` for a swap now."""

    def terms(self) -> str:
        """What it offers in words, as the sender sees it: ``lend 15 pebbles at 2 interest, due turn 9``,
        ``trade 2 honey for 12 pebbles now`` (the sender gives the first, wants the second)."""
        due = f", due turn {self.due}" if self.due is not None else ""
        if self.kind in ("lend", "borrow"):
            return f"{self.kind} {self.principal} pebbles at {self.interest} interest{due}"
        give = " + ".join(f"{q} {a}" for a, q in self.give.items()) or "nothing"
        get = " + ".join(f"{q} {a}" for a, q in self.get.items()) or "nothing"
        return f"trade {give} for {get}{due or ' now'}"


@dataclass(frozen=True, slots=True)
class CreatureView:
    """One creature as the turn left it."""

    id: int
    name: str
    species: str
    glyph: str
    colour: str
    role: str
    makes: str | None
    capacity: int
    den: tuple[int, int]
    alive: bool
    health: int
    hungry: int
    cold: int
    credit: int
    holdings: Mapping[str, int]
    """Every asset held, free plus escrowed."""
    owes: int
    """Units (pebbles and goods) it owes under active contracts."""
    owed: int
    """Units it is owed under active contracts."""
    brain: str
    """The kind of brain that decides for it when the player does not (``human`` for the Patron)."""
    notes: tuple[str, ...]
    memories: tuple[str, ...]
    """What it recalls, most salient first chosen, oldest first told."""
    trust: tuple[tuple[str, int, int], ...]
    """``(counterpart, contracts delivered, contracts defaulted)``, by name."""
    inbox: tuple[InboxView, ...]
    """The latest items of its inbox."""
    decided: DecidedView | None
    """Its latest turn (``None`` before it played one)."""

    def total(self, asset: str) -> int:
        """Units of an asset held, free plus escrowed."""
        return self.holdings.get(asset, 0)


@dataclass(frozen=True, slots=True)
class TileView:
    x: int
    y: int
    kind: TileKind
    trees: int
    collapsed: bool
    """Collapsed and growing nothing at the end of the turn."""
    felled: int
    """Trees felled here this turn."""


@dataclass(frozen=True, slots=True)
class MapView:
    width: int
    height: int
    tree_capacity: int
    tiles: tuple[TileView, ...]


@dataclass(frozen=True, slots=True)
class EventView:
    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class TurnEvents:
    """One turn's events, in the order they happened."""

    turn: int
    events: tuple[EventView, ...]


@dataclass(frozen=True, slots=True)
class TurnPoint:
    """One turn's numbers, for charts and sparklines."""

    turn: int
    gini: float
    trees: int
    trades: int
    alive: int
    prices: Mapping[str, int | None]
    """Average traded price per good (``None``: no trade)."""
    reference: Mapping[str, int]
    """Reference price per good at the end of the turn."""


@dataclass(frozen=True, slots=True)
class LegendView:
    """A legend the player may call."""

    id: str
    name: str
    description: str


@dataclass(frozen=True, slots=True)
class WoodView:
    """The whole wood as the last finished turn left it."""

    turn: int
    season: str
    goods: tuple[str, ...]
    reference: Mapping[str, int]
    """Reference price per good."""
    creatures: tuple[CreatureView, ...]
    offers: tuple[OfferView, ...]
    """Open offers."""
    map: MapView
    history: tuple[TurnPoint, ...]
    """Every turn played, first to last."""
    recent: tuple[TurnEvents, ...]
    """The events of the last few turns (the last is this turn's, once a turn is played)."""
    legends: tuple[LegendView, ...]
    """Legends the player may call (the on-demand ones)."""
    pending_legends: tuple[str, ...]
    """Legends the game holds to fire when the next turn starts."""
    max_health: int
    token_budget: int
    notices: tuple[str, ...] = ()
    """What the session could not do of what the player asked, since the previous view."""

    def creature(self, name: str) -> CreatureView:
        """A creature by name (``KeyError`` if there is none)."""
        for c in self.creatures:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def events(self) -> TurnEvents | None:
        """This turn's events (``None`` before the first turn, or when the game was opened without them)."""
        if self.recent and self.recent[-1].turn == self.turn:
            return self.recent[-1]
        return None


@dataclass(frozen=True, slots=True)
class PlayerView:
    """What the player has asked for and holds; it changes between turns and while one runs."""

    next_turn: int
    """The turn anything asked for now takes effect in."""
    patron: str | None
    """The Patron's name, when the game has one."""
    yours: tuple[str, ...]
    """Creatures (the Patron aside) the player decides for from :attr:`next_turn` on."""
    pending_legends: tuple[str, ...]
    """Legends asked for that have not fired yet."""


@dataclass(frozen=True, slots=True)
class SessionView:
    """What a front end renders: the last finished turn, and the player's side of the game."""

    name: str
    """The game's name (the save file's stem)."""
    wood: WoodView
    player: PlayerView
    seed: int
    """The seed of the game's one random generator."""
    minds: str
    """The models that think for the wood, each with its adapter (empty when only rules and the
    player decide), e.g. ``SmolLM2-135M-Instruct + adapter wood``."""
    save: str | None
    """The file the game is being saved to (``None``: it is not being saved)."""
    turn_seconds: float | None
    """How long the last turn took to play, measured (``None`` before this session played one)."""

    @property
    def turn(self) -> int:
        """The last finished turn."""
        return self.wood.turn

    def brain(self, name: str) -> str:
        """Which kind of brain decides for a creature from the next turn (``human``: the player)."""
        if name in self.player.yours:
            return "human"
        return self.wood.creature(name).brain


@dataclass(frozen=True, slots=True)
class ThinkingView:
    """One creature in the turn being decided."""

    name: str
    state: str
    """``waiting`` (its brain not asked yet), ``thinking`` or ``done``."""
    tokens: int
    """Answer tokens written so far (``0`` for a brain that counts none)."""
    thought: str
    """Its thought as written so far (printable)."""


@dataclass(frozen=True, slots=True)
class TurnInFlight:
    """The turn being decided, as it decodes: published from the thread that plays it."""

    turn: int
    seconds: float
    """Seconds since the turn started, measured."""
    creatures: tuple[ThinkingView, ...]
    """Every creature that decides this turn, in the cast's order."""

    @property
    def done(self) -> int:
        """How many have answered."""
        return sum(c.state == "done" for c in self.creatures)


def describe(action: A.Action) -> str:
    """A short human reading of an action, for logs and the inspector."""
    d = action.model_dump(exclude_defaults=False)
    kind = d.pop("type")
    parts = []
    for k, v in d.items():
        if isinstance(v, dict):
            v = " + ".join(f"{q} {a}" for a, q in v.items()) or "nothing"
        if v is None or v == "nothing" and k == "collateral":
            continue
        parts.append(f"{k}={v}")
    return f"{kind} " + " ".join(parts)
