"""A save file from anywhere is untrusted input: these checks run before the game believes it.

In order, and each refusal is one :class:`SaveError` naming the file and the reason:

1. It is a regular file no bigger than the cap.
2. Its first 100 bytes (read as bytes, before any SQL runs) are an SQLite header with our
   ``application_id`` and a ``user_version`` we can read (a newer one says which version made it).
3. It is copied (with its ``-wal``/``-journal`` sidecar, if a crash left one) into a private
   folder; SQLite only ever opens that copy, with ``trusted_schema=OFF``; the original is never
   opened by SQLite nor changed.
4. ``PRAGMA quick_check`` says ``ok``.
5. Its schema is exactly ours for its version: every table with our columns, nothing else (a
   view, a trigger, a virtual table, an extra index or table is refused).

What the rows hold is checked afterwards, by the loader: pydantic models, each turn's digest,
the restored state's hash and the economy's invariants.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import struct
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.schema import CreateIndex, CreateTable

from engine.core.errors import TTWoodError
from engine.saves.rows import METADATA, VIEWS, VIEWS_SINCE

APPLICATION_ID = 0x54545744
"""``PRAGMA application_id`` of every save: the bytes ``TTWD``."""
FORMAT_VERSION = 2
"""``PRAGMA user_version`` this version writes. 1: no ``messages`` view (added by migration)."""
MAX_SAVE_BYTES = 2 * 1024**3
"""Largest save file opened (a 100-creature game of a thousand turns is far smaller)."""
SQLITE_MAGIC = b"SQLite format 3\x00"


class SaveError(TTWoodError):
    """A save file could not be opened, written or trusted; the message names the file and why."""

    title = "save refused"


@dataclass(slots=True, frozen=True)
class Header:
    """What the raw header of a save says."""

    page_size: int
    user_version: int
    application_id: int
    pages: int
    """The page count the header claims (0 when SQLite would not trust it)."""


def _refuse(path: Path, why: str) -> SaveError:
    return SaveError(f"{path}: {why}")


def read_header(path: Path, max_bytes: int = MAX_SAVE_BYTES) -> Header:
    """Check the file's size and raw header bytes; no SQL runs. Raises :class:`SaveError`."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise _refuse(path, "no such file") from None
    except OSError as exc:
        raise _refuse(path, f"cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise _refuse(path, "is not a regular file")
    size = st.st_size
    if size > max_bytes:
        raise _refuse(path, f"is {size:,} bytes, over the {max_bytes:,}-byte limit for a save")
    if size == 0:
        raise _refuse(path, "is empty")
    try:
        with open(path, "rb") as f:
            head = f.read(100)
    except OSError as exc:
        raise _refuse(path, f"cannot be read ({exc.strerror})") from None
    if len(head) < 100 or head[:16] != SQLITE_MAGIC:
        raise _refuse(path, "is not a Thousand Token Wood save (not an SQLite database)")
    (page_size,) = struct.unpack(">H", head[16:18])
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        raise _refuse(path, f"is damaged (page size {page_size} in its header)")
    if head[18] not in (1, 2) or head[19] not in (1, 2) or head[21:24] != b"\x40\x20\x20":
        raise _refuse(path, "is damaged (its header's format bytes are wrong)")
    (change, pages) = struct.unpack(">II", head[24:32])
    (valid_for,) = struct.unpack(">I", head[92:96])
    (user_version,) = struct.unpack(">I", head[60:64])
    (app_id,) = struct.unpack(">I", head[68:72])
    has_wal = Path(f"{path}-wal").exists()
    in_log = has_wal and app_id == 0 and user_version == 0
    if not in_log:
        # (A save killed before its first checkpoint by an older version has its header in the log:
        # the same checks run on the checked copy, once the log is folded in.)
        check_ids(path, app_id, user_version)
    if size % page_size:
        raise _refuse(path, f"is truncated or damaged ({size:,} bytes is not a whole number of {page_size}-byte pages)")
    if valid_for != change:
        pages = 0
    if pages and not has_wal and pages * page_size != size:
        raise _refuse(path, f"is truncated or damaged (its header says {pages} pages, the file holds {size // page_size})")
    return Header(page_size, user_version, app_id, pages)


def check_ids(path: Path, app_id: int, user_version: int) -> None:
    """Refuse a database that is not ours, or of a format this version cannot read."""
    if app_id != APPLICATION_ID:
        raise _refuse(path, f"is an SQLite database of another program (application id {app_id:#x}), not a save")
    if user_version > FORMAT_VERSION:
        raise _refuse(
            path,
            f"was made by a newer Thousand Token Wood (save format {user_version}; this version reads up to "
            f"{FORMAT_VERSION}): update ttwood to open it",
        )
    if user_version < 1:
        raise _refuse(path, "has no save format version")


# ------------------------------------------------------------------ the schema
def ddl(version: int = FORMAT_VERSION) -> list[str]:
    """The ``CREATE`` statements of the format ``version`` (from the SQLModel tables)."""
    d = sqlite_dialect.dialect()
    out = []
    for table in METADATA.sorted_tables:
        out.append(str(CreateTable(table).compile(dialect=d)).strip())
        for index in table.indexes:
            out.append(str(CreateIndex(index).compile(dialect=d)).strip())
    for name in VIEWS:
        if VIEWS_SINCE.get(name, 1) <= version:
            out.append(view_ddl(name))
    return out


def view_ddl(name: str) -> str:
    """``CREATE VIEW`` for one of the format's views."""
    return f"CREATE VIEW {name} AS {VIEWS[name]}"


def _schema_of(con: sqlite3.Connection) -> dict[tuple[str, str], tuple[str, tuple[tuple[object, ...], ...]]]:
    """Every schema object: ``(type, name) -> (table, columns)`` (columns only for tables)."""
    out = {}
    for typ, name, tbl, sql in con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"):
        cols: tuple[tuple[object, ...], ...] = ()
        if typ in ("view", "trigger", "index"):
            cols = ((" ".join(str(sql).split()),),)
        elif typ == "table":
            if sql and sql.lstrip().upper().startswith("CREATE VIRTUAL"):
                cols = (("virtual",),)
            else:
                cols = tuple(
                    (r[1], str(r[2]).upper(), r[3], r[5]) for r in con.execute(f'PRAGMA table_info("{name}")')
                )
        out[(typ, name)] = (tbl, cols)
    return out


_REFERENCE: dict[int, dict[tuple[str, str], tuple[str, tuple[tuple[object, ...], ...]]]] = {}


def reference_schema(version: int = FORMAT_VERSION) -> dict[tuple[str, str], tuple[str, tuple[tuple[object, ...], ...]]]:
    """Our schema for a format version, as :func:`_schema_of` reads it from a fresh database."""
    if version not in _REFERENCE:
        con = sqlite3.connect(":memory:")
        try:
            for stmt in ddl(version):
                con.execute(stmt)
            _REFERENCE[version] = _schema_of(con)
        finally:
            con.close()
    return _REFERENCE[version]


def check_schema(con: sqlite3.Connection, path: Path, version: int) -> None:
    """Refuse unless the database's schema is exactly ours for ``version``."""
    theirs = _schema_of(con)
    ours = reference_schema(version)
    for key in sorted(theirs):
        if key not in ours:
            typ, name = key
            what = "virtual table" if theirs[key][1] == (("virtual",),) else typ
            raise _refuse(path, f"holds a {what} {name!r} that is not part of the save format")
    for key in sorted(ours):
        if key not in theirs:
            raise _refuse(path, f"lacks the {key[0]} {key[1]!r} of the save format")
        if theirs[key] != ours[key]:
            what = "virtual table" if theirs[key][1] == (("virtual",),) else key[0]
            raise _refuse(path, f"has a {what} {key[1]!r} that differs from the save format")


# ------------------------------------------------------------------ the copy
def connect_untrusted(db: Path) -> sqlite3.Connection:
    """Open a private copy with the protections SQLite offers against a hostile schema."""
    con = sqlite3.connect(str(db), isolation_level=None)
    con.execute("PRAGMA trusted_schema=OFF")
    con.execute("PRAGMA cell_size_check=ON")
    con.execute("PRAGMA mmap_size=0")
    return con


def checked_copy(path: Path, folder: Path, max_bytes: int = MAX_SAVE_BYTES) -> tuple[Path, int]:
    """Check ``path`` and make a private, checked copy in ``folder``.

    Returns ``(copy, format version)``. The copy is self-contained (a crash's ``-wal`` is folded
    in). Raises :class:`SaveError`; ``path`` is never opened by SQLite nor changed.
    """
    header = read_header(path, max_bytes)
    copy = folder / "save.ttwood"
    try:
        shutil.copyfile(path, copy)
        for suffix in ("-wal", "-journal"):
            side = Path(f"{path}{suffix}")
            if side.exists():
                if side.stat().st_size > max_bytes:
                    raise _refuse(path, f"its {suffix} file is over the size limit")
                shutil.copyfile(side, Path(f"{copy}{suffix}"))
    except OSError as exc:
        raise _refuse(path, f"cannot be copied to check it ({exc.strerror})") from None
    con = None
    try:
        con = connect_untrusted(copy)
        rows = con.execute("PRAGMA quick_check").fetchall()
        if [r[0] for r in rows] != ["ok"]:
            raise _refuse(path, f"is damaged (SQLite quick_check: {rows[0][0]})")
        version = con.execute("PRAGMA user_version").fetchone()[0]
        app = con.execute("PRAGMA application_id").fetchone()[0]
        if header.user_version == header.application_id == 0:
            check_ids(path, app, version)
        elif version != header.user_version or app != APPLICATION_ID:
            raise _refuse(path, "is damaged (its header and its database disagree on the format)")
        check_schema(con, path, version)
        con.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.DatabaseError as exc:
        raise _refuse(path, f"is damaged or not a save ({exc})") from None
    finally:
        if con is not None:
            con.close()
    return copy, version
