"""``ttwood report DIR``: charts of a sweep's (or a comparison's) folder, as PNGs and one
self-contained HTML page (the PNGs inlined), from its ``results.parquet`` and ``turns.parquet``.

Games are grouped by the labels that vary in the folder (scenario, brain set, legend set); each
group's seeds make a band around its mean path.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from statistics import fmean
from typing import Any

from engine.sweeps import plots
from engine.sweeps.comparing import Pair, comparison, differences
from engine.sweeps.league import LEAGUE, LEAGUE_NEEDS, WOOD_NEEDS, WOODS
from engine.sweeps.league import METRICS as LEAGUE_METRICS
from engine.sweeps.plots import Band, colors_for, difference_chart, league_chart, line_chart, price_chart, seat_league_chart
from engine.sweeps.spec import SweepError
from engine.sweeps.tables import RESULT_NEEDS, RESULTS, TURN_NEEDS, TURNS, TableError, read_table

GROUP_KEYS = ("scenario", "brain_set", "legend_set")
CELL_CHARS = 300
"""The most characters of one value the page shows (a failed game's error may be long)."""


@dataclass(slots=True)
class Report:
    """What ``ttwood report`` wrote."""

    folder: Path
    html: Path
    pngs: list[Path] = field(default_factory=list)
    games: int = 0
    failed: int = 0
    groups: list[str] = field(default_factory=list)


def _group_label(row: dict[str, Any], keys: list[str]) -> str:
    return " · ".join(str(row[k]) for k in keys) or str(row.get("scenario", "games"))


Row = dict[str, Any]


def _bands(turns: list[Row], label_of: Callable[[Row], str], value: Callable[[Row], float | None]) -> list[Band]:
    """Per group: per turn, the mean, lowest and highest value over its games; NaN for a turn where
    no game has a value (a gap in the line), and no band for a group with no value at all."""
    by: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    played: dict[str, set[int]] = defaultdict(set)
    games: dict[str, set[str]] = defaultdict(set)
    for r in turns:
        v = value(r)
        label = label_of(r)
        games[label].add(r["game"])
        played[label].add(r["turn"])
        if v is not None and not (isinstance(v, float) and math.isnan(v)):
            by[label][r["turn"]].append(float(v))
    out = []
    nan = math.nan
    for label in sorted(games):
        per = by.get(label, {})
        if not per:
            continue
        ts = sorted(played[label])
        means = [fmean(per[t]) if t in per else nan for t in ts]
        lows = [min(per[t]) if t in per else nan for t in ts]
        highs = [max(per[t]) if t in per else nan for t in ts]
        out.append(Band(label, ts, means, lows, highs, len(games[label])))
    return out


def _cumulative(turns: list[dict[str, Any]], key: str) -> dict[tuple[str, int], int]:
    total: dict[str, int] = defaultdict(int)
    out = {}
    for r in sorted(turns, key=lambda r: (r["game"], r["turn"])):
        total[r["game"]] += r[key] or 0
        out[(r["game"], r["turn"])] = total[r["game"]]
    return out


def _get(r: Row, key: str) -> float | None:
    v = r.get(key)
    return None if v is None else float(v)


WINDOW = 10
"""Turns per window of the trades-per-window chart and table."""


def per_window(turns: list[Row], label_of: Callable[[Row], str], key: str = "trades") -> list[Band]:
    """Per group: ``key`` summed over each game's windows of :data:`WINDOW` turns (a window is
    named by its first turn; the last may be shorter), mean and range over the group's games."""
    sums: dict[tuple[str, str, int], float] = defaultdict(float)
    for r in turns:
        sums[(label_of(r), r["game"], (r["turn"] - 1) // WINDOW * WINDOW + 1)] += float(r.get(key) or 0)
    by: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    games: dict[str, set[str]] = defaultdict(set)
    for (label, game, start), v in sums.items():
        by[label][start].append(v)
        games[label].add(game)
    out = []
    for label in sorted(by):
        ts = sorted(by[label])
        vals = [by[label][t] for t in ts]
        out.append(Band(label, ts, [fmean(v) for v in vals], [min(v) for v in vals], [max(v) for v in vals], len(games[label])))
    return out


def league(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per brain set (and model): games, mean trades, survival, valid and accepted rates, speed, Gini at the end."""
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        if r.get("status") == "done":
            model = r.get("model")
            label = r["brain_set"] if model in (None, "scripted", r["brain_set"]) else f"{r['brain_set']} ({model})"
            by[label].append(r)
    rows = []
    for label, games in by.items():
        def mean(key: str, games: list[dict[str, Any]] = games) -> float | None:
            vals = [g[key] for g in games if g.get(key) is not None]
            return round(fmean(vals), 4) if vals else None

        rows.append({"label": label, "games": len(games), "trades": mean("trades"), "deals": mean("deals"), "defaults": mean("defaults"),
                     "survival": mean("survival"), "valid_rate": mean("valid_rate"), "accepted_rate": mean("accepted_rate"),
                     "ms_per_agent_turn": mean("ms_per_agent_turn"), "gini_end": mean("gini_end")})
    return sorted(rows, key=lambda r: -(r["trades"] or 0))


def write_report(folder: Path) -> Report:
    """Draw every chart of ``folder`` and write ``report.html`` beside them (in ``folder/report``)."""
    folder = Path(folder)
    try:
        results, turns = read_table(folder / RESULTS, RESULT_NEEDS), read_table(folder / TURNS, TURN_NEEDS)
    except TableError as exc:
        raise SweepError(str(exc)) from None
    except Exception as exc:  # pyarrow's errors for a damaged file
        raise SweepError(f"{folder}: its tables cannot be read ({exc})") from None
    try:
        return _write(folder, results, turns)
    except OSError as exc:
        raise SweepError(f"{folder / 'report'}: cannot write the report there ({exc.strerror or exc})") from None


def _write(folder: Path, results: list[Row], turns: list[Row]) -> Report:
    if not results:
        raise SweepError(f"{folder}: no results.parquet there; make one with `ttwood sweep --out {folder}` "
                         f"or `ttwood compare --out {folder}`")
    done = {r["game"] for r in results if r["status"] == "done"}
    turns = [t for t in turns if t["game"] in done]
    if not turns:
        raise SweepError(f"{folder}: no finished game to draw ({len(results)} failed)")
    keys = [k for k in GROUP_KEYS if len({r[k] for r in results}) > 1]

    def label_of(r: Row) -> str:
        return _group_label(r, keys)

    labels = sorted({label_of(t) for t in turns})
    colors = colors_for(labels)
    out = folder / "report"
    out.mkdir(exist_ok=True)
    plots.MARKS.clear()
    for r in results:
        for part in str(r["legend_set"]).split("+"):
            lid, _, turn = part.rpartition("@")
            if lid and re.fullmatch(r"[0-9]{1,9}", turn):
                plots.MARKS[int(turn)] = lid
    goods = sorted({k[6:] for t in turns for k, v in t.items() if k.startswith("price_") and v is not None})
    by_good = {g: _bands(turns, label_of, partial(_get, key=f"price_{g}")) for g in goods}
    defaults = _cumulative(turns, "defaults")
    pngs = [
        price_chart(by_good, colors, out / "prices.png"),
        line_chart(_bands(turns, label_of, lambda r: r["gini"]), colors, out / "gini.png", "Gini of wealth", "Gini"),
        line_chart(_bands(turns, label_of, lambda r: r["trades"]), colors, out / "trades.png", "Trades per turn", "trades"),
        line_chart(_bands(turns, label_of, lambda r: defaults[(r["game"], r["turn"])]), colors, out / "defaults.png",
                   "Defaults so far", "defaults (cumulative)"),
        line_chart(_bands(turns, label_of, lambda r: r["alive"]), colors, out / "alive.png", "Survival: creatures alive", "alive",
                   from_zero=True),
    ]
    windows = per_window(turns, label_of)
    pngs.append(line_chart(windows, colors, out / "trades-per-10.png", f"Trades per {WINDOW} turns", f"trades / {WINDOW} turns"))
    pair = comparison(folder, results, label_of)
    table = league(results)
    if pair is not None:  # two runs of one seed: their difference, not a league of one
        pngs.append(difference_chart(differences(turns, pair, goods, defaults), pair.labels, out / "difference.png"))
    else:
        pngs.append(league_chart(table, out / "league.png"))
    seats, woods = _league_tables(folder)
    if seats:
        pngs.insert(0, seat_league_chart(seats, out / "seat-league.png"))
    page = out / "report.html"
    page.write_text(_html(folder, results, table, pngs, pair, windows, (seats, woods)), encoding="utf-8")
    return Report(folder, page, pngs, len(results), sum(1 for r in results if r["status"] != "done"), labels)


_CSS = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222}
h1{font-weight:600}img{max-width:100%;margin:1em 0;border:1px solid #eee}
table{border-collapse:collapse;margin:1em 0}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}.failed{color:#b00}"""


def _pair_html(pair: Pair) -> list[str]:
    a, b = (html.escape(x) for x in pair.labels)
    parts = [f"<h2>The two runs: {a} against {b}</h2>",
             f"<p>One seed played twice, differing in one thing. The last chart is {a} minus {b}, turn by turn.</p>"]
    if pair.verdict:
        parts.append(f"<p><b>Verdict:</b> {html.escape(pair.verdict)}</p>")
    return parts


def _html_table(rows: list[dict[str, Any]], cols: list[str]) -> str:
    def fmt(v: Any) -> str:
        if v is None:
            return "—"
        return f"{v:.3g}" if isinstance(v, float) else html.escape(str(v)[:CELL_CHARS])

    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{fmt(r.get(c))}</td>" for c in cols) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _league_tables(folder: Path) -> tuple[list[Row], list[Row]]:
    """A league's seat rows and wood rows (none: the folder holds no league)."""
    try:
        return read_table(folder / LEAGUE, LEAGUE_NEEDS), read_table(folder / WOODS, WOOD_NEEDS)
    except TableError as exc:
        raise SweepError(str(exc)) from None


def _with_interval(rows: list[Row], metrics: tuple[str, ...]) -> list[Row]:
    """Each metric as ``mean [low, high]`` (text), for the page."""
    out = []
    for r in rows:
        shown = dict(r)
        for m in metrics:
            d, lo, hi = r.get(f"{m}_diff"), r.get(f"{m}_low"), r.get(f"{m}_high")
            if d is not None and lo is not None and hi is not None:
                shown[m if m not in r else f"{m} vs reference"] = f"{d:+.1f} [{lo:+.1f}, {hi:+.1f}]" if lo != hi else f"{d:+.1f}"
        out.append(shown)
    return out


def _league_html(seats: list[Row], woods: list[Row]) -> list[str]:
    if not seats and not woods:
        return []
    parts = ["<h2>League: seat swaps</h2>",
             "<p>Each seat played by the candidate, everyone else by the reference, against the reference wood of the "
             "same seed: the candidate's outcome minus the reference's at the end, mean [95% interval]. A seat's interval "
             "comes from its pairs (one per seed); <i>every seat</i> takes each seed's mean over its seats and the "
             "interval over seeds. Holdings are valued at the reference wood's prices in both games.</p>",
             _html_table(_with_interval(seats, LEAGUE_METRICS), ["scenario", "candidate", "seat", "role", "pairs", "seeds",
                                                                 *LEAGUE_METRICS])]
    if woods:
        parts += ["<h3>The woods: every seat on one brain</h3>",
                  "<p>Means over seeds at the end; a candidate's difference from the reference wood of the same seed, "
                  "mean [95% interval].</p>",
                  _html_table(_with_interval(woods, ("alive", "welfare")), ["scenario", "brain", "games", "alive",
                                                                             "alive vs reference", "welfare",
                                                                             "welfare vs reference", "gini_end", "trades"])]
    return parts


def _html(folder: Path, results: list[dict[str, Any]], table: list[dict[str, Any]], pngs: list[Path], pair: Pair | None,
          windows: list[Band] | None = None, league: tuple[list[Row], list[Row]] = ([], [])) -> str:
    failed = [r for r in results if r["status"] != "done"]
    imgs = "".join(f'<img alt="{p.stem}" src="data:image/png;base64,{base64.b64encode(p.read_bytes()).decode()}">' for p in pngs)
    games = sorted((r for r in results if r["status"] == "done"), key=lambda r: (r["scenario"], r["brain_set"], r["legend_set"], r["seed"]))
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>ttwood report: {html.escape(folder.name)}</title>",
        f"<style>{_CSS}</style></head><body><h1>Thousand Token Wood: {html.escape(str(folder))}</h1>",
        f"<p>{len(results)} games, {len(failed)} failed.</p>",
        *_league_html(*league),
        *(_pair_html(pair) if pair is not None else
          ["<h2>League</h2>", _html_table(table, ["label", "games", "trades", "deals", "defaults", "survival", "valid_rate",
                                                  "accepted_rate", "ms_per_agent_turn", "gini_end"])]),
        *_window_table(windows or []),
        "<h2>Charts</h2>", imgs,
        "<h2>Games</h2>", _html_table(games, ["scenario", "seed", "brain_set", "legend_set", "trades", "deals", "defaults",
                                               "gini_start", "gini_end", "survival", "valid_rate", "wall_s", "save"]),
    ]
    if failed:
        cols = ["scenario", "seed", "brain_set", "legend_set", "attempts", "error"]
        parts += ["<h2 class='failed'>Failed</h2>", _html_table(failed, cols)]
    parts.append("</body></html>")
    return "\n".join(parts)


def _window_table(windows: list[Band]) -> list[str]:
    """Trades per window of turns, one row a group (the mean over its games)."""
    if not windows:
        return []
    starts = sorted({t for b in windows for t in b.turns})
    cols = ["group", "games", *[f"{t}-{t + WINDOW - 1}" for t in starts]]
    rows = [{"group": b.label, "games": b.seeds, **{f"{t}-{t + WINDOW - 1}": round(m, 1) for t, m in zip(b.turns, b.mean, strict=True)}}
            for b in windows]
    return [f"<h2>Trades per {WINDOW} turns</h2>", _html_table(rows, cols)]
