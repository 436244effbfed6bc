"""Scenario values that used to validate and then crash later: a rule pushed out of its range by
legends, a budget longer than the model's context, markup in a description shown by the UI.
(The refusals themselves are in the bad-scenario corpus, ``tests/data/bad_scenarios``.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import scenario as scenarios
from engine.minds.factory import BrainChoice, make_brains
from engine.scenario.legends import RULE_NAMES, rule_range
from engine.scenario.schema import USER_DIR_ENV
from engine.world.wood import Modifier
from tests.helpers import TINY, tiny_game


@pytest.mark.parametrize("rule", RULE_NAMES)
def test_stacked_legends_hold_a_rule_to_its_range(rule: str) -> None:
    game = tiny_game()
    lo, hi = rule_range(rule)
    for _ in range(12):  # a thousandfold, twelve times over: 1e36 unchecked
        game.wood.modifiers.append(Modifier(rule, "multiply", 1000.0, 99, "test"))
    assert game.wood.rule(rule, 1.0) == hi
    game.wood.modifiers.append(Modifier(rule, "set", -5.0, 99, "test"))
    assert game.wood.rule(rule, 1.0) == lo


def test_a_legend_that_multiplies_needs_a_thousandfold_plays_on() -> None:
    game = tiny_game()
    for name in ("needs.meal_size", "needs.hunger_damage", "cold", "market.order_fee"):
        for _ in range(6):
            game.wood.modifiers.append(Modifier(name, "multiply", 1000.0, 99, "test"))
    game.run(3)
    ok, detail = game.conservation()
    assert ok, detail


def test_a_rule_a_legend_does_not_touch_is_not_clamped() -> None:
    game = tiny_game()
    # (a season's cold plus its rise may pass the plain number; only a changed rule is held to the range)
    assert game.wood.rule("cold", 123_456.0) == 123_456.0


def test_a_description_with_markup_is_shown_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.text import Text

    from ttwood_tui.screens.games import scenario_options

    text = TINY.replace('name = "Tiny"', 'name = "Tiny"\ndescription = "a [/bold] wood [red]"', 1)
    (tmp_path / "tiny.toml").write_text(text)
    monkeypatch.setenv(USER_DIR_ENV, str(tmp_path))
    labels = dict(scenario_options())
    assert "tiny" in labels
    # Escaped: it parses as markup (an unescaped [/bold] raises MarkupError) and shows the brackets.
    assert "a [/bold] wood [red]" in Text.from_markup(labels["tiny"]).plain


@pytest.mark.model
def test_a_budget_longer_than_the_models_context_is_refused_before_the_game() -> None:
    from engine.minds.brains.llama_model import ModelError

    sc, _ = scenarios.load(None)
    big = sc.model_copy(update={"budget": sc.budget.model_copy(update={"tokens": 100_000})})
    with pytest.raises(ModelError, match=r"budget.tokens \(100,000\) is more than .* context of 8,192 tokens"):
        make_brains(big, BrainChoice(kind="llama", adapter="none"))
