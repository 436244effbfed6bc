"""Whether what the creatures say of themselves is true: the speech audit of a run.

A message states a need when it says the speaker's larder is bare, its fire out, or its purse
empty. It *contradicts* the speaker's holdings when, as it decided, the speaker held:

* a bare larder or an empty belly: at least ``meal_size`` units of food (it had a meal's worth,
  if not a varied one);
* a fire that is out, or a freezing den: at least :data:`FUEL_TURNS` turns of firewood;
* an empty or thin purse, or "short of pebbles": at least :data:`RICH` pebbles.

Messages are ``say`` and ``whisper`` actions the rules accepted; their texts are counted as they
were written (distinct texts per 100 messages measures variety).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from engine.turn.actions import Say, Whisper

if TYPE_CHECKING:
    from engine.turn.report import TurnReport

FUEL_TURNS = 3
"""Turns of firewood that make "my fire is out" untrue."""
RICH = 50
"""Pebbles that make "my purse is empty" untrue."""

_HUNGRY = re.compile(r"larder is bare|belly is empty|nothing to eat|starving|no food")
_COLD = re.compile(r"fire is out|freezing|no firewood|cold den")
_POOR = re.compile(r"short of pebbles|purse is (empty|thin)|no pebbles|i am broke|pebbles low")


def contradiction(text: str, held: dict[str, int], food: list[str], fuel: list[str], meal: int, fuel_need: int) -> str | None:
    """What a message claims that its speaker's holdings deny (``None``: nothing)."""
    low = text.lower()
    if _HUNGRY.search(low) and sum(held.get(g, 0) for g in food) >= meal:
        return "hungry"
    if _COLD.search(low) and sum(held.get(g, 0) for g in fuel) >= FUEL_TURNS * max(1, fuel_need):
        return "cold"
    if _POOR.search(low) and held.get("pebbles", 0) >= RICH:
        return "poor"
    return None


def speech_audit(reports: list[TurnReport], food: list[str], fuel: list[str], meal: int, fuel_need: int = 1) -> dict[str, Any]:
    """Messages, distinct texts per 100, and the share whose stated need contradicts the speaker's
    holdings (see the module's notes), with examples."""
    texts: list[str] = []
    wrong: list[dict[str, Any]] = []
    audited = 0
    for r in reports:
        for d in r.decided:
            for action, why in d.results:
                if why is not None or not isinstance(action, Say | Whisper):
                    continue
                texts.append(action.text)
                if not d.held:
                    continue
                audited += 1
                claim = contradiction(action.text, d.held, food, fuel, meal, fuel_need)
                if claim is not None:
                    wrong.append({"turn": r.turn, "creature": d.creature, "claim": claim, "text": action.text[:100]})
    n = len(texts)
    return {
        "messages": n,
        "distinct_texts": len(set(texts)),
        "distinct_per_100": round(100 * len(set(texts)) / n, 1) if n else None,
        "audited": audited,
        "contradicting": len(wrong),
        "contradicting_share": round(len(wrong) / audited, 4) if audited else None,
        "examples": wrong[:5],
        "how": "a message saying the larder is bare, the fire out or the purse empty while the speaker held a meal's "
               f"worth of food, {FUEL_TURNS} turns of firewood or {RICH} pebbles as it decided",
    }
