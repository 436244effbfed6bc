"""Messages the app's parts send up: small dataclasses, one module (as in toolong)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from engine.turn.game import TurnReport


@dataclass
class TurnDone(Message):
    """The engine worker finished a turn; the report is ready to render."""

    report: TurnReport


@dataclass
class TurnFailed(Message):
    """The engine worker failed; ``error`` is what to tell the player."""

    error: str


@dataclass
class CreatureChosen(Message):
    """A creature was picked in the ledgers (to inspect it)."""

    name: str


@dataclass
class Status(Message):
    """A status line changed (coalesced: only the latest matters)."""

    text: str

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Status)


@dataclass
class SessionReady(Message):
    """A worker built a session (a new game, an opened save or a rewind) for the app to play."""

    session: object
    """An :class:`engine.session.Session` (typed loosely so this module stays import-light)."""
