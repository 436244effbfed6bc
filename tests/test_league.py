"""``ttwood league``: seat-swap pairs differ only in the seat's brain (same seed, same other brains,
read back from the saves the games wrote), the intervals come from the pairs (paired differences,
Student's t), and bad input is one clear message."""

from __future__ import annotations

import json
import math
from pathlib import Path
from statistics import fmean, stdev
from typing import Any

import pytest
from typer.testing import CliRunner

from engine.core.errors import TTWoodError
from engine.saves import open_save
from engine.sweeps import Options, Sweep, parse_brain
from engine.sweeps.intervals import interval, t_quantile
from engine.sweeps.league import EVERY_SEAT, LEAGUE, METRICS, PAIRS, league_rows, pair_rows, plan, wood_rows, write_tables
from engine.sweeps.report import write_report
from engine.sweeps.tables import read_table
from ttwood.cli import app

QUICK = "depth=1,width=2"
SEATS = ["Hazel", "Oona"]


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """A small league really played: 3 seeds × 2 seats of the default wood, 4 turns."""
    folder = tmp_path_factory.mktemp("league")
    league = plan([], [1, 2, 3], [parse_brain("foresight")], parse_brain("scripted"), Options(turns=4, foresight=QUICK), SEATS)
    sweep = Sweep(folder, league.specs)
    sweep.play_here()
    sweep.load()
    pairs = pair_rows(league, sweep.run_data)
    sweep.release()
    write_tables(folder, pairs, league_rows(pairs), wood_rows(league, sweep.run_data))
    return folder, league


def _brains(folder: Path, name: str) -> dict[str, Any]:
    with open_save(folder / "saves" / f"{name}.ttwood") as save:
        return dict(save.brains)


def test_seat_swap_pairs_differ_only_in_the_seats_brain(played: tuple[Path, Any]) -> None:
    folder, league = played
    assert len(league.pairs) == 3 * len(SEATS)
    assert {(p.seed, p.seat) for p in league.pairs} == {(s, n) for s in (1, 2, 3) for n in SEATS}
    for p in league.pairs:
        assert p.game.seed == p.reference.seed == p.seed
        assert p.game.scenario_text == p.reference.scenario_text and p.game.turns == p.reference.turns
        swap, ref = _brains(folder, p.game.name), _brains(folder, p.reference.name)
        # what the games really played with, as their saves recorded it
        assert swap["seed"] == ref["seed"] == p.seed
        assert swap["kind"] == ref["kind"] == "scripted"
        assert ref["overrides"] == {} and swap["overrides"] == {p.seat: "foresight"}
        rest = {k: v for k, v in swap.items() if k not in ("overrides", "foresight", "models")}
        assert rest == {k: v for k, v in ref.items() if k not in ("overrides", "foresight", "models")}
        with open_save(folder / "saves" / f"{p.game.name}.ttwood") as a, open_save(folder / "saves" / f"{p.reference.name}.ttwood") as b:
            assert a.seed == b.seed and a.scenario_text == b.scenario_text
            # the first turn starts from the same state in both: everyone but the seat answers alike
            first_a, first_b = a.tape(1, 1)[1], b.tape(1, 1)[1]
            assert set(first_a) == set(first_b)
            others = [n for n in first_a if n != p.seat]
            assert others and all(first_a[n].actions == first_b[n].actions for n in others)


def test_pair_rows_are_the_two_games_outcomes_for_that_seat(played: tuple[Path, Any]) -> None:
    folder, league = played
    rows = read_table(folder / PAIRS)
    assert len(rows) == len(league.pairs)
    for r in rows:
        runs = {}
        for key in ("game", "reference_game"):
            spec = next(s for s in league.specs if s.id == r[key])
            runs[key] = json.loads((folder / "runs" / f"{spec.name}.json").read_text())
        seat = {k: next(c for c in runs[k]["final"]["creatures"] if c["name"] == r["seat"]) for k in runs}
        assert r["wealth_candidate"] == seat["game"]["wealth"] and r["wealth_reference"] == seat["reference_game"]["wealth"]
        assert r["health_candidate"] == seat["game"]["health"] and r["alive_reference"] == float(seat["reference_game"]["alive"])
        for m in METRICS:
            assert r[f"{m}_diff"] == pytest.approx(r[f"{m}_candidate"] - r[f"{m}_reference"])


def test_intervals_are_computed_from_the_pairs(played: tuple[Path, Any]) -> None:
    folder, _ = played
    pairs, table = read_table(folder / PAIRS), read_table(folder / LEAGUE)
    for row in table:
        if row["seat"] == EVERY_SEAT:  # the unit is the seed: each seed's mean over its seats
            by_seed: dict[int, list[float]] = {}
            for p in pairs:
                by_seed.setdefault(p["seed"], []).append(p["wealth_diff"])
            diffs = [fmean(v) for v in by_seed.values()]
        else:
            diffs = [p["wealth_diff"] for p in pairs if p["seat"] == row["seat"]]
        assert row["pairs"] == (len(pairs) if row["seat"] == EVERY_SEAT else len(diffs))
        half = t_quantile(len(diffs) - 1) * stdev(diffs) / math.sqrt(len(diffs))
        assert row["wealth_diff"] == pytest.approx(fmean(diffs))
        assert row["wealth_low"] == pytest.approx(fmean(diffs) - half)
        assert row["wealth_high"] == pytest.approx(fmean(diffs) + half)


def test_a_paired_interval_is_not_two_groups_compared() -> None:
    """Seats whose outcome swings with the seed, and a candidate a steady 5 better: the pairs see
    the 5 with a narrow interval; comparing the two groups' spreads would not."""
    swings = [100.0, 300.0, 50.0, 500.0, 220.0]
    pairs = [{"scenario": "w", "seed": s, "seat": "A", "role": "producer", "candidate": "c", "reference": "r",
              **{f"{m}_candidate": 0.0 for m in METRICS}, **{f"{m}_reference": 0.0 for m in METRICS},
              **{f"{m}_diff": 0.0 for m in METRICS}} for s in range(5)]
    for p, base, wobble in zip(pairs, swings, [0.5, -0.5, 1.0, -1.0, 0.0], strict=True):
        p["wealth_reference"], p["wealth_candidate"] = base, base + 5 + wobble
        p["wealth_diff"] = p["wealth_candidate"] - p["wealth_reference"]
    row = next(r for r in league_rows(pairs) if r["seat"] == "A")
    assert row["wealth_diff"] == pytest.approx(5.0)
    assert row["wealth_low"] > 0, "the pairs see the candidate is better"
    unpaired = t_quantile(8) * math.sqrt(stdev(swings) ** 2 * 2 / 5)
    assert row["wealth_high"] - row["wealth_low"] < unpaired / 10


def test_t_quantiles_match_the_tables() -> None:
    assert t_quantile(1) == pytest.approx(12.706, abs=1e-3)
    assert t_quantile(4) == pytest.approx(2.776, abs=1e-3)
    assert t_quantile(19) == pytest.approx(2.093, abs=1e-3)
    assert t_quantile(99) == pytest.approx(1.984, abs=1e-3)
    one = interval([3.0])
    assert (one.low, one.high, one.n) == (3.0, 3.0, 1)


@pytest.mark.slow
def test_the_report_draws_the_league_with_its_intervals(played: tuple[Path, Any]) -> None:
    folder, _ = played
    rep = write_report(folder)
    page = rep.html.read_text()
    assert "League: seat swaps" in page and "every seat" in page and "95%" in page
    assert any(p.name == "seat-league.png" for p in rep.pngs)
    row = next(r for r in read_table(folder / LEAGUE) if r["seat"] == EVERY_SEAT)
    assert f"{row['wealth_diff']:+.1f}" in page


@pytest.mark.parametrize(("args", "says"), [
    (["--seeds", "1"], "a league needs a brain to try"),
    (["--candidate", "scripted", "--seeds", "1"], "is the reference itself"),
    (["--candidate", "foresight", "--seat", "Nobody", "--seeds", "1"], "--seat Nobody: no creature of that name"),
    (["--candidate", "wizard", "--seeds", "1"], "unknown brain 'wizard'"),
    (["--candidate", "foresight", "--foresight", "width=0", "--seeds", "1"], "width is a whole number"),
])
def test_bad_league_input_is_one_clear_message(tmp_path: Path, args: list[str], says: str) -> None:
    result = CliRunner().invoke(app, ["league", *args, "--out", str(tmp_path / "l")])
    # ``ttwood``'s main prints a TTWoodError as one line and exits 2 (see test_cli_hostile)
    assert isinstance(result.exception, TTWoodError), result.output
    assert says in result.exception.message
    assert not (tmp_path / "l").exists(), "nothing is written before the league is checked"


def test_a_league_without_woods_plays_only_the_seats_and_their_reference() -> None:
    league = plan([], [1, 2], [parse_brain("foresight")], parse_brain("scripted"), Options(turns=3), ["Hazel"], woods=False)
    assert len(league.specs) == 2 * (1 + 1)
    assert {w.brain for w in league.woods} == {"scripted"}
    full = plan([], [1, 2], [parse_brain("foresight")], parse_brain("scripted"), Options(turns=3), ["Hazel"])
    assert len(full.specs) == 2 * (1 + 1 + 1) and {w.brain for w in full.woods} == {"scripted", "foresight"}
