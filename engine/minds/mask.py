"""The action mask as a JSON Schema: :class:`~engine.minds.choices.Choices` for servers that take
a schema instead of a grammar (OpenAI's ``json_schema`` response format, which Ollama also reads).

It admits the same answers as the GBNF grammar (:mod:`engine.minds.grammar`): every key is
required (an optional key is a separate branch with and without it), no other key is allowed, and
strings carry the grammar's character classes as patterns (ECMA-262: ``$`` is the end). JSON
objects have no key order, so the grammar is the stricter of the two in that one respect: it wants
keys in the order given by the choices (:func:`engine.minds.choices.answer_json` writes them so).
A value used by several branches (a creature list, a collateral bundle) is written once, in
``$defs``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from engine.minds.choices import SPEECH_CHARS, SPEECH_FIRST, THOUGHT_CHARS, Bundle, Choices, Const, Ints, Kind, OneOf, Text, Value, flat


def _int(lo: int, hi: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": lo, "maximum": hi}


def _obj(props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


def value_schema(v: Value) -> dict[str, Any]:
    """The schema of one value."""
    if isinstance(v, Const):
        return {"const": v.value}
    if isinstance(v, Ints):
        return _int(v.lo, v.hi)
    if isinstance(v, OneOf):
        return {"enum": list(v.values)}
    if isinstance(v, Text):
        if v.kind == "thought":
            return {"type": "string", "maxLength": v.most, "pattern": f"^[{THOUGHT_CHARS}]*$"}
        return {"type": "string", "minLength": 1, "maxLength": v.most, "pattern": f"^[{SPEECH_FIRST}][{SPEECH_CHARS}]*$"}
    return bundle_schema(v)


def bundle_schema(b: Bundle) -> dict[str, Any]:
    """An object of 1..``b.most`` of the assets, each 1..its limit."""
    return {
        "type": "object",
        "properties": {a: _int(1, q) for a, q in b.limits},
        "additionalProperties": False,
        "minProperties": 1,
        "maxProperties": b.most,
    }


def kind_schemas(k: Kind, value: Callable[[Value], dict[str, Any]] = value_schema) -> list[dict[str, Any]]:
    """One object schema for every run of keys the kind allows."""
    return [_obj({"type": {"const": k.type}, **{f.key: value(f.value) for f in run}}) for run in flat(k.parts)]


SHARED_CHARS = 40
"""A value's schema this long or longer, used more than once, goes in ``$defs``."""


def mask_schema(choices: Choices) -> dict[str, Any]:
    """The JSON Schema of a whole answer: ``{"thinking": ..., "actions": [...]}``."""
    uses: dict[Value, int] = {}
    for k in choices.kinds:
        for run in flat(k.parts):
            for f in run:
                uses[f.value] = uses.get(f.value, 0) + 1
    defs: dict[str, Any] = {}
    refs: dict[Value, dict[str, Any]] = {}
    for v, n in uses.items():
        s = value_schema(v)
        if n > 1 and len(json.dumps(s)) >= SHARED_CHARS:
            name = f"v{len(defs)}"
            defs[name] = s
            refs[v] = {"$ref": f"#/$defs/{name}"}

    def value(v: Value) -> dict[str, Any]:
        return refs.get(v) or value_schema(v)

    items = [s for k in choices.kinds for s in kind_schemas(k, value)]
    actions: dict[str, Any] = {"type": "array", "maxItems": choices.actions if items else 0}
    if items:
        actions["items"] = {"anyOf": items}
    schema = _obj({"thinking": value_schema(Text(choices.thinking, "thought")), "actions": actions})
    if defs:
        schema["$defs"] = defs
    return schema
