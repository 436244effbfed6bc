"""Whether a scenario's creatures can answer within its token budget: what ``ttwood scenarios
validate`` says beyond the schema.

The budget is a hard rule (prompt + answer ≤ ``[budget] tokens``), and a prompt's rules, state
and obligations are never trimmed: a wood of fifty goods can validate and still leave no room to
answer, and every game with a model brain then stops at turn 1. So each creature's turn-1 prompt
is built as the model brains build it (:class:`~engine.minds.prompt.PromptBuilder`), counted with
the embedded model's tokenizer (the default brain's; a cautious three characters a token where
it cannot be loaded), and its answer planned (:func:`~engine.minds.allowance.plan_answer`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine.core.errors import TTWoodError
from engine.elders.scripted import ScriptedBrain
from engine.minds.allowance import least_room
from engine.minds.prompt import PromptBuilder
from engine.scenario import Scenario
from engine.turn.game import Game
from engine.turn.observe import observe_all

CHECKED = 200
"""Creatures whose prompts are checked (the first ones of the cast: a generated copy's prompt is
its model's with another name)."""
TEMPLATE_TOKENS = 32
"""Tokens the chat template adds around the prompt (at most, for the models we know)."""
ROOMS = 20
"""Creatures whose answer room is measured (those with the longest prompts, one of each kind of
holdings: planning an answer is the slow part, a second or so in a wood of fifty goods)."""


@dataclass(frozen=True, slots=True)
class BudgetFit:
    """How the turn-1 prompts fit the budget."""

    budget: int
    largest_prompt: int
    """The most tokens a creature's turn-1 prompt takes."""
    who: str
    """Whose prompt that is."""
    needed: int
    """The smallest budget that lets every checked creature answer with at least one action."""
    counted_by: str

    @property
    def fits(self) -> bool:
        return self.needed <= self.budget

    def problem(self) -> str | None:
        """The one-line problem for ``scenarios validate`` (``None`` when it fits)."""
        if self.fits:
            return None
        return (f"[budget] tokens = {self.budget:,} leaves no room to act: at turn 1 {self.who}'s prompt takes "
                f"{self.largest_prompt:,} tokens ({self.counted_by}), and an answer with one action needs a budget of "
                f"at least {self.needed:,}; raise tokens, or trim goods, creatures or rules")


def _estimate(text: str) -> int:
    return (len(text) + 2) // 3


def _counter() -> tuple[Callable[[str], int], str, Callable[[], None], bool]:
    """A token counter, how it counts, how to let it go, and whether the prompt is lean: the
    default brain's (the embedded model, lean with its shipped adapter), else the cautious
    estimate and the full prompt."""
    try:
        from engine.minds.brains.llama_model import LlamaModel
        from engine.minds.brains.models import SHIPPED_ADAPTER, embedded_model_path

        model = LlamaModel(embedded_model_path(), threads=1)
    except (TTWoodError, ImportError, OSError):
        return _estimate, "estimated at three characters a token", lambda: None, False
    return model.count, "as the default brain counts it", model.close, SHIPPED_ADAPTER.is_file()


def budget_fit(sc: Scenario, *, estimate: bool = False) -> BudgetFit:
    """How the first :data:`CHECKED` creatures' turn-1 prompts and answers fit ``sc``'s budget
    (``estimate``: count at three characters a token, without loading the model)."""
    count, counted_by, close, lean = (_estimate, "estimated at three characters a token", lambda: None, False) \
        if estimate else _counter()
    try:
        game = Game(sc, 1, ScriptedBrain())
        observations = observe_all(game.wood, game.wood.alive()[:CHECKED], {})
        if not observations:
            return BudgetFit(sc.budget.tokens, 0, "", 0, counted_by)
        builder = PromptBuilder(sc, count, lean=lean)
        public, _ = builder.public(observations[0])
        fixed = count(builder.static_text) + count(public) + TEMPLATE_TOKENS
        prompts = sorted(((fixed + count(builder.private(o, fixed)[0]), i) for i, o in enumerate(observations)), reverse=True)
        largest, first = prompts[0]
        rooms: dict[tuple[object, ...], int] = {}
        needed = 0
        for prompt, i in prompts:
            o = observations[i]
            key = (o.role, *sorted(o.free.items()))  # alike creatures (generated copies) need alike rooms
            if key not in rooms:
                if len(rooms) == ROOMS:
                    continue
                rooms[key] = least_room(o, sc)
            needed = max(needed, prompt + rooms[key])
        return BudgetFit(sc.budget.tokens, largest, observations[first].name, needed, counted_by)
    finally:
        close()
