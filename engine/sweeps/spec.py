"""What one game of a sweep is (:class:`GameSpec`), and the grid a sweep command asks for.

A sweep is scenario × seed × brain set × legend set, one game each. Everything a worker needs to
play a game travels inside its spec (the scenario's TOML text too), so a worker on another machine
needs the package installed and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from engine import scenario as scenarios
from engine.core.errors import MAX_SEED, TTWoodError
from engine.minds.factory import BRAIN_KINDS, RULE_KINDS, BrainChoice, preflight

MAX_GAMES = 100_000
"""A sweep larger than this is almost certainly a typo in ``--seeds``."""


class SweepError(TTWoodError):
    """A sweep, comparison or report cannot run as asked (the message says why)."""

    title = "sweep error"


@dataclass(frozen=True, slots=True)
class BrainSet:
    """One arm of the brains axis: a brain kind and its model (``--brain KIND[:MODEL]``)."""

    kind: str
    model: str | None = None

    @property
    def label(self) -> str:
        """``scripted``, ``llama``, ``llama:my-model`` (a model file's stem)."""
        if self.model is None:
            return self.kind
        stem = re.sub(r"\.gguf$", "", self.model.rstrip("/").rsplit("/", 1)[-1])
        return f"{self.kind}:{stem}"


@dataclass(frozen=True, slots=True)
class LegendSet:
    """One arm of the legends axis: legends placed at turns (``--legend ID@TURN[+ID@TURN]`` or ``none``)."""

    placed: tuple[tuple[str, int], ...] = ()

    @property
    def label(self) -> str:
        return "+".join(f"{lid}@{t}" for lid, t in self.placed) or "none"


@dataclass(frozen=True, slots=True)
class Options:
    """What every game of a sweep shares besides its grid coordinates."""

    turns: int
    brain_for: tuple[tuple[str, str], ...] = ()
    adapter: str | None = None
    gpu_layers: int = 0
    threads: int | None = None
    base_url: str = "http://127.0.0.1:8000/v1"
    server: str = "llama-cpp-python"
    foresight: str | None = None
    """How foresight elders look ahead (``--foresight``; ``None``: their defaults)."""


@dataclass(frozen=True, slots=True)
class GameSpec:
    """One game: everything a worker needs to play it, and the labels its rows carry."""

    scenario: str
    """The scenario's id."""
    source: str
    """Where its text came from (errors name it)."""
    scenario_text: str
    seed: int
    turns: int
    brains: BrainSet
    legends: LegendSet
    options: Options = field(compare=False)

    def choice(self) -> BrainChoice:
        """The brains this game plays with, as ``ttwood run`` would build them."""
        o = self.options
        return BrainChoice(kind=self.brains.kind, model=self.brains.model, gpu_layers=o.gpu_layers,
                           overrides=dict(o.brain_for), seed=self.seed, base_url=o.base_url, server=o.server,
                           threads=o.threads, adapter=o.adapter, foresight=o.foresight)

    @property
    def id(self) -> str:
        """A stable id: the same game asked for again (same scenario text, seed, turns, brains,
        legends) has the same id, which is how a re-run sweep knows it is done."""
        key = {
            "scenario": scenarios.text_hash(self.scenario_text), "seed": self.seed, "turns": self.turns,
            "brains": self.choice().describe(), "legends": self.legends.placed,
        }
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]

    @property
    def name(self) -> str:
        """The save's file name (without suffix): readable, and unique through the id."""
        raw = f"{self.scenario}-s{self.seed}-{self.brain_label}-{self.legends.label}"
        return re.sub(r"[^A-Za-z0-9_.@+-]+", "_", raw)[:120] + f"-{self.id[:8]}"

    def labels(self) -> dict[str, Any]:
        """The columns that say which game a row belongs to."""
        return {"game": self.id, "name": self.name, "scenario": self.scenario, "seed": self.seed, "turns": self.turns,
                "brain_set": self.brain_label, "legend_set": self.legends.label}

    @property
    def brain_label(self) -> str:
        """The brain set, with the creatures that play another brain named: ``scripted (Oona=foresight)``."""
        overrides = self.options.brain_for
        if not overrides:
            return self.brains.label
        return f"{self.brains.label} ({', '.join(f'{n}={k}' for n, k in overrides)})"


def parse_seeds(spec: str) -> list[int]:
    """``1-8``, ``1,2,5``, ``1-4,10-12`` or ``7`` as a sorted list of distinct seeds."""
    seeds: set[int] = set()
    for part in spec.replace(" ", "").split(","):
        m = re.fullmatch(r"([0-9]{1,30})(?:-([0-9]{1,30}))?", part)
        if not m:
            raise SweepError(f"--seeds {spec!r}: each part is a seed or a range of whole numbers from 0, "
                             "e.g. 1-8 or 1,2,5 or 1-4,10")
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) is not None else lo
        if hi > MAX_SEED:
            raise SweepError(f"--seeds {spec!r}: {hi} is too large; a seed is a whole number from 0 to {MAX_SEED:,} (2**63 - 1)")
        if hi < lo:
            raise SweepError(f"--seeds {spec!r}: the range {part} runs backwards")
        if hi - lo >= MAX_GAMES:
            raise SweepError(f"--seeds {spec!r}: {hi - lo + 1:,} seeds is more than a sweep takes ({MAX_GAMES:,})")
        seeds.update(range(lo, hi + 1))
    return sorted(seeds)


def parse_brain(text: str) -> BrainSet:
    """``KIND`` or ``KIND:MODEL`` (a GGUF path for llama, the server's model name for http)."""
    kind, sep, model = text.partition(":")
    kind = kind.strip()
    if kind not in BRAIN_KINDS:
        raise SweepError(f"--brain {text!r}: unknown brain {kind!r}; available: {', '.join(BRAIN_KINDS)} (optionally KIND:MODEL)")
    if sep and not model.strip():
        raise SweepError(f"--brain {text!r}: nothing after the colon; give KIND:MODEL or just KIND")
    if kind in RULE_KINDS and sep:
        raise SweepError(f"--brain {text!r}: {kind} creatures use no model")
    return BrainSet(kind, model.strip() or None)


def parse_legends(text: str) -> LegendSet:
    """``none``, ``ID@TURN`` or several joined with ``+`` (``a@5+b@12``)."""
    if text.strip().lower() == "none":
        return LegendSet()
    placed = []
    for part in text.split("+"):
        lid, sep, turn = part.strip().rpartition("@")
        if not sep or not lid or not re.fullmatch(r"[0-9]{1,9}", turn) or int(turn) < 1:
            raise SweepError(f"--legend {text!r}: write ID@TURN (e.g. run-on-oonas-hoard@10), several joined with +, or none")
        placed.append((lid, int(turn)))
    return LegendSet(tuple(sorted(placed, key=lambda p: (p[1], p[0]))))


def check_legends(sc: scenarios.Scenario, legends: LegendSet, turns: int, source: str) -> None:
    """Every placed legend exists in the scenario, can be called up, and falls within the game."""
    on_demand = {lg.id for lg in sc.legends if lg.when.on_demand}
    for lid, turn in legends.placed:
        if lid not in {lg.id for lg in sc.legends}:
            known = ", ".join(sorted(on_demand)) or "none"
            raise SweepError(f"--legend {lid}@{turn}: {source} has no legend {lid!r} (legends it can call up: {known})")
        if lid not in on_demand:
            raise SweepError(f"--legend {lid}@{turn}: in {source} that legend fires on its own schedule; "
                             f"only on-demand legends can be placed ({', '.join(sorted(on_demand)) or 'none'})")
        if turn > turns:
            raise SweepError(f"--legend {lid}@{turn}: the games have only {turns} turns")


def grid(scenario_refs: list[str], seeds: list[int], brains: list[BrainSet], legends: list[LegendSet], options: Options,
         *, files_here: bool = True) -> list[GameSpec]:
    """Every game of the sweep, checked here (scenarios, seeds, brains, their model and adapter files,
    legends) before any worker starts. ``files_here``: the model and adapter paths are this
    machine's (with a scheduler's address they are the workers', and only the workers can look)."""
    specs: list[GameSpec] = []
    refs = scenario_refs or [scenarios.DEFAULT_SCENARIO]
    if len(refs) * len(seeds) * len(brains) * len(legends) > MAX_GAMES:
        raise SweepError(f"that is more than {MAX_GAMES:,} games; sweep in parts")
    for ref in dict.fromkeys(refs):
        found = scenarios.find(ref)
        sc, text = scenarios.load_found(found)
        for b in brains:
            try:
                preflight(sc, _choice(b, options), files=files_here)
            except SweepError:
                raise
            except TTWoodError as exc:
                raise SweepError(f"--brain {b.label}: {exc.message}") from None
        for lg in legends:
            check_legends(sc, lg, options.turns, found.location)
        for seed in seeds:
            for b in brains:
                for lg in legends:
                    specs.append(GameSpec(sc.meta.id, found.location, text, seed, options.turns, b, lg, options))
    return specs


def _choice(b: BrainSet, options: Options) -> BrainChoice:
    return BrainChoice(kind=b.kind, model=b.model, overrides=dict(options.brain_for), adapter=options.adapter,
                       foresight=options.foresight)
