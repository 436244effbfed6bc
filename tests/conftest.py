from __future__ import annotations

import os

import pytest

# The product's default brain is the embedded model; tests that do not name a brain get the
# fast scripted one (tests of the model brains name it: --brain llama).
os.environ.setdefault("TTWOOD_BRAIN", "scripted")

from engine import scenario as scenarios
from engine.minds.brains.scripted import ScriptedBrain
from engine.turn.game import Game


@pytest.fixture(scope="session")
def default_scenario() -> scenarios.Scenario:
    sc, _ = scenarios.load(None)
    return sc


@pytest.fixture()
def game(default_scenario: scenarios.Scenario) -> Game:
    return Game(default_scenario, 7, ScriptedBrain())
