"""DAgger for the wood: play the student, let the teacher label what it met, train again, measure.

Behaviour cloning teaches a student the states its teacher visits; a student that errs drifts into
states the teacher never showed it, and errs more (Ross, Gordon and Bagnell, 2011). DAgger closes
the gap: each round the student plays whole games, the teacher answers every observation the
student met (:class:`~engine.learn.dataset.Recorder` with ``play``), the examples join everything
gathered before, and the adapter is trained again on the aggregate, going on from the last
round's adapter. Our teacher is a program that answers any observation, so labelling costs nothing.

A run lives in one folder, one sub-folder a round, and every step writes its file whole when done,
so a run stopped anywhere goes on where it stopped when the same command runs again::

    round-0/measure.json          the starting adapter, measured
    round-1/student.jsonl         student games, labelled by the teacher
    round-1/data.jsonl            the aggregate: teacher data (if given) and every round's student data
    round-1/adapter.gguf (.json)  trained from round 0's adapter on the aggregate, and its card
    round-1/measure.json          the new adapter, measured
    rounds.json                   the table: each round's measurements side by side
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.core.errors import TTWoodError
from engine.learn.dataset import Stats, plan_games, play_games, write_jsonl
from engine.minds.brains.llama_model import LlamaModel
from engine.minds.factory import BrainChoice, close_brains, make_brains
from engine.scenario import Scenario
from engine.turn.brain import Brain
from engine.turn.game import Game
from engine.turn.report import TurnReport, run_json

SHIPPED = "shipped"
"""The adapter shipped for the embedded model, by name."""


@dataclass(slots=True)
class ImproveConfig:
    """One DAgger run (see the module's notes)."""

    out: Path
    start: str = "shipped"
    """The adapter round 0 plays with: a .gguf path, or ``shipped``."""
    rounds: int = 2
    scenarios: tuple[str, ...] = ("thousand-token-wood",)
    games: int = 2
    """Student games a round."""
    turns: int = 60
    """Turns of each student game (whole games: two years and more)."""
    first_seed: int = 1000
    """Seed of round 1's first student game (rounds count on from there; measurements use their own)."""
    teacher_data: Path | None = None
    """Teacher examples (``ttwood dataset``) kept in every round's aggregate."""
    steps: int = 60
    lr: float = 3e-4
    batch: int = 8
    measure_seeds: tuple[int, ...] = (1,)
    measure_turns: int = 100
    threads: int | None = None
    model: str | None = None
    """The GGUF the student runs on (default: the embedded model)."""


@dataclass(slots=True)
class Progress:
    """What the loop reports as it goes (a command line draws bars with it)."""

    note: Callable[[str], None] = lambda text: None
    turn: Callable[[str, int, int], None] = lambda what, done, total: None
    """``(what, turns done, turns in all)`` while games play."""


def round_dir(cfg: ImproveConfig, r: int) -> Path:
    return cfg.out / f"round-{r}"


def adapter_of(cfg: ImproveConfig, r: int) -> str:
    """The adapter round ``r`` plays with (round 0: the starting one)."""
    return cfg.start if r == 0 else str(round_dir(cfg, r) / "adapter.gguf")


def measure(cfg: ImproveConfig, adapter: str, load: Callable[[str], Scenario], progress: Progress) -> dict[str, Any]:
    """The adapter in whole games: for each scenario and measuring seed, the long-game figures."""
    games = []
    for ref in cfg.scenarios:
        sc = load(ref)
        for seed in cfg.measure_seeds:
            brains = make_brains(sc, _choice(cfg, adapter, seed))
            try:
                game = Game(sc, seed, brains)
                reports = game.run(cfg.measure_turns, _ticker(progress, f"measure {sc.meta.id} seed {seed}", cfg.measure_turns))
                games.append(long_game_figures(run_json(game, reports, brain="llama")))
            finally:
                close_brains(brains)
    return {"adapter": adapter, "games": games}


def _ticker(progress: Progress, what: str, total: int) -> Callable[[TurnReport], None]:
    def tick(report: TurnReport) -> None:
        progress.turn(what, report.turn, total)
    return tick


def long_game_figures(data: dict[str, Any]) -> dict[str, Any]:
    """What the whole-game issue measures of a run (``ttwood run --json``): alive at the end,
    trades and deals in the second half, the share of turns with a message, valid and accepted."""
    per = data["per_turn"]
    half = len(per) // 2
    late = per[half:]
    return {
        "scenario": data["scenario"], "seed": data["seed"], "turns": data["turns"],
        "alive": data["totals"]["alive"],
        "trades_late": sum(p["trades"] for p in late), "deals_late": sum(p["deals"] for p in late),
        "late_from": late[0]["turn"] if late else None,
        "message_turns": round(sum(1 for p in per if p["messages"]) / len(per), 3) if per else None,
        "valid_rate": data["model"].get("valid_rate"), "accepted_rate": data["model"].get("accepted_rate"),
        "deaths": data.get("deaths", []),
        "speech": {k: data.get("speech", {}).get(k) for k in ("messages", "distinct_per_100", "contradicting", "contradicting_share")},
    }


def _write_json(path: Path, value: Any) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(value, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


def _concat(parts: list[Path]) -> Iterator[dict[str, Any]]:
    for part in parts:
        with part.open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    yield json.loads(line)


def improve(cfg: ImproveConfig, load: Callable[[str], Scenario], progress: Progress | None = None,
            train: Callable[[Path, Path, Path, ImproveConfig], None] | None = None) -> list[dict[str, Any]]:
    """Run (or go on with) the loop; returns every round's measurements. ``train(data, init, out,
    cfg)`` trains an adapter (default: :func:`engine.learn.train.train`)."""
    p = progress or Progress()
    cfg.out.mkdir(parents=True, exist_ok=True)
    if cfg.teacher_data is not None and not cfg.teacher_data.is_file():
        raise TTWoodError(f"{cfg.teacher_data}: no such teacher dataset (make one with ttwood dataset)", title="improve")
    table: list[dict[str, Any]] = []
    for r in range(cfg.rounds + 1):
        d = round_dir(cfg, r)
        d.mkdir(exist_ok=True)
        if r > 0:
            _one_round(cfg, r, load, p, train or _train)
        m = d / "measure.json"
        if not m.is_file():
            p.note(f"round {r}: measuring {adapter_of(cfg, r)}")
            _write_json(m, measure(cfg, adapter_of(cfg, r), load, p))
        table.append({"round": r, **json.loads(m.read_text(encoding="utf-8"))})
        _write_json(cfg.out / "rounds.json", table)
    return table


def _one_round(cfg: ImproveConfig, r: int, load: Callable[[str], Scenario], p: Progress,
               train: Callable[[Path, Path, Path, ImproveConfig], None]) -> None:
    d = round_dir(cfg, r)
    student = d / "student.jsonl"
    if not student.is_file():
        p.note(f"round {r}: the student plays {cfg.games} games of {cfg.turns} turns; the teacher labels them")
        seed = cfg.first_seed + (r - 1) * cfg.games
        # few games: every one trains (the trainer then holds out every 20th example to score on)
        plans = plan_games(list(cfg.scenarios), cfg.games, first_seed=seed, validation=0.0 if cfg.games < 5 else 0.1)
        stats = Stats()
        lm = LlamaModel(Path(cfg.model).expanduser()) if cfg.model else _embedded()
        made: dict[tuple[Any, ...], Any] = {}

        def play(sc: Scenario, s: int) -> Brain:
            return make_brains(sc, _choice(cfg, adapter_of(cfg, r - 1), s), made)["*"]

        try:
            total = cfg.games * cfg.turns
            done = [0]

            def turned(_: int) -> None:
                done[0] += 1
                p.turn(f"round {r} student games", done[0], total)

            write_jsonl(student, play_games(plans, cfg.turns, lm, stats, load, legends=True, play=play, on_turn=turned))
        finally:
            lm.close()
            for m in made.values():
                m.close()
        _write_json(d / "student.json", stats.summary())
    data = d / "data.jsonl"
    if not data.is_file():
        parts = ([cfg.teacher_data] if cfg.teacher_data is not None else []) + [
            round_dir(cfg, k) / "student.jsonl" for k in range(1, r + 1)]
        write_jsonl(data, _concat(parts))
    adapter = d / "adapter.gguf"
    if not adapter.is_file():
        init = adapter_of(cfg, r - 1)
        p.note(f"round {r}: training from {init} on {data}")
        train(data, _adapter_path(init, cfg.model), adapter, cfg)


def _choice(cfg: ImproveConfig, adapter: str, seed: int) -> BrainChoice:
    """The llama brains of a game played with ``adapter`` (``shipped``: the embedded model's own)."""
    return BrainChoice(kind="llama", model=cfg.model, adapter=None if adapter == SHIPPED else adapter, seed=seed,
                       threads=cfg.threads)


def _embedded() -> LlamaModel:
    from engine.minds.brains.models import embedded_model_path

    return LlamaModel(embedded_model_path())


def _adapter_path(adapter: str, model: str | None) -> Path:
    from engine.minds.brains.models import resolve_adapter

    path = resolve_adapter(None if adapter == SHIPPED else adapter, model)
    if path is None:
        raise TTWoodError(f"--start {adapter}: DAgger goes on from an adapter; name one (or 'shipped')", title="improve")
    return Path(path)


def _train(data: Path, init: Path, out: Path, cfg: ImproveConfig) -> None:
    from engine.learn.config import TrainConfig
    from engine.learn.train import train

    train(TrainConfig(data=data, out=out, init=init, steps=cfg.steps, lr=cfg.lr, batch=cfg.batch, threads=cfg.threads,
                      warmup=max(1, cfg.steps // 10), eval_every=cfg.steps, val_max=16,
                      base=Path(cfg.model).expanduser() if cfg.model else None))

