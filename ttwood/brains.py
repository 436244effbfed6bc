"""Build the brains a game needs from command-line choices and the scenario's per-creature overrides."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.brains.base import Brain
from engine.brains.scripted import ScriptedBrain
from engine.errors import TTWoodError
from engine.scenario import Scenario

BRAIN_KINDS = ("scripted",)
"""Brain kinds the command line accepts."""


@dataclass(slots=True)
class BrainChoice:
    """What the player asked for: the default kind plus per-creature overrides."""

    kind: str = "scripted"
    model: str | None = None
    gpu_layers: int = 0
    overrides: dict[str, str] = field(default_factory=dict)
    """Creature name -> brain kind (from ``--brain-for NAME=KIND`` or the scenario)."""

    def describe(self) -> dict[str, Any]:
        """A JSON-able record of the choice (for run reports and saves)."""
        return {"kind": self.kind, "model": self.model, "gpu_layers": self.gpu_layers, "overrides": dict(self.overrides)}


def make_brains(scenario: Scenario, choice: BrainChoice) -> Mapping[str, Brain]:
    """One brain object per kind in use, mapped from creature names (``"*"`` is the default)."""
    if choice.kind not in BRAIN_KINDS:
        raise TTWoodError(f"unknown brain {choice.kind!r}; available here: {', '.join(BRAIN_KINDS)}")
    made: dict[str, Brain] = {}

    def get(kind: str) -> Brain:
        if kind not in BRAIN_KINDS:
            raise TTWoodError(f"unknown brain {kind!r}; available here: {', '.join(BRAIN_KINDS)}")
        if kind not in made:
            made[kind] = ScriptedBrain()
        return made[kind]

    brains: dict[str, Brain] = {"*": get(choice.kind)}
    for name, kind in choice.overrides.items():
        brains[name] = get(kind)
    return brains
