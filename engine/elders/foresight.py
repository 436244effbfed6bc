"""The foresight elder: the scripted elder's answer, checked against others by playing each ahead.

Each turn, for each of its creatures, it asks the elder (:class:`~engine.elders.scripted.ScriptedBrain`)
for its answer, makes up to ``width`` candidates from it (the elder's own first, then variants with
other prices, quantities, credit, deals and speech: :mod:`engine.elders.variants`), and plays each
``depth`` turns ahead on a copy of the game (:mod:`engine.turn.twin`): this turn with the candidate,
later turns with the elder deciding for it, every other creature played by the elder. It keeps the
candidate whose creature ends best by its :class:`Settings`' weights (wealth at market prices net
of what it owes and is owed, health, being alive, credit); a tie keeps the earlier candidate, so
where nothing is better it answers as the elder does.

Deterministic: the copies have generators of their own, copied from the game's at that moment, so
the same game and seed give the same answers, and the game itself (its generator included) is only
read. Its answers are recorded on the tape like any brain's, so a save of it replays exactly.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from engine.core.assets import PEBBLES
from engine.core.errors import EngineBug, TTWoodError
from engine.elders.scripted import ScriptedBrain
from engine.elders.speech import SPEECH_CHARS
from engine.elders.variants import VARIANTS, Candidate, candidates
from engine.turn.brain import Answer
from engine.turn.observation import Observation
from engine.turn.twin import Moment

if TYPE_CHECKING:
    from engine.turn.game import Game
    from engine.world.creatures import Creature
    from engine.world.wood import Wood

MAX_DEPTH = 20
MAX_WEIGHT = 1e6


class ForesightError(TTWoodError):
    """Foresight settings that cannot be used (the message says which and why)."""

    title = "foresight error"


@dataclass(frozen=True, slots=True)
class Settings:
    """How far and how wide the foresight elder looks, and what it wants (``--foresight``)."""

    depth: int = 3
    """Turns each candidate is played ahead, this one included (1: only this turn's trades and settling)."""
    width: int = 6
    """Candidates tried per creature and turn, the elder's own answer included (1: the plain elder)."""
    wealth: float = 1.0
    """Weight of a pebble of wealth (pebbles and goods at market prices, net of open contracts)."""
    health: float = 0.5
    """Weight of a point of health."""
    alive: float = 200.0
    """Weight of being alive at the end of the look-ahead."""
    credit: float = 0.5
    """Weight of a point of credit score."""
    others: float = 0.0
    """Weight of the other creatures' health and wealth (per point and per pebble, the living
    only): the partners it buys from and sells to, whose ruin can be its own a few dozen turns later,
    beyond what it sees (0, the default: itself alone)."""

    def text(self) -> str:
        """The settings as ``--foresight`` takes them (every key, in order)."""
        return ",".join(f"{f.name}={getattr(self, f.name):g}" for f in fields(self))

    @classmethod
    def parse(cls, text: str | None) -> Settings:
        """``depth=4,width=8,wealth=1,health=0.5,alive=200,credit=0.5`` (any of the keys, any order;
        ``None`` or empty: the defaults). Raises :class:`ForesightError` naming what is wrong."""
        if text is None or not text.strip():
            return cls()
        names = [f.name for f in fields(cls)]
        values: dict[str, Any] = {}
        for part in text.split(","):
            key, sep, value = (p.strip() for p in part.partition("="))
            if not sep or key not in names:
                raise ForesightError(f"--foresight {text!r}: write KEY=VALUE pairs joined with commas, the keys "
                                     f"{', '.join(names)} (e.g. depth=4,width=8)")
            if key in values:
                raise ForesightError(f"--foresight {text!r}: {key} is given twice")
            if key in ("depth", "width"):
                most = MAX_DEPTH if key == "depth" else len(VARIANTS) + 1
                if not re.fullmatch(r"[0-9]{1,3}", value) or not 1 <= int(value) <= most:
                    raise ForesightError(f"--foresight {text!r}: {key} is a whole number from 1 to {most}")
                values[key] = int(value)
                continue
            try:
                weight = float(value)
            except ValueError:
                weight = math.nan
            if not (math.isfinite(weight) and 0 <= weight <= MAX_WEIGHT):
                raise ForesightError(f"--foresight {text!r}: the weight {key} is a number from 0 to {MAX_WEIGHT:g}")
            values[key] = weight
        return cls(**values)


def outcome(w: Wood, c: Creature, s: Settings, prices: dict[str, int]) -> float:
    """How well ``c`` ends by the settings' weights: wealth net of open contracts, health, being
    alive and credit. Wealth is counted at ``prices``, the market's when it chose: every candidate
    at the same prices, so one that only pushes prices up (and its stock's worth with them) gains
    nothing by it."""
    others = sum(o.health + w.wealth(o, prices) for o in w.creatures if o.alive and o.id != c.id and o.role != "patron") if s.others else 0
    return (s.wealth * (w.wealth(c, prices) + owed(w, c, prices)) + s.health * c.health + s.alive * c.alive
            + s.credit * c.credit + s.others * others)


def owed(w: Wood, c: Creature, prices: dict[str, int]) -> int:
    """What open contracts owe ``c`` less what ``c`` owes on them, at ``prices`` (pebbles at 1)."""
    net = 0
    for k in w.deals.contracts.values():
        for leg in k.legs:
            if c.id not in (leg.obligor, leg.creditor):
                continue
            value = sum(q * (1 if a == PEBBLES else prices.get(a, 0)) for a, q in leg.bundle.items())
            net += value if leg.creditor == c.id else -value
    return net


class _Fixed:
    """Gives one fixed answer: the candidate being tried, for its creature's first turn ahead."""

    name = "fixed"

    def __init__(self, candidate: Candidate) -> None:
        self.candidate = candidate

    def decide(self, observations: list[Observation]) -> list[Answer]:
        return [Answer(actions=list(self.candidate.actions)) for _ in observations]

    def card(self) -> dict[str, Any]:
        return {}

    def close(self) -> None:
        return None


@dataclass(slots=True)
class Cost:
    """What the looking ahead has cost so far (for ``ttwood bench foresight``)."""

    decisions: int = 0
    """Creature-turns decided by looking ahead (a patron's, or one with a single candidate, not counted)."""
    candidates: int = 0
    turns_ahead: int = 0
    """Turns played on copies."""
    seconds: float = 0.0
    chose: dict[str, int] = field(default_factory=dict)
    """How often each candidate won."""


class ForesightBrain:
    """The elder with foresight: tries ``width`` answers ``depth`` turns ahead and keeps the best."""

    name = "foresight"

    def __init__(self, settings: Settings | None = None, message_chars: int = SPEECH_CHARS) -> None:
        self.settings = settings or Settings()
        self.elder = ScriptedBrain(message_chars=message_chars)
        """Decides the elder's own answer, and for every creature on the copies."""
        self.cost = Cost()
        self._game: Game | None = None

    def watch(self, game: Game) -> None:
        self._game = game

    def card(self) -> dict[str, Any]:
        return {"name": "foresight", "settings": self.settings.text()}

    def close(self) -> None:
        self._game = None

    def decide(self, observations: list[Observation]) -> list[Answer]:
        own = self.elder.decide(observations)
        game = self._game
        if self.settings.width < 2:
            return own
        if game is None:
            raise EngineBug("the foresight elder was asked to decide before a game handed itself over (its watch)")
        moment: Moment | None = None
        out = []
        for o, answer in zip(observations, own, strict=True):
            if o.turn != game.turn or o.name not in game.wood.by_name:
                raise EngineBug(f"the foresight elder watches turn {game.turn}, but {o.name} decides turn {o.turn}")
            tried = candidates(answer.actions, o, self.settings.width) if o.role != "patron" else []
            if len(tried) < 2:
                out.append(answer)
                continue
            started = time.perf_counter()
            moment = moment or Moment(game)
            best, gain = self._choose(moment, o, tried)
            self.cost.decisions += 1
            self.cost.candidates += len(tried)
            self.cost.turns_ahead += len(tried) * self.settings.depth
            self.cost.chose[best.label] = self.cost.chose.get(best.label, 0) + 1
            self.cost.seconds += time.perf_counter() - started
            if best.label == "own":
                out.append(answer)
                continue
            why = f"{answer.thinking}; looked {self.settings.depth} turns ahead: {best.label} (+{gain:.0f})"
            out.append(Answer(actions=list(best.actions), thinking=why[:SPEECH_CHARS * 4], meta={"foresight": best.label}))
        return out

    def _choose(self, moment: Moment, o: Observation, tried: list[Candidate]) -> tuple[Candidate, float]:
        """The best candidate for ``o``'s creature and how much better it ends than the elder's own."""
        prices = {g: max(0, int(p)) for g, p in o.prices.items()}
        scores = [self._play_ahead(moment, o.name, c, prices) for c in tried]
        best = max(range(len(tried)), key=lambda i: (scores[i], -i))
        return tried[best], scores[best] - scores[0]

    def _play_ahead(self, moment: Moment, name: str, candidate: Candidate, prices: dict[str, int]) -> float:
        twin = moment.copy({"*": self.elder, name: _Fixed(candidate)})
        twin.finish_turn()
        twin.set_brain(name, self.elder)
        for _ in range(self.settings.depth - 1):
            twin.step()
        return outcome(twin.wood, twin.wood.by_name[name], self.settings, prices)
