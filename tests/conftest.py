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


SLOW_SECONDS = 5.0
"""A test that takes longer belongs out of the fast loop: mark it ``slow``."""
_UNMARKED_SLOW: list[tuple[str, float]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.duration > SLOW_SECONDS and not {"slow", "model"} & set(report.keywords):
        _UNMARKED_SLOW.append((report.nodeid, report.duration))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Name the tests of the fast loop that took over :data:`SLOW_SECONDS` (on a busy machine, a few may)."""
    if _UNMARKED_SLOW:
        terminalreporter.section(f"over {SLOW_SECONDS:g} s and not marked slow (mark them, to keep the fast loop fast)")
        for nodeid, seconds in sorted(_UNMARKED_SLOW, key=lambda x: -x[1]):
            terminalreporter.line(f"{seconds:5.1f}s {nodeid}")


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
