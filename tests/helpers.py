"""A tiny wood for unit tests, and a way to act in it directly."""

from __future__ import annotations

from engine import scenario as scenarios
from engine.elders.scripted import ScriptedBrain
from engine.turn import actions as A
from engine.turn.game import Game
from engine.turn.rules import resolve

TINY = """
[meta]
id = "tiny"
name = "Tiny"

[map]
width = 6
height = 4

[[seasons]]
name = "always"
length = 4
cold = 1

[[goods]]
id = "firewood"
kind = "fuel"
base_value = 4

[[goods]]
id = "nuts"
kind = "food"
perish = 0.1
base_value = 3

[[goods]]
id = "jam"
kind = "food"
base_value = 5

[[creatures]]
name = "Ada"
species = "beaver"
role = "woodcutter"
makes = "firewood"
capacity = 5
holdings = { pebbles = 50, firewood = 10, nuts = 3, jam = 3 }

[[creatures]]
name = "Bo"
species = "squirrel"
role = "producer"
makes = "nuts"
capacity = 4
holdings = { pebbles = 40, nuts = 10, firewood = 4, jam = 2 }

[[creatures]]
name = "Cy"
species = "owl"
role = "lender"
makes = "jam"
capacity = 3
holdings = { pebbles = 100, jam = 10, firewood = 4, nuts = 2 }

[needs]
meal_size = 2
"""


def tiny_game(seed: int = 1, text: str = TINY) -> Game:
    return Game(scenarios.parse(text, "tiny.toml"), seed, ScriptedBrain())


def act(game: Game, name: str, action: A.Action) -> str | None:
    """Apply one action for a creature now; ``None`` if applied, else the refusal."""
    return resolve(game.wood, game.wood.by_name[name], action, set())


def books_ok(game: Game) -> None:
    ok, detail = game.conservation()
    assert ok, detail["problems"]
