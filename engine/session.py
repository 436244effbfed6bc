"""The one small facade a user interface drives: a game, its Patron, and the player's hands.

A :class:`Session` owns one :class:`~engine.game.Game` and everything a front end needs around
it: steps (returning the turn's report), legends asked for by the player, the Patron's actions and
the creatures the player has taken over (both through :class:`~engine.brains.human.HumanBrain`,
so they go through the same validated action set as every creature), the per-turn history for
charts, and save / open / rewind. It knows nothing of screens; the terminal UI calls it from a
worker thread for :meth:`Session.step` and from the UI thread for everything else.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from engine import actions as A
from engine.brains.base import Answer, Brain, Observation
from engine.brains.human import HumanBrain
from engine.errors import TTWoodError
from engine.game import Decided, Game, TurnReport
from engine.scenario import LegendSpec, Scenario, load, parse
from engine.world import Creature

PATRON = "Patron"
"""The player's own creature: a purse with no needs, acting only through queued actions."""
PATRON_PEBBLES = 200
"""Pebbles the Patron starts with."""
SAVES_DIR = Path("saves")
"""Where games are saved unless told otherwise."""
JOURNAL_FORMAT = "ttwood-journal"
JOURNAL_VERSION = 1
MAX_JOURNAL_BYTES = 64_000_000
"""Largest journal file read (untrusted input)."""

BrainMaker = Callable[[Scenario], "Brain | Mapping[str, Brain]"]
"""Builds the brains for a scenario (the front end decides which kinds)."""


class SessionError(TTWoodError):
    """Something the player asked of the session cannot be done (the message says why)."""

    title = "cannot do that"


def with_patron(text: str, pebbles: int = PATRON_PEBBLES) -> str:
    """The scenario's TOML text with the Patron appended to the cast (unchanged if it has one).

    The Patron lives in the scenario text itself, so a save that stores the text replays the
    same cast."""
    sc = parse(text)
    if any(c.role == "patron" for c in sc.creatures):
        return text
    if any(c.name == PATRON for c in sc.creatures):
        raise SessionError(f"this scenario already has a creature called {PATRON!r} that is not a patron")
    block = (
        "\n\n# Added by the session: the player's Patron (no needs, acts only when the player does).\n"
        "[[creatures]]\n"
        f'name = "{PATRON}"\nspecies = "patron"\nglyph = "P"\ncolour = "gold1"\nrole = "patron"\n'
        f"holdings = {{ pebbles = {pebbles} }}\n"
        'personality = "The player: a patron of the wood who lends, trades, tips and brokers."\n'
    )
    return text.rstrip("\n") + block


@dataclass(slots=True)
class PatronLog:
    """One thing the player had the Patron do, and what came of it."""

    turn: int
    """The turn it was queued for."""
    action: A.Action
    label: str
    """How the player described it (a planted tip says so here; creatures never see this)."""
    result: str | None = None
    """``"done"``, the refusal reason, or ``None`` while it waits for its turn."""


@dataclass(slots=True)
class Session:
    """One game being played, plus what the player does to it."""

    game: Game
    scenario_text: str
    """The scenario's exact TOML text (with the Patron, when there is one)."""
    source: str
    """Where the scenario came from (a bundled id or a path), for titles and saves."""
    name: str
    """The game's name (also the save file's stem)."""
    brain_label: str = "scripted"
    make_brains: BrainMaker | None = None
    human: HumanBrain = field(default_factory=HumanBrain)
    taken: dict[str, Brain] = field(default_factory=dict)
    """Creatures the player has taken over, with the brain each had before."""
    history: list[dict[str, Any]] = field(default_factory=list)
    """Every turn's summary (``TurnReport.summary()``), for charts."""
    last: dict[str, Decided] = field(default_factory=dict)
    """Each creature's latest turn: its answer and what the rules made of it."""
    patron_log: list[PatronLog] = field(default_factory=list)
    save_path: Path | None = None
    _pending_legends: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    journal: list[dict[str, Any]] = field(default_factory=list)
    """Per turn: the legends asked for and every creature's answer (the tape a save replays)."""

    # ------------------------------------------------------------------ making one
    @classmethod
    def new(
        cls,
        scenario: str | None,
        make_brains: BrainMaker,
        seed: int,
        *,
        patron: bool = True,
        name: str | None = None,
        brain_label: str = "scripted",
    ) -> Session:
        """A fresh game of a scenario (bundled id or path; the default when ``None``)."""
        sc, text = load(scenario)
        if patron:
            text = with_patron(text)
            sc = parse(text, scenario or sc.meta.id)
        game = Game(sc, seed, make_brains(sc))
        s = cls(
            game=game, scenario_text=text, source=scenario or sc.meta.id,
            name=name or f"{sc.meta.id}-seed{seed}", brain_label=brain_label, make_brains=make_brains,
        )
        s._hand_patron()
        return s

    def _hand_patron(self) -> None:
        for c in self.game.wood.creatures:
            if c.role == "patron":
                self.game.set_brain(c.name, self.human)

    # ------------------------------------------------------------------ looking
    @property
    def wood(self):  # noqa: ANN201 - engine.state.Wood, kept loose to avoid a cycle in docs
        """The whole state (read it between turns, never while a step is running)."""
        return self.game.wood

    @property
    def scenario(self) -> Scenario:
        return self.game.scenario

    @property
    def turn(self) -> int:
        return self.game.turn

    @property
    def patron(self) -> Creature | None:
        """The Patron creature, if this game has one."""
        for c in self.game.wood.creatures:
            if c.role == "patron":
                return c
        return None

    def cast(self) -> list[Creature]:
        """The creatures of the wood, the Patron left out."""
        return [c for c in self.game.wood.creatures if c.role != "patron"]

    def legends(self) -> list[LegendSpec]:
        """Legends the player may fire now (the on-demand ones)."""
        return [lg for lg in self.scenario.legends if lg.when.on_demand]

    def brain_name(self, creature: str) -> str:
        """Which kind of brain decides for a creature (``human`` when the player does)."""
        return self.game.brain_of(creature).name

    def tokens(self, creature: str) -> int | None:
        """Prompt plus answer tokens the creature used last turn; ``None`` when its brain counts none."""
        d = self.last.get(creature)
        if d is None:
            return None
        meta = d.answer.meta
        if "prompt_tokens" not in meta:
            return None
        return int(meta.get("prompt_tokens", 0)) + int(meta.get("answer_tokens", 0))

    # ------------------------------------------------------------------ playing
    def inject(self, legend_id: str) -> None:
        """Ask for an on-demand legend; it fires when the next turn starts."""
        ids = {lg.id for lg in self.legends()}
        if legend_id not in ids:
            raise SessionError(f"no on-demand legend {legend_id!r} here (known: {', '.join(sorted(ids)) or 'none'})")
        with self._lock:
            self._pending_legends.append(legend_id)

    def pending_legends(self) -> list[str]:
        with self._lock:
            return list(self._pending_legends) + list(self.game.wood.pending_legends)

    def step(self) -> TurnReport:
        """Play one turn (legends asked for fire first) and return its report."""
        with self._lock:
            pending, self._pending_legends = self._pending_legends, []
        for lg in pending:
            self.game.inject(lg)
        report = self.game.step()
        self.journal.append({"turn": report.turn, "legends": pending, "answers": {d.creature: _answer_record(d.answer) for d in report.decided}})
        self.history.append(report.summary())
        for d in report.decided:
            self.last[d.creature] = d
        self._settle_patron_log(report)
        return report

    def _settle_patron_log(self, report: TurnReport) -> None:
        p = self.patron
        if p is None:
            return
        mine = next((d for d in report.decided if d.creature == p.name), None)
        waiting = [e for e in self.patron_log if e.result is None and e.turn <= report.turn]
        results = list(mine.results) if mine else []
        for entry in waiting:
            hit = next((i for i, (a, _) in enumerate(results) if a == entry.action), None)
            if hit is None:
                entry.result = "not played"
                continue
            _, reason = results.pop(hit)
            entry.result = "done" if reason is None else reason

    # ------------------------------------------------------------------ the Patron
    def patron_act(self, action: A.Action, label: str = "") -> PatronLog:
        """Queue an action for the Patron's next turn; it is validated by the rules like any other."""
        p = self.patron
        if p is None:
            raise SessionError("this game has no Patron (it was started without one)")
        self.human.queue(p.name, action)
        entry = PatronLog(self.turn + 1, action, label or describe(action))
        self.patron_log.append(entry)
        return entry

    def patron_lend(self, to: str, pebbles: int, interest: int, due: int) -> PatronLog:
        """Offer a creature a loan at interest (it must accept)."""
        return self.patron_act(A.Lend(to=to, pebbles=pebbles, interest=interest, due=due))

    def patron_order(self, side: str, good: str, qty: int, price: int) -> PatronLog:
        """Place a limit order on the book."""
        return self.patron_act(A.PlaceOrder(side=side, good=good, qty=qty, price=price))  # type: ignore[arg-type]

    def patron_tip(self, to: str, text: str, planted: bool) -> PatronLog:
        """Whisper a tip to a creature; whether it is planted is recorded for the player only."""
        kind = "planted tip" if planted else "true tip"
        return self.patron_act(A.Whisper(to=to, text=text), f"{kind} to {to}: {text}")

    def patron_broker(self, seller: str, buyer: str, good: str, qty: int, price: int, fee: int) -> list[PatronLog]:
        """Stand between two creatures: buy ``qty`` ``good`` from the seller at ``price`` each now,
        and offer it to the buyer for delivery next turn at ``price`` each plus ``fee``."""
        if seller == buyer:
            raise SessionError("a broker needs two different creatures")
        cost = qty * price
        return [
            self.patron_act(A.MakeOffer(to=seller, give={"pebbles": cost}, get={good: qty}),
                            f"broker: buy {qty} {good} from {seller} for {cost}"),
            self.patron_act(A.MakeOffer(to=buyer, give={good: qty}, get={"pebbles": cost + fee}, due=1),
                            f"broker: sell {qty} {good} to {buyer} for {cost + fee} next turn"),
        ]

    # ------------------------------------------------------------------ taking over
    def take_over(self, creature: str) -> None:
        """The player decides for this creature from the next turn on."""
        c = self.game.wood.by_name.get(creature)
        if c is None:
            raise SessionError(f"no creature called {creature!r}")
        if c.role == "patron":
            raise SessionError("the Patron is always yours")
        if not c.alive:
            raise SessionError(f"{creature} has left the wood")
        if creature in self.taken:
            return
        self.taken[creature] = self.game.brain_of(creature)
        self.game.set_brain(creature, self.human)

    def give_back(self, creature: str) -> None:
        """Hand a taken-over creature back to the brain it had."""
        brain = self.taken.pop(creature, None)
        if brain is None:
            raise SessionError(f"{creature} is not yours")
        self.human.clear(creature)
        self.game.set_brain(creature, brain)

    def act_as(self, creature: str, action: A.Action) -> None:
        """Queue an action for a creature the player has taken over."""
        if creature not in self.taken:
            raise SessionError(f"take {creature} over first")
        self.human.queue(creature, action)


    # ------------------------------------------------------------------ saves
    def default_path(self) -> Path:
        return SAVES_DIR / f"{self.name}.ttwood.json"

    def save(self, path: Path | str | None = None) -> Path:
        """Write the game to a file (atomically: a temp file in the same folder, then a rename)."""
        target = Path(path) if path is not None else (self.save_path or self.default_path())
        data = {
            "format": JOURNAL_FORMAT, "version": JOURNAL_VERSION, "name": self.name, "source": self.source,
            "seed": self.game.seed, "brain": self.brain_label, "scenario_text": self.scenario_text,
            "turns": self.journal, "taken": sorted(self.taken),
            "queued": {n: [a.model_dump() for a in self.human.queued(n)] for n in self.game.wood.by_name if self.human.queued(n)},
        }
        _write_atomic(target, json.dumps(data))
        self.save_path = target
        return target

    @classmethod
    def open(cls, path: Path | str, make_brains: BrainMaker, *, at: int | None = None, brain_label: str | None = None) -> Session:
        """Resume a saved game (up to turn ``at`` when given: a rewind) by replaying its recorded answers."""
        path = Path(path)
        data = _read_journal(path)
        turns = data["turns"] if at is None else data["turns"][:at]
        if at is not None and not 0 <= at <= len(data["turns"]):
            raise SessionError(f"{path}: rewind to turn {at}? the save holds turns 0 to {len(data['turns'])}")
        sc = parse(data["scenario_text"], str(path))
        tape = _Tape(turns)
        game = Game(sc, int(data["seed"]), tape)
        s = cls(game=game, scenario_text=data["scenario_text"], source=str(data.get("source", "")),
                name=str(data["name"]), brain_label=brain_label or str(data.get("brain", "scripted")), make_brains=make_brains)
        for rec in turns:
            with s._lock:
                s._pending_legends = list(rec.get("legends", []))
            s.step()
        brains = make_brains(sc)
        for c in game.wood.creatures:
            b = brains if not isinstance(brains, Mapping) else (brains.get(c.name) or brains.get("*"))
            if b is None:
                raise SessionError(f"no brain for {c.name}")
            game.set_brain(c.name, b)
        s._hand_patron()
        if at is None:
            for name in data.get("taken", []):
                if name in game.wood.by_name and game.wood.by_name[name].alive:
                    s.take_over(name)
            for name, acts in data.get("queued", {}).items():
                for a in acts:
                    s.human.queue(name, _ACTION.validate_python(a))
            s.save_path = path
        else:
            s.name = f"{s.name}-from-{at}"
        return s

    def rewind(self, turn: int) -> Session:
        """A new game branched from this one's save at ``turn`` (this one is saved first)."""
        if self.make_brains is None:
            raise SessionError("this session cannot build brains to rewind with")
        if not 0 <= turn <= self.turn:
            raise SessionError(f"rewind to turn {turn}? this game holds turns 0 to {self.turn}")
        path = self.save()
        return Session.open(path, self.make_brains, at=turn, brain_label=self.brain_label)


def is_save(ref: str) -> bool:
    """Whether a command-line argument names a saved game rather than a scenario."""
    return ref.endswith(".ttwood.json") or ref.endswith(".ttwood")


def list_saves(folder: Path = SAVES_DIR) -> list[Path]:
    """Saved games in a folder, newest first."""
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*.ttwood.json"), key=lambda p: p.stat().st_mtime, reverse=True)


_ACTION: TypeAdapter[A.Action] = TypeAdapter(A.AnyAction)  # type: ignore[arg-type]


def _answer_record(a: Answer) -> dict[str, Any]:
    meta = {k: v for k, v in a.meta.items() if k in ("prompt_tokens", "answer_tokens", "latency_ms", "model", "brain")}
    return {"actions": [x.model_dump() for x in a.actions], "problems": list(a.problems), "raw": a.raw, "thinking": a.thinking, "meta": meta}


class _Tape:
    """Replays a journal's recorded answers, turn by turn (so any brain's game resumes exactly)."""

    name = "tape"

    def __init__(self, turns: list[dict[str, Any]]) -> None:
        self.turns = {int(t["turn"]): t for t in turns}

    def decide(self, observations: list[Observation]) -> list[Answer]:
        out = []
        for o in observations:
            rec = self.turns.get(o.turn, {}).get("answers", {}).get(o.name)
            if rec is None:
                out.append(Answer([]))
                continue
            out.append(Answer([_ACTION.validate_python(x) for x in rec["actions"]], list(rec["problems"]), rec.get("raw"), rec.get("thinking", ""), dict(rec.get("meta", {}))))
        return out


def _read_journal(path: Path) -> dict[str, Any]:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SessionError(f"{path}: cannot open: {exc.strerror}") from None
    if size > MAX_JOURNAL_BYTES:
        raise SessionError(f"{path}: {size} bytes is larger than a save may be ({MAX_JOURNAL_BYTES})")
    try:
        data = json.loads(path.read_bytes())
    except (ValueError, RecursionError, UnicodeDecodeError):
        raise SessionError(f"{path}: not a Thousand Token Wood save (not JSON)") from None
    if not isinstance(data, dict) or data.get("format") != JOURNAL_FORMAT:
        raise SessionError(f"{path}: not a Thousand Token Wood save")
    if data.get("version") != JOURNAL_VERSION:
        raise SessionError(f"{path}: save format version {data.get('version')!r}; this ttwood reads version {JOURNAL_VERSION}")
    for key, kind in (("name", str), ("seed", int), ("scenario_text", str), ("turns", list)):
        if not isinstance(data.get(key), kind):
            raise SessionError(f"{path}: key {key!r} is missing or not a {kind.__name__}")
    for i, t in enumerate(data["turns"]):
        if not isinstance(t, dict) or t.get("turn") != i + 1 or not isinstance(t.get("answers"), dict):
            raise SessionError(f"{path}: turns[{i}] is damaged")
        for name, rec in t["answers"].items():
            try:
                for x in rec["actions"]:
                    _ACTION.validate_python(x)
                if not isinstance(rec["problems"], list):
                    raise TypeError("problems")
            except (ValidationError, KeyError, TypeError) as exc:
                raise SessionError(f"{path}: turns[{i}].answers.{name}: damaged ({str(exc)[:80]})") from None
    return data


def _write_atomic(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def describe(action: A.Action) -> str:
    """A short human reading of an action, for logs and the inspector."""
    d = action.model_dump(exclude_defaults=False)
    kind = d.pop("type")
    parts = []
    for k, v in d.items():
        if isinstance(v, dict):
            v = " + ".join(f"{q} {a}" for a, q in v.items()) or "nothing"
        if v is None or v == "nothing" and k == "collateral":
            continue
        parts.append(f"{k}={v}")
    return f"{kind} " + " ".join(parts)
