"""The one small facade a user interface drives: a game, its Patron, and the player's hands.

- :class:`Session` (:mod:`.facade`) owns one :class:`~engine.turn.game.Game`: it plays a turn
  through the game's one loop (:meth:`Session.step`, from a worker thread), saves it, and publishes
  :attr:`Session.view`, an immutable :class:`SessionView` of the last finished turn
  (:mod:`.views`, copied out of the game by :mod:`.seeing`). A front end renders only that.
- :class:`Player` (:mod:`.player`, ``session.player``): legends asked for, the Patron's actions
  and creatures taken over. Requests may come at any time; they are queued and applied between
  turns, when the next one starts.
- :mod:`.patron`: the Patron in the scenario text, the actions the player has it take, its log.
- :mod:`.files`: the saves folder and fresh save names.
- :mod:`.listing`: the scenarios and saves a front end offers to open; :mod:`.acting`: the
  actions a player queues for a creature taken over.

It knows nothing of screens. A front end imports from here and nothing else of the engine
(``pyproject.toml`` holds the UI to that): what it needs of the rest (the error every refusal
is, the kinds of tile and brain, the actions it queues) is named here.
"""

from engine.core.assets import PEBBLES
from engine.core.errors import TTWoodError
from engine.session import acting
from engine.session.errors import SessionError
from engine.session.facade import RECENT_TURNS, BrainMaker, Session, Watcher
from engine.session.files import free_path, is_save, saves_folder
from engine.session.listing import BRAIN_KINDS, SaveEntry, ScenarioEntry, save_entries, scenario_entries
from engine.session.patron import PATRON, PATRON_PEBBLES, Move, PatronLog, broker, lend, order, outcome, tip, with_patron
from engine.session.player import Player
from engine.session.views import (
    LONGEST,
    CreatureView,
    DecidedView,
    LegendView,
    OfferView,
    PlayerView,
    PromptView,
    SessionView,
    ThinkingView,
    TurnEvents,
    TurnInFlight,
    TurnPoint,
    WoodView,
    describe,
    printable,
)
from engine.world.tiles import TileKind

__all__ = [
    "BRAIN_KINDS", "LONGEST", "PATRON", "PATRON_PEBBLES", "PEBBLES", "RECENT_TURNS", "BrainMaker", "CreatureView", "DecidedView",
    "LegendView", "Move", "OfferView", "PatronLog", "Player", "PlayerView", "PromptView", "SaveEntry", "ScenarioEntry",
    "Session", "SessionError", "SessionView", "TTWoodError", "ThinkingView", "TileKind", "TurnEvents", "TurnInFlight", "TurnPoint",
    "Watcher", "WoodView", "acting",
    "broker", "describe", "free_path", "is_save", "lend", "order", "outcome", "printable", "save_entries", "saves_folder",
    "scenario_entries", "tip", "with_patron",
]
