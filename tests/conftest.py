from __future__ import annotations

import os
import shutil
import tempfile

import pytest

# The product's default brain is the embedded model; tests that do not name a brain get the
# fast scripted one (tests of the model brains name it: --brain llama).
os.environ.setdefault("TTWOOD_BRAIN", "scripted")

from engine import scenario as scenarios
from engine.elders.scripted import ScriptedBrain
from engine.turn.game import Game

# What ttwood caches (the embedded model's Q8_0 copy, 145 MB) goes to a folder of this test session,
# not the user's, and goes away with the session.
_SESSION_CACHE: str | None = None
if "TTWOOD_CACHE_DIR" not in os.environ:
    _SESSION_CACHE = os.environ["TTWOOD_CACHE_DIR"] = tempfile.mkdtemp(prefix="ttwood-test-cache-")

MODEL_MODULES = {"test_llm_brains", "test_saves_llama", "test_learn", "test_spelling_decoder", "test_runtime_model"}
"""Test modules that load a GGUF model through llama.cpp: every test in them is marked ``model``."""


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _SESSION_CACHE is not None:
        shutil.rmtree(_SESSION_CACHE, ignore_errors=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of a model-loading module ``model`` (a marker given by hand stays too), so
    ``pytest -m "not model and not slow"`` is the fast loop."""
    for item in items:
        if item.module is not None and item.module.__name__.rsplit(".", 1)[-1] in MODEL_MODULES:
            item.add_marker(pytest.mark.model)


@pytest.fixture(scope="session")
def default_scenario() -> scenarios.Scenario:
    sc, _ = scenarios.load(None)
    return sc


@pytest.fixture()
def game(default_scenario: scenarios.Scenario) -> Game:
    return Game(default_scenario, 7, ScriptedBrain())
