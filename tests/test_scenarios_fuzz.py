"""The line locator agrees with tomllib, and no mangled scenario escapes as anything but a ScenarioError."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import scenario as scenarios
from engine.core.errors import ScenarioError
from engine.scenario.toml_positions import scan

SCENARIOS = Path(__file__).parent.parent / "scenarios"
DEFAULT = (SCENARIOS / "thousand-token-wood.toml").read_text(encoding="utf-8")
PROBLEM = re.compile(r"^mods/fuzz\.toml:(\d+): \S.*?: \S")


def paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(data, dict):
        for k, v in data.items():
            out += paths(v, prefix + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += paths(v, prefix + (i,))
    return out


@pytest.mark.parametrize("sid", scenarios.bundled_ids())
def test_every_key_path_of_a_bundled_file_has_its_line(sid: str) -> None:
    text = (SCENARIOS / f"{sid}.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    lines = text.splitlines()
    found = scan(text)
    assert found.duplicates == []
    for p in paths(data):
        assert p in found.lines, p
        key = p[-1]
        if isinstance(key, str) and not isinstance(p[-2] if len(p) > 1 else None, int):
            # A key's line holds the key itself (or its table header).
            assert key in lines[found.lines[p] - 1], (p, lines[found.lines[p] - 1])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(
        st.tuples(st.integers(0, len(DEFAULT) - 1), st.integers(0, 4), st.sampled_from(list('"[]{}=,.#\n\'x0-é\\ '))),
        min_size=1, max_size=4,
    )
)
def test_mangled_text_is_refused_with_a_line_or_loads(edits: list[tuple[int, int, str]]) -> None:
    text = DEFAULT
    for at, cut, ch in edits:
        at = min(at, len(text))
        text = text[:at] + ch + text[at + cut:]
    try:
        scenarios.parse(text, "mods/fuzz.toml")
    except ScenarioError as exc:
        first = str(exc).splitlines()[0]
        m = PROBLEM.match(first)
        assert m, first
        assert 1 <= int(m.group(1)) <= text.count("\n") + 1, first
