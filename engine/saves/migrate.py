"""Forward-only migrations of older save formats, keyed by ``user_version``, on a private copy.

Each step takes a database at version ``n`` to ``n + 1``. It first checks the old format's own
digests (so a migration never launders a tampered file), changes the copy, and re-seals it. The
player's file is never touched: the loader migrates the checked copy it reads from.

- 1 → 2: the ``messages`` table (what was said and whispered), filled from the ``events`` table.
  Format 1 was this issue's first draft; no released version wrote it, but the step is real and
  tested, and the next format change adds its step here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from engine.saves.convert import DIGEST_TABLES, check_digests, rows_digest
from engine.saves.guard import FORMAT_VERSION, SaveError, check_schema, connect_untrusted, ddl
from engine.saves.snapshot import SnapshotError

CURRENT = FORMAT_VERSION


def _v1_to_v2(con: sqlite3.Connection) -> None:
    stmt = next(s for s in ddl(2) if s.startswith("CREATE TABLE messages"))
    con.execute(stmt)
    con.execute(
        "INSERT INTO messages (turn, seq, kind, sender, recipient, text) "
        "SELECT turn, ROW_NUMBER() OVER (PARTITION BY turn ORDER BY seq) - 1, kind, "
        "COALESCE(json_extract(data, '$.creature'), ''), json_extract(data, '$.to'), text "
        "FROM events WHERE kind IN ('say', 'whisper') ORDER BY turn, seq"
    )


STEPS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _v1_to_v2}
"""``version -> step`` taking a database from ``version`` to ``version + 1``."""


def reseal(con: sqlite3.Connection, version: int) -> None:
    """Recompute every turn's digest for ``version`` (only after the old digests were checked)."""
    tables = DIGEST_TABLES[version]
    turns = con.execute("SELECT turn, season, gini, metrics, state_hash, injected FROM turns ORDER BY turn").fetchall()
    from engine.saves.convert import _ORDER_BY

    for row in turns:
        per = [con.execute(f"SELECT * FROM {t} WHERE turn=? ORDER BY {_ORDER_BY[t]}", (row[0],)).fetchall() for t in tables]
        con.execute("UPDATE turns SET digest=? WHERE turn=?", (rows_digest(tuple(row), *per), row[0]))


def upgrade(copy: Path, original: Path, version: int) -> None:
    """Migrate the checked copy from ``version`` to the current format, step by step."""
    con = connect_untrusted(copy)
    try:
        while version < CURRENT:
            step = STEPS.get(version)
            if step is None:
                raise SaveError(f"{original}: save format {version} cannot be migrated by this version")
            try:
                check_digests(con, version)
            except SnapshotError as exc:
                raise SaveError(f"{original}: {exc}") from None
            con.execute("BEGIN")
            step(con)
            reseal(con, version + 1)
            con.execute(f"PRAGMA user_version={version + 1}")
            con.execute("COMMIT")
            version += 1
            check_schema(con, original, version)
    except sqlite3.Error as exc:
        raise SaveError(f"{original}: could not be migrated from format {version} ({exc})") from None
    finally:
        con.close()
