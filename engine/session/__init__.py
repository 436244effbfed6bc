"""The one small facade a user interface drives: a game, its Patron, and the player's hands.

A :class:`Session` owns one :class:`~engine.game.Game` and everything a front end needs around
it: steps (returning the turn's report), legends asked for by the player, the Patron's actions and
the creatures the player has taken over (both through :class:`~engine.brains.human.HumanBrain`,
so they go through the same validated action set as every creature), the per-turn history for
charts, and save / open / rewind. It knows nothing of screens; the terminal UI calls it from a
worker thread for :meth:`Session.step` and from the UI thread for everything else.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.core.errors import TTWoodError
from engine.minds.brains.human import HumanBrain
from engine.scenario import LegendSpec, Scenario, load, parse
from engine.turn import actions as A
from engine.turn.brain import Brain
from engine.turn.game import Game
from engine.turn.report import Decided, TurnReport
from engine.world.creatures import Creature

PATRON = "Patron"
"""The player's own creature: a purse with no needs, acting only through queued actions."""
PATRON_PEBBLES = 200
"""Pebbles the Patron starts with."""

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
    saver: Any = None
    """The :class:`engine.saves.Autosaver` writing this game, once saving has started."""

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
        if self.saver is not None:
            self.saver.record(report)
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


    # ------------------------------------------------------------------ saves (engine.saves)
    def start_saving(self, path: Path | str | None = None, folder: Path | None = None) -> Path:
        """Autosave from now on: every turn is written to the save in one transaction.

        A new game gets a fresh file (``NAME.ttwood`` in ``folder``, numbered when taken); an
        opened save goes on writing its own file."""
        from engine.saves import SUFFIX, Autosaver

        if self.saver is not None:
            return self.saver.path
        if path is None:
            folder = folder if folder is not None else saves_folder()
            path = folder / f"{self.name}{SUFFIX}"
            n = 2
            while path.exists():
                path = folder / f"{self.name}-{n}{SUFFIX}"
                n += 1
            self.name = path.stem
        path = Path(path)
        if self.turn == 0 and not path.exists():
            self.saver = Autosaver.create(path, self.game, scenario_text=self.scenario_text,
                                          brains={"kind": self.brain_label}, source=self.source)
        else:
            self.saver = Autosaver.resume(path, self.game)
        self.save_path = path
        return path

    def save(self) -> Path:
        """Make the save file whole now (the log folded in: one self-contained file) and go on saving."""
        from engine.saves import Autosaver

        if self.saver is None:
            return self.start_saving()
        path = self.saver.path
        self.saver.close()
        self.saver = Autosaver.resume(path, self.game)
        return path

    def close(self) -> None:
        """Stop saving (the file is left whole). Call it before quitting."""
        if self.saver is not None:
            self.saver.close()
            self.saver = None

    @classmethod
    def open(cls, path: Path | str, make_brains: BrainMaker, *, at: int | None = None, brain_label: str = "scripted") -> Session:
        """A saved game, right after its last turn (or after turn ``at``), with fresh brains to play on.

        The file is checked as untrusted input (:func:`engine.saves.open_save`); refusals raise
        :class:`~engine.saves.SaveError` naming the file and the reason."""
        from engine.saves import open_save

        path = Path(path)
        with open_save(path) as save:
            brains = make_brains(save.scenario)
            game = save.game_at(at, brains)
            text = save.scenario_text
            source = save.meta.scenario_source or save.meta.scenario_id
        s = cls(game=game, scenario_text=text, source=str(source), name=path.stem.removesuffix(".ttwood"),
                brain_label=brain_label, make_brains=make_brains)
        s.history = [r.summary() for r in game.reports]
        for r in game.reports[-1:]:
            for d in r.decided:
                s.last[d.creature] = d
        s._hand_patron()
        if at is None:
            s.saver = None
            s.save_path = path
        return s

    def rewind(self, turn: int, folder: Path | None = None) -> Session:
        """A new game branched from this one at ``turn`` (a new save file; this one is left whole)."""
        from engine.saves import SUFFIX, branch

        if self.make_brains is None:
            raise SessionError("this session cannot build brains to rewind with")
        if not 0 <= turn <= self.turn:
            raise SessionError(f"rewind to turn {turn}? this game holds turns 0 to {self.turn}")
        src = self.save()
        folder = folder if folder is not None else src.parent
        dst = folder / f"{self.name}-from-{turn}{SUFFIX}"
        n = 2
        while dst.exists():
            dst = folder / f"{self.name}-from-{turn}-{n}{SUFFIX}"
            n += 1
        branch(src, turn, dst)
        s = Session.open(dst, self.make_brains, brain_label=self.brain_label)
        s.start_saving(dst)
        return s


def saves_folder() -> Path:
    """Where games are saved unless told otherwise (``engine.saves.saves_dir()``)."""
    from engine.saves import saves_dir

    return saves_dir()


def is_save(ref: str) -> bool:
    """Whether a command-line argument names a saved game rather than a scenario."""
    return ref.endswith(".ttwood")


def list_saves(folder: Path | None = None) -> list[Path]:
    """Saved games in a folder, newest first."""
    folder = folder if folder is not None else saves_folder()
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*.ttwood"), key=lambda p: p.stat().st_mtime, reverse=True)


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
