"""``ttwood scenarios validate`` says when a scenario's budget leaves its creatures no room to act:
a wood of fifty goods validated, then every llama game stopped at turn 1 ("prompt takes 1297 of
1000 tokens"). Validation now names the creature, its prompt's tokens and the budget that works."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine import scenario as scenarios
from engine.minds.budget_fit import budget_fit

CMD = [sys.executable, "-c", "from ttwood.cli import main; main()"]
TRINKETS = [f"silver_trinket_{i}" for i in range(45)]


def fifty_goods(budget: int = 1000) -> str:
    """The default wood with 45 more goods, every creature holding three of each."""
    _, text = scenarios.load(None)
    goods = "".join(f'[[goods]]\nid = "{g}"\nkind = "other"\nperish = 0.0\nbase_value = 5\n\n' for g in TRINKETS)
    at = text.index("[[creatures]]")
    text = text[:at] + goods + text[at:]
    text = text.replace("holdings = { ", "holdings = { " + ", ".join(f"{g} = 3" for g in TRINKETS) + ", ")
    assert "\ntokens = 1000\n" in text
    return text.replace('id = "thousand-token-wood"', 'id = "fifty-goods"', 1).replace("\ntokens = 1000\n", f"\ntokens = {budget}\n")


def _wood(budget: int) -> scenarios.Scenario:
    _, text = scenarios.load(None)
    return scenarios.parse(text.replace("\ntokens = 1000\n", f"\ntokens = {budget}\n"), "small-budget")


def test_a_budget_too_small_for_the_prompt_is_found_and_the_one_that_works_is_named() -> None:
    fit = budget_fit(_wood(600), estimate=True)
    assert not fit.fits and fit.needed > 600 and fit.needed > fit.largest_prompt  # the untrimmable part alone
    problem = fit.problem()
    assert problem is not None and f"needs a budget of at least {fit.needed:,}" in problem
    assert fit.who in problem and "[budget] tokens = 600 leaves no room to act" in problem
    assert budget_fit(_wood(fit.needed), estimate=True).fits
    assert not budget_fit(_wood(fit.needed - 1), estimate=True).fits


@pytest.mark.parametrize("sid", scenarios.bundled_ids())
def test_every_bundled_scenario_fits_its_budget(sid: str) -> None:
    sc, _ = scenarios.load(sid)
    fit = budget_fit(sc, estimate=True)  # the cautious estimate: a model's tokenizer counts fewer
    assert fit.fits and fit.needed < 0.9 * fit.budget, fit


@pytest.mark.model
def test_validate_names_the_budget_that_works_and_a_llama_game_plays_with_it(tmp_path: Path) -> None:
    small = tmp_path / "small.toml"
    small.write_text(fifty_goods(), encoding="utf-8")
    env = dict(os.environ, TTWOOD_SAVES_DIR=str(tmp_path))
    done = subprocess.run([*CMD, "scenarios", "validate", str(small)], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 2 and "budget.tokens: [budget] tokens = 1,000 leaves no room to act" in done.stderr, done.stderr
    needed = int(done.stderr.split("needs a budget of at least ")[1].split(";")[0].replace(",", ""))
    died = subprocess.run([*CMD, "run", str(small), "--turns", "1", "--brain", "llama", "--threads", "2"], capture_output=True,
                          text=True, timeout=600, env=env)
    assert died.returncode == 2 and "leaving no room to answer" in died.stderr  # what validation warned of
    enough = tmp_path / "enough.toml"
    enough.write_text(fifty_goods(needed), encoding="utf-8")
    ok = subprocess.run([*CMD, "scenarios", "validate", str(enough)], capture_output=True, text=True, timeout=300, env=env)
    assert ok.returncode == 0, ok.stderr
    played = subprocess.run([*CMD, "run", str(enough), "--turns", "1", "--brain", "llama", "--threads", "2", "--json"],
                            capture_output=True, text=True, timeout=600, env=env)
    assert played.returncode == 0, played.stderr[-1500:]
    assert json.loads(played.stdout)["turns"] == 1
