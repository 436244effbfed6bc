"""What a long game reports: who died, when and of what; who was alive at each season's end; and
whether what the creatures said of themselves was true."""

from __future__ import annotations

from engine import scenario as scenarios
from engine.elders.scripted import ScriptedBrain
from engine.turn.game import Game
from engine.turn.honesty import contradiction
from engine.turn.report import run_json

FOOD, FUEL = ["acorns", "honey"], ["firewood"]


def test_a_claim_is_checked_against_what_the_speaker_held() -> None:
    rich = {"honey": 18, "pebbles": 96, "firewood": 9}
    assert contradiction("My larder is bare. Buying acorns at 5.", rich, FOOD, FUEL, 3, 1) == "hungry"
    assert contradiction("Short of pebbles, Oona. 20 now?", rich, FOOD, FUEL, 3, 1) == "poor"
    assert contradiction("My fire is out. Buying firewood at 6, anyone?", rich, FOOD, FUEL, 3, 1) == "cold"
    poor = {"honey": 1, "pebbles": 4, "firewood": 0}
    for text in ("My larder is bare.", "Short of pebbles, Oona.", "My fire is out."):
        assert contradiction(text, poor, FOOD, FUEL, 3, 1) is None
    assert contradiction("Plenty of honey here, but no acorns for a proper meal.", rich, FOOD, FUEL, 3, 1) is None


def test_a_long_game_reports_deaths_survival_and_honest_speech() -> None:
    sc, _ = scenarios.load(None)
    game = Game(sc, 2, ScriptedBrain())
    reports = game.run(60)
    data = run_json(game, reports, brain="scripted")
    gone = [c.name for c in game.wood.creatures if not c.alive]
    assert [d["name"] for d in data["deaths"]] == sorted(gone, key=lambda n: (game.wood.by_name[n].left_turn, n))
    assert data["deaths"], "seed 2 loses a creature by turn 60"
    for d in data["deaths"]:
        assert d["cause"] in ("hunger", "cold") and d["turn"] == game.wood.by_name[d["name"]].left_turn
    seasons = data["survival"]
    assert len(seasons) == 60 // sc.seasons[0].length and seasons[0] == {"year": 1, "season": "spring", "from": 1, "to": 6, "alive": 5}
    assert seasons[-1]["alive"] == data["totals"]["alive"] and seasons[-1]["year"] == 3
    speech = data["speech"]
    assert speech["messages"] > 100 and speech["audited"] == speech["messages"]
    assert speech["contradicting"] == 0, speech["examples"]
    assert speech["distinct_per_100"] > 40
