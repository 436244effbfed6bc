"""The terse spelling of answers (:mod:`engine.minds.lines`): written, read back and followed by a
decoder that plans again after each action, as the JSON spelling is (the property test that ties
the two to the same choices is in ``tests/test_choices.py``)."""

from __future__ import annotations

import re

import pytest

from engine.minds.allowance import plan_answer
from engine.minds.forms import JSON, LINES, form_of
from engine.minds.lines import LineReader, answer_lines
from engine.minds.matcher import admits
from engine.minds.prompt import static_sections
from engine.minds.replan import Replanner, take
from engine.minds.spelling import decoder_spelling
from engine.turn import actions as A
from engine.turn.observation import Observation
from engine.turn.observe import observe_all
from tests.helpers import act, tiny_game

EVERY_KIND = [
    A.Produce(qty=4),
    A.PlaceOrder(side="sell", good="nuts", qty=12, price=4),
    A.PlaceOrder(side="buy", good="jam", qty=1, price=30),
    A.Cancel(id=17), A.Accept(id=3), A.Reject(id=4),
    A.Counter(id=5, give={"nuts": 2}, get={"jam": 1, "pebbles": 5}, due=2),
    A.MakeOffer(to="Old Moss", give={"nuts": 2}, get={"pebbles": 5}),
    A.Lend(to="Ada", pebbles=10, interest=2, due=3, collateral={"jam": 1}),
    A.Borrow(to="Cy", pebbles=27, interest=0, due=5),
    A.Repay(id=9, pebbles=3),
    A.Say(text="Fine nuts for sale: 4 each!"),
    A.Whisper(to="Old", text="Moss owes me, 3 days"),
    A.Note(text="Cy pays late"),
]
GOODS = ["firewood", "nuts", "jam"]


def test_every_kind_is_written_in_a_few_words_and_read_back() -> None:
    dumped = [a.model_dump() for a in EVERY_KIND]
    text = answer_lines("make nuts, sell them", dumped, GOODS)
    assert text.splitlines()[:4] == ["make nuts, sell them", "produce 4", "sell nuts 12 @4", "buy jam 1 @30"]
    assert "counter 5 2 nuts for 1 jam, 5 pebbles due 2\n" in text and "lend Ada 10 +2 due 3 pledge 1 jam\n" in text
    assert text.endswith("note Cy pays late\n\n")  # the empty line closes it
    # "Old" and "Old Moss" are both names: the colon says where a whisper's name ends
    reader = LineReader(["Ada", "Cy", "Old", "Old Moss"], GOODS)
    thought, got = reader.read(text)
    assert thought == "make nuts, sell them"
    assert [A.ONE_ACTION.validate_python(x) for x in got] == EVERY_KIND
    assert form_of(text) == "lines" and form_of(JSON.write("x", dumped, GOODS)) == "json"


def test_the_same_decision_is_about_half_the_characters_of_json() -> None:
    dumped = [a.model_dump() for a in EVERY_KIND]
    assert len(answer_lines("t", dumped, GOODS)) * 2 < len(JSON.write("t", dumped, GOODS))


def _observe(name: str) -> tuple[object, Observation]:
    game = tiny_game(1)
    return game, next(x for x in observe_all(game.wood, game.wood.alive(), {}) if x.name == name)


def test_a_broken_or_cut_answer_keeps_its_good_lines_and_says_what_is_wrong() -> None:
    _, o = _observe("Bo")
    actions, problems, thought = LINES.parse("sell them\nproduce 4\nfly to the moon\nsell nuts 2 @", o)
    assert thought == "sell them" and actions == [A.Produce(qty=4)]
    assert problems == ["line 3 is not an action: 'fly to the moon'", "line 4 is not an action: 'sell nuts 2 @'"]
    actions, problems, _ = LINES.parse("", o)
    assert actions == [] and problems == []
    too_many = "t\n" + "produce 1\n" * (o.max_actions + 2) + "\n"
    actions, problems, _ = LINES.parse(too_many, o)
    assert len(actions) == o.max_actions and "only the first" in problems[0]


@pytest.mark.parametrize("piece", [1, 2, 5])
def test_two_bids_that_together_exceed_the_purse_are_refused_once_planned_again(piece: int) -> None:
    game, o = _observe("Ada")
    assert o.free["pebbles"] == 50
    sc = game.scenario  # type: ignore[attr-defined]
    plan = plan_answer(o, sc, 300, 1000, replanned=True, form=LINES)

    def follows(text: str) -> bool:
        m = plan.matcher()
        r = Replanner(o, sc, plan)
        for i in range(0, len(text), piece):
            if take(m, r, text[:i], text[i : i + piece]) is None:
                return False
        return m.complete()

    def bids(*qty: tuple[str, int]) -> str:
        return answer_lines("buy", [A.PlaceOrder(side="buy", good=g, qty=q, price=5).model_dump() for g, q in qty], o.goods)

    both = bids(("nuts", 6), ("jam", 5))
    assert admits(plan.node, both)  # each bid fits the purse on its own…
    assert not follows(both)  # …not both: the rest is planned on what the first one spent
    why = [act(game, "Ada", A.PlaceOrder(side="buy", good="nuts", qty=6, price=5)),
           act(game, "Ada", A.PlaceOrder(side="buy", good="jam", qty=5, price=5))]
    assert why[0] is None and why[1] is not None and "pebbles" in why[1]  # the rules agree
    fits = bids(("nuts", 6), ("jam", 3))
    assert follows(fits)


def test_the_prompt_asks_for_lines_and_its_example_reads_back() -> None:
    game, o = _observe("Bo")
    rules, shapes, example = static_sections(game.scenario, LINES)  # type: ignore[attr-defined]
    assert "one action a line" in rules.head and "JSON" not in rules.render()
    assert shapes.items == ["produce 3", "sell nuts 2 @5", "offer NAME 2 nuts for 9 pebbles", "accept 7",
                            "lend NAME 20 +2 due 4", "repay 7 5", "say hello"]
    actions, problems, thought = LINES.parse(example.items[0] + "\n\n", o)
    assert problems == [] and thought == "make my good and sell it" and [a.type for a in actions] == ["produce", "order"]
    assert "Answer with one JSON object only." in static_sections(game.scenario, JSON)[0].head  # type: ignore[attr-defined]


def test_a_space_the_grammar_forces_is_sampled_with_the_word_after_it() -> None:
    """Jump-forward inserts what the grammar forces, but not a space it ends with: `` firewood``
    is one token of a tokenizer that keeps a word's leading space, and inserted alone the space
    would cost a token of its own and split the word from its usual spelling."""
    game, o = _observe("Bo")
    plan = plan_answer(o, game.scenario, 300, 1000, replanned=True, form=LINES)
    text = answer_lines("sell", [A.PlaceOrder(side="sell", good="firewood", qty=2, price=5).model_dump()], o.goods)
    vocab: list[str] = []

    def words(s: str) -> list[int]:  # a word with its leading space a token, and each line break
        out = []
        for w in re.findall(r" ?[^ \n]+|\n| ", s):
            if w not in vocab:
                vocab.append(w)
            out.append(vocab.index(w))
        return out

    s = decoder_spelling(text, plan.matcher(), words, lambda t: vocab[t].encode(), replan=Replanner(o, game.scenario, plan))
    spelled = [(vocab[t], f) for t, f in zip(s.ids, s.forced, strict=True)]
    assert ("sell", False) in spelled and (" firewood", False) in spelled  # the space came with the word
    assert (" ", True) not in spelled
    assert "".join(w for w, _ in spelled) == text
