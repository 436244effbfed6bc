"""The state contract: every stateful object gives its state and takes it back.

Concordia's ``get_state``/``set_state``, kept small:

- A **record** (a plain dataclass the wood holds: a creature, a tile, an order, a contract…)
  derives from :class:`Record`. Its state is the list of its fields' values in field order, as
  plain JSON (records inside it as their own states, sets sorted, tuples as lists, statuses as
  their values). :meth:`Record.from_state` validates a state with pydantic and builds the record;
  :meth:`Record.set_state` puts a state into a record in place (every index that points at it
  stays right). A field added to a record is saved with no other change.
- An **object** with behaviour (``Wood``, ``Ledger``, ``OrderBook``, ``Deals``, ``Game``) gives
  its own attributes as a ``TypedDict`` from ``get_state()`` and takes them back, validated, in
  ``set_state(state, layout)``; objects it holds give and take their own (the save composes
  them). Every attribute is listed as saved or derived, and ``get_state`` refuses an object
  with an attribute in neither list (:func:`check_covered`), so nothing is lost silently.

States are JSON-able: ``orjson`` writes them, and ``set_state`` takes them back from that JSON.
A **layout** names each record's fields in the order a state lists them (a save stores the one
it was written with): a state written before a field was added still reads, the new field
taking its default.
"""

from __future__ import annotations

import dataclasses
import operator
import types
import typing
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from typing import Any, Self, TypeAlias, TypedDict, cast

import orjson
from pydantic import TypeAdapter, ValidationError

from engine.core.errors import EngineBug

Json: TypeAlias = "str | int | float | bool | None | list[Json] | dict[str, Json]"
"""A value as JSON holds it."""
Layout: TypeAlias = Mapping[str, Sequence[str]]
"""Record class name -> its field names, in the order its state lists them."""


class StateError(ValueError):
    """A state that is not one this engine can hold; the message says where and why."""


class GameState(TypedDict):
    """What :meth:`engine.turn.game.Game.get_state` gives: the game's carry-over between turns.

    (It lives here, in the lowest room, so that the game and the save can both name it.)"""

    _rejections: list[tuple[int, list[str]]]
    """Last turn's refused actions per creature index, shown to each in its next observation."""
    last_gini: float
    """Last turn's Gini (0 before the first turn), which the next turn's legends read. Derived
    from the game's reports: ``set_state`` checks it against them."""


# ------------------------------------------------------------------ records
class Record:
    """Base of the plain dataclasses the wood holds: their state is their fields, in order."""

    __slots__ = ()

    def get_state(self) -> list[Json]:
        """Every field's value in field order, as plain JSON."""
        state: list[Json] = orjson.loads(to_json(self))
        return state

    @classmethod
    def from_state(cls, state: object, layout: Layout | None = None, where: str = "") -> Self:
        """A new record from its state (``layout``: the fields the state lists; default: ours).

        Raises :class:`StateError` naming ``where`` and the field that is wrong."""
        made: Self = decode(cls, state, layout, where or cls.__name__)
        return made

    def set_state(self, state: object, layout: Layout | None = None, where: str = "") -> None:
        """Put a state into this record in place (see :meth:`from_state`)."""
        self.update_from(self.from_state(state, layout, where))

    def update_from(self, other: Self) -> None:
        """Take every field of another record of this class (this object keeps its identity)."""
        for n in _field_names(type(self)):
            setattr(self, n, getattr(other, n))


_FIELDS: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    """A record class's field names, in order (looked up once)."""
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cast(Any, cls)))
    return names


def optional_fields(cls: type) -> frozenset[str]:
    """The fields of a record class that have a default (a state may lack them)."""
    return frozenset(f.name for f in dataclasses.fields(cast(Any, cls))
                     if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING)


def layout_of(classes: Iterable[type]) -> dict[str, list[str]]:
    """The current layout of some record classes (by name, in the order given)."""
    return {cls.__name__: list(_field_names(cls)) for cls in classes}


_GETTERS: dict[type, Callable[[Any], tuple[Any, ...]]] = {}


def _fields_of(record: Record) -> tuple[Any, ...]:
    """A record's field values, in order (a getter made once per class)."""
    cls = type(record)
    get = _GETTERS.get(cls)
    if get is None:
        names = _field_names(cls)
        many = operator.attrgetter(*names)
        get = _GETTERS[cls] = many if len(names) > 1 else (lambda r: (many(r),))
    return get(record)


def _json_default(value: Any) -> Any:
    if isinstance(value, Record):
        return _fields_of(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    if isinstance(value, deque):
        return list(value)
    raise TypeError(f"a state cannot hold a {type(value).__name__}")


def to_json(value: Any) -> bytes:
    """Canonical JSON of a value that may hold records (each written as its state: its fields in
    order), sets (sorted), tuples and deques (as lists) and enums (as their values).

    Raises ``TypeError`` for anything else."""
    return orjson.dumps(value, default=_json_default, option=orjson.OPT_PASSTHROUGH_DATACLASS)


def states(records: Iterable[Record]) -> list[list[Json]]:
    """The states of many records at once."""
    out: list[list[Json]] = orjson.loads(to_json(list(records)))
    return out


# ------------------------------------------------------------------ reading states back
def _named(tp: Any, v: Any, layout: Layout) -> Any:
    """Turn records' field lists back into dicts by name, guided by the type hints, for pydantic."""
    if v is None:
        return None
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        fields = layout.get(tp.__name__)
        if fields is None:
            raise StateError(f"no field names for {tp.__name__}")
        if not isinstance(v, list) or len(v) != len(fields):
            raise StateError(f"a {tp.__name__} must be a list of {len(fields)} values")
        hints = typing.get_type_hints(tp)
        return {n: _named(hints[n], x, layout) if n in hints else x for n, x in zip(fields, v, strict=True)}
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (list, set, frozenset, deque) and isinstance(v, list) and args:
        return [_named(args[0], x, layout) for x in v]
    if origin is tuple and isinstance(v, list) and args:
        if len(args) == 2 and args[1] is Ellipsis:
            return [_named(args[0], x, layout) for x in v]
        if len(args) == len(v):
            return [_named(a, x, layout) for a, x in zip(args, v, strict=True)]
        return v
    if origin is dict and isinstance(v, dict) and args:
        return {k: _named(args[1], x, layout) for k, x in v.items()}
    if origin in (typing.Union, types.UnionType):
        real = [a for a in args if a is not type(None)]
        if len(real) == 1:
            return _named(real[0], v, layout)
    return v


@cache
def adapter(tp: Any) -> TypeAdapter[Any]:
    """The pydantic validator of a type (made once)."""
    return TypeAdapter(tp)


@cache
def current_layout(tp: Any) -> dict[str, list[str]]:
    """Today's layout of every record class a type holds (``Tile``, ``list[Contract]``, …)."""
    out: dict[str, list[str]] = {}

    def walk(tp: Any) -> None:
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            if tp.__name__ not in out:
                out[tp.__name__] = list(_field_names(tp))
                for h in typing.get_type_hints(tp).values():
                    walk(h)
            return
        for a in typing.get_args(tp):
            walk(a)

    walk(tp)
    return out


def decode(tp: Any, value: object, layout: Layout | None, where: str) -> Any:
    """Validate ``value`` as type ``tp`` (records from their states by ``layout``; default:
    ours). Raises :class:`StateError` naming ``where`` and what is wrong."""
    try:
        return adapter(tp).validate_python(_named(tp, value, current_layout(tp) if layout is None else layout))
    except ValidationError as exc:
        e = exc.errors()[0]
        loc = "".join(f".{p}" for p in e["loc"])
        raise StateError(f"{where}{loc}: {e['msg']}") from None
    except StateError as exc:
        raise StateError(f"{where}: {exc}") from None


def take(state: object, key: str, tp: Any, layout: Layout | None, where: str) -> Any:
    """``state[key]`` validated as ``tp`` (see :func:`decode`); :class:`StateError` if missing."""
    if not isinstance(state, Mapping) or key not in state:
        raise StateError(f"{where}.{key} is missing")
    return decode(tp, state[key], layout, f"{where}.{key}")


def check_covered(obj: object, saved: Iterable[str], derived: Iterable[str]) -> None:
    """Raise :class:`EngineBug` if ``obj`` has an attribute its state neither saves nor derives."""
    unknown = sorted(set(vars(obj)) - set(saved) - set(derived))
    if unknown:
        name = type(obj).__name__
        raise EngineBug(
            f"{name}.{unknown[0]} is neither saved nor derived by the save format: give and take it "
            f"in {name}.get_state/set_state and list it as saved, or list it as derived"
        )
