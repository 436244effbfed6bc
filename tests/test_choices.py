"""One source of legal choices: the GBNF grammar, the JSON Schema and the terse lines' grammar
admit the same answers, and the rules accept every action any one admits.

Random woods (a small scenario with random caps, fees, terms, budgets and holdings, a few scripted
turns and random legal actions by the others, so there are orders, offers, loans and forward
contracts about) give random observations; answers are drawn from each rendering by independent
generators (:mod:`tests.mask_tools` reads the GBNF text and the schema dict) and checked against
the other rendering, the engine's own matcher and the rules.

What the rules may still refuse, and why the mask cannot know (each is checked precisely below):

* The creature's own good may count what this turn's ``produce`` makes (a sell, an offer, a
  collateral of it above what it holds free): accepted once a ``produce`` at full capacity has
  resolved before it.
* A bid may count the pebbles locked in the creature's own open bids: accepted once those bids
  were cancelled before it (a creature bidding higher cancels its old bid first).
* Accepting a ``borrow`` request: refused when the borrower no longer holds its collateral free
  (a creature does not see another's holdings).
* Actions of one answer change what later ones may do (a second ``produce``, pebbles or goods
  already spent, an id already closed): each action is checked alone on the observed state.
* A legend in force that changes the order fee is not in the observation (these woods have none).
"""

from __future__ import annotations

import json
import random

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import scenario as scenarios
from engine.minds.allowance import plan_answer
from engine.minds.choices import answer_json
from engine.minds.forms import LINES
from engine.minds.grammar import max_len, to_gbnf
from engine.minds.matcher import admits
from engine.turn import actions as A
from engine.turn.game import Game
from engine.turn.observation import Observation
from engine.turn.observe import observe_all
from engine.turn.rules import resolve
from tests.helpers import TINY
from tests.mask_tools import check_alone, compact, gbnf_accepts, parse_gbnf, sample_gbnf, sample_schema

ANSWERS = 12
"""Answers drawn from each language per creature."""


@st.composite
def woods(draw: st.DrawFn) -> tuple[str, int, int, int]:
    """A tiny wood with random rules and holdings: ``(scenario TOML, game seed, turns played first,
    seed of the answers drawn)``, so a failing case prints the scenario that broke."""
    market = (f"max_price = {draw(st.sampled_from([3, 12, 60, 1000]))}\nmax_qty = {draw(st.sampled_from([2, 9, 100]))}\n"
              f"order_fee = {draw(st.sampled_from([0, 0, 1, 4]))}\nfee_pct = {draw(st.sampled_from([0.0, 0.0, 2.5, 10.0]))}\n")
    credit = f"max_term = {draw(st.sampled_from([1, 3, 12]))}\nmax_interest_pct = {draw(st.sampled_from([0, 10, 40, 50, 150]))}\n"
    budget = (f"tokens = {draw(st.sampled_from([400, 1000, 3000]))}\nmax_actions = {draw(st.integers(1, 8))}\n"
              f"message_chars = {draw(st.sampled_from([10, 40, 160]))}\n")
    notes = f"notes = {draw(st.sampled_from([0, 5]))}\n"
    text = TINY + f"\n[market]\n{market}\n[credit]\n{credit}\n[budget]\n{budget}\n[memory]\n{notes}"
    for name in ("Ada", "Bo", "Cy"):
        held = {a: draw(st.integers(0, hi)) for a, hi in (("pebbles", 300), ("firewood", 14), ("nuts", 14), ("jam", 14))}
        line = next(ln for ln in text.splitlines() if ln.startswith("holdings") and text.index(ln) > text.index(f'"{name}"'))
        text = text.replace(line, "holdings = { " + ", ".join(f"{a} = {q}" for a, q in held.items()) + " }", 1)
    return text, draw(st.integers(1, 10_000)), draw(st.integers(0, 3)), draw(st.integers(0, 2**32 - 1))


def _scripted():  # noqa: ANN202
    from engine.elders.scripted import ScriptedBrain

    return ScriptedBrain()


def _plan(game: Game, o: Observation, rng: random.Random):  # noqa: ANN202
    sc = game.scenario
    prompt = rng.randint(0, max(0, sc.budget.tokens - 60))
    return plan_answer(o, sc, prompt, sc.budget.tokens, closing=rng.random() < 0.5)


def _stir(game: Game, rng: random.Random) -> None:
    """Every creature takes random actions its own grammar admits (offers, loans, orders to answer)."""
    for o in observe_all(game.wood, game.wood.alive(), {}):
        rules = parse_gbnf(_plan(game, o, rng).gbnf())
        actions, _, _ = A.parse_decision(sample_gbnf(rules, rng), 99)
        c = game.wood.by_name[o.name]
        produced: set[int] = set()
        for a in actions:
            resolve(game.wood, c, a, produced)


def check_creature(game: Game, o: Observation, rng: random.Random) -> set[str]:
    """Draw answers from the three renderings of one creature's choices (GBNF of JSON, JSON
    Schema, GBNF of lines); returns the kinds drawn."""
    plan = _plan(game, o, rng)
    gbnf = parse_gbnf(plan.gbnf())
    lines_node = LINES.answer_node(plan.choices)
    lines_gbnf = parse_gbnf(to_gbnf(lines_node))
    schema = plan.schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    drawn: list[A.Action] = []
    for _ in range(ANSWERS):
        text = sample_gbnf(gbnf, rng)
        assert admits(plan.node, text), text
        assert plan.closing or len(text) <= max_len(plan.node) <= plan.max_tokens - 1
        errors = [e.message[:200] for e in validator.iter_errors(json.loads(text))]
        assert not errors, (text, errors[:1])
        value = sample_schema(schema, rng)
        assert gbnf_accepts(gbnf, compact(value)), compact(value)
        for raw in (text, compact(value)):
            actions, problems, thought = A.parse_decision(raw, o.max_actions)
            assert problems == [], (raw, problems)
            drawn += actions
            said = LINES.write(thought, [a.model_dump() for a in actions], o.goods)
            assert admits(lines_node, said), said  # the same decision in lines: admitted too
        said = sample_gbnf(lines_gbnf, rng)
        assert admits(lines_node, said), said
        actions, problems, thought = LINES.parse(said, o)
        assert problems == [], (said, problems)
        assert LINES.write(thought, [a.model_dump() for a in actions], o.goods) == said  # read back whole
        as_json = answer_json(thought, [a.model_dump() for a in actions], o.goods)
        assert gbnf_accepts(gbnf, as_json), (said, as_json)  # the same decision in JSON: admitted too
        drawn += actions
    for a in drawn:
        check_alone(game, o.name, a)
    return {a.type for a in drawn}


@pytest.mark.slow
@given(woods())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_grammar_and_schema_admit_the_same_legal_answers(wood: tuple[str, int, int, int]) -> None:
    text, game_seed, turns, seed = wood
    game = Game(scenarios.parse(text, "random.toml"), game_seed, _scripted())
    game.run(turns)
    rng = random.Random(seed)
    _stir(game, rng)
    for o in observe_all(game.wood, game.wood.alive(), {}):
        check_creature(game, o, rng)


@pytest.mark.slow
def test_every_kind_of_action_is_drawn_and_accepted() -> None:
    """Over a few fixed woods, the masks offer (and the rules accept) the whole repertoire."""
    kinds: set[str] = set()
    for seed in range(6):  # six woods: the teacher's games leave offers to answer in some of them
        rng = random.Random(seed)
        game = Game(scenarios.parse(TINY, "tiny.toml"), seed + 1, _scripted())
        game.run(2 + seed % 3)
        _stir(game, rng)
        cy, bo = game.wood.by_name["Cy"], game.wood.by_name["Bo"]
        if resolve(game.wood, cy, A.Lend(to="Bo", pebbles=5, interest=1, due=1), set()) is None:
            resolve(game.wood, bo, A.Accept(id=max(game.wood.deals.offers)), set())  # a loan to repay
        for o in observe_all(game.wood, game.wood.alive(), {}):
            kinds |= check_creature(game, o, rng)
    assert kinds >= {t.model_fields["type"].default for t in A.ACTION_TYPES}, kinds


def test_answer_json_spells_teacher_answers_the_grammars_way() -> None:
    """A decision written with :func:`answer_json` is admitted when its actions are: bundle keys
    in the scenario's order, empty optional keys left out."""
    game = Game(scenarios.parse(TINY, "tiny.toml"), 3, _scripted())
    o = next(x for x in observe_all(game.wood, game.wood.alive(), {}) if x.name == "Bo")
    plan = plan_answer(o, game.scenario, 300, 1000)
    actions = [
        A.Produce(qty=4),
        A.MakeOffer(to="Cy", give={"nuts": 2}, get={"pebbles": 5, "jam": 1}),
        A.Lend(to="Ada", pebbles=10, interest=2, due=3),
        A.Borrow(to="Cy", pebbles=27, interest=6, due=5, collateral={"nuts": 2}),
        A.PlaceOrder(side="sell", good="nuts", qty=12, price=4),  # 10 held, 4 made this turn
        A.Say(text="Fine nuts for sale at Bo's den."),
    ]
    text = answer_json("make nuts and sell them", [a.model_dump() for a in actions], o.goods)
    assert '"get":{"jam":1,"pebbles":5}' in text and "collateral" not in text.split('"lend"')[1].split("}")[0]
    assert admits(plan.node, text), text
