"""A scenario of the largest cast validates, and ``play`` can add the player's Patron to it (it was
refused as 5,001 creatures); a second Patron is counted like any creature."""

from __future__ import annotations

import pytest

from engine import scenario as scenarios
from engine.core.errors import ScenarioError
from engine.scenario import MAX_CAST
from engine.session.patron import with_patron


def _full_cast() -> str:
    _, text = scenarios.load("market-50")
    assert text.count("count = 9\n") == 5  # five kinds of 1 + 9 copies
    per_kind = MAX_CAST // 5 - 1
    return text.replace("count = 9\n", f"count = {per_kind}\n", 5)


def test_the_largest_cast_plays_with_the_patron() -> None:
    text = _full_cast()
    assert len(scenarios.parse(text, "full").expanded_cast()) == MAX_CAST
    with_player = scenarios.parse(with_patron(text), "full")
    assert len(with_player.expanded_cast()) == MAX_CAST + 1
    assert sum(c.role == "patron" for c in with_player.expanded_cast()) == 1


def test_one_more_creature_is_still_refused() -> None:
    text = _full_cast().replace(f"count = {MAX_CAST // 5 - 1}\n", f"count = {MAX_CAST // 5}\n", 1)
    with pytest.raises(ScenarioError, match=f"the cast would have {MAX_CAST + 1} creatures; at most {MAX_CAST}"):
        scenarios.parse(text, "full")


def test_a_second_patron_counts() -> None:
    text = with_patron(_full_cast())
    twice = text + text[text.index("[[creatures]]", text.index("Added by the session")):].replace('"Patron"', '"Patron 2"', 1)
    with pytest.raises(ScenarioError, match=f"at most {MAX_CAST}"):
        scenarios.parse(twice, "full")
