"""Planning the rest of an answer again after each action (:mod:`engine.minds.replan`), and the
decoder's spelling of an answer (:mod:`engine.minds.spelling`), without a model."""

from __future__ import annotations

import pytest

from engine.minds.allowance import plan_answer
from engine.minds.choices import answer_json
from engine.minds.matcher import admits
from engine.minds.replan import Replanner, spend, take
from engine.minds.spelling import SpellingError, decoder_spelling
from engine.turn import actions as A
from engine.turn.observation import Observation
from engine.turn.observe import observe_all
from tests.helpers import act, tiny_game


def _observe(name: str, seed: int = 1) -> tuple[object, Observation]:
    game = tiny_game(seed)
    o = next(x for x in observe_all(game.wood, game.wood.alive(), {}) if x.name == name)
    return game, o


def _follow(o: Observation, game: object, text: str, *, replan: bool, piece: int = 1) -> bool:
    """Whether a decoder taking ``text`` ``piece`` characters at a time gets to its end."""
    plan = plan_answer(o, game.scenario, 300, 1000)  # type: ignore[attr-defined]
    m = plan.matcher()
    r = Replanner(o, game.scenario, plan) if replan else None  # type: ignore[attr-defined]
    for i in range(0, len(text), piece):
        if take(m, r, text[:i], text[i : i + piece]) is None:
            return False
    return m.complete()


def _bids(o: Observation, *bids: tuple[str, int, int]) -> str:
    acts = [A.PlaceOrder(side="buy", good=g, qty=q, price=p).model_dump() for g, q, p in bids]
    return answer_json("buy", acts, o.goods)


@pytest.mark.parametrize("piece", [1, 3, 7])
def test_two_bids_that_together_exceed_the_purse_are_refused_once_planned_again(piece: int) -> None:
    game, o = _observe("Ada")
    purse = o.free["pebbles"]
    assert purse == 50
    text = _bids(o, ("nuts", 6, 5), ("jam", 5, 5))  # 30 and 25 (and fees): each fits 50, both do not
    plan = plan_answer(o, game.scenario, 300, 1000)
    assert admits(plan.node, text)  # the turn's grammar takes each bid on its own
    assert _follow(o, game, text, replan=False, piece=piece)  # …and so the whole answer
    assert not _follow(o, game, text, replan=True, piece=piece)
    # the rules agree: the second bid is refused
    assert act(game, "Ada", A.PlaceOrder(side="buy", good="nuts", qty=6, price=5)) is None
    why = act(game, "Ada", A.PlaceOrder(side="buy", good="jam", qty=5, price=5))
    assert why is not None and "pebbles" in why
    fits = _bids(o, ("nuts", 6, 5), ("jam", 3, 5))
    assert _follow(o, game, fits, replan=True, piece=piece)


def test_a_second_produce_and_spent_goods_leave_the_rest_of_the_answer() -> None:
    game, o = _observe("Bo")
    after = spend(o, game.scenario, {"type": "produce", "qty": 4})
    assert after.capacity == 0 and o.capacity == 4
    twice = answer_json("make", [A.Produce(qty=4).model_dump(), A.Produce(qty=1).model_dump()], o.goods)
    assert _follow(o, game, twice, replan=False)
    assert not _follow(o, game, twice, replan=True)
    sold = spend(o, game.scenario, {"type": "order", "side": "sell", "good": "jam", "qty": 2, "price": 9})
    assert sold.free["jam"] == 0 and sold.free["pebbles"] <= o.free["pebbles"]
    lent = spend(o, game.scenario, {"type": "lend", "to": "Cy", "pebbles": 15, "interest": 1, "due": 2})
    assert lent.free["pebbles"] == o.free["pebbles"] - 15


def test_a_forward_offer_spends_nothing_now() -> None:
    game, o = _observe("Bo")
    spot = spend(o, game.scenario, {"type": "offer", "to": "Cy", "give": {"nuts": 5}, "get": {"jam": 1}})
    forward = spend(o, game.scenario, {"type": "offer", "to": "Cy", "give": {"nuts": 5}, "get": {"jam": 1}, "due": 3})
    assert spot.free["nuts"] == o.free["nuts"] - 5
    assert forward.free == o.free


def test_a_forward_offer_may_promise_what_the_answer_began_with_after_spending_it() -> None:
    """The rules ask nothing of a forward offer until it is due, and the teacher bets its purse
    from before its shopping: after a bid has spent most of the purse, the rest of the answer
    still admits a forward offer of the pebbles the answer began with, but not a spot offer."""
    game, o = _observe("Ada")
    bid = A.PlaceOrder(side="buy", good="nuts", qty=8, price=5).model_dump()  # 40 of 50 pebbles
    forward = A.MakeOffer(to="Bo", give={"pebbles": 45}, get={"nuts": 6}, due=2).model_dump()
    spot = A.MakeOffer(to="Bo", give={"pebbles": 45}, get={"nuts": 6}).model_dump()
    later = A.MakeOffer(to="Bo", give={"pebbles": 51}, get={"nuts": 6}, due=2).model_dump()
    assert _follow(o, game, answer_json("bet", [bid, forward], o.goods), replan=True)
    assert not _follow(o, game, answer_json("bet", [bid, spot], o.goods), replan=True)
    assert not _follow(o, game, answer_json("bet", [bid, later], o.goods), replan=True)  # more than it began with
    # the rules agree: the forward offer is accepted after the bid, the spot offer is not
    assert act(game, "Ada", A.PlaceOrder(side="buy", good="nuts", qty=8, price=5)) is None
    assert act(game, "Ada", A.MakeOffer(to="Bo", give={"pebbles": 45}, get={"nuts": 6}, due=2)) is None
    why = act(game, "Ada", A.MakeOffer(to="Bo", give={"pebbles": 45}, get={"nuts": 6}))
    assert why is not None and "free to give" in why


def test_what_an_accepted_offer_pays_at_once_is_spendable_in_the_rest_of_the_answer() -> None:
    """Accepting a loan pays its pebbles now, and a spot swap its goods: a later bid or sell may
    use them, as the rules allow."""
    game = tiny_game(1)
    assert act(game, "Cy", A.Lend(to="Ada", pebbles=40, interest=2, due=3)) is None
    assert act(game, "Bo", A.MakeOffer(to="Ada", give={"nuts": 6}, get={"pebbles": 5})) is None
    o = next(x for x in observe_all(game.wood, game.wood.alive(), {}) if x.name == "Ada")
    loan = next(y for y in o.offers_to_me if y.kind == "lend")
    swap = next(y for y in o.offers_to_me if y.kind == "trade")
    big_bid = A.PlaceOrder(side="buy", good="jam", qty=14, price=5).model_dump()  # 70: more than the 50 it holds
    sell = A.PlaceOrder(side="sell", good="nuts", qty=8, price=4).model_dump()  # it holds 3 nuts, gets 6
    assert not _follow(o, game, answer_json("buy", [big_bid], o.goods), replan=True)
    assert _follow(o, game, answer_json("buy", [A.Accept(id=loan.id).model_dump(), big_bid], o.goods), replan=True)
    assert _follow(o, game, answer_json("sell", [A.Accept(id=swap.id).model_dump(), sell], o.goods), replan=True)
    # the rules agree
    assert act(game, "Ada", A.PlaceOrder(side="buy", good="jam", qty=14, price=5)) is not None
    assert act(game, "Ada", A.Accept(id=loan.id)) is None
    assert act(game, "Ada", A.PlaceOrder(side="buy", good="jam", qty=14, price=5)) is None
    assert act(game, "Ada", A.Accept(id=swap.id)) is None
    assert act(game, "Ada", A.PlaceOrder(side="sell", good="nuts", qty=8, price=4)) is None


def _chars(text: str) -> list[int]:
    return [ord(c) for c in text]


def _pairs(text: str) -> list[int]:
    """A tokenizer that reads two characters a token (as ids ``a * 256 + b``; one at the end)."""
    return [ord(text[i]) * 256 + (ord(text[i + 1]) if i + 1 < len(text) else 0) for i in range(0, len(text), 2)]


def _piece(tok: int) -> bytes:
    return (chr(tok // 256) + (chr(tok % 256) if tok % 256 else "")).encode() if tok > 255 else chr(tok).encode()


def test_the_decoder_spelling_inserts_what_the_grammar_forces_and_samples_the_rest() -> None:
    game, o = _observe("Ada")
    text = _bids(o, ("nuts", 2, 3))
    plan = plan_answer(o, game.scenario, 300, 1000)
    s = decoder_spelling(text, plan.matcher(), _pairs, _piece, replan=Replanner(o, game.scenario, plan))
    assert b"".join(map(_piece, s.ids)).decode() == text
    # the start is forced: '{"thinking":"' in pairs of characters, all inserted
    head = '{"thinking":"'
    assert s.ids[: len(_pairs(head))] == tuple(_pairs(head)) and all(s.forced[: len(_pairs(head))])
    assert 0 < s.sampled < len(s.ids)
    # without jump-forward every token is the natural spelling's, sampled
    whole = decoder_spelling(text, plan.matcher(), _pairs, _piece, jump_forward=False)
    assert whole.ids == tuple(_pairs(text)) and not any(whole.forced)
    # the forced pieces are spelled on their own: the spellings part where a forced chunk starts mid-pair
    assert s.ids != whole.ids
    per_char = decoder_spelling(text, plan.matcher(), _chars, lambda t: chr(t).encode())
    assert per_char.ids == tuple(_chars(text))


def test_an_answer_the_grammar_refuses_is_a_spelling_error() -> None:
    game, o = _observe("Ada")
    plan = plan_answer(o, game.scenario, 300, 1000)
    over = _bids(o, ("nuts", 6, 5), ("jam", 5, 5))
    with pytest.raises(SpellingError):
        decoder_spelling(over, plan.matcher(), _chars, lambda t: chr(t).encode(), replan=Replanner(o, game.scenario, plan))
    with pytest.raises(SpellingError):
        decoder_spelling('{"thinking":"x","actions":[{"type":"fly"}]}', plan.matcher(), _chars, lambda t: chr(t).encode())


def test_an_order_cancelled_once_cannot_be_cancelled_again_and_gives_back_what_it_held() -> None:
    game = tiny_game(1)
    assert act(game, "Ada", A.PlaceOrder(side="buy", good="nuts", qty=4, price=5)) is None
    o = next(x for x in observe_all(game.wood, game.wood.alive(), {}) if x.name == "Ada")
    (bid,) = o.my_orders
    twice = answer_json("cancel", [A.Cancel(id=bid.id).model_dump(), A.Cancel(id=bid.id).model_dump()], o.goods)
    assert _follow(o, game, twice, replan=False) and not _follow(o, game, twice, replan=True)
    after = spend(o, game.scenario, {"type": "cancel", "id": bid.id})
    assert after.my_orders == [] and after.free["pebbles"] == o.free["pebbles"] + 20
    # the rules agree: the second cancel is refused
    assert act(game, "Ada", A.Cancel(id=bid.id)) is None
    assert act(game, "Ada", A.Cancel(id=bid.id)) is not None


def test_a_replanned_bid_counts_locked_pebbles_only_after_their_bid_is_cancelled() -> None:
    game = tiny_game(1)
    assert act(game, "Ada", A.PlaceOrder(side="buy", good="nuts", qty=8, price=5)) is None  # 40 of 50 locked
    o = next(x for x in observe_all(game.wood, game.wood.alive(), {}) if x.name == "Ada")
    (bid,) = o.my_orders
    higher = A.PlaceOrder(side="buy", good="nuts", qty=8, price=6).model_dump()  # 48: more than the 10 free
    alone = answer_json("bid higher", [higher], o.goods)
    after_cancel = answer_json("bid higher", [A.Cancel(id=bid.id).model_dump(), higher], o.goods)
    plain = plan_answer(o, game.scenario, 300, 1000)
    replanned = plan_answer(o, game.scenario, 300, 1000, replanned=True)
    assert admits(plain.node, alone)  # the turn's grammar alone trusts a cancel to come first
    assert not admits(replanned.node, alone)
    m = replanned.matcher()
    r = Replanner(o, game.scenario, replanned)
    assert all(take(m, r, after_cancel[:i], after_cancel[i]) is not None for i in range(len(after_cancel))) and m.complete()
    # the rules agree on both
    refused = act(tiny_game_with_bid(), "Ada", A.PlaceOrder(side="buy", good="nuts", qty=8, price=6))
    assert refused is not None and "pebbles" in refused
    assert act(game, "Ada", A.Cancel(id=bid.id)) is None
    assert act(game, "Ada", A.PlaceOrder(side="buy", good="nuts", qty=8, price=6)) is None


def test_the_allowance_check_of_an_answer_follows_it_as_the_replanning_decoder_does() -> None:
    """The dataset checks each teacher answer with :meth:`AnswerPlan.refusal`: for a decoder that
    plans again after each action, "cancel my bid, bid higher" is what it can write, so the check
    must follow the answer the same way and keep it (it refused it, and the student never saw it)."""
    game = tiny_game_with_bid()
    o = next(x for x in observe_all(game.wood, game.wood.alive(), {}) if x.name == "Ada")  # type: ignore[attr-defined]
    (bid,) = o.my_orders
    higher = A.PlaceOrder(side="buy", good="nuts", qty=8, price=6).model_dump()
    text = answer_json("bid higher", [A.Cancel(id=bid.id).model_dump(), higher], o.goods)
    plan = plan_answer(o, game.scenario, 300, 1000, replanned=True)  # type: ignore[attr-defined]
    r = Replanner(o, game.scenario, plan)  # type: ignore[attr-defined]
    assert plan.refusal(text, len) is not None and plan.refusal(text, len, None).startswith("not admitted")  # type: ignore[union-attr]
    assert plan.refusal(text, len, r.follow) is None
    # …and it still refuses what the replanning decoder refuses: the higher bid with no cancel
    alone = answer_json("bid higher", [higher], o.goods)
    r2 = Replanner(o, game.scenario, plan)  # type: ignore[attr-defined]
    assert plan.refusal(alone, len, r2.follow) is not None


def tiny_game_with_bid() -> object:
    game = tiny_game(1)
    assert act(game, "Ada", A.PlaceOrder(side="buy", good="nuts", qty=8, price=5)) is None
    return game


def _rules_say(game: object, name: str, text: str) -> list[str | None]:
    """What the rules say of each action of ``text``, resolved in order by ``name``."""
    from engine.turn.actions import parse_decision
    from engine.turn.rules import resolve

    wood = game.wood  # type: ignore[attr-defined]
    c, produced = wood.by_name[name], set()
    return [resolve(wood, c, a, produced) for a in parse_decision(text, 6)[0]]


def test_what_it_makes_is_not_given_twice_in_one_answer() -> None:
    """Goods it makes this turn count toward a sell once a produce resolved, but only once: a
    second sell of them is refused by the rules, so the replanned grammar leaves it out."""
    game, o = _observe("Ada")
    assert o.makes and o.can_make > 0
    held = o.free.get(o.makes, 0)
    sell = '{"type":"order","side":"sell","good":"%s","qty":%d,"price":%d}'
    first = [f'{{"type":"produce","qty":{o.capacity}}}', sell % (o.makes, held + o.can_make, 5)]
    again = first + [sell % (o.makes, o.can_make, 6)]
    body = '{"thinking":"","actions":[%s]}'
    assert _follow(o, game, body % ",".join(first), replan=True)
    assert _follow(o, game, body % ",".join(again), replan=False)  # each legal alone on the observed state
    assert not _follow(o, game, body % ",".join(again), replan=True)
    assert _rules_say(game, "Ada", body % ",".join(again))[-1] is not None  # the rules refuse it too
    left = spend(spend(o, game.scenario, {"type": "produce", "qty": o.capacity}),  # type: ignore[attr-defined]
                 game.scenario, {"type": "order", "side": "sell", "good": o.makes, "qty": held + 1, "price": 5})  # type: ignore[attr-defined]
    assert left.free.get(o.makes, 0) == 0 and left.can_make == o.can_make - 1


def test_offers_opened_in_an_answer_count_toward_the_open_offer_limit() -> None:
    from engine.turn.purse import MAX_OPEN_OFFERS

    game, _ = _observe("Ada")
    for _ in range(MAX_OPEN_OFFERS - 1):
        assert act(game, "Ada", A.Lend(to="Bo", pebbles=2, interest=0, due=2)) is None
    o = next(x for x in observe_all(game.wood, game.wood.alive(), {}) if x.name == "Ada")  # type: ignore[attr-defined]
    lend = A.Lend(to="Cy", pebbles=2, interest=0, due=2).model_dump()
    one, two = answer_json("lend", [lend], o.goods), answer_json("lend", [lend, lend], o.goods)
    assert _follow(o, game, one, replan=True)
    assert _follow(o, game, two, replan=False) and not _follow(o, game, two, replan=True)
    after = spend(o, game.scenario, lend)  # type: ignore[attr-defined]
    assert len(after.my_offers) == MAX_OPEN_OFFERS
    # the new offer has no id yet: nothing later in the answer can cancel it
    plan = plan_answer(after, game.scenario, 300, 1000)  # type: ignore[attr-defined]
    assert '"id":0' not in plan.gbnf() and "cancel" in plan.gbnf()


def test_an_order_of_the_answer_is_not_crossed_by_a_later_one() -> None:
    game, o = _observe("Ada")
    good = next(g for g in o.goods if g not in o.never_buy and g != o.makes)
    bid = A.PlaceOrder(side="buy", good=good, qty=1, price=5).model_dump()
    after = spend(o, game.scenario, bid)  # type: ignore[attr-defined]
    assert any(x.side == "buy" and x.good == good and x.price == 5 for x in after.my_orders)


def test_the_grammar_charges_the_fee_a_legend_set_this_turn() -> None:
    """A legend raised the order fee: a bid of the whole purse no longer pays it, and the grammar
    says so as the rules do."""
    game, o = _observe("Ada")
    good = next(g for g in o.goods if g not in o.never_buy and g != o.makes)
    purse = o.free["pebbles"]
    text = answer_json("buy", [A.PlaceOrder(side="buy", good=good, qty=1, price=purse).model_dump()], o.goods)
    market = game.scenario.market  # type: ignore[attr-defined]
    assert (market.order_fee, market.fee_pct) == (0, 0)  # the tiny wood charges no fee: the whole purse bids
    assert admits(plan_answer(o, game.scenario, 300, 1000).node, text)  # type: ignore[attr-defined]
    taxed = Observation(**{**{f: getattr(o, f) for f in o.__dataclass_fields__}, "order_fee": 3.0, "fee_pct": 5.0})
    assert not admits(plan_answer(taxed, game.scenario, 300, 1000).node, text)  # type: ignore[attr-defined]


def test_the_observation_carries_the_fee_the_rules_charge_this_turn() -> None:
    from engine import scenario as scenarios
    from engine.elders.scripted import ScriptedBrain
    from engine.turn.game import Game
    from engine.turn.purse import terms_of, terms_of_wood

    sc, _ = scenarios.load("market-50")
    game = Game(sc, 1, ScriptedBrain())
    o = observe_all(game.wood, game.wood.alive(), {})[0]
    assert (o.order_fee, o.fee_pct) == (sc.market.order_fee, sc.market.fee_pct)
    game.inject("toll-bridge")  # a legend that raises the fee for a while
    game.step()
    o = observe_all(game.wood, game.wood.alive(), {})[0]
    assert (o.order_fee, o.fee_pct) != (sc.market.order_fee, sc.market.fee_pct)
    # the minds read the purse's terms off the observation, the rules off the wood: the same terms
    assert terms_of(o) == terms_of_wood(game.wood)
    assert terms_of(o).fee(250) > 0


def test_the_closing_reserve_holds_the_longest_action_a_cancel_can_free() -> None:
    """The decoder starts another action only while the reserve remains; cancels give back what
    orders held, and may make a later action longer, so the reserve is sized for that too."""
    import dataclasses

    from engine.minds.allowance import CLOSE, SLACK
    from engine.minds.choices import Limits
    from engine.minds.grammar import action_node, max_len
    from engine.minds.legal import legal_choices
    from engine.turn.observation import OrderView

    game, o = _observe("Ada")
    sc = game.scenario  # type: ignore[attr-defined]
    mine = [OrderView(9001, "buy", o.goods[0], 10, 30, 5)] + [
        OrderView(9002 + i, "sell", g, 10, 90, 5) for i, g in enumerate(o.goods[1:3])]
    locked = dataclasses.replace(o, free=dict.fromkeys(o.free, 0), my_orders=mine, capacity=0, can_make=0,
                                 my_offers=[], offers_to_me=[])
    for room in (420, 250, 200, 160):
        plan = plan_answer(locked, sc, 1000 - room, 1000, replanned=True)
        if not plan.choices.actions or plan.reserve is None:
            continue
        after = spend(spend(locked, sc, {"type": "cancel", "id": 9001}), sc, {"type": "cancel", "id": 9002})
        c = plan.choices
        rest = legal_choices(after, sc, Limits(max(1, c.actions - 2), c.thinking, c.message, locked=False))
        assert max_len(action_node(rest)) + 1 + len(CLOSE) + SLACK <= plan.reserve, room


def test_the_closing_reserve_holds_an_offer_that_a_cancel_at_the_open_offer_limit_makes_possible() -> None:
    """At the open-offer limit a creature may make no offer, lend or borrow, until a cancel frees a
    slot: the reserve, sized before, must hold those longer actions too (it was 107 for 113)."""
    import dataclasses

    from engine.minds.allowance import CLOSE, SLACK
    from engine.minds.choices import Limits
    from engine.minds.grammar import action_node, max_len
    from engine.minds.legal import legal_choices
    from engine.turn.observation import OfferView
    from engine.turn.purse import MAX_OPEN_OFFERS

    game, o = _observe("Ada")
    sc = game.scenario  # type: ignore[attr-defined]
    full = [OfferView(9001 + i, "borrow", "Ada", "Bo", {}, {}, 5, 10, 1, {}) for i in range(MAX_OPEN_OFFERS)]
    o = dataclasses.replace(o, my_offers=full)
    checked = 0
    for room in (420, 250, 200, 160):
        plan = plan_answer(o, sc, 1000 - room, 1000, replanned=True)
        if plan.reserve is None or not plan.choices.actions:
            continue
        c = plan.choices
        assert not {"offer", "lend", "borrow"} & {k.type for k in c.kinds}
        rest = legal_choices(spend(o, sc, {"type": "cancel", "id": 9001}), sc,
                             Limits(max(1, c.actions - 1), c.thinking, c.message, locked=False))
        assert {"offer", "lend", "borrow"} <= {k.type for k in rest.kinds}
        assert max_len(action_node(rest)) + 1 + len(CLOSE) + SLACK <= plan.reserve, room
        checked += 1
    assert checked >= 2


def test_a_produce_below_capacity_leaves_only_its_share_of_the_making_to_sell() -> None:
    """After `produce` of less than its capacity, the rest of the answer counts what that makes,
    not the full capacity's yield: a sell of more is refused by the rules, and by the grammar."""
    game, o = _observe("Bo")  # makes nuts, capacity 4
    assert o.capacity == 4 and o.can_make == 4
    after = spend(o, game.scenario, {"type": "produce", "qty": 1})  # type: ignore[attr-defined]
    assert after.can_make == 1 and after.capacity == 0
    held = o.free["nuts"]
    too_many = answer_json("make", [A.Produce(qty=1).model_dump(),
                                    A.PlaceOrder(side="sell", good="nuts", qty=held + 2, price=5).model_dump()], o.goods)
    enough = answer_json("make", [A.Produce(qty=1).model_dump(),
                                  A.PlaceOrder(side="sell", good="nuts", qty=held + 1, price=5).model_dump()], o.goods)
    assert not _follow(o, game, too_many, replan=True) and _follow(o, game, enough, replan=True)
    assert _rules_say(game, "Bo", too_many)[1] is not None
    assert _rules_say(tiny_game(1), "Bo", enough) == [None, None]
