from __future__ import annotations

import pytest

from engine import scenario as scenarios
from engine.brains.scripted import ScriptedBrain
from engine.game import Game


@pytest.fixture(scope="session")
def default_scenario() -> scenarios.Scenario:
    sc, _ = scenarios.load(None)
    return sc


@pytest.fixture()
def game(default_scenario: scenarios.Scenario) -> Game:
    return Game(default_scenario, 7, ScriptedBrain())
