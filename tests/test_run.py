"""The must-show numbers of the default wood, through the real command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from engine.turn.brain import HoldsNothing
from ttwood.cli import app

runner = CliRunner()


def run_json(*args: str) -> dict:
    result = runner.invoke(app, ["run", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def hundred() -> dict:
    return run_json("--turns", "100", "--seed", "7", "--brain", "scripted")


def test_json_has_the_promised_keys(hundred: dict) -> None:
    for key in ("scenario", "seed", "turns", "creatures", "per_turn", "conservation"):
        assert key in hundred
    assert hundred["scenario"] == "thousand-token-wood"
    assert hundred["turns"] == 100 and len(hundred["per_turn"]) == 100
    assert {c["name"] for c in hundred["creatures"]} == {"Barnaby", "Oona", "Hazel", "Clover", "Rusk"}
    for c in hundred["creatures"]:
        assert set(c) >= {"name", "species", "role"}
    turn = hundred["per_turn"][0]
    for key in ("turn", "season", "trades", "volume", "gini", "prices", "defaults", "trees", "valid_actions", "rejected_actions"):
        assert key in turn
    assert set(turn["prices"]) == {"firewood", "honey", "acorns", "berries", "mushrooms"}


def test_the_wood_is_alive(hundred: dict) -> None:
    turns = hundred["per_turn"]
    with_trades = sum(1 for t in turns if t["trades"] > 0)
    assert with_trades >= 90, f"trades in only {with_trades} of 100 turns"
    ginis = [t["gini"] for t in turns]
    assert max(ginis) - min(ginis) >= 0.1
    assert sum(t["defaults"] for t in turns) >= 1
    assert hundred["conservation"]["ok"], hundred["conservation"]["detail"]["problems"]


def test_winter_firewood_dearer_than_autumn(hundred: dict) -> None:
    prices = hundred["totals"]["season_prices"]["firewood"]
    assert prices["winter"] is not None and prices["autumn"] is not None
    assert prices["winter"] > prices["autumn"]


def test_same_seed_same_game_other_seed_other_game() -> None:
    a = run_json("--turns", "40", "--seed", "11")
    b = run_json("--turns", "40", "--seed", "11")
    c = run_json("--turns", "40", "--seed", "12")
    assert a["per_turn"] == b["per_turn"]
    assert a["final"] == b["final"]
    assert a["per_turn"] != c["per_turn"]


def test_console_script_prints_exactly_one_json_object() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ttwood.cli", "run", "--turns", "3", "--seed", "2", "--json"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    assert len(lines) == 1
    assert json.loads(lines[0])["turns"] == 3


def test_python_dash_m_ttwood_cli_defines_everything_before_it_runs() -> None:
    """`python -m ttwood.cli` runs the module as it is read: a helper defined below the
    ``if __name__ == "__main__"`` block did not exist yet (`bench llm` failed with a NameError)."""
    import ast
    from pathlib import Path

    import ttwood.cli

    body = ast.parse(Path(ttwood.cli.__file__).read_text()).body
    guards = [i for i, node in enumerate(body) if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test)]
    assert guards == [len(body) - 1]


def test_readable_summary() -> None:
    result = runner.invoke(app, ["run", "--turns", "5", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "books balance: ok" in result.stdout
    assert "Barnaby" in result.stdout


def test_unknown_scenario_is_one_clear_message() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ttwood.cli", "run", "no-such-wood", "--turns", "1"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert "no scenario called 'no-such-wood'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bench_engine_json() -> None:
    result = runner.invoke(app, ["bench", "engine", "--creatures", "12", "--turns", "5", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["creatures"] == 12 and data["turns"] == 5
    assert data["agent_turns"] > 0 and data["agent_turns_per_s"] > 0
    assert data["conservation_ok"] is True
    # every run plays the same turns: the sum of each turn's fastest is no slower than the fastest run
    assert 0 < data["best_turns_us_per_agent_turn"] <= data["us_per_agent_turn"] + 0.1
    assert data["cpu_us_per_agent_turn"] > 0


def test_season_prices_leave_out_swaps_as_the_turns_prices_do() -> None:
    """A goods-for-goods swap trades a good at no price: the season's average price is the
    sales' (2 acorns at 10), not dragged to 2.0 by 8 acorns swapped."""
    from types import SimpleNamespace

    from engine.turn.report import season_prices
    from engine.world.wood import Event

    events = [Event(1, "trade", "", {"good": "acorns", "qty": 2, "price": 10, "via": "book"}),
              Event(1, "trade", "", {"good": "acorns", "qty": 8, "price": 0, "via": "offer"})]
    turn = SimpleNamespace(prices={"acorns": 10}, events=events, season="spring")
    assert season_prices([turn], "acorns") == {"spring": 10.0}  # type: ignore[list-item]


def test_the_run_card_says_adapter_for_every_kind_of_wood() -> None:
    """`"model"` in `ttwood run --json` has `adapter` whatever decides: null for scripted creatures
    and for a server, the shared adapter in a mixed wood (it was missing for both)."""
    from engine.elders.scripted import ScriptedBrain
    from engine.minds.factory import run_card

    class Fake(HoldsNothing):
        def __init__(self, name: str, card: dict[str, object]) -> None:
            self.name, self._card = name, card

        def card(self) -> dict[str, object]:
            return self._card

        def decide(self, observations: list[object]) -> list[object]:
            return []

    wood = {"sha256": "d0e8", "name": "wood"}
    scripted = ScriptedBrain()
    server = Fake("http", {"name": "qwen", "server": "vllm"})
    llama = Fake("llama", {"name": "SmolLM2", "adapter": wood})
    assert run_card({"A": scripted, "B": scripted}) == {"name": "scripted", "adapter": None}
    assert run_card({"A": server, "B": scripted})["adapter"] is None
    assert run_card({"A": llama})["adapter"] == wood
    mixed = run_card({"A": llama, "B": Fake("llama", {"name": "Other", "adapter": wood}), "C": scripted})
    assert mixed["name"] == "mixed" and mixed["adapter"] == wood
    assert run_card({"A": llama, "B": server})["adapter"] is None  # no adapter shared
