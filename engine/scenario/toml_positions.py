"""Where things are in a TOML text: the line of every key path, for error messages a modder can act on.

:mod:`tomllib` parses TOML into plain dicts and forgets positions, so validation errors know a
key path (``creatures.1.capacity``) but not a line. :func:`scan` reads the same text once more,
only to record the line on which each key path and array element starts. It also guards the
parser: it measures how deeply values nest (refusing absurd nesting before :mod:`tomllib`
recurses into it), notices keys set twice, and says where an unterminated string, array or
inline table began.

The scanner trusts :mod:`tomllib` to judge syntax; on text it cannot follow it stops with
:class:`ScanError` and the caller falls back to what it has.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass, field

KeyPath = tuple[str | int, ...]
"""A path into the parsed document: table keys and array indices, as pydantic reports them."""

MAX_DEPTH = 12
"""Deepest nesting of arrays and inline tables a scenario may use (it needs about five)."""

_BARE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


class ScanError(Exception):
    """The scanner could not follow the text. ``line`` is where the trouble began."""

    def __init__(self, line: int, message: str, path: KeyPath = ()) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.path = path
        self.positions: Positions | None = None
        """What was found before the trouble (set by :func:`scan`)."""

    @property
    def too_deep(self) -> bool:
        return isinstance(self, TooDeep)


class TooDeep(ScanError):
    """Values nest deeper than :data:`MAX_DEPTH`."""


@dataclass(slots=True)
class Positions:
    """The line of every key path found in a TOML text."""

    lines: dict[KeyPath, int] = field(default_factory=dict)
    duplicates: list[tuple[KeyPath, int, int]] = field(default_factory=list)
    """Key paths set twice: ``(path, first line, second line)``."""

    def locate(self, loc: tuple[str | int, ...]) -> tuple[int, KeyPath]:
        """The line for a validation error's location, and the part of it found in the text.

        Parts that are not in the text are skipped (pydantic puts a union's tag, such as
        ``rumour``, into locations), so a missing key resolves to the table that lacks it.
        """
        cur: KeyPath = ()
        for part in loc:
            cand = cur + (part,)
            if cand in self.lines:
                cur = cand
        return self.lines.get(cur, 1), cur

    def key_near(self, line: int) -> KeyPath:
        """The key path that starts last on or before ``line`` (the deepest one on that line)."""
        best: KeyPath = ()
        best_line = 0
        for path, at in self.lines.items():
            if at <= line and (at > best_line or (at == best_line and len(path) > len(best))):
                best, best_line = path, at
        return best


def scan(text: str, max_depth: int = MAX_DEPTH) -> Positions:
    """Record the line of every key path in ``text``. Raises :class:`TooDeep` for absurd nesting
    and :class:`ScanError` where the text cannot be followed."""
    scanner = _Scanner(text, max_depth)
    try:
        return scanner.run()
    except ScanError as exc:
        exc.positions = scanner.out
        raise


class _Scanner:
    def __init__(self, text: str, max_depth: int) -> None:
        self.s = text
        self.n = len(text)
        self.i = 0
        self.max_depth = max_depth
        self.starts = [0] + [k + 1 for k, ch in enumerate(text) if ch == "\n"]
        self.out = Positions()
        self.explicit: dict[KeyPath, int] = {}
        self.aot: dict[KeyPath, int] = {}
        """Arrays of tables (``[[x]]``) by resolved path: how many elements so far."""

    # ------------------------------------------------------------ low level
    def line(self, i: int | None = None) -> int:
        return bisect.bisect_right(self.starts, self.i if i is None else i)

    def ch(self) -> str:
        return self.s[self.i] if self.i < self.n else ""

    def fail(self, msg: str, at: int | None = None, path: KeyPath = ()) -> ScanError:
        return ScanError(self.line(at), msg, path)

    def skip_blank(self, newlines: bool) -> None:
        """Skip spaces and tabs; with ``newlines``, also line breaks and comments."""
        while self.i < self.n:
            c = self.s[self.i]
            if c in " \t":
                self.i += 1
            elif newlines and c in "\r\n":
                self.i += 1
            elif newlines and c == "#":
                end = self.s.find("\n", self.i)
                self.i = self.n if end < 0 else end
            else:
                return

    def expect(self, token: str) -> None:
        if not self.s.startswith(token, self.i):
            raise self.fail(f"expected {token!r}")
        self.i += len(token)

    def record(self, path: KeyPath, line: int, *, explicit: bool) -> None:
        for k in range(1, len(path)):
            self.out.lines.setdefault(path[:k], line)
        if explicit:
            first = self.explicit.get(path)
            if first is not None:
                self.out.duplicates.append((path, first, line))
            else:
                self.explicit[path] = line
            self.out.lines[path] = line
        else:
            self.out.lines.setdefault(path, line)

    # ------------------------------------------------------------- document
    def run(self) -> Positions:
        table: KeyPath = ()
        while True:
            self.skip_blank(newlines=True)
            if self.i >= self.n:
                return self.out
            start = self.i
            if self.s.startswith("[[", self.i):
                self.i += 2
                self.skip_blank(False)
                keys = self.key()
                self.skip_blank(False)
                self.expect("]]")
                path = self.resolve(keys)
                idx = self.aot.get(path, 0)
                self.aot[path] = idx + 1
                table = path + (idx,)
                self.record(path, self.line(start), explicit=False)
                self.record(table, self.line(start), explicit=True)
            elif self.ch() == "[":
                self.i += 1
                self.skip_blank(False)
                keys = self.key()
                self.skip_blank(False)
                self.expect("]")
                table = self.resolve(keys)
                self.record(table, self.line(start), explicit=True)
            else:
                self.keyval(table, depth=0)
            self.skip_blank(False)
            if self.ch() == "#":
                self.skip_blank(True)
            elif self.i < self.n and self.ch() not in "\r\n":
                raise self.fail("expected the end of the line")

    def resolve(self, keys: list[str]) -> KeyPath:
        """A header's keys as a path: arrays of tables on the way resolve to their last element."""
        out: KeyPath = ()
        for k, key in enumerate(keys):
            out = out + (key,)
            if k < len(keys) - 1 and out in self.aot:
                out = out + (self.aot[out] - 1,)
        return out

    def keyval(self, table: KeyPath, depth: int) -> None:
        start = self.i
        keys = self.key()
        self.skip_blank(False)
        self.expect("=")
        self.skip_blank(False)
        path = table + tuple(keys)
        self.record(path, self.line(start), explicit=True)
        self.value(path, depth)

    def key(self) -> list[str]:
        parts = []
        while True:
            self.skip_blank(False)
            c = self.ch()
            if c == '"':
                raw = self.string()
                try:
                    parts.append(json.loads(raw))
                except ValueError:
                    parts.append(raw[1:-1])
            elif c == "'":
                parts.append(self.string()[1:-1])
            else:
                j = self.i
                while j < self.n and self.s[j] in _BARE:
                    j += 1
                if j == self.i:
                    raise self.fail("expected a key")
                parts.append(self.s[self.i : j])
                self.i = j
            self.skip_blank(False)
            if self.ch() != ".":
                return parts
            self.i += 1

    # --------------------------------------------------------------- values
    def value(self, path: KeyPath, depth: int) -> None:
        c = self.ch()
        if c in "\"'":
            self.string()
        elif c == "[":
            self.array(path, depth + 1)
        elif c == "{":
            self.inline_table(path, depth + 1)
        else:
            j = self.i
            while j < self.n and self.s[j] not in ",]}\r\n#":
                j += 1
            if j == self.i:
                raise self.fail("expected a value", path=path)
            self.i = j

    def deeper(self, path: KeyPath, depth: int) -> None:
        if depth > self.max_depth:
            raise TooDeep(
                self.line(), f"values nest more than {self.max_depth} levels deep here (arrays and inline tables)",
                tuple(path[: max((k + 1 for k, p in enumerate(path) if isinstance(p, str)), default=0)]),
            )

    def array(self, path: KeyPath, depth: int) -> None:
        opened = self.i
        self.deeper(path, depth)
        self.i += 1
        idx = 0
        while True:
            self.skip_blank(True)
            if self.i >= self.n:
                raise self.fail("this array is never closed with ']'", opened, path)
            if self.ch() == "]":
                self.i += 1
                return
            elem = path + (idx,)
            self.record(elem, self.line(), explicit=True)
            self.value(elem, depth)
            idx += 1
            self.skip_blank(True)
            if self.ch() == ",":
                self.i += 1
            elif self.ch() == "]":
                self.i += 1
                return
            elif self.i >= self.n:
                raise self.fail("this array is never closed with ']'", opened, path)
            else:
                raise self.fail("expected ',' or ']' in an array", path=path)

    def inline_table(self, path: KeyPath, depth: int) -> None:
        opened = self.i
        self.deeper(path, depth)
        self.i += 1
        while True:
            self.skip_blank(True)
            if self.i >= self.n:
                raise self.fail("this inline table is never closed with '}'", opened, path)
            if self.ch() == "}":
                self.i += 1
                return
            self.keyval(path, depth)
            self.skip_blank(True)
            if self.ch() == ",":
                self.i += 1
            elif self.ch() == "}":
                self.i += 1
                return
            elif self.i >= self.n:
                raise self.fail("this inline table is never closed with '}'", opened, path)
            else:
                raise self.fail("expected ',' or '}' in an inline table", path=path)

    def string(self) -> str:
        """Skip a string of any of TOML's four kinds; return its raw text, quotes included."""
        start = self.i
        s = self.s
        for quote in ('"""', "'''"):
            if s.startswith(quote, self.i):
                j = self.i + 3
                while True:
                    k = s.find(quote, j)
                    if k < 0:
                        raise self.fail("this string is never closed", start)
                    if quote == '"""':
                        back = 0
                        while k - 1 - back >= j and s[k - 1 - back] == "\\":
                            back += 1
                        if back % 2:
                            j = k + 1
                            continue
                    # Up to two quotes may sit just inside the closing delimiter.
                    end = k + 3
                    while end < self.n and s[end] == quote[0] and end - k < 5:
                        end += 1
                    self.i = end
                    return s[start:end]
        quote = s[self.i]
        j = self.i + 1
        while j < self.n:
            c = s[j]
            if c == "\\" and quote == '"':
                j += 2
                continue
            if c == quote:
                self.i = j + 1
                return s[start : self.i]
            if c == "\n":
                break
            j += 1
        raise self.fail("this string is never closed on its line", start)
