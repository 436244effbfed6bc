"""What every scenario table shares: the strict base model and the id and name types."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

Role = Literal["woodcutter", "producer", "lender", "trader", "patron"]
"""``patron``: the player's purse in the wood. It has no needs, is left out of the Gini, and acts
only through the actions its brain queues (the TUI adds one; a scripted patron does nothing)."""


def _unprintable(v: str, allowed: str = "") -> str | None:
    """The first control, formatting (a right-to-left override, a zero-width joiner…), private or
    unassigned character of ``v`` as its code point and name (``U+202E RIGHT-TO-LEFT OVERRIDE``), else None."""
    for ch in v:
        if unicodedata.category(ch)[0] == "C" and ch not in allowed or unicodedata.category(ch) in ("Zl", "Zp"):
            return f"U+{ord(ch):04X} {unicodedata.name(ch, '(a control character)')}"
    return None


def _label(v: str) -> str:
    bad = _unprintable(v)
    if bad is not None:
        raise ValueError(f"holds the control or formatting character {bad}; a label is plain printable text")
    if "[" in v or "]" in v:
        raise ValueError("holds a square bracket; a label has none (the terminal would read it as markup)")
    if v != v.strip():
        raise ValueError("starts or ends with a space")
    return v


def _prose(v: str) -> str:
    bad = _unprintable(v, allowed="\n")
    if bad is not None:
        raise ValueError(f"holds the control or formatting character {bad}; text here is plain printable text (and line breaks)")
    return v


Label = Annotated[str, AfterValidator(_label)]
"""A short name shown as it is (a title, a season, a species, a glyph): printable characters, no
square brackets (terminal markup), no spaces at either end."""
Prose = Annotated[str, AfterValidator(_prose)]
"""Free text (a description, a personality, a rumour): printable characters and line breaks; the
screens escape any markup in it."""
NAME_PATTERN = r"^[A-Za-z](?:[A-Za-z0-9 _'-]*[A-Za-z0-9_'-])?$"
Name = Annotated[str, Field(min_length=1, max_length=40, pattern=NAME_PATTERN)]
"""A creature's name: ASCII letters first, then letters, digits, spaces, ``_``, ``'`` and ``-``;
no space at the end. Names are unique ignoring case."""
GoodId = Annotated[str, Field(min_length=1, max_length=24, pattern=r"^[a-z][a-z0-9_]*$")]
ScenarioId = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[a-z0-9][a-z0-9-]*$")]

TILES = {"T": "forest", ".": "meadow", "~": "water"}
"""The characters of a map layout and the tile kind each stands for."""


class Strict(BaseModel):
    """Base for every scenario table: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True, allow_inf_nan=False)
