"""The session's one error type."""

from __future__ import annotations

from engine.core.errors import TTWoodError


class SessionError(TTWoodError):
    """Something the player asked of the session cannot be done (the message says why)."""

    title = "cannot do that"
