"""Reading a scenario's text: TOML and the schema, with every error naming the file, the line and
the key path."""

from __future__ import annotations

import difflib
import json
import re
import tomllib
import types
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ValidationError,
)

from engine.core.errors import ScenarioError
from engine.scenario.base import NAME_PATTERN
from engine.scenario.legends import METRIC_PATTERN
from engine.scenario.schema import MAX_BYTES, MAX_KEY_DEPTH, MAX_SHOWN, Scenario, hint, path_text
from engine.scenario.toml_positions import KeyPath, Positions, ScanError, scan

# --------------------------------------------------------------------------- errors with lines


_PATTERN_WORDS = {
    NAME_PATTERN: "a name starts with a letter, uses only letters, digits, spaces, _ ' and -, and does not end with a space",
    r"^[a-z][a-z0-9_]*$": "a good id starts with a lower-case letter and uses only a-z, 0-9 and _",
    r"^[a-z0-9][a-z0-9-]*$": "an id uses only lower-case letters, digits and - (e.g. my-wood)",
    METRIC_PATTERN: "a metric is turn, trees, gini, alive, defaults or price.GOOD",
}


def _unwrap(tp: Any) -> Any:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def _step(tp: Any, part: str | int) -> tuple[Any, bool]:
    """The type one step down a validation location, and whether ``part`` was a union's tag."""
    tp = _unwrap(tp)
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        members = [_unwrap(m) for m in get_args(tp) if m is not type(None)]
        for m in members:
            if isinstance(m, type) and issubclass(m, BaseModel) and "kind" in m.model_fields:
                if part in get_args(m.model_fields["kind"].annotation):
                    return m, True
        for m in members:
            nxt, tag = _step(m, part)
            if nxt is not None:
                return nxt, tag
        return None, False
    if origin is list and isinstance(part, int):
        return get_args(tp)[0], False
    if origin is dict and isinstance(part, str):
        return get_args(tp)[1], False
    if origin is tuple and isinstance(part, int):
        args = get_args(tp)
        return (args[part] if part < len(args) else None), False
    if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str) and part in tp.model_fields:
        return tp.model_fields[part].annotation, False
    return None, False


def _walk(loc: tuple[str | int, ...]) -> tuple[KeyPath, Any]:
    """The location as a modder's key path (union tags dropped) and the type at its end's parent."""
    tp: Any = Scenario
    shown: list[str | int] = []
    parent: Any = Scenario
    for k, part in enumerate(loc):
        nxt, tag = _step(tp, part) if tp is not None else (None, False)
        if tag:
            tp = nxt
            continue
        if nxt is None and (k < len(loc) - 1 or get_origin(_unwrap(tp)) in (Union, types.UnionType)):
            continue  # a union member's label such as "list[constrained-str]"
        if k == len(loc) - 1:
            parent = _unwrap(tp)
        shown.append(part)
        tp = nxt
    return tuple(shown), parent


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, dict | list) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "…"


def _message(err: Any, path: KeyPath, parent: Any) -> str:
    kind = err["type"]
    msg: str = err["msg"]
    got = err.get("input")
    last = path[-1] if path else ""
    if kind == "missing":
        return f"required key {last!r} is missing"
    if kind == "extra_forbidden":
        allowed = list(parent.model_fields) if isinstance(parent, type) and issubclass(parent, BaseModel) else []
        table = f"[{path_text(path[:-1])}]" if path[:-1] else "the top level"
        return f"Extra inputs are not permitted: unknown key {last!r} in {table}{hint(str(last), allowed)}"
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    if kind == "string_pattern_mismatch":
        words = _PATTERN_WORDS.get(err.get("ctx", {}).get("pattern", ""), msg)
        return f"{words} (got {_short(got)})"
    if kind == "literal_error":
        expected = re.findall(r"'([^']*)'", err.get("ctx", {}).get("expected", ""))
        close = difflib.get_close_matches(str(got), expected, n=1, cutoff=0.6)
        return f"{msg} (got {_short(got)})" + (f"; did you mean {close[0]!r}?" if close else "")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"should be a table ([{path_text(path)}] or {{ key = value, … }}), not {_short(got)}"
    if kind == "list_type":
        return f"should be a list ([ … ]), not {_short(got)}"
    if kind == "union_tag_invalid":
        ctx = err.get("ctx", {})
        expected = re.findall(r"'([^']*)'", ctx.get("expected_tags", ""))
        return f"kind {ctx.get('tag')!r} is not one of {', '.join(expected)}{hint(str(ctx.get('tag')), expected)}"
    if kind == "union_tag_not_found":
        return "required key 'kind' is missing (rule, goods or rumour)"
    if isinstance(got, dict):
        return msg
    return f"{msg} (got {_short(got)})"


@dataclass(slots=True, frozen=True)
class Problem:
    """One thing wrong with a scenario file, where it is and why."""

    source: str
    line: int
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.path}: {self.reason}"


def _refuse(problems: list[Problem]) -> ScenarioError:
    problems = sorted(problems, key=lambda p: p.line)
    merged: list[Problem] = []
    for p in problems:
        if merged and (merged[-1].line, merged[-1].path) == (p.line, p.path):
            merged[-1] = Problem(p.source, p.line, p.path, f"{merged[-1].reason}, or {p.reason}")
        else:
            merged.append(p)
    lines = [str(p) for p in merged[:MAX_SHOWN]]
    if len(merged) > MAX_SHOWN:
        lines.append(f"… and {len(merged) - MAX_SHOWN} more")
    return ScenarioError("\n".join(lines))


def _one(source: str, line: int, path: str, reason: str) -> ScenarioError:
    return _refuse([Problem(source, line, path, reason)])


def _deepest(data: Any) -> KeyPath:
    """The longest key path in parsed data (walked without recursion)."""
    best: KeyPath = ()
    stack: list[tuple[Any, KeyPath]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if len(path) > len(best):
            best = path
        if isinstance(value, dict):
            stack.extend((v, path + (k,)) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, path + (i,)) for i, v in enumerate(value))
    return best


def parse(text: str, source: str = "<scenario>") -> Scenario:
    """Validate TOML text as a scenario. Every error names ``source``, the line and the key path
    (``mods/my-wood.toml:12: creatures.1.capacity: …``), all problems at once."""
    if len(text) > MAX_BYTES:
        raise _one(source, 1, "(whole file)", f"the file is {len(text):,} characters; a scenario may have at most {MAX_BYTES:,}")
    if not text.strip():
        raise _one(source, 1, "(whole file)", "the file is empty; a scenario needs [meta], [[seasons]], [[goods]] and [[creatures]]")
    try:
        positions = scan(text)
    except ScanError as exc:
        partial = exc.positions or Positions()
        where = path_text(exc.path or partial.key_near(exc.line))
        if exc.too_deep:
            raise _one(source, exc.line, where, exc.message) from None
        positions = None
        scan_hint: ScanError | None = exc
    else:
        scan_hint = None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(source, text, str(exc), positions, scan_hint) from None
    except RecursionError:
        raise _one(source, 1, "(whole file)", "values nest too deeply to read") from None
    positions = positions or Positions()
    for path, first, second in positions.duplicates:
        raise _one(source, second, path_text(path), f"set twice (first on line {first})")
    if not data:
        raise _one(source, 1, "(whole file)",
                   "the file has only comments; a scenario needs [meta], [[seasons]], [[goods]] and [[creatures]]")
    deep = _deepest(data)
    if len(deep) > MAX_KEY_DEPTH:
        line, _ = positions.locate(deep)
        raise _one(source, line, path_text(deep[: MAX_KEY_DEPTH + 1]),
                   f"keys nest {len(deep)} levels deep; a scenario needs at most {MAX_KEY_DEPTH}")
    try:
        sc = Scenario.model_validate(data, context={"cross_references": "caller"})
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            path, parent = _walk(tuple(err["loc"]))
            line, _ = positions.locate(tuple(err["loc"]))
            problems.append(Problem(source, line, path_text(path), _message(err, path, parent)))
        raise _refuse(problems) from None
    found = sc.problems()
    if found:
        raise _refuse([Problem(source, positions.locate(p)[0], path_text(p), why) for p, why in found])
    return sc


def _syntax_error(source: str, text: str, msg: str, positions: Positions | None, scan_hint: ScanError | None) -> ScenarioError:
    m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
    reason = re.sub(r"\s*\((at line \d+, column \d+|at end of document)\)", "", msg)
    if m:
        line, col = int(m.group(1)), int(m.group(2))
        where = f"column {col}"
    elif scan_hint is not None:
        line, where = scan_hint.line, scan_hint.message
    else:
        line, where = text.count("\n") + 1, "at the end of the file"
    if positions is not None and positions.duplicates:
        path, first, second = positions.duplicates[0]
        return _one(source, second, path_text(path), f"TOML syntax error: {path_text(path)} is set twice (first on line {first})")
    near = (scan_hint.positions if scan_hint is not None and scan_hint.positions else positions or Positions()).key_near(line)
    return _one(source, line, path_text(near), f"TOML syntax error: {reason} ({where})")
