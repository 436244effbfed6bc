"""A league: which brain plays better for the creature that uses it, and what it does to the wood.

For every scenario and seed it plays:

- the **reference wood**: every creature on the reference brain;
- for every candidate brain and every seat (a creature of the scenario, the patron aside), the
  **seat-swap game**: the same scenario and seed with that one creature on the candidate and every
  other creature on the reference brain, as in the reference wood;
- for every candidate, the **candidate's wood**: every creature on it.

A **pair** is one seat-swap game and the reference wood of its seed: the same seed and the same
brains everywhere but the one seat, so the seat's outcome difference (its wealth at market prices,
health, being alive, credit, contracts kept and broken, at the end) is what the candidate did in
that seat. A seat's 95% interval comes from its pairs, one per seed (Student's t over the
differences). A candidate's row for every seat at once takes each seed's mean difference over its
seats and the interval over those (the seats of one seed share a reference game, so the seed, not
the pair, is the independent unit). The wood's rows compare each candidate's wood with the
reference wood of the same seed: creatures alive at the end, and the wealth the living hold.

The games are a sweep's (:class:`~engine.sweeps.cluster.Sweep`: saves, ``results.parquet``,
``turns.parquet``, resumable); the league adds ``pairs.parquet`` (a row per pair),
``league.parquet`` (a row per scenario, candidate and seat, and per scenario and candidate for every
seat) and ``woods.parquet`` (a row per scenario and brain), which ``ttwood report`` draws.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean
from typing import Any

from engine import scenario as scenarios
from engine.core.errors import TTWoodError
from engine.minds.factory import RULE_KINDS, preflight
from engine.sweeps.intervals import interval
from engine.sweeps.spec import MAX_GAMES, BrainSet, GameSpec, LegendSet, Options, SweepError

PAIRS = "pairs.parquet"
LEAGUE = "league.parquet"
WOODS = "woods.parquet"
METRICS = ("wealth", "holdings", "health", "alive", "credit", "kept", "broken")
"""A seat's outcome at the end of a game: wealth at market prices (pebbles and goods, free and in
escrow, at the game's own prices), holdings (the same at the reference wood's prices, in both games
of a pair: what it holds, whatever it did to prices), health, alive (1 or 0), credit score,
contracts kept and contracts broken."""
EVERY_SEAT = "every seat"
EVERY_SCENARIO = "every scenario"
WOOD_METRICS = ("alive", "welfare", "gini_end", "trades")
"""A wood's outcome at the end: creatures alive, the wealth the living hold, the Gini, trades in all."""
LEAGUE_NEEDS = {"scenario": "text", "candidate": "text", "seat": "text", "pairs": "whole", "seeds": "whole"}
WOOD_NEEDS = {"scenario": "text", "brain": "text", "games": "whole"}

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class SeatPair:
    """One pair: a candidate in one seat against the reference wood of the same seed."""

    scenario: str
    seed: int
    seat: str
    role: str
    candidate: str
    game: GameSpec
    reference: GameSpec


@dataclass(frozen=True, slots=True)
class WoodGame:
    """Every seat on one brain, for one scenario and seed (``reference``: the reference wood)."""

    scenario: str
    seed: int
    brain: str
    game: GameSpec
    reference: GameSpec


@dataclass(slots=True)
class League:
    """Every game a league plays, and how they pair up."""

    reference: str
    candidates: list[str]
    specs: list[GameSpec]
    pairs: list[SeatPair]
    woods: list[WoodGame]


def seat_brains(candidate: BrainSet, reference: BrainSet) -> BrainSet:
    """The brain set of a seat-swap game: the reference's kind for everyone, with the model the
    seat's candidate needs (a seat names its brain's kind only, and takes the game's model)."""
    if candidate.model is None or candidate.model == reference.model:
        return reference
    if reference.kind not in RULE_KINDS:
        raise SweepError(f"--candidate {candidate.label} against --reference {reference.label}: a seat takes the game's "
                         "model, so a candidate with a model of its own needs a reference without one (scripted or foresight)")
    return BrainSet(reference.kind, candidate.model)


def plan(scenario_refs: list[str], seeds: list[int], candidates: list[BrainSet], reference: BrainSet, options: Options,
         seats: list[str] | None = None, *, files_here: bool = True, woods: bool = True) -> League:
    """Every game of the league, checked here (scenarios, seats, brains) before any is played
    (``woods``: each candidate's own wood too)."""
    if not candidates:
        raise SweepError("a league needs a brain to try: --candidate KIND (e.g. --candidate foresight)")
    if any(c == reference for c in candidates):
        raise SweepError(f"--candidate {reference.label} is the reference itself: enter another brain, or --reference another")
    if options.brain_for:
        raise SweepError("in a league every creature but the seat plays the reference brain: drop --brain-for")
    refs = list(dict.fromkeys(scenario_refs or [scenarios.DEFAULT_SCENARIO]))
    found_seats: set[str] = set()
    specs: dict[str, GameSpec] = {}
    pairs: list[SeatPair] = []
    wood_games: list[WoodGame] = []

    def spec(sc_id: str, where: str, text: str, seed: int, brains: BrainSet, opts: Options) -> GameSpec:
        opts = _settled(opts, brains)
        s = GameSpec(sc_id, where, text, seed, opts.turns, brains, LegendSet(), opts)
        return specs.setdefault(s.id, s)

    for ref in refs:
        found = scenarios.find(ref)
        sc, text = scenarios.load_found(found)
        cast = [(c.name, c.role) for c in sc.expanded_cast() if c.role != "patron"]
        chosen = [(n, r) for n, r in cast if seats is None or n in seats]
        found_seats.update(n for n, _ in chosen)
        sid = sc.meta.id
        for cand in candidates:
            _check(sc, cand, options, found.location)
            for name, _ in chosen[:1]:
                _check(sc, seat_brains(cand, reference), options, found.location, override=(name, cand.kind))
        _check(sc, reference, options, found.location)
        if len(seeds) * (1 + len(candidates) * (len(chosen) + woods)) * len(refs) > MAX_GAMES:
            raise SweepError(f"that is more than {MAX_GAMES:,} games; play the league in parts")
        for seed in seeds:
            base = spec(sid, found.location, text, seed, reference, options)
            wood_games.append(WoodGame(sid, seed, reference.label, base, base))
            for cand in candidates:
                for name, role in chosen:
                    swap = dataclasses.replace(options, brain_for=((name, cand.kind),))
                    game = spec(sid, found.location, text, seed, seat_brains(cand, reference), swap)
                    pairs.append(SeatPair(sid, seed, name, role, cand.label, game, base))
                if woods:
                    wood_games.append(WoodGame(sid, seed, cand.label, spec(sid, found.location, text, seed, cand, options), base))
    if seats is not None:
        missing = [n for n in seats if n not in found_seats]
        if missing:
            raise SweepError(f"--seat {missing[0]}: no creature of that name in {', '.join(refs)}")
    return League(reference.label, [c.label for c in candidates], list(specs.values()), pairs, wood_games)


def _settled(options: Options, brains: BrainSet) -> Options:
    """``options`` for one game: the foresight settings only where a creature plays foresight."""
    kinds = {brains.kind, *(k for _, k in options.brain_for)}
    return options if "foresight" in kinds else dataclasses.replace(options, foresight=None)


def _check(sc: scenarios.Scenario, brains: BrainSet, options: Options, where: str, *, override: tuple[str, str] | None = None) -> None:
    opts = _settled(dataclasses.replace(options, brain_for=(override,) if override else ()), brains)
    probe = GameSpec(sc.meta.id, where, "", 1, options.turns, brains, LegendSet(), opts)
    try:
        preflight(sc, probe.choice())
    except SweepError:
        raise
    except TTWoodError as exc:
        raise SweepError(f"{probe.brain_label}: {exc.message}") from None


# ------------------------------------------------------------------ the outcome
def final_prices(run: dict[str, Any]) -> dict[str, float]:
    """Each good's reference price at the end of a game (pebbles at 1)."""
    last = run["per_turn"][-1]["reference_prices"] if run["per_turn"] else {}
    return {"pebbles": 1.0} | {g: float(p or 0) for g, p in last.items()}


def seat_outcome(run: dict[str, Any], seat: str, prices: dict[str, float]) -> dict[str, float]:
    """The seat's numbers at the end of a game, from its ``ttwood run --json`` object (``holdings``
    valued at ``prices``)."""
    for c in run["final"]["creatures"]:
        if c["name"] == seat:
            held = sum(q * prices.get(a, 0.0) for a, q in c["holdings"].items())
            return {"wealth": float(c["wealth"]), "holdings": held, "health": float(c["health"]), "alive": float(bool(c["alive"])),
                    "credit": float(c["credit"]), "kept": float(c.get("kept", 0)), "broken": float(c.get("broken", 0))}
    raise SweepError(f"{seat} is not in the game's final state")


def wood_outcome(run: dict[str, Any]) -> dict[str, float]:
    """The wood's numbers at the end of a game (the patron aside)."""
    roles = {c["name"]: c.get("role") for c in run["creatures"]}
    living = [c for c in run["final"]["creatures"] if c["alive"] and roles.get(c["name"]) != "patron"]
    per_turn = run["per_turn"]
    return {"alive": float(len(living)), "welfare": float(sum(c["wealth"] for c in living)),
            "gini_end": float(per_turn[-1]["gini"]) if per_turn else 0.0, "trades": float(run["totals"]["trades"])}


def pair_rows(league: League, run_of: Callable[[GameSpec], dict[str, Any] | None]) -> list[Row]:
    """A row per pair whose two games finished: each metric for the candidate, the reference, and
    their difference (candidate minus reference)."""
    rows = []
    for p in league.pairs:
        a, b = run_of(p.game), run_of(p.reference)
        if a is None or b is None:
            continue
        prices = final_prices(b)
        x, y = seat_outcome(a, p.seat, prices), seat_outcome(b, p.seat, prices)
        row: Row = {"scenario": p.scenario, "seed": p.seed, "seat": p.seat, "role": p.role, "candidate": p.candidate,
                    "reference": league.reference, "game": p.game.id, "reference_game": p.reference.id}
        for m in METRICS:
            row |= {f"{m}_candidate": x[m], f"{m}_reference": y[m], f"{m}_diff": x[m] - y[m]}
        rows.append(row)
    return rows


def _summary(rows: list[Row], *, by_seed: bool) -> Row:
    """Means and intervals of a group of pairs: over the pairs themselves (one seat: one pair per
    seed), or over each seed's mean (``by_seed``: several seats, or scenarios, per seed)."""
    units: dict[Any, list[Row]] = defaultdict(list)
    for r in rows:
        units[(r["scenario"], r["seed"]) if by_seed else id(r)].append(r)
    out: Row = {"pairs": len(rows), "seeds": len({(r["scenario"], r["seed"]) for r in rows})}
    for m in METRICS:
        iv = interval([fmean(r[f"{m}_diff"] for r in unit) for unit in units.values()])
        out |= {f"{m}_diff": iv.mean, f"{m}_low": iv.low, f"{m}_high": iv.high,
                f"{m}_candidate": fmean(r[f"{m}_candidate"] for r in rows), f"{m}_reference": fmean(r[f"{m}_reference"] for r in rows)}
    return out


def league_rows(pairs: list[Row]) -> list[Row]:
    """Per scenario and candidate: a row per seat and one for every seat (and, with several
    scenarios, one per candidate for every scenario)."""
    groups: dict[tuple[str, str, str], list[Row]] = defaultdict(list)
    roles: dict[str, str] = {}
    for r in pairs:
        groups[(r["scenario"], r["candidate"], r["seat"])].append(r)
        groups[(r["scenario"], r["candidate"], EVERY_SEAT)].append(r)
        roles[r["seat"]] = r["role"]
    if len({r["scenario"] for r in pairs}) > 1:
        for r in pairs:
            groups[(EVERY_SCENARIO, r["candidate"], EVERY_SEAT)].append(r)
    rows = []
    for (sc, cand, seat), group in groups.items():
        rows.append({"scenario": sc, "candidate": cand, "reference": group[0]["reference"], "seat": seat,
                     "role": roles.get(seat, ""), **_summary(group, by_seed=seat == EVERY_SEAT)})
    return sorted(rows, key=lambda r: (r["scenario"] == EVERY_SCENARIO, r["scenario"], r["candidate"], r["seat"] != EVERY_SEAT, r["seat"]))


def wood_rows(league: League, run_of: Callable[[GameSpec], dict[str, Any] | None]) -> list[Row]:
    """Per scenario and brain: the wood's outcome when every seat plays it (means over seeds), and
    for a candidate its difference from the reference wood of each seed, with intervals."""
    by: dict[tuple[str, str], list[tuple[dict[str, float], dict[str, float]]]] = defaultdict(list)
    for w in league.woods:
        a, b = run_of(w.game), run_of(w.reference)
        if a is not None and b is not None:
            by[(w.scenario, w.brain)].append((wood_outcome(a), wood_outcome(b)))
    rows = []
    for (sc, brain), got in by.items():
        row: Row = {"scenario": sc, "brain": brain, "reference": league.reference, "games": len(got)}
        for m in WOOD_METRICS:
            row[m] = fmean(x[m] for x, _ in got)
            if brain != league.reference:
                iv = interval([x[m] - y[m] for x, y in got])
                row |= {f"{m}_diff": iv.mean, f"{m}_low": iv.low, f"{m}_high": iv.high}
        rows.append(row)
    return sorted(rows, key=lambda r: (r["scenario"], r["brain"] != league.reference, r["brain"]))


def write_tables(folder: Path, pairs: list[Row], league: list[Row], woods: list[Row]) -> None:
    """The league's three tables into ``folder`` (each written whole)."""
    from engine.sweeps.tables import write_table

    for name, rows in ((PAIRS, pairs), (LEAGUE, league), (WOODS, woods)):
        try:
            write_table(folder / name, rows, _first(rows))
        except OSError as exc:
            raise SweepError(f"{folder / name}: cannot write the league's table ({exc.strerror or exc})") from None


def _first(rows: Iterable[Row]) -> list[str]:
    cols: dict[str, None] = {}
    for r in rows:
        cols |= dict.fromkeys(r)
    return list(cols)
