"""What a saved game goes on with: the brains it records, and which options may change them.

A resumed game (``ttwood run --resume``, ``ttwood play SAVE``, a browser tab of ``ttwood serve``)
plays on with the brains its tape's answers came from. Options of how or where a brain runs may
change; a model or adapter file may be found elsewhere if it is the same file; anything else that
would decide differently is refused with what to do instead. Every front end asks here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.core.errors import TTWoodError
from engine.minds.factory import BrainChoice, brain_cards, close_brains, make_brains
from engine.saves import SaveError, open_save
from engine.scenario import Scenario
from engine.turn.brain import Brain
from engine.turn.game import Game

BRAIN_OPTIONS = {"brain": "kind", "model": "model", "adapter": "adapter", "brain_for": "overrides",
                 "base_url": "base_url", "server": "server", "timeout": "timeout", "gpu_layers": "gpu_layers",
                 "threads": "threads", "foresight": "foresight"}
"""The brain options of the command line (by parameter name) and the :class:`BrainChoice` field each sets."""
_NOT_WHO = {"gpu_layers", "threads", "base_url", "timeout"}
"""Options that change how or where a brain runs, not who decides: a resumed game may change them."""
_FILES = {"model", "adapter"}
"""Options naming a model or adapter file: a resumed game may find the same one elsewhere
(:func:`same_files` checks it against the save's record)."""

Chooser = Callable[[dict[str, Any]], "tuple[ChoiceMaker, str]"]
"""Picks, from a save's brains record, the brains it goes on with and their label."""


class ChoiceMaker:
    """Builds the brains of one :class:`BrainChoice` for whatever scenario a session opens, and
    says what it builds (a new save records it, as ``ttwood run --save`` does)."""

    def __init__(self, choice: BrainChoice, check: Callable[[list[dict[str, Any]]], None] | None = None) -> None:
        self.choice = choice
        self.check = check
        """Called with the model cards of the brains built (a resumed save checks its files)."""

    def __call__(self, sc: Scenario) -> dict[str, Brain]:
        brains = make_brains(sc, self.choice)
        if self.check is not None:
            try:
                self.check(brain_cards(brains))
            except BaseException:
                close_brains(brains)
                raise
        return brains

    def describe(self) -> dict[str, object]:
        return self.choice.describe()


def recorded_choice(path: Path, brains: dict[str, Any]) -> BrainChoice:
    """The brain choice a save records, or :class:`SaveError` naming the file when it cannot be rebuilt."""
    try:
        return BrainChoice.from_describe(brains)
    except TTWoodError as exc:
        raise SaveError(f"{path}: {exc}") from None


def resumed_choice(path: Path, saved: BrainChoice, choice: BrainChoice, asked: frozenset[str],
                   recorded: bool = True) -> BrainChoice:
    """The brains a resumed game goes on with: those it was saved with, which the answers on its
    tape came from. Threads, GPU layers, a server's address and timeout may change;
    ``--model``/``--adapter`` may name where a llama model or adapter is now (:func:`same_files`
    checks it is the same); any other brain that would decide differently is refused with what to
    do instead. ``asked``: the options (:data:`BRAIN_OPTIONS`' keys) given explicitly. A save that
    does not record its models (``recorded`` False: made by ``ttwood play`` before it did) takes
    the options as given: there is nothing to check them against."""
    changes: dict[str, object] = {}
    for option in sorted(asked & set(BRAIN_OPTIONS)):
        field = BRAIN_OPTIONS[option]
        new, old = getattr(choice, field), getattr(saved, field)
        llama = "llama" in (saved.kind, *saved.overrides.values())
        llama_file = option in _FILES and llama and new is not None
        unused = option == "adapter" and not llama  # no llama creature: no adapter is applied
        if new == old or option in _NOT_WHO or not recorded or llama_file or unused:
            changes[field] = new
        else:
            flag = "--" + option.replace("_", "-")
            raise SaveError(
                f"{path}: {flag} {new!r}: a saved game goes on with the brains it was saved with ({flag} {old!r}), "
                f"which its recorded answers came from. Drop {flag}, or start a new game to play with others "
                "(options of how or where a brain runs, such as --gpu-layers, may change)")
    return BrainChoice.from_describe(saved.describe() | changes) if changes else saved


def same_files(path: Path, saved_models: object, cards: list[dict[str, Any]], asked: frozenset[str]) -> None:
    """Refuse to resume when the models or adapters that would play are not those the save records
    (another model; an adapter whose sha256 differs, or one where it played without): the game would
    go on with creatures that think otherwise than its record says. Nothing to check for a save
    that records no models."""
    if not isinstance(saved_models, list):
        return
    recorded = {str(c.get("name")): c for c in saved_models if isinstance(c, dict) and c.get("brain") == "llama"}
    for card in cards:
        if card.get("brain") != "llama":
            continue
        name = str(card.get("name"))
        old = recorded.get(name)
        if old is None or (old.get("parameters"), old.get("description")) != (card.get("parameters"), card.get("description")):
            was = ", ".join(sorted(recorded)) or "no llama model"
            raise SaveError(f"{path}: it played with {was}; this is {name} ({card.get('description')}): pass --model "
                            "with the path of the model it played with, or drop --model")
        before, now = old.get("adapter"), card.get("adapter")
        if (before or {}).get("sha256") == (now or {}).get("sha256"):
            continue
        hint = ("--adapter names another file than the one it played with" if "adapter" in asked
                else "with --model the shipped adapter is not applied" if "model" in asked and now is None
                else "the adapter file changed since it was saved")
        played = (f"adapter {before.get('name')!r} (sha256 {str(before.get('sha256'))[:12]}…)"
                  if isinstance(before, dict) else "no adapter")
        this = f"{now.get('name')!r} (sha256 {str(now.get('sha256'))[:12]}…)" if isinstance(now, dict) else "none"
        raise SaveError(f"{path}: {hint}: it played with {played}, this one is {this}. Pass --adapter with the path "
                        "of the one it played with (--adapter none if it played with none)")


def chooser(path: Path, choice: BrainChoice, asked: frozenset[str]) -> Chooser:
    """For :meth:`Session.open`: the brains a save goes on with, from the brains record it holds.
    A save from before saves said which brains played takes ``choice`` as asked."""

    def choose(recorded: dict[str, Any]) -> tuple[ChoiceMaker, str]:
        if "kind" not in recorded:
            return ChoiceMaker(choice), choice.kind
        played = recorded_choice(path, recorded)
        chosen = resumed_choice(path, played, choice, asked, recorded="models" in recorded)
        return ChoiceMaker(chosen, check=lambda cards: same_files(path, recorded.get("models"), cards, asked)), chosen.kind

    return choose


def resume_game(path: Path, choice: BrainChoice, asked: frozenset[str]) -> tuple[Game, BrainChoice]:
    """The saved game right after its last turn, with the brains it goes on with (and their choice)."""
    with open_save(path) as loaded:
        saved = recorded_choice(path, loaded.brains)
        chosen = resumed_choice(path, saved, choice, asked, recorded="models" in loaded.brains)
        brains = make_brains(loaded.scenario, chosen)
        try:
            same_files(path, loaded.brains.get("models"), brain_cards(brains), asked)
        except SaveError:
            close_brains(brains)
            raise
        return loaded.game_at(None, brains), chosen
