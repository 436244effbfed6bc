"""``ttwood compare`` (one seed twice, differing in one thing) and ``ttwood report`` (PNGs and an
HTML page), through the real command line on scripted games."""

from __future__ import annotations

import base64
import html
import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from engine.saves import replay
from ttwood.cli import app

runner = CliRunner()
PNG = b"\x89PNG\r\n\x1a\n"


def invoke_json(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def blight(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("cmp")
    data = invoke_json("compare", "thousand-token-wood", "--seed", "3", "--turns", "12", "--legend", "beetle-blight@4",
                       "--brain", "scripted", "--out", str(out))
    return out, data


def test_compare_a_legend_against_no_legend(blight: tuple[Path, dict[str, Any]]) -> None:
    out, data = blight
    assert set(data) == {"with", "without", "diff", "verdict"}
    single = invoke_json("run", "thousand-token-wood", "--seed", "3", "--turns", "12", "--brain", "scripted")
    # The run without the legend is the plain game; both carry `ttwood run --json`'s per-turn entries.
    assert data["without"]["per_turn"] == single["per_turn"]
    assert [set(p) for p in data["with"]["per_turn"]] == [set(p) for p in single["per_turn"]]
    assert data["with"]["per_turn"][:3] == single["per_turn"][:3]
    assert [p["legends"] for p in data["with"]["per_turn"]][3] == ["beetle-blight"]
    # The blight stops regrowth: the forest is where the paths part, at the legend's turn.
    verdict = data["verdict"]
    assert verdict["parted_at"] == 4
    trees = next(e for e in verdict["effects"] if e["series"] == "trees")
    assert trees["mean_a"] < trees["mean_b"]
    assert "the paths part at turn 4" in verdict["text"] and "beetle-blight@4" in verdict["text"]
    for d, w, wo in zip(data["diff"], data["with"]["per_turn"], data["without"]["per_turn"], strict=True):
        assert d["trees"] == w["trees"] - wo["trees"] and d["trades"] == w["trades"] - wo["trades"]
    for run in (data["with"], data["without"]):
        assert replay(Path(run["save"]), verify=True).ok
    assert json.loads((out / "compare.json").read_text())["verdict"] == verdict


def test_compare_prints_both_paths_and_a_verdict(tmp_path: Path) -> None:
    result = runner.invoke(app, ["compare", "--seed", "2", "--turns", "6", "--legend", "beetle-blight@2", "--brain", "scripted",
                                 "--out", str(tmp_path)], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "with · without" in result.output and "verdict:" in result.output
    assert re.search(r"│\s+2 ◆\s+│", result.output), result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--brain", "scripted"], "say what differs"),
    (["--legend", "beetle-blight@2", "--brain-a", "scripted", "--brain-b", "llama"], "say what differs"),
    (["--brain-a", "scripted"], "give both --brain-a and --brain-b"),
    (["--brain-a", "scripted", "--brain-b", "scripted"], "the same game"),
    (["--legend", "no-such@2", "--brain", "scripted"], "no legend 'no-such'"),
])
def test_compare_refuses_clearly(args: list[str], message: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["compare", "--turns", "3", "--out", str(tmp_path), *args])
    assert result.exit_code != 0
    assert message in str(result.exception) + result.output


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_report_of_a_comparison(blight: tuple[Path, dict[str, Any]]) -> None:
    """A comparison's report shows the two runs' difference and the verdict (it showed a league of
    one brain set)."""
    out, data = blight
    rep = invoke_json("report", str(out))
    assert rep["games"] == 2 and rep["failed"] == 0
    assert rep["groups"] == ["beetle-blight@4", "none"]
    names = {Path(p).name for p in rep["pngs"]}
    assert names == {"prices.png", "gini.png", "trades.png", "defaults.png", "alive.png", "difference.png", "trades-per-10.png"}
    for p in rep["pngs"]:
        w, h = _png_size(Path(p))
        assert w >= 800 and h >= 200
    page = Path(rep["html"]).read_text()
    inlined = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(inlined) == 7 and all(base64.b64decode(s)[:8] == PNG for s in inlined)
    assert "<h2>Trades per 10 turns</h2>" in page and "<th>1-10</th>" in page
    assert "<h2>League</h2>" not in page
    assert "The two runs: with (beetle-blight@4) against without (none)" in page
    assert html.escape(data["verdict"]["text"]) in page
    assert "scripted" in page and "http" not in page.replace("http-equiv", "")


def test_a_comparisons_difference_is_the_first_run_minus_the_second(blight: tuple[Path, dict[str, Any]]) -> None:
    from engine.sweeps.comparing import comparison, differences
    from engine.sweeps.tables import RESULTS, TURNS, read_table

    out, data = blight
    results, turns = read_table(out / RESULTS), read_table(out / TURNS)
    pair = comparison(out, results, lambda r: str(r["legend_set"]))
    assert pair is not None and pair.labels == ("with (beetle-blight@4)", "without (none)")
    assert pair.verdict == data["verdict"]["text"]
    panels = {d.title: d for d in differences(turns, pair, ["honey"], {})}
    trees = panels["Trees standing"]
    assert trees.values == [float(d["trees"]) for d in data["diff"]]
    honey = panels["Price of honey"]
    for v, d in zip(honey.values, data["diff"], strict=True):
        assert (d["prices"]["honey"] is None and math.isnan(v)) or v == d["prices"]["honey"]


def test_a_turn_without_a_trade_is_a_gap_not_a_bridge() -> None:
    from engine.sweeps.report import _bands

    rows = [{"game": "g", "turn": t, "label": "x", "price_acorns": p} for t, p in [(1, 4), (2, None), (3, None), (4, 6)]]
    (band,) = _bands(rows, lambda r: r["label"], lambda r: r["price_acorns"])
    assert band.turns == [1, 2, 3, 4], "the turns without a trade stay on the axis"
    assert band.mean[0] == 4 and math.isnan(band.mean[1]) and math.isnan(band.mean[2]) and band.mean[3] == 6


def test_the_alive_axis_starts_at_zero(blight: tuple[Path, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from engine.sweeps import plots
    from engine.sweeps.report import write_report

    folder = tmp_path / "cmp"
    shutil.copytree(blight[0], folder)
    limits: dict[str, tuple[float, float]] = {}
    save = plots._save

    def keep(fig: Any, path: Path) -> Path:
        limits[path.name] = fig.axes[0].get_ylim()
        return save(fig, path)

    monkeypatch.setattr(plots, "_save", keep)
    write_report(folder)
    assert limits["alive.png"][0] == 0, limits["alive.png"]


@pytest.mark.slow
def test_report_of_a_sweep_bands_the_seeds(tmp_path: Path) -> None:
    runner.invoke(app, ["sweep", "--seeds", "1-3", "--turns", "5", "--brain", "scripted", "--workers", "1",
                        "--out", str(tmp_path), "--json"], catch_exceptions=False)
    rep = invoke_json("report", str(tmp_path))
    assert rep["games"] == 3 and rep["groups"] == ["thousand-token-wood"]
    page = Path(rep["html"]).read_text()
    assert page.count("<tr>") >= 1 + 1 + 1 + 3  # league header + row, games header + three games


def test_report_of_an_empty_folder_says_what_to_do(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code != 0 and "no results.parquet" in str(result.exception)


def test_trades_per_window_sum_each_games_turns_and_average_the_games() -> None:
    from engine.sweeps.report import per_window

    turns = [{"game": g, "turn": t, "trades": t + (10 if g == "b" else 0), "label": "x"} for g in ("a", "b") for t in range(1, 13)]
    (band,) = per_window(turns, lambda r: r["label"])
    assert band.turns == [1, 11] and band.seeds == 2
    assert band.mean == [55 + 50, 23 + 10] and band.low == [55, 23] and band.high == [155, 43]
