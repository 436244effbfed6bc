"""Hypothesis state machine over random action sequences, invalid ones included.

After every step: every asset is conserved except through named sources and sinks, nothing is
negative, escrow equals what open orders, offers and contracts lock, the indexes of open orders by
owner and open offers by sender agree with the books, and every order, offer and contract has only
moved along its lifecycle.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from engine.turn import actions as A
from engine.turn.rules import resolve
from engine.world.lifecycle import ContractStatus, OfferStatus, OrderStatus, is_legal_history
from tests.helpers import tiny_game

NAMES = ["Ada", "Bo", "Cy", "Zed"]  # Zed does not exist
ASSETS = ["pebbles", "firewood", "nuts", "jam", "gold"]  # gold is not a good
qty = st.integers(min_value=0, max_value=6) | st.integers(min_value=0, max_value=200)
pos = st.integers(min_value=1, max_value=8) | st.integers(min_value=1, max_value=200)
bundle = st.dictionaries(st.sampled_from(ASSETS), qty, max_size=2)
some_id = st.integers(min_value=0, max_value=400)
ID_ACTIONS = (A.Cancel, A.Accept, A.Reject, A.Counter, A.Repay)

actions = st.one_of(
    st.builds(A.Produce, qty=qty),
    st.builds(A.PlaceOrder, side=st.sampled_from(["buy", "sell"]), good=st.sampled_from(ASSETS), qty=pos, price=st.integers(1, 30)),
    st.builds(A.Cancel, id=some_id),
    st.builds(A.MakeOffer, to=st.sampled_from(NAMES), give=bundle, get=bundle, due=st.none() | st.integers(1, 20)),
    st.builds(A.Accept, id=some_id),
    st.builds(A.Reject, id=some_id),
    st.builds(A.Counter, id=some_id, give=bundle, get=bundle, due=st.none() | st.integers(1, 5)),
    st.builds(A.Lend, to=st.sampled_from(NAMES), pebbles=pos, interest=st.integers(0, 30), due=st.integers(1, 20), collateral=bundle),
    st.builds(A.Borrow, to=st.sampled_from(NAMES), pebbles=pos, interest=st.integers(0, 30), due=st.integers(1, 20), collateral=bundle),
    st.builds(A.Repay, id=some_id, pebbles=pos),
    st.builds(A.Say, text=st.text(max_size=40)),
    st.builds(A.Whisper, to=st.sampled_from(NAMES), text=st.text(max_size=40)),
    st.builds(A.Note, text=st.text(max_size=40)),
)


class Economy(RuleBasedStateMachine):
    @initialize(seed=st.integers(0, 2**16))
    def start(self, seed: int) -> None:
        self.game = tiny_game(seed)
        self.seen: dict[tuple[str, int], object] = {}

    def _remember(self) -> None:
        w = self.game.wood
        for o in w.book.orders.values():
            self.seen[("order", o.id)] = o
        for o in w.deals.offers.values():
            self.seen[("offer", o.id)] = o
        for k in w.deals.contracts.values():
            self.seen[("contract", k.id)] = k

    @rule(who=st.sampled_from(NAMES[:3]), action=actions, data=st.data())
    def act(self, who: str, action: A.Action, data: st.DataObject) -> None:
        w = self.game.wood
        live = sorted(set(w.book.orders) | set(w.deals.offers) | set(w.deals.contracts))
        if isinstance(action, ID_ACTIONS) and live and data.draw(st.booleans()):
            # Mostly aim at something that exists, so legal transitions get exercised too.
            action = action.model_copy(update={"id": data.draw(st.sampled_from(live))})
        before = [(dict(c.free), dict(c.escrow)) for c in w.creatures]
        reason = resolve(w, w.by_name[who], action, set())
        if reason is not None and not isinstance(action, (A.Say, A.Whisper, A.Note)):
            # A refused action changes nobody's holdings.
            assert [(dict(c.free), dict(c.escrow)) for c in w.creatures] == before, reason
        self._remember()

    @rule(n=st.integers(0, 2))
    def clear_and_settle(self, n: int) -> None:
        from engine.economy.settlement import settle_due

        w = self.game.wood
        w.book.clear(w.turn, w.creatures, w.ledger)
        w.turn += n
        settle_due(w)
        self._remember()

    @rule()
    def whole_turn(self) -> None:
        self._remember()
        self.game.step()
        self._remember()

    @invariant()
    def books_balance(self) -> None:
        ok, detail = self.game.conservation()
        assert ok, detail["problems"]

    @invariant()
    def indexes_match_the_books(self) -> None:
        """Each creature's open orders and offers, as the indexes give them, are the books' own."""
        w = self.game.wood
        for c in w.creatures:
            assert list(w.book.by_owner.get(c.id, {}).values()) == [o for o in w.book.orders.values() if o.owner == c.id]
            assert w.deals.sent_by(c.id) == [o for o in w.deals.offers.values() if o.sender == c.id]

    @invariant()
    def lifecycles_are_legal(self) -> None:
        kinds = {"order": OrderStatus, "offer": OfferStatus, "contract": ContractStatus}
        for (kind, _), obj in self.seen.items():
            assert is_legal_history(obj.history, kinds[kind]), (kind, obj.history)


Economy.TestCase.settings = settings(
    max_examples=200, stateful_step_count=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestEconomy = pytest.mark.slow(Economy.TestCase)
