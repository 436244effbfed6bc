"""Build the brains a game needs from command-line choices and the scenario's per-creature overrides.

Every creature gets a brain kind and, for model brains, a model: the command line's ``--brain`` and
``--model`` are the defaults, a creature's ``brain``/``model`` keys in the scenario override them,
and ``--brain-for NAME=KIND`` overrides both. Creatures that share a kind and a model share one
brain object, so their turn is decided as one batch and the model is loaded once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.core.errors import TTWoodError
from engine.elders.foresight import ForesightBrain, Settings
from engine.elders.scripted import ScriptedBrain
from engine.scenario import Scenario
from engine.turn.brain import Brain

BRAIN_KINDS = ("llama", "scripted", "http", "foresight")
"""Brain kinds the command line accepts (the first is the default of ``ttwood run`` and ``ttwood play``)."""
RULE_KINDS = frozenset({"scripted", "foresight"})
"""Kinds that load no model: the elders (``foresight``: the elder that plays its answers ahead)."""
DEFAULT_KIND = "llama"

STUDENT_TEMPERATURE = 0.2
"""Sampling temperature of a model with an adapter: a student copies its teacher best near its
most likely answer (its prices cross more often); the bare model keeps the sampler's default."""


@dataclass(slots=True)
class BrainChoice:
    """What the player asked for: the default kind plus per-creature overrides."""

    kind: str = "scripted"
    model: str | None = None
    """A GGUF path for ``llama`` (none: the embedded model), a model name for ``http``."""
    gpu_layers: int = 0
    """Layers offloaded to the GPU for ``llama`` (-1: all)."""
    overrides: dict[str, str] = field(default_factory=dict)
    """Creature name -> brain kind (from ``--brain-for NAME=KIND``; wins over the scenario)."""
    seed: int = 1
    """Seeds the samplers (with the turn and the creature's name)."""
    base_url: str = "http://127.0.0.1:8000/v1"
    """The server of ``http`` brains."""
    server: str = "llama-cpp-python"
    """Which kind of server that is (decides how the action mask is sent)."""
    threads: int | None = None
    adapter: str | None = None
    """A GGUF LoRA adapter for ``llama`` (``None``: the shipped one with the embedded model;
    ``"none"``: the bare model)."""
    timeout: float = 60.0
    """Seconds an ``http`` server has to answer every request of one turn (``--timeout``)."""
    foresight: str | None = None
    """How the ``foresight`` elders look ahead (``--foresight depth=4,width=8``; ``None``: the defaults)."""

    def describe(self) -> dict[str, Any]:
        """A JSON-able record of the choice (for run reports and saves; ``foresight`` only when set,
        so a choice without it describes itself as before)."""
        out = {
            "kind": self.kind, "model": self.model, "gpu_layers": self.gpu_layers, "overrides": dict(self.overrides),
            "seed": self.seed, "base_url": self.base_url, "server": self.server, "adapter": self.adapter,
            "timeout": self.timeout,
        }
        if self.foresight is not None:
            out["foresight"] = self.foresight
        return out

    @classmethod
    def from_describe(cls, d: Mapping[str, Any]) -> BrainChoice:
        """The choice back from :meth:`describe` (unknown keys, such as an older save's ``mode``,
        ignored). Raises :class:`TTWoodError` when it does not say which brains played or its
        values do not fit."""
        if "kind" not in d:
            raise TTWoodError("does not say which brains played")
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        for key, value in known.items():
            if not _FIELD_OK[key](value):
                raise TTWoodError(f"its brains cannot be rebuilt ({key} = {value!r:.60} is not what a brain choice holds)")
        try:
            return cls(**known)
        except TypeError as exc:
            raise TTWoodError(f"its brains cannot be rebuilt ({exc})") from None


def _text_or_none(v: object) -> bool:
    return v is None or isinstance(v, str)


def _whole(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


_FIELD_OK: dict[str, Callable[[object], bool]] = {
    "kind": lambda v: isinstance(v, str), "model": _text_or_none, "adapter": _text_or_none, "gpu_layers": _whole,
    "overrides": lambda v: isinstance(v, dict) and all(isinstance(k, str) and isinstance(x, str) for k, x in v.items()),
    "seed": _whole, "base_url": lambda v: isinstance(v, str), "server": lambda v: isinstance(v, str),
    "threads": lambda v: v is None or _whole(v), "timeout": lambda v: _whole(v) or isinstance(v, float),
    "foresight": _text_or_none,
}
"""What each :class:`BrainChoice` field may hold, to check one read back from a save."""


def parse_brain_for(items: list[str] | None) -> dict[str, str]:
    """``["Oona=scripted", ...]`` from ``--brain-for`` as a name -> kind map."""
    out: dict[str, str] = {}
    for item in items or []:
        name, sep, kind = item.partition("=")
        if not sep or not name.strip() or not kind.strip():
            raise TTWoodError(f"--brain-for wants NAME=KIND (e.g. Oona=scripted), not {item!r}")
        out[name.strip()] = kind.strip()
    return out


def _check_kind(kind: str, where: str) -> None:
    if kind not in BRAIN_KINDS:
        raise TTWoodError(f"unknown brain {kind!r}{where}; available: {', '.join(BRAIN_KINDS)}")


def plan(scenario: Scenario, choice: BrainChoice) -> dict[str, tuple[str, str | None]]:
    """Creature name -> (brain kind, model) after every override."""
    _check_kind(choice.kind, "")
    names = {c.name for c in scenario.expanded_cast()}
    for name, kind in choice.overrides.items():
        if name not in names:
            raise TTWoodError(f"--brain-for names {name!r}, who is not in this scenario (there are: {', '.join(sorted(names)[:12])})")
        _check_kind(kind, f" for {name}")
    out: dict[str, tuple[str, str | None]] = {}
    for c in scenario.expanded_cast():
        if c.role == "patron":
            out[c.name] = ("scripted", None)
            continue
        kind = choice.overrides.get(c.name) or c.brain or choice.kind
        model = c.model if (c.model and kind not in RULE_KINDS) else choice.model
        out[c.name] = (kind, model if kind not in RULE_KINDS else None)
    return out


def make_brains(scenario: Scenario, choice: BrainChoice, models: dict[tuple[Any, ...], Any] | None = None) -> dict[str, Brain]:
    """One brain object per (kind, model) in use, mapped from creature names (``"*"`` is the default).

    ``models``: loaded models to reuse and add to (a sweep's worker keeps one, so a model is loaded
    once per process however many games it plays); closing the brains leaves those models loaded."""
    made: dict[tuple[str, str | None], Brain] = {}
    models = {} if models is None else models

    def get(kind: str, model: str | None) -> Brain:
        key = (kind, model)
        if key in made:
            return made[key]
        brain: Brain
        if kind == "scripted":
            brain = ScriptedBrain(message_chars=scenario.budget.message_chars)
        elif kind == "foresight":
            brain = ForesightBrain(Settings.parse(choice.foresight), message_chars=scenario.budget.message_chars)
        elif kind == "llama":
            from engine.minds.brains.llama import LlamaBrain, LlamaModel, Sampler
            from engine.minds.brains.models import resolve_adapter, resolve_model

            adapter = resolve_adapter(choice.adapter, model)
            mkey = (model, choice.gpu_layers, str(adapter), choice.threads)
            if mkey not in models:
                models[mkey] = LlamaModel(resolve_model(model), gpu_layers=choice.gpu_layers, threads=choice.threads,
                                          adapter=adapter)
            lm = models[mkey]
            lm.check_budget(scenario.budget.tokens)
            # an adapter that learned the whole answer's spelling must sample every token
            brain = LlamaBrain(scenario, lm, seed=choice.seed, lean=adapter is not None,
                               jump_forward=adapter is None or lm.adapter_spelling == "decoder",
                               form=lm.adapter_form if adapter is not None else "json",
                               sampler=Sampler(temperature=STUDENT_TEMPERATURE) if adapter is not None else None)
        else:
            from engine.minds.brains.http import HTTPBrain

            if not model:
                raise TTWoodError("an http brain needs a model name: --model NAME (as the server knows it)")
            brain = HTTPBrain(scenario, choice.base_url, model, server=choice.server, seed=choice.seed, timeout=choice.timeout)
        made[key] = brain
        return brain

    assigned = plan(scenario, choice)
    _check_adapter_use(choice, {kind for kind, _ in assigned.values()})
    _check_foresight_use(choice, {kind for kind, _ in assigned.values()})
    default_model = choice.model if choice.kind not in RULE_KINDS else None
    brains: dict[str, Brain] = {"*": get(choice.kind, default_model)}
    for name, (kind, model) in assigned.items():
        if (kind, model) != (choice.kind, default_model):
            brains[name] = get(kind, model)
    return brains


def _check_adapter_use(choice: BrainChoice, kinds: set[str]) -> None:
    if choice.adapter is not None and choice.adapter.strip().lower() != "none" and "llama" not in kinds:
        raise TTWoodError(f"--adapter {choice.adapter}: an adapter is for llama brains, and no creature of this game "
                          f"thinks with one ({', '.join(sorted(kinds))})")


def _check_foresight_use(choice: BrainChoice, kinds: set[str]) -> None:
    settings = Settings.parse(choice.foresight)
    if choice.foresight is not None and "foresight" not in kinds:
        raise TTWoodError(f"--foresight {settings.text()}: the settings are for foresight elders, and no creature of "
                          "this game is one (--brain foresight, or --brain-for NAME=foresight)")


def preflight(scenario: Scenario, choice: BrainChoice, *, files: bool = True) -> None:
    """Refuse now what :func:`make_brains` would refuse later, without loading a model or reaching a
    server: what a sweep checks before its cluster starts, so a mistake is one clear error and not
    a failed game on every worker. ``files``: the model and adapter files are on this machine (with
    a scheduler's address they are the workers' paths, and only the workers can look)."""
    from engine.core.errors import check_seed
    from engine.minds.brains.llama_model import check_model_file
    from engine.minds.brains.models import resolve_adapter

    check_seed(choice.seed)
    assigned = plan(scenario, choice)
    _check_adapter_use(choice, {kind for kind, _ in assigned.values()})
    _check_foresight_use(choice, {kind for kind, _ in assigned.values()})
    default_model = choice.model if choice.kind not in RULE_KINDS else None
    for kind, model in {(choice.kind, default_model), *assigned.values()}:
        if kind == "http" and not model:
            raise TTWoodError("an http brain needs a model name: --model NAME (as the server knows it)")
        if kind == "llama" and files:
            if model:
                check_model_file(model)
            resolve_adapter(choice.adapter, model)


def brain_cards(brains: Mapping[str, Brain]) -> list[dict[str, Any]]:
    """What each distinct model brain is (name, path or server, sampler), for reports and saves."""
    seen: set[int] = set()
    cards = []
    for b in brains.values():
        if id(b) in seen:
            continue
        seen.add(id(b))
        cards.append({"brain": b.name, **b.card()})
    return cards


def model_cards(brains: Mapping[str, Brain]) -> list[dict[str, Any]]:
    """The cards of the model brains among ``brains`` (not rules, not the player): what a save
    records of what played, and what a run's card is made of."""
    return [c for c in brain_cards(brains) if c["brain"] not in ("scripted", "human", "foresight")]


def run_card(brains: Mapping[str, Brain]) -> dict[str, Any]:
    """The model part of a run report (``ttwood run --json``, sweeps): the one model brain's card,
    ``mixed`` with every card, or ``scripted``; each with ``adapter`` (null when none; for a mixed
    wood, the adapter its model brains share, if they share one)."""
    models = model_cards(brains)
    if len(models) == 1:
        return {"adapter": None, **models[0]}
    if not models:
        return {"name": "scripted", "adapter": None}
    adapters = {repr(c.get("adapter")): c.get("adapter") for c in models}
    return {"name": "mixed", "brains": brain_cards(brains),
            "adapter": next(iter(adapters.values())) if len(adapters) == 1 else None}


def close_brains(brains: Mapping[str, Brain]) -> None:
    """Free models and contexts (a no-op for brains that hold none)."""
    for b in {id(b): b for b in brains.values()}.values():
        b.close()
