"""The save file's tables, as SQLModel models (``*Row``), in a registry of their own.

One SQLite file holds one game. Everything a player, a researcher or the engine needs is a
plain table that the ``sqlite3`` shell reads; JSON columns hold nested data (``json_extract``
works on them):

- ``meta``: one row per key (format, app version, scenario text and hash, seed, brains).
- ``turns``: one row per turn: metrics, the state hash, and (on keyframe turns) the full state.
- ``creatures``: each creature's holdings, health and credit after every turn.
- ``events``, ``trades``, ``messages``: what happened, turn by turn.
- ``orders``: the book's open orders after every turn.
- ``contracts``: every finished contract (settled, defaulted, void) with its history.
- ``tape``: every creature's answer every turn, model calls with prompt, raw text, tokens,
  latency and sampler settings; scripted answers too, so replay is the same for every brain.
"""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class SaveTable(SQLModel, registry=registry()):
    """Base of the save's tables: their own metadata, so no other SQLModel table leaks in."""


METADATA: MetaData = SaveTable.metadata
"""Every table of the save format (used to create files and to check a file's schema)."""


class MetaRow(SaveTable, table=True):
    """One fact about the game; ``value`` is JSON."""

    __tablename__ = "meta"
    key: str = Field(primary_key=True)
    value: str


class TurnRow(SaveTable, table=True):
    """One played turn."""

    __tablename__ = "turns"
    turn: int = Field(primary_key=True)
    season: str
    gini: float
    """Exact Gini of wealth (the metrics JSON rounds it)."""
    metrics: str
    """JSON: every field of the turn's report except its events and answers."""
    state_hash: str
    """sha256 of the canonical JSON of the state after this turn (see ``snapshot.py``)."""
    injected: str = "[]"
    """JSON: legends the player asked for before this turn (replay asks for them again)."""
    state: str | None = None
    """JSON: the whole state after this turn, on keyframe turns (every few turns and the last)."""
    digest: str
    """sha256 over this row (but ``state``) and every row the turn added to the other tables."""


class CreatureRow(SaveTable, table=True):
    """One creature after one turn."""

    __tablename__ = "creatures"
    turn: int = Field(primary_key=True)
    creature_id: int = Field(primary_key=True)
    name: str
    alive: bool
    health: int
    credit: int
    hungry: int
    cold: int
    free: str
    """JSON: what it holds and may use, pebbles included."""
    escrow: str
    """JSON: what its orders, offers and contracts lock."""


class EventRow(SaveTable, table=True):
    """Something that happened, as the event log shows it."""

    __tablename__ = "events"
    turn: int = Field(primary_key=True)
    seq: int = Field(primary_key=True)
    kind: str
    text: str
    data: str
    """JSON."""


class TradeRow(SaveTable, table=True):
    """A fill on the order book or an accepted swap."""

    __tablename__ = "trades"
    turn: int = Field(primary_key=True)
    seq: int = Field(primary_key=True)
    good: str
    qty: int
    price: int
    buyer: str
    seller: str
    via: str


class MessageRow(SaveTable, table=True):
    """Something said in the clearing or whispered."""

    __tablename__ = "messages"
    turn: int = Field(primary_key=True)
    seq: int = Field(primary_key=True)
    kind: str
    """``say`` or ``whisper``."""
    sender: str
    recipient: str | None = None
    text: str


class OrderRow(SaveTable, table=True):
    """An order resting on the book at the end of a turn."""

    __tablename__ = "orders"
    turn: int = Field(primary_key=True)
    order_id: int = Field(primary_key=True)
    owner: str
    side: str
    good: str
    qty: int
    price: int
    placed: int
    expires: int


class ContractRow(SaveTable, table=True):
    """A contract that has finished, in the order contracts finished."""

    __tablename__ = "contracts"
    seq: int = Field(primary_key=True)
    """Position in the wood's list of finished contracts (0 first)."""
    contract_id: int
    turn: int
    """The turn it finished."""
    kind: str
    status: str
    due: int
    created: int
    history: str
    """JSON ``[[turn, status, note], ...]``."""
    record: str
    """JSON: the whole contract as the state snapshot encodes it."""


class TapeRow(SaveTable, table=True):
    """One creature's answer on one turn: what replay feeds back instead of a model."""

    __tablename__ = "tape"
    turn: int = Field(primary_key=True)
    seq: int = Field(primary_key=True)
    """Position among the turn's living creatures."""
    creature: str
    brain: str
    actions: str
    """JSON: the parsed actions (pydantic ``model_dump``), re-validated on load."""
    reasons: str
    """JSON: per applied-or-refused action, ``null`` (applied) or why it was refused."""
    problems: str
    """JSON: parts of the answer that could not be read as actions."""
    raw: str | None = None
    thinking: str = ""
    meta: str = "{}"
    """JSON: prompt, sections, tokens, latency, sampler, seed, model (empty for scripted brains)."""
    prompt_tokens: int | None = None
    answer_tokens: int | None = None
    latency_ms: float | None = None


ALL_ROWS: tuple[type[SaveTable], ...] = (MetaRow, TurnRow, CreatureRow, EventRow, TradeRow, MessageRow, OrderRow, ContractRow, TapeRow)
"""Every table, in the order they are created."""
