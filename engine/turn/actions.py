"""The closed set of actions a creature may take, as pydantic models.

Their JSON schema is the shape a model's answer must have; :mod:`engine.minds.mask` narrows it per
creature and per turn to the legal choices (the action mask). Whatever a brain returns is
parsed here and validated again by the rules: grammar never replaces validation.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

Qty = Annotated[int, Field(ge=1)]
Amount = Annotated[int, Field(ge=0)]
Text = Annotated[str, Field(max_length=2000)]


class Action(BaseModel):
    """Base of every action: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    """The action's name; each subclass fixes it to one literal."""


class Produce(Action):
    """Make up to ``qty`` of my good this turn (a woodcutter fells that many trees)."""

    type: Literal["produce"] = "produce"
    qty: Amount


class PlaceOrder(Action):
    """Put a limit order on the book: buy up to ``qty`` at ``price`` or less, or sell at ``price`` or more."""

    type: Literal["order"] = "order"
    side: Literal["buy", "sell"]
    good: str
    qty: Qty
    price: Qty


class Cancel(Action):
    """Withdraw one of my open orders or offers."""

    type: Literal["cancel"] = "cancel"
    id: int


class MakeOffer(Action):
    """Offer a deal to one creature: I give ``give`` and get ``get`` (keys: goods or pebbles)."""

    type: Literal["offer"] = "offer"
    to: str
    give: dict[str, Amount]
    get: dict[str, Amount]
    due: Annotated[int, Field(ge=1)] | None = None
    """Turns from now until delivery; none means a swap right now."""


class Accept(Action):
    type: Literal["accept"] = "accept"
    id: int


class Reject(Action):
    type: Literal["reject"] = "reject"
    id: int


class Counter(Action):
    """Reject a trade offer and send back my own terms."""

    type: Literal["counter"] = "counter"
    id: int
    give: dict[str, Amount]
    get: dict[str, Amount]
    due: Annotated[int, Field(ge=1)] | None = None


class Lend(Action):
    """Offer to lend ``pebbles``; repaid with ``interest`` in ``due`` turns, against optional collateral."""

    type: Literal["lend"] = "lend"
    to: str
    pebbles: Qty
    interest: Amount
    due: Annotated[int, Field(ge=1)]
    collateral: dict[str, Amount] = {}


class Borrow(Action):
    """Ask to borrow ``pebbles`` from a creature, repaying with ``interest`` in ``due`` turns."""

    type: Literal["borrow"] = "borrow"
    to: str
    pebbles: Qty
    interest: Amount
    due: Annotated[int, Field(ge=1)]
    collateral: dict[str, Amount] = {}


class Repay(Action):
    """Pay some or all of a loan early."""

    type: Literal["repay"] = "repay"
    id: int
    pebbles: Qty


class Say(Action):
    """Speak in the clearing (everyone hears)."""

    type: Literal["say"] = "say"
    text: Text


class Whisper(Action):
    """Speak privately to one creature."""

    type: Literal["whisper"] = "whisper"
    to: str
    text: Text


class Note(Action):
    """Write a short note to my own memory."""

    type: Literal["note"] = "note"
    text: Text


AnyAction = Annotated[
    Produce | PlaceOrder | Cancel | MakeOffer | Accept | Reject | Counter | Lend | Borrow | Repay | Say | Whisper | Note,
    Field(discriminator="type"),
]
ACTION_TYPES: tuple[type[Action], ...] = (
    Produce, PlaceOrder, Cancel, MakeOffer, Accept, Reject, Counter, Lend, Borrow, Repay, Say, Whisper, Note,
)
ONE_ACTION: TypeAdapter[Action] = TypeAdapter(AnyAction)
"""Reads one action from its JSON form (a dict), by its ``type``."""


class Decision(BaseModel):
    """What a creature decided this turn: a short thought and its actions."""

    model_config = ConfigDict(extra="forbid")

    thinking: Annotated[str, Field(max_length=2000)] = ""
    actions: list[AnyAction] = []


def parse_decision(raw: str, max_actions: int) -> tuple[list[Action], list[str], str]:
    """Parse a brain's raw JSON answer.

    Returns ``(actions, problems, thinking)``: every action that has the right shape, a reason
    for every part that does not, and the thought. A broken answer yields no actions and one
    problem; it never raises.
    """
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        return [], [f"answer is not valid JSON ({str(exc)[:80]})"], ""
    if not isinstance(data, dict):
        return [], ["answer must be a JSON object with an 'actions' list"], ""
    thinking = data.get("thinking", "")
    thinking = thinking[:2000] if isinstance(thinking, str) else ""
    items = data.get("actions", [])
    problems: list[str] = []
    extra = sorted(set(data) - {"thinking", "actions"})
    if extra:
        problems.append(f"unknown key {extra[0]!r} ignored")
    if not isinstance(items, list):
        return [], problems + ["'actions' must be a list"], thinking
    actions, more = validate_items(items, max_actions)
    return actions, problems + more, thinking


def validate_items(items: list[Any], max_actions: int) -> tuple[list[Action], list[str]]:
    """The actions among ``items`` (dicts as an answer spells them, at most ``max_actions``) and
    a reason for every item that is not one."""
    problems: list[str] = []
    if len(items) > max_actions:
        problems.append(f"{len(items)} actions given; only the first {max_actions} count")
        items = items[:max_actions]
    actions: list[Action] = []
    for i, item in enumerate(items):
        try:
            actions.append(ONE_ACTION.validate_python(item))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"][1:]) or "action"
            kind = item.get("type", "?") if isinstance(item, dict) else "?"
            problems.append(f"action {i + 1} ({kind}): {where}: {err['msg']}")
    return actions, problems
