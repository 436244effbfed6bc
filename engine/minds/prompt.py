"""Prompts under a hard token budget.

A prompt has three layers, so a model backend can evaluate shared text once:

* **static** (the same for every creature all game): the rules and one worked example;
* **public** (the same for every creature this turn): turn, season, prices, who lives here (what
  each makes and its credit, which every creature can see), the clearing;
* **private** (this creature now): identity, state, what it is short of, obligations, offers to it,
  its inbox, last turn's refusals, its memory.

Each layer is made of sections with a priority. :func:`fit` drops the lowest-priority lines
first until prompt + answer allowance fit the budget; rules, identity, state and obligations
are never dropped. Every text that came from creatures or the player passes through
:func:`engine.core.text.clean_text` (special-token strings stripped, length capped) before it gets here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from engine.core.text import clean_text
from engine.minds.forms import JSON, AnswerForm
from engine.scenario import Scenario
from engine.turn.observation import Observation

PRIVATE_TARGET = 160
"""Tokens a creature's own part of the prompt aims at: the budget is a ceiling, not a target."""
MEMORY_LINES = 3
"""Remembered events a prompt shows at most (the most salient ones)."""
NEVER = 0
"""Priority of sections that are never trimmed."""
OBLIGATION_LINES = 6
"""Contracts' lines a prompt shows one by one (soonest due first); the rest as one line of totals."""


@dataclass(slots=True)
class Section:
    """A named part of a prompt: a header line and items, trimmed from the end, lowest priority first."""

    name: str
    head: str
    items: list[str] = field(default_factory=list)
    priority: int = NEVER
    """0: never trimmed; higher numbers are trimmed first."""

    def render(self) -> str:
        if not self.items:
            return self.head
        return self.head + ("\n" if self.head else "") + "\n".join(self.items)


def _bundle(b: dict[str, int]) -> str:
    return ", ".join(f"{q} {a}" for a, q in b.items() if q) or "nothing"


def _persona(text: str, limit: int = 60) -> str:
    """A personality in at most ``limit`` characters, cut after a whole clause where one fits."""
    text = clean_text(text, 400)
    if len(text) <= limit:
        return text
    cut = max(text.rfind(sep, 0, limit) for sep in ("; ", ", ", ". "))
    if cut > limit // 3:
        return text[:cut].rstrip(".") + "."
    return clean_text(text, limit)


def static_sections(sc: Scenario, form: AnswerForm = JSON) -> list[Section]:
    """The rules and a worked example, in the answer's spelling ``form``: the same for every
    creature, all game."""
    food = [g.id for g in sc.goods if g.kind == "food"]
    fuel = [g.id for g in sc.goods if g.kind == "fuel"]
    food0 = food[0] if food else sc.goods[0].id
    goods = [g.id for g in sc.goods]
    rules = Section(
        "rules",
        f"You are a creature in {sc.meta.name}, a small woodland economy. {form.instruction}",
        [
            f"Every turn each creature eats {sc.needs.meal_size} different foods ({', '.join(food)}) and burns {', '.join(fuel) or 'fuel'} "
            "(more when it is cold). Missing food or fire costs health; at 0 health you leave the wood.",
            "Money is pebbles. Make your own good, sell what you do not need, buy what you lack.",
            "Actions: produce (make your good), order (buy or sell on the market at a limit price), "
            "offer/accept/reject (a direct deal by offer id), lend/borrow/repay (pebble loans with interest, "
            "due in some turns; a default costs your collateral, a fine and your credit), "
            "say (everyone hears), whisper (one creature), note (remember something).",
            "Prices are in pebbles per unit. Keep your promises.",
        ],
    )
    produce = {"type": "produce", "qty": 3}
    sell = {"type": "order", "side": "sell", "good": food0, "qty": 2, "price": 5}
    shapes = Section(
        "actions",
        "Action shapes:",
        [
            form.shape(a, goods) for a in (
                produce, sell,
                {"type": "offer", "to": "NAME", "give": {food0: 2}, "get": {"pebbles": 9}},
                {"type": "accept", "id": 7},
                {"type": "lend", "to": "NAME", "pebbles": 20, "interest": 2, "due": 4},
                {"type": "repay", "id": 7, "pebbles": 5},
                {"type": "say", "text": "hello"},
            )
        ],
        priority=8,
    )
    example = Section("example", "Example answer:", [form.write("make my good and sell it", [produce, sell], goods).strip("\n")],
                      priority=9)
    return [rules, shapes, example]


def fit_static(sections: list[Section], count: Callable[[str], int], budget: int) -> list[Section]:
    """The static sections, dropping the example and then the action shapes when they would take
    more than half the budget (a small budget keeps room for the creature's own part and answer)."""
    kept = list(sections)
    while count(render(kept)) > budget // 2 and any(s.priority for s in kept):
        kept.remove(max((s for s in kept if s.priority), key=lambda s: s.priority))
    return kept


def public_sections(o: Observation, message_chars: int) -> list[Section]:
    """What everyone knows this turn."""
    ahead = f" (then {o.seasons_ahead[1]})" if len(o.seasons_ahead) > 1 else ""
    prices = ", ".join(f"{g} {p}" for g, p in o.prices.items())
    market = Section("market", f"Turn {o.turn}, {o.season}{ahead}. Market prices: {prices}.")
    clearing = Section(
        "clearing",
        "Heard in the clearing:",
        [f"{s}: {clean_text(t, message_chars)}" for _, _, s, t in o.clearing[-6:]],
        priority=6,
    )
    who = Section(
        "neighbours",
        "Who makes what (credit):",
        [f"{n.name} {n.makes or 'nothing'} ({n.credit})" for n in o.neighbours if n.alive],
        priority=4,
    )
    return [s for s in (market, who, clearing) if s.items or s is market]


def private_sections(o: Observation, message_chars: int) -> list[Section]:
    """What only this creature knows: the parts are ordered by importance."""
    parts = [_identity(o), _state(o), _short(o), _obligations(o), _mine(o), _offers(o), _refused(o),
             _inbox(o, message_chars), _memory(o, message_chars)]
    return [s for s in parts if s is not None]


def _identity(o: Observation) -> Section:
    never = sorted(o.never_buy)
    if o.makes and never == [o.makes]:
        makes, never_text = f" You make {o.makes} (up to {o.can_make} this turn) and never buy it.", ""
    else:
        makes = f" You make {o.makes} (up to {o.can_make} this turn)." if o.makes else " You make nothing; you trade."
        never_text = f" You never buy {', '.join(never)}." if never else ""
    persona = f" {_persona(o.personality)}" if o.personality else ""
    return Section("identity", f"You are {o.name} the {o.species} ({o.role}).{makes}{never_text}{persona}")


def _state(o: Observation) -> Section:
    held = {a: q for a, q in o.free.items() if q}
    locked = {a: q for a, q in o.escrow.items() if q}
    health = "full" if o.health >= o.max_health else f"{o.health}/{o.max_health}"
    state = f"Health {health}, credit {o.credit}. You hold {_bundle(held)}."
    if locked:
        state += f" Locked in deals: {_bundle(locked)}."
    return Section("state", state)


def _short(o: Observation) -> Section | None:
    short = []
    foods = [g for g in o.food if o.free.get(g, 0) > 0]
    if len(foods) < o.meal_size:
        missing = [g for g in o.food if o.free.get(g, 0) == 0 and g not in o.never_buy]
        short.append(f"food: you have {len(foods)} of {o.meal_size} kinds; buy {', '.join(missing[:3])}")
    need = o.fuel_need[0] if o.fuel_need else 0
    fuel_held = sum(o.free.get(g, 0) for g in o.fuel)
    if fuel_held < sum(o.fuel_need[:2]):
        short.append(f"fuel: you burn {need} a turn and hold {fuel_held}")
    return Section("short", "You are short of: " + "; ".join(short) + ".") if short else None


def _obligations(o: Observation) -> Section | None:
    """What it owes and is owed. Never trimmed, so bounded: past :data:`OBLIGATION_LINES` lines,
    the soonest due come first (what it owes before what it is owed) and the rest is one line of
    totals."""
    sides: list[tuple[int, int, str, dict[str, int]]] = []
    for ob in o.obligations:
        if ob.i_owe:
            sides.append((ob.due, 0, f"#{ob.id} you owe {ob.counterparty} {_bundle(ob.i_owe)} on turn {ob.due}", ob.i_owe))
        if ob.owed_to_me:
            sides.append((ob.due, 1, f"#{ob.id} {ob.counterparty} owes you {_bundle(ob.owed_to_me)} on turn {ob.due}",
                          ob.owed_to_me))
    if not sides:
        return None
    if len(sides) > OBLIGATION_LINES:  # (fewer keep the books' order, as the model learned them)
        sides.sort(key=lambda x: (x[0], x[1]))
    lines = [line for _, _, line, _ in sides[:OBLIGATION_LINES]]
    rest = sides[OBLIGATION_LINES:]
    if rest:
        owe: dict[str, int] = {}
        owed: dict[str, int] = {}
        for _, side, _, bundle in rest:
            total = owe if side == 0 else owed
            for asset, qty in bundle.items():
                total[asset] = total.get(asset, 0) + qty
        lines.append(f"and {len(rest)} more due turns {rest[0][0]}-{rest[-1][0]}: you owe {_bundle(owe)}; "
                     f"owed to you {_bundle(owed)}")
    return Section("obligations", "Due:", lines)


def _mine(o: Observation) -> Section | None:
    mine = [f"#{x.id} {x.side} {x.qty} {x.good} at {x.price}" for x in o.my_orders]
    mine += [f"#{x.id} offer to {x.to}" for x in o.my_offers]
    return Section("my_orders", "Your open orders: " + "; ".join(mine) + ".", priority=4) if mine else None


def _offers(o: Observation) -> Section | None:
    offers = []
    for x in o.offers_to_me:
        if x.kind == "trade":
            when = f", delivered turn {o.turn + x.due}" if x.due else ""
            offers.append(f"#{x.id} {x.sender} gives {_bundle(x.give)} for {_bundle(x.get)}{when}")
        else:
            verb = "lends you" if x.kind == "lend" else "asks to borrow"
            offers.append(f"#{x.id} {x.sender} {verb} {x.principal} pebbles, {x.interest} interest, due in {x.due}")
    return Section("offers", "Offers to you (accept or reject by id):", offers, priority=2) if offers else None


def _refused(o: Observation) -> Section | None:
    if not o.rejections:
        return None
    return Section("refused", "Refused last turn:", [clean_text(r, 100) for r in o.rejections[-4:]], priority=3)


def _inbox(o: Observation, message_chars: int) -> Section | None:
    inbox = [f"{s} ({k}): {clean_text(t, message_chars)}" for turn, k, s, t in o.inbox[-4:]
             if k not in ("say", "offer") and turn >= o.turn - 2]
    return Section("inbox", "Told to you:", inbox, priority=5) if inbox else None


def _memory(o: Observation, message_chars: int) -> Section | None:
    memory = [clean_text(m, 100) for m in o.memories[-MEMORY_LINES:]]
    trust = [f"{n} {d}/{b}" for n, (d, b) in sorted(o.trust.items())]
    if trust:
        memory.append("Deals kept/broken: " + ", ".join(trust))
    memory += [f"note: {clean_text(n, message_chars)}" for n in o.notes[-3:]]
    return Section("memory", "You remember:", memory, priority=7) if memory else None


def render(sections: list[Section]) -> str:
    return "\n".join(s.render() for s in sections) + ("\n" if sections else "")


def fit(sections: list[Section], count: Callable[[str], int], allowance: int) -> tuple[str, dict[str, int], int]:
    """Drop the lowest-priority lines until the sections take at most ``allowance`` tokens.

    ``count`` is the active model's own tokenizer. Sections with priority 0 are never trimmed;
    if they alone exceed the allowance the text is returned as it is (the caller shortens the
    answer instead). Returns the text, the tokens of every section kept, and how many lines
    were dropped.
    """
    sections = [Section(s.name, s.head, list(s.items), s.priority) for s in sections]
    dropped = 0
    size = count(render(sections))
    while size > allowance:
        trimmable = [(s.priority, i) for i, s in enumerate(sections) if s.priority]
        if not trimmable:
            break
        _, i = max(trimmable)
        s = sections[i]
        if s.items:
            s.items.pop(0 if s.name in ("memory", "clearing", "inbox") else -1)
        if not s.items:
            del sections[i]
        dropped += 1
        size = count(render(sections))
    return render(sections), {s.name: count(s.render()) for s in sections}, dropped


def approx_tokens(text: str) -> int:
    """A tokenizer-free estimate (about four characters a token), for brains with no tokenizer at hand."""
    return max(1, (len(text) + 3) // 4)


PUBLIC_TARGET = 200
"""Tokens the public part (prices, who makes what, the clearing) may take at most, and a fifth of
the budget at most under a smaller budget."""
ANSWER_RESERVE = 280
"""Tokens kept for the answer before a creature's own part is trimmed: room for the grammar of two
actions with short messages (its longest answer is ~270 characters). Whatever the prompt leaves
beyond that goes to the answer too (three actions need ~380); answers are ~30-45 tokens."""


def public_text(o: Observation, message_chars: int, count: Callable[[str], int], budget: int = 1000) -> tuple[str, dict[str, int]]:
    """This turn's public part, the same for every creature: text and tokens per section."""
    text, tokens, _ = fit(public_sections(o, message_chars), count, min(PUBLIC_TARGET, budget // 5))
    return text, tokens


def private_text(o: Observation, message_chars: int, count: Callable[[str], int], fixed: int, budget: int) -> tuple[str, dict[str, int]]:
    """One creature's own part, trimmed so that ``fixed`` (the rest of the prompt) + it + the answer
    reserve fit the budget, and to :data:`PRIVATE_TARGET` at most."""
    allowance = min(PRIVATE_TARGET, max(0, budget - ANSWER_RESERVE - fixed))
    text, tokens, _ = fit(private_sections(o, message_chars), count, allowance)
    return text, tokens


class PromptBuilder:
    """One creature's prompt, built the same way for every model brain (the llama.cpp one counts
    tokens with the model's tokenizer, the HTTP one estimates them): the static part once a game,
    the public part once a turn, each creature's private part within what the budget leaves.

    ``count`` counts a text's tokens; ``lean``: no worked example nor action shapes (a trained
    model needs neither); ``form``: the answers' spelling the rules ask for; section heads that
    came from a scenario are cleaned like creature text."""

    def __init__(self, sc: Scenario, count: Callable[[str], int], *, lean: bool = False,
                 form: AnswerForm = JSON) -> None:
        self.scenario = sc
        self.count = count
        self.budget = sc.budget.tokens
        sections = [s for s in static_sections(sc, form) if not (lean and s.name in ("example", "actions"))]
        static = fit_static(sections, count, self.budget)
        for s in static:
            s.head = clean_text(s.head, 400)
        self.static_text = render(static)
        """The rules (and, unless lean, the actions' shapes and a worked example): the same all game."""
        self.static_sections = {s.name: count(s.render()) for s in static}
        """Tokens of each static section, for the tape."""

    def public(self, o: Observation) -> tuple[str, dict[str, int]]:
        """This turn's public part (the same for every creature) and its sections' tokens."""
        return public_text(o, self.scenario.budget.message_chars, self.count, self.budget)

    def private(self, o: Observation, fixed: int) -> tuple[str, dict[str, int]]:
        """The creature's own part, fitted to what ``fixed`` tokens (the static and public parts
        and the chat template) leave of the budget, and its sections' tokens."""
        return private_text(o, self.scenario.budget.message_chars, self.count, fixed, self.budget)
