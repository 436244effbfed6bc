"""Messages the app's parts send up: small dataclasses, one module (as in toolong)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from engine.session import SaveEntry, ScenarioEntry, Session, SessionView, TurnInFlight


@dataclass
class TurnDone(Message):
    """The engine worker finished a turn; its view is ready to render."""

    view: SessionView
    """The session's view as the turn ended (immutable)."""


@dataclass
class TurnProgress(Message):
    """The turn in flight as it decodes: who waits, thinks and is done. A status, so a newer one
    replaces one not handled yet."""

    now: TurnInFlight

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, TurnProgress)


@dataclass
class TurnFailed(Message):
    """The engine worker failed; ``error`` is what to tell the player."""

    error: str


@dataclass
class CreatureChosen(Message):
    """A creature was picked in the ledgers (to inspect it)."""

    name: str


@dataclass
class SessionReady(Message):
    """A worker built a session (a new game, an opened save or a rewind) for the app to play."""

    session: Session


@dataclass
class Listed(Message):
    """A worker read the scenarios and the saves folder (off the UI thread)."""

    purpose: str
    """What they were listed for: ``games`` (the games screen) or ``open`` (the open dialog)."""
    scenarios: tuple[ScenarioEntry, ...]
    saves: tuple[SaveEntry, ...]
    """Newest first."""
    error: str | None = None
    """Why the folder could not be listed."""
