"""Forward-only migrations of older save formats, keyed by ``user_version``, on a private copy.

Each step takes a database at version ``n`` to ``n + 1``; the copy's schema is checked against
the new version after every step. The player's file is never touched: the loader migrates the
checked copy it reads from. (A step that rewrote rows would have to check their digests first
and seal them again, so that a migration never launders a tampered file.)

- 1 → 2: the ``messages`` view (what was said and whispered, from the turns' events).
  Format 1 was this issue's first draft; no released version wrote it, but the step is real and
  tested, and the next format change adds its step here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from engine.saves.guard import FORMAT_VERSION, SaveError, check_schema, connect_untrusted, view_ddl

CURRENT = FORMAT_VERSION


def _v1_to_v2(con: sqlite3.Connection) -> None:
    """Format 2 adds the ``messages`` view (what was said and whispered, from the events)."""
    con.execute(view_ddl("messages"))


STEPS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _v1_to_v2}
"""``version -> step`` taking a database from ``version`` to ``version + 1``."""


def upgrade(copy: Path, original: Path, version: int) -> None:
    """Migrate the checked copy from ``version`` to the current format, step by step."""
    con = connect_untrusted(copy)
    try:
        while version < CURRENT:
            step = STEPS.get(version)
            if step is None:
                raise SaveError(f"{original}: save format {version} cannot be migrated by this version")
            con.execute("BEGIN")
            step(con)
            con.execute(f"PRAGMA user_version={version + 1}")
            con.execute("COMMIT")
            version += 1
            check_schema(con, original, version)
    except sqlite3.Error as exc:
        raise SaveError(f"{original}: could not be migrated from format {version} ({exc})") from None
    finally:
        con.close()
