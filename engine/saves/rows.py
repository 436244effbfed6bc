"""The save file's tables, as SQLModel models (``*Row``) in a registry of their own, and the
views that show a turn's JSON as rows in the ``sqlite3`` shell.

One SQLite file holds one game:

- ``meta``: one row per key (format, app version, scenario text and hash, seed, brains).
- ``turns``: one row per turn. Its JSON columns hold what the turn did and left behind: the
  metrics, every creature's holdings, health and credit, the events (trades and messages
  included), the open orders, the tape of every answer (prompt, raw text, parsed actions,
  tokens, latency, sampler settings — scripted answers too), and, on keyframe turns, the
  whole state. Writing one row per turn keeps autosave cheap; the views below unpack it.
- ``contracts``: every finished contract (settled, defaulted, void) with its history.
- Views ``creatures``, ``events``, ``trades``, ``messages``, ``orders``, ``tape``: the turns'
  JSON as plain rows, e.g. ``SELECT turn, name, health FROM creatures WHERE name = 'Hazel'``.
  (They use SQLite's JSON functions, which the loader never runs on a file from elsewhere:
  it reads the JSON itself, with ``trusted_schema=OFF``.)
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
    """One played turn (turn 0 is the starting state)."""

    __tablename__ = "turns"
    turn: int = Field(primary_key=True)
    season: str
    gini: float
    """Exact Gini of wealth (the metrics JSON rounds it)."""
    metrics: str
    """JSON: every field of the turn's report except its events and answers."""
    creatures: str
    """JSON ``[[id, name, alive, health, credit, hungry, cold, {free}, {escrow}], ...]`` after the turn."""
    events: str
    """JSON ``[[kind, text, {data}], ...]`` in the order they happened."""
    orders: str
    """JSON ``[[id, owner, side, good, qty, price, placed, expires], ...]``: the book after the turn."""
    tape: str
    """JSON ``[[creature, brain, [actions], [reasons], [problems], raw, thinking, {meta}], ...]``:
    every answer, in the order the creatures decided (actions as pydantic ``model_dump``)."""
    injected: str = "[]"
    """JSON: legends the player asked for before this turn (replay asks for them again)."""
    state_hash: str
    """sha256 of the turn's check: its metrics, creatures, events and orders, and the state's
    fingerprint (every number of the state; see ``snapshot.fingerprint``)."""
    state: str | None = None
    """JSON: the whole state after this turn, on keyframe turns (every few turns and the last)."""
    full_hash: str | None = None
    """sha256 of ``state`` (keyframe turns)."""
    digest: str
    """sha256 over this row but ``state`` and ``full_hash`` (which check each other), checked on open."""


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
    digest: str
    """sha256 over the row's other columns."""


TURN_COLUMNS: tuple[str, ...] = tuple(TurnRow.model_fields)
"""The ``turns`` columns in table order (the order ``TurnRows.row`` gives them)."""
CONTRACT_COLUMNS: tuple[str, ...] = tuple(ContractRow.model_fields)
"""The ``contracts`` columns in table order."""

_J = "json_extract"
VIEWS: dict[str, str] = {
    "creatures": (
        f"SELECT t.turn AS turn, {_J}(c.value, '$[0]') AS creature_id, {_J}(c.value, '$[1]') AS name, "
        f"{_J}(c.value, '$[2]') AS alive, {_J}(c.value, '$[3]') AS health, {_J}(c.value, '$[4]') AS credit, "
        f"{_J}(c.value, '$[5]') AS hungry, {_J}(c.value, '$[6]') AS cold, {_J}(c.value, '$[7]') AS free, "
        f"{_J}(c.value, '$[8]') AS escrow FROM turns AS t, json_each(t.creatures) AS c"
    ),
    "events": (
        f"SELECT t.turn AS turn, e.key AS seq, {_J}(e.value, '$[0]') AS kind, {_J}(e.value, '$[1]') AS text, "
        f"{_J}(e.value, '$[2]') AS data FROM turns AS t, json_each(t.events) AS e"
    ),
    "trades": (
        f"SELECT t.turn AS turn, e.key AS seq, {_J}(e.value, '$[2].good') AS good, {_J}(e.value, '$[2].qty') AS qty, "
        f"{_J}(e.value, '$[2].price') AS price, {_J}(e.value, '$[2].buyer') AS buyer, "
        f"{_J}(e.value, '$[2].seller') AS seller, {_J}(e.value, '$[2].via') AS via "
        f"FROM turns AS t, json_each(t.events) AS e WHERE {_J}(e.value, '$[0]') = 'trade'"
    ),
    "messages": (
        f"SELECT t.turn AS turn, e.key AS seq, {_J}(e.value, '$[0]') AS kind, {_J}(e.value, '$[2].creature') AS sender, "
        f"{_J}(e.value, '$[2].to') AS recipient, {_J}(e.value, '$[1]') AS text "
        f"FROM turns AS t, json_each(t.events) AS e WHERE {_J}(e.value, '$[0]') IN ('say', 'whisper')"
    ),
    "orders": (
        f"SELECT t.turn AS turn, {_J}(o.value, '$[0]') AS order_id, {_J}(o.value, '$[1]') AS owner, "
        f"{_J}(o.value, '$[2]') AS side, {_J}(o.value, '$[3]') AS good, {_J}(o.value, '$[4]') AS qty, "
        f"{_J}(o.value, '$[5]') AS price, {_J}(o.value, '$[6]') AS placed, {_J}(o.value, '$[7]') AS expires "
        f"FROM turns AS t, json_each(t.orders) AS o"
    ),
    "tape": (
        f"SELECT t.turn AS turn, a.key AS seq, {_J}(a.value, '$[0]') AS creature, {_J}(a.value, '$[1]') AS brain, "
        f"{_J}(a.value, '$[2]') AS actions, {_J}(a.value, '$[3]') AS reasons, {_J}(a.value, '$[4]') AS problems, "
        f"{_J}(a.value, '$[5]') AS raw, {_J}(a.value, '$[6]') AS thinking, {_J}(a.value, '$[7]') AS meta, "
        f"{_J}(a.value, '$[7].prompt') AS prompt, {_J}(a.value, '$[7].prompt_tokens') AS prompt_tokens, "
        f"{_J}(a.value, '$[7].answer_tokens') AS answer_tokens, {_J}(a.value, '$[7].latency_ms') AS latency_ms "
        f"FROM turns AS t, json_each(t.tape) AS a"
    ),
}
"""Views over the turns' JSON, for people reading a save with the ``sqlite3`` shell."""
VIEWS_SINCE: dict[str, int] = {"messages": 2}
"""Views added after format 1, with the format that added them."""
