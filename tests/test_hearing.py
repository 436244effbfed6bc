"""Elders that hear: a rumour is believed by credulity and trust in its teller, believers act on
it, sceptics buy the dip, a false rumour is found out and costs its teller trust, and the bank-run
legend moves honey's price and lets it come back."""

from __future__ import annotations

from pathlib import Path

from engine import scenario as scenarios
from engine.economy.legends import FOUND_FALSE
from engine.elders.hearing import credulity, hear
from engine.elders.scripted import ScriptedBrain
from engine.saves import open_save, replay
from engine.saves.store import Autosaver
from engine.sweeps.compare import price_shocks, verdict
from engine.turn.game import Game
from engine.turn.observe import observe_all
from engine.turn.report import TurnReport

BANK_RUN = "run-on-oonas-hoard"


def _play(seed: int, turns: int, legend_at: int | None) -> tuple[Game, list[TurnReport]]:
    sc, _ = scenarios.load(None)
    game = Game(sc, seed, ScriptedBrain())
    reports = []
    for t in range(1, turns + 1):
        if t == legend_at:
            game.inject(BANK_RUN)
        reports.append(game.step())
    return game, reports


def test_credulity_is_read_from_the_personality() -> None:
    sc, _ = scenarios.load(None)
    game = Game(sc, 1, ScriptedBrain())
    by_name = {o.name: credulity(o) for o in observe_all(game.wood, game.wood.alive(), {})}
    assert by_name["Clover"] > by_name["Hazel"] > 0.5 > by_name["Barnaby"] > by_name["Rusk"]  # cheerful, nervous; blunt, sly


def test_believers_dump_sceptics_buy_the_dip_and_the_teller_and_its_subject_do_not_believe() -> None:
    game, _ = _play(3, 10, legend_at=10)
    heard = {o.name: hear(o) for o in observe_all(game.wood, game.wood.alive(), {})}
    assert heard["Hazel"].dumping == {"honey"}  # nervous: believes
    assert "honey" in heard["Barnaby"].dip and "honey" in heard["Rusk"].dip  # blunt, sly: buy the dip
    assert not heard["Clover"].believes and not heard["Oona"].believes  # the teller knows; the subject denies
    assert "Oona" in heard["Hazel"].doubted  # "her hoard is empty": no loans from her


def test_a_false_rumour_is_found_out_and_costs_its_teller_trust() -> None:
    game, reports = _play(3, 15, legend_at=10)
    found = [r.turn for r in reports if any(e.kind == "rumour" for e in r.events)]
    assert found == [14]  # found_out_after = 4
    assert any(i.text.startswith(FOUND_FALSE) and "Clover" in i.text for i in game.wood.clearing)
    for name in ("Hazel", "Rusk", "Barnaby", "Oona"):
        assert game.wood.by_name[name].trust["Clover"][1] >= 1, name
    obs = {o.name: o for o in observe_all(game.wood, game.wood.alive(), {})}
    assert hear(obs["Hazel"]).dumping == set() and "Clover" in hear(obs["Hazel"]).liars
    assert "honey" in hear(obs["Hazel"]).recovering
    said = [e.text for r in reports[13:] for e in r.events if e.kind == "say"]
    assert any("Clover" in t for t in said), said  # someone names the liar


def test_the_bank_run_moves_honey_at_least_30_percent_within_3_turns_and_it_comes_back() -> None:
    """The must-show of ``ttwood compare thousand-token-wood --seed 3 --turns 30 --legend
    run-on-oonas-hoard@10 --brain scripted``, on the run records the compare reads."""
    _, with_legend = _play(3, 30, legend_at=10)
    _, without = _play(3, 30, legend_at=None)
    a, b = [r.summary() for r in with_legend], [r.summary() for r in without]
    shocks = price_shocks(a, b, 10)
    assert shocks and shocks[0]["series"] == "price:honey", shocks
    honey = shocks[0]
    assert honey["change"] <= -0.3 and 10 <= honey["turn"] <= 13
    assert honey["found_false_at"] == 14 and honey["back_at"] is not None and honey["back_at"] > honey["found_false_at"] - 1
    text = verdict(a, b, ("with", "without"), "the legend")["text"]
    assert text.startswith("the legend moved the traded price of honey -") and "found false on turn 14" in text, text


def test_a_rumour_without_found_out_after_is_never_found_out() -> None:
    """Saves made before rumours could be found out replay as they played: their scenario has no
    ``found_out_after``, so nothing new happens and nothing new is saved."""
    text = scenarios.load(None)[1].replace(', teller = "Clover", found_out_after = 4', "")
    sc = scenarios.parse(text, "old.toml")
    game = Game(sc, 3, ScriptedBrain())
    game.inject(BANK_RUN)
    reports = game.run(8)
    assert not any(e.kind == "rumour" for r in reports for e in r.events)
    assert game.wood.rumours == [] and "rumours" not in game.wood.get_state()


def test_a_game_with_a_rumour_waiting_to_be_found_out_saves_and_replays(tmp_path: Path) -> None:
    sc, text = scenarios.load(None)
    game = Game(sc, 3, ScriptedBrain())
    path = tmp_path / "rumour.ttwood"
    with Autosaver.create(path, game, scenario_text=text, brains={"kind": "scripted"}, keyframe_every=2) as saver:
        for t in range(1, 16):
            if t == 10:
                game.inject(BANK_RUN)
            saver.record(game.step())
            if t == 11:
                assert game.wood.rumours  # keyframe 12 will hold it
    assert replay(path, verify=True).ok
    with open_save(path) as save:
        resumed = save.game_at(12)
        assert [r.found_out for r in resumed.wood.rumours] == [14]
