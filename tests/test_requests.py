"""Requests in whispers get an answer the next turn: an offer, a counter or a refusal with a
reason. The Patron (the player) is heard like any creature."""

from __future__ import annotations

import pytest

from engine import scenario as scenarios
from engine.elders.requests import Request, read_request
from engine.elders.scripted import ScriptedBrain
from engine.minds.brains.human import HumanBrain
from engine.session.patron import PATRON, with_patron
from engine.turn import actions as A
from engine.turn.game import Game
from engine.turn.report import TurnReport

GOODS = ["firewood", "honey", "acorns", "berries", "mushrooms"]


@pytest.mark.parametrize(("text", "want"), [
    ("Oona, sell me 3 honey at 2", Request("P", "buy", "honey", 3, 2, None)),
    ("Hazel, I want to buy 2 acorns for 10 pebbles", Request("P", "buy", "acorns", 2, 5, None)),
    ("Rusk, buy my honey at 4 each", Request("P", "sell", "honey", None, 4, None)),
    ("Oona, lend me 20 pebbles?", Request("P", "loan", None, None, None, 20)),
    ("Oona, please wait on my loan", Request("P", "wait", None, None, None, None)),
    ("Lovely weather in the wood today", None),
    ("Thank you for the deal, Oona!", None),
])
def test_a_whisper_is_read_for_what_it_asks(text: str, want: Request | None) -> None:
    assert read_request("P", text, GOODS) == want


def _patron_game(seed: int = 1) -> tuple[Game, HumanBrain]:
    _, text = scenarios.load(None)
    sc = scenarios.parse(with_patron(text), "patron.toml")
    player = HumanBrain()
    brains = {c.name: (player if c.name == PATRON else ScriptedBrain()) for c in sc.creatures}
    return Game(sc, seed, brains), player


def _answer_to(report: TurnReport, speaker: str) -> tuple[list[A.Action], list[str]]:
    """What ``speaker`` did toward the Patron in its answer that the rules accepted."""
    (d,) = [d for d in report.decided if d.creature == speaker]
    done = [a for a, why in d.results if why is None]
    offers = [a for a in done if isinstance(a, A.MakeOffer | A.Lend) and a.to == PATRON]
    whispers = [a.text for a in done if isinstance(a, A.Whisper) and a.to == PATRON]
    return offers, whispers


@pytest.mark.parametrize(("price", "kind"), [(9, "yes"), (2, "counter")])
def test_a_player_asking_a_creature_to_sell_at_a_price_gets_an_offer_or_a_counter_the_next_turn(price: int, kind: str) -> None:
    game, player = _patron_game()
    game.run(3)
    player.queue(PATRON, A.Whisper(to="Oona", text=f"Oona, sell me 2 honey at {price}"))
    game.step()  # the whisper is told
    offers, whispers = _answer_to(game.step(), "Oona")
    assert len(offers) == 1 and whispers, (offers, whispers)
    (offer,) = offers
    assert isinstance(offer, A.MakeOffer) and offer.give == {"honey": 2}
    each = offer.get["pebbles"] / 2
    if kind == "yes":
        assert each == price
        assert any(s in whispers[0] for s in ("Offer sent", "take it")), whispers
    else:
        assert each > price
        assert str(price) in whispers[0] and any(s in whispers[0] for s in ("too low", "Not at")), whispers


def test_a_request_the_creature_cannot_meet_gets_a_refusal_with_a_reason() -> None:
    game, player = _patron_game()
    game.run(2)
    player.queue(PATRON, A.Whisper(to="Hazel", text="Hazel, lend me 25 pebbles"))  # Hazel is no lender
    player.queue(PATRON, A.Whisper(to="Barnaby", text="Barnaby, sell me 3 honey at 9"))  # he makes firewood
    game.step()
    report = game.step()
    for name, reason in (("Hazel", "no lender"), ("Barnaby", "no honey")):
        offers, whispers = _answer_to(report, name)
        assert offers == [] and any(reason in w for w in whispers), (name, whispers)


def test_the_lender_lends_on_a_trusted_request() -> None:
    game, player = _patron_game()
    game.run(2)
    player.queue(PATRON, A.Whisper(to="Oona", text="Oona, could you lend me 20 pebbles until turn 8?"))
    game.step()
    offers, whispers = _answer_to(game.step(), "Oona")
    assert [type(a) for a in offers] == [A.Lend] and offers[0].pebbles == 20 and whispers


def test_the_elders_own_answers_read_as_no_new_request() -> None:
    """An answer must not start a round of answers to answers: every refusal, thanks and loan line
    reads as no request (a yes comes with its offer, and a whisper with an offer is answered
    through the offer)."""
    from engine.elders.speech import TEMPLATES

    fields = {"to": "Oona", "why": "the wood settles every debt on its day", "due": 5, "qty": 2, "good": "honey",
              "price": 4, "total": 8, "mine": 5, "p": 20}
    for situation in ("ask_no", "ask_wait_no", "lend_no", "loan_thanks", "thanks", "kept", "square", "reject", "accept"):
        for template in TEMPLATES[situation]:
            text = template.format(**fields)
            assert read_request("X", text, GOODS) is None, (situation, text)
