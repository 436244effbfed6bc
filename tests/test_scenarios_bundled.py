"""Every bundled scenario validates, runs 30 scripted turns through the CLI, and shows its dynamic.

The numbers below were measured with the scripted brain and seed 1 (the CLI's default seed);
each test asserts the story the scenario's description tells, with margins, not exact values.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from engine import scenario as scenarios
from engine.elders.scripted import ScriptedBrain
from engine.turn.game import Game
from engine.turn.report import TurnReport
from ttwood.cli import app

runner = CliRunner()
BUNDLED = scenarios.bundled_ids()


def play(sid: str, turns: int = 30, seed: int = 1, edit: Callable[[str], str] | None = None) -> tuple[Game, list[TurnReport]]:
    sc, text = scenarios.load(sid)
    if edit is not None:
        sc = scenarios.parse(edit(text), f"{sid} (edited)")
    game = Game(sc, seed, ScriptedBrain())
    return game, [game.step() for _ in range(turns)]


def traded(reports: list[TurnReport], good: str, turns: range) -> list[int]:
    """This good's traded price on each turn in ``turns`` that had a trade in it."""
    return [p for r in reports if r.turn in turns and (p := r.prices[good]) is not None]


def count(reports: list[TurnReport], kind: str, needle: str = "", turns: range = range(1, 10_000)) -> int:
    return sum(1 for r in reports if r.turn in turns for e in r.events if e.kind == kind and needle in e.text)


def test_at_least_six_bundled_scenarios_ship() -> None:
    assert {"thousand-token-wood", "commons-collapse", "credit-crunch", "long-winter", "market-50", "acorn-mania"} <= set(BUNDLED)


@pytest.mark.parametrize("sid", BUNDLED)
def test_each_runs_30_scripted_turns_through_the_cli(sid: str) -> None:
    result = runner.invoke(app, ["run", sid, "--turns", "30", "--brain", "scripted", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["scenario"] == sid and data["turns"] == 30
    assert data["conservation"]["ok"], data["conservation"]["detail"]["problems"]
    assert data["totals"]["trades"] > 0
    sc, _ = scenarios.load(sid)
    assert 20 <= len(sc.meta.description) <= 600


def test_commons_collapse_greedy_felling_ruins_the_forest_and_prudence_saves_it() -> None:
    game, reports = play("commons-collapse")
    start, end = reports[0].trees, reports[-1].trees
    assert end < 0.25 * start, (start, end)
    assert count(reports, "collapse") >= 10
    assert "the-last-grove" in [lg for r in reports for lg in r.legends]
    assert max(traded(reports, "firewood", range(19, 31))) > max(traded(reports, "firewood", range(1, 13)))
    assert game.conservation()[0]
    # The same wood with prudent beavers keeps most of its trees and loses no tile.
    _, prudent = play("commons-collapse", edit=lambda t: t.replace("greed = 2.5", "greed = 1.0"))
    assert prudent[-1].trees > 0.8 * prudent[0].trees
    assert count(prudent, "collapse") == 0


def test_credit_crunch_loans_then_a_cascade_of_defaults() -> None:
    game, reports = play("credit-crunch")
    assert count(reports, "contract", "loan", range(1, 10)) >= 8
    assert "hard-frost" in reports[5].legends
    assert sum(r.defaults for r in reports if r.turn < 9) == 0
    later = [r for r in reports if r.turn >= 9]
    assert sum(r.defaults for r in later) >= 5
    assert len({r.turn for r in later if r.defaults}) >= 4, "defaults come one after another, not at once"
    ruined = [c.name for c in game.wood.creatures if c.credit < 40]
    assert len(ruined) >= 2, ruined
    assert reports[-1].alive < 5
    assert game.conservation()[0]


def test_credit_crunch_is_leverage_and_the_frost_not_chance() -> None:
    """Across six seeds: the greedy wood defaults many times more than the same wood with prudent
    borrowers, and more with the frost than without it."""
    def defaults(edit: Callable[[str], str] | None) -> list[int]:
        return [sum(r.defaults for r in play("credit-crunch", seed=s, edit=edit)[1]) for s in range(1, 7)]

    greedy = defaults(None)
    prudent = defaults(lambda t: t.replace("greed = 3.0", "greed = 1.0"))
    no_frost = defaults(lambda t: t.replace("when = { turn = 6 }", "when = { on_demand = true }"))
    assert sum(greedy) >= 20 and sum(greedy) >= 4 * sum(prudent), (greedy, prudent)
    assert sum(1 for d in greedy if d >= 4) >= 4, greedy
    assert sum(no_frost) < sum(greedy), (no_frost, greedy)


def test_long_winter_fuel_prices_spike() -> None:
    _, reports = play("long-winter")
    autumn = traded(reports, "firewood", range(1, 7))
    deep = traded(reports, "firewood", range(13, 25))
    spring = traded(reports, "firewood", range(25, 31))
    assert max(autumn) <= 6
    assert deep and max(deep) >= 2.5 * (sum(autumn) / len(autumn))
    assert spring and min(spring) < max(deep)
    assert "fimbulwinter" in reports[11].legends
    cold_winter = sum(r.cold for r in reports if r.season == "winter")
    assert cold_winter > 10 * sum(r.cold for r in reports if r.season == "autumn") + 50


def test_market_50_is_a_big_busy_market() -> None:
    game, reports = play("market-50")
    assert len(game.wood.creatures) == 50
    assert len({c.name for c in game.wood.creatures}) == 50
    assert sum(c.role == "woodcutter" for c in game.wood.creatures) == 10
    assert min(r.trades for r in reports) >= 50
    assert sum(r.trades for r in reports) >= 2500
    traders = {e.text.split(" sold ")[0] for r in reports for e in r.events if e.kind == "trade"}
    assert len(traders) >= 40
    assert reports[-1].alive >= 45
    assert game.conservation()[0]


def test_market_50_toll_bridge_charges_fees_that_leave_the_books_balanced() -> None:
    sc, _ = scenarios.load("market-50")
    game = Game(sc, 1, ScriptedBrain())
    game.step()
    game.inject("toll-bridge")
    for _ in range(5):
        game.step()
    fees = game.wood.ledger.flows[("pebbles", "fee")]
    assert fees <= -100, fees
    assert game.conservation()[0]


def test_acorn_mania_soars_then_the_buyers_vanish() -> None:
    _, reports = play("acorn-mania")
    before = traded(reports, "acorns", range(1, 5))
    mania = traded(reports, "acorns", range(5, 14))
    after = traded(reports, "acorns", range(14, 31))
    assert max(mania) >= 3 * max(before)
    assert len(traded(reports, "acorns", range(15, 20))) == 0, "nobody buys acorns once the hoards are out"
    assert after and sum(after[-4:]) / len(after[-4:]) < max(mania)
