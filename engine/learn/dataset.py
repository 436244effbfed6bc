"""Teacher games to a dataset: what the model brain would see, and what the teacher answered.

``ttwood dataset`` plays games with the scripted brains (the teacher) over many seeds, bundled
scenarios and generated casts. For every creature-turn it builds the exact prompt the llama brain
would build for that observation (its own builders, the model's own tokenizer and chat template)
and writes the teacher's answer as the compact JSON that the creature's grammar for that turn
accepts, with the tokens the decoder would spell it in (``answer_ids``: jump-forward inserts
what the grammar forces as separate pieces, see :mod:`engine.minds.spelling`). Every answer is
checked against its grammar (planned again after each action, as the decoder does); one the
grammar refuses is counted with its reason and left out, never kept. The split is stated: a game is
in ``validation`` when its seed is among the last ones (:func:`plan_games`: enough of them that
every scenario has one). By default ``river-bend`` and ``market-50`` are not played (the woods the
shipped adapter never saw); named on the command line, they are.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.elders.scripted import ScriptedBrain
from engine.learn.data import DataError
from engine.minds.allowance import AnswerPlan
from engine.minds.brains.llama import LlamaBrain
from engine.minds.brains.llama_model import LlamaModel
from engine.minds.replan import Replanner
from engine.minds.spelling import Spelling, SpellingError, decoder_spelling
from engine.scenario import CreatureSpec, LegendSpec, RumourEffect, Scenario
from engine.turn.brain import Answer, Brain, HoldsNothing
from engine.turn.game import Game
from engine.turn.observation import Observation
from engine.turn.report import TurnReport

HELD_OUT_SCENARIOS = ("river-bend", "market-50")
"""Bundled woods the default dataset leaves out, so a model can be measured on woods it never saw."""
DEFAULT_SCENARIOS = ("thousand-token-wood", "long-winter", "credit-crunch", "commons-collapse", "acorn-mania")

_NAMES = ("Alder", "Bracken", "Cobble", "Dapple", "Ember", "Fennel", "Gorse", "Hollis", "Ivy", "Jasper",
          "Kestrel", "Linden", "Moss", "Nettle", "Otter", "Pebble", "Quill", "Rowan", "Sorrel", "Thistle",
          "Umber", "Vetch", "Willow", "Yarrow", "Zinnia", "Burdock", "Tansy", "Marigold", "Cress", "Sedge")
_SPECIES = ("badger", "hedgehog", "mole", "vole", "stoat", "wren", "dormouse", "marten", "heron", "toad", "jay", "hare")


@dataclass(slots=True)
class Stats:
    """What a dataset run made and what it left out, and why."""

    games: int = 0
    examples: int = 0
    split: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    """Teacher answers the grammar did not accept, by reason (left out of the file)."""
    prompt_tokens: list[int] = field(default_factory=list)
    answer_chars: list[int] = field(default_factory=list)
    sampled_tokens: list[int] = field(default_factory=list)
    """Per answer: the tokens the decoder samples (the rest it inserts: jump-forward)."""

    def summary(self) -> dict[str, Any]:
        """The numbers ``ttwood dataset`` prints."""
        toks = sorted(self.prompt_tokens) or [0]
        chars = sorted(self.answer_chars) or [0]
        sampled = sorted(self.sampled_tokens) or [0]
        return {
            "games": self.games,
            "examples": self.examples,
            "train": self.split["train"],
            "validation": self.split["validation"],
            "refused": sum(self.refused.values()),
            "refused_by_reason": dict(self.refused.most_common()),
            "prompt_tokens_median": toks[len(toks) // 2],
            "prompt_tokens_max": toks[-1],
            "answer_chars_median": chars[len(chars) // 2],
            "answer_sampled_tokens_median": sampled[len(sampled) // 2],
        }


def variant_cast(sc: Scenario, seed: int) -> Scenario:
    """``sc`` with a generated cast: the same roles and goods, other names and species, and
    sometimes a creature more (a copy of one of the cast). Deterministic in ``seed``."""
    rng = random.Random(f"cast:{sc.meta.id}:{seed}")
    base = sc.expanded_cast()
    names = rng.sample(_name_pool(len(base) + 1), len(base) + 1)
    cast: list[CreatureSpec] = []
    for spec, name in zip(base, names, strict=False):
        cast.append(spec.model_copy(update={"name": name, "species": rng.choice(_SPECIES)}))
    if rng.random() < 0.5:
        extra = rng.choice([c for c in base if c.role == "producer"] or base)
        cast.append(extra.model_copy(update={"name": names[len(base)], "species": rng.choice(_SPECIES), "den": None}))
    renamed = {old.name: new.name for old, new in zip(base, cast, strict=False)}
    return sc.model_copy(update={"creatures": cast, "generate": [], "legends": [_retold(lg, renamed) for lg in sc.legends]})


def _retold(lg: LegendSpec, renamed: dict[str, str]) -> LegendSpec:
    """A legend whose rumours' tellers follow the cast's new names (a legend that sends to named
    creatures is left as it is: the wood then falls back to its own cast, :func:`cast_for`)."""
    effects = [e.model_copy(update={"teller": renamed.get(e.teller, e.teller)}) if isinstance(e, RumourEffect) and e.teller else e
               for e in lg.effects]
    return lg.model_copy(update={"effects": effects})


def _name_pool(n: int) -> list[str]:
    """At least ``n`` distinct names: the list above, then numbered ones (``Alder 2``) for big casts."""
    pool = list(_NAMES)
    i = 0
    while len(pool) < n:
        pool.append(f"{_NAMES[i % len(_NAMES)]} {i // len(_NAMES) + 2}")
        i += 1
    return pool


def cast_for(sc: Scenario, plan: GamePlan) -> tuple[Scenario, str]:
    """The scenario a planned game plays and its cast's label: a generated cast when planned,
    unless the scenario's other tables name its own creatures (a legend's target, say): then its
    own cast, labelled ``bundled``, rather than a wood whose tables point at nobody."""
    if not plan.generated_cast:
        return sc, "bundled"
    variant = variant_cast(sc, plan.seed)
    return (sc, "bundled") if variant.problems() else (variant, "generated")


class Recorder(HoldsNothing):
    """A brain that writes down, for each creature, the prompt the model brain would have built and
    the teacher's answer in the grammar's own spelling. The teacher's answers are played, or, with
    ``play`` (DAgger: :mod:`engine.learn.improve`), that brain's: the teacher then labels the
    observations the student met."""

    name = "scripted"

    def __init__(self, student: LlamaBrain, game_key: dict[str, Any], stats: Stats,
                 sink: Callable[[dict[str, Any]], None], play: Brain | None = None) -> None:
        self.teacher = ScriptedBrain()
        self.student = student
        self.key = game_key
        self.stats = stats
        self.sink = sink
        self.play = play
        if play is not None:
            self.name = play.name

    def decide(self, observations: list[Observation]) -> list[Answer]:
        played = self.play.decide(observations) if self.play is not None else None
        answers = self.teacher.decide(observations)
        for o, a in zip(observations, answers, strict=True):
            if o.role == "patron":
                continue
            prompt, ids, plan = self.student.prompt_for(o)
            text = plan.form.write(a.thinking, [x.model_dump(mode="json") for x in a.actions], o.goods)
            step = Replanner(o, self.student.scenario, plan).follow if self.student.replans else None
            reason = plan.refusal(text, self.student.model.count, step)
            spelled = _spell(self.student, o, plan, text) if reason is None else reason
            if isinstance(spelled, str):
                self.stats.refused[_reason_key(spelled)] += 1
                continue
            self.stats.examples += 1
            self.stats.split[self.key["split"]] += 1
            self.stats.prompt_tokens.append(len(ids))
            self.stats.answer_chars.append(len(text))
            self.stats.sampled_tokens.append(spelled.sampled)
            self.sink({**self.key, "turn": o.turn, "creature": o.name, "prompt": prompt, "prompt_ids": ids,
                       "answer": text, "answer_ids": list(spelled.ids)})
        return played if played is not None else answers


def _spell(student: LlamaBrain, o: Observation, plan: AnswerPlan, text: str) -> Spelling | str:
    """The answer as the decoder spells it, or why the decoder could not write it."""
    m = student.model
    try:
        spelled = decoder_spelling(text, plan.matcher(), lambda t: m.tokenize(t, special=False), m.piece,
                                   replan=Replanner(o, student.scenario, plan))
    except SpellingError as exc:
        return f"refused once planned again after an action: {exc}"
    if len(spelled.ids) > plan.max_tokens - 1:
        return f"longer than the allowance of {plan.max_tokens - 1} tokens as the decoder spells it"
    return spelled


def _reason_key(reason: str) -> str:
    """A refusal with its numbers taken out, so alike refusals count together."""
    return re.sub(r"\d+", "N", reason)[:120]


@dataclass(frozen=True, slots=True)
class GamePlan:
    """One teacher game of a dataset."""

    scenario: str
    seed: int
    generated_cast: bool
    split: str


def plan_games(scenarios: Sequence[str], games: int, *, first_seed: int = 1, validation: float = 0.1) -> list[GamePlan]:
    """``games`` games spread over ``scenarios`` round-robin, seeds counting up from ``first_seed``;
    every other game of a scenario has a generated cast. The last seeds are the validation split:
    the ``validation`` share of the games (at least one), and when every scenario has two games or
    more and one game of each is at most twice that share, one game of each (the last
    ``len(scenarios)`` games fall on every scenario once); none when ``validation`` is 0. (Ten
    games over five woods at 10% keep one game, not half the data, out of training.)"""
    n_val = 0
    if validation > 0 and games > 1:
        share = max(1, round(games * validation))
        every = len(scenarios) if games >= 2 * len(scenarios) and len(scenarios) <= 2 * share else 1
        n_val = min(games - 1, max(share, every))
    out = []
    for g in range(games):
        split = "validation" if g >= games - n_val else "train"
        out.append(GamePlan(scenarios[g % len(scenarios)], first_seed + g, (g // len(scenarios)) % 2 == 1, split))
    return out


def random_legends(sc: Scenario, seed: int, turns: int) -> list[tuple[int, str]]:
    """Legends a player could ask for (``on_demand``), each fired with even odds at a turn drawn
    from the game (never the first nor the last): so the data holds shocks at any time of year.
    Deterministic in ``seed``; the game's own generator is not touched."""
    rng = random.Random(f"legends:{sc.meta.id}:{seed}")
    out = []
    for lg in sc.legends:
        if lg.when.on_demand and turns > 2 and rng.random() < 0.5:
            out.append((rng.randint(2, turns - 1), lg.id))
    return sorted(out)


def _asker(game: Game, fired: list[tuple[int, str]]) -> Callable[[int], None]:
    """Before each turn: the legends drawn for it."""
    def ask(turn: int) -> None:
        for t, lg in fired:
            if t == turn:
                game.inject(lg)
    return ask


def _turned(on_turn: Callable[[int], None] | None) -> Callable[[TurnReport], None]:
    def turned(report: TurnReport) -> None:
        if on_turn is not None:
            on_turn(report.turn)
    return turned


def play_games(plans: Sequence[GamePlan], turns: int, model: LlamaModel, stats: Stats,
               load: Callable[[str], Scenario], on_game: Callable[[GamePlan], None] | None = None,
               *, legends: bool = False, play: Callable[[Scenario, int], Brain] | None = None,
               on_turn: Callable[[int], None] | None = None, form: str = "lines") -> Iterator[dict[str, Any]]:
    """Play every planned game and yield its examples as they are made. ``legends``: fire the
    scenario's on-demand legends at random turns (:func:`random_legends`, kept in each row);
    ``play``: a brain for a game's scenario and seed whose answers are played while the teacher
    labels what it met (DAgger), instead of the teacher's own; ``form``: the answers' spelling
    (:mod:`engine.minds.forms`)."""
    rows: list[dict[str, Any]] = []
    for plan in plans:
        sc, cast = cast_for(load(plan.scenario), plan)
        fired = random_legends(sc, plan.seed, turns) if legends else []
        key: dict[str, Any] = {"scenario": plan.scenario, "cast": cast, "seed": plan.seed, "split": plan.split}
        if fired:
            key["legends"] = [f"{lg}@{t}" for t, lg in fired]
        student = LlamaBrain(sc, model, seed=plan.seed, lean=True, form=form)
        player = play(sc, plan.seed) if play is not None else None
        try:
            game = Game(sc, plan.seed, Recorder(student, key, stats, rows.append, play=player))

            game.run(turns, _turned(on_turn), before=_asker(game, fired))
        finally:
            student.close()
            if player is not None:
                player.close()
        stats.games += 1
        yield from rows
        rows.clear()
        if on_game is not None:
            on_game(plan)


def part_path(path: Path) -> Path:
    """Where :func:`write_jsonl` writes until it is done."""
    return path.with_name(path.name + ".part")


def write_jsonl(path: Path, rows: Iterator[dict[str, Any]]) -> None:
    """Write rows one JSON object a line, to a temporary file renamed into place at the end; the
    temporary file is removed if anything stops it (Ctrl-C too), and ``path`` is left as it was."""
    tmp = part_path(path)
    try:
        with tmp.open("w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, separators=(",", ":"), ensure_ascii=False) + "\n")
        tmp.replace(path)
    except OSError as exc:  # a full disk, a folder made read-only while the games played
        tmp.unlink(missing_ok=True)
        raise DataError(f"{path}: cannot write the dataset ({exc.strerror or exc}); nothing was written, "
                        f"{'the file there is as it was' if path.exists() else 'no file is left behind'}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def label_save(path: Path, model: LlamaModel, stats: Stats, split: str = "train", form: str = "lines") -> list[dict[str, Any]]:
    """The observations of a saved game (a model's, say), answered by the teacher: the game is
    replayed from its tape (the creatures do what they did) while the teacher labels every
    creature-turn the players met. A damaged save is refused with the save's own error."""
    from engine.saves import open_save
    from engine.saves.tape import TapeBrain

    rows: list[dict[str, Any]] = []
    with open_save(path) as save:
        sc = save.scenario
        key = {"scenario": sc.meta.id, "cast": "save", "seed": save.seed, "split": split, "source": Path(path).name}
        student = LlamaBrain(sc, model, seed=save.seed, lean=True, form=form)
        try:
            game = Game(sc, save.seed, Recorder(student, key, stats, rows.append, play=TapeBrain(save.tape(1, save.turns))))
            game.run(save.turns, before=lambda t: save.ask_legends(game, t))
        finally:
            student.close()
    stats.games += 1
    return rows
