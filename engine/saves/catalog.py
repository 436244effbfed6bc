"""Where saves live, and what one holds: the data behind ``ttwood saves list`` and ``inspect``."""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import Any

import orjson
import platformdirs

from engine.saves.guard import SaveError
from engine.saves.load import open_save
from engine.saves.store import SUFFIX

SAVES_ENV = "TTWOOD_SAVES_DIR"
"""Environment variable that overrides the saves folder."""


def saves_dir() -> Path:
    """The folder ``ttwood run --save NAME`` writes to and ``ttwood saves list`` reads:
    ``$TTWOOD_SAVES_DIR``, else ``saves/`` in the user's data folder."""
    env = os.environ.get(SAVES_ENV)
    return Path(env) if env else platformdirs.user_data_path("ttwood") / "saves"


def save_path(name: str) -> Path:
    """A bare name (no folder, no suffix) means ``saves_dir()/NAME.ttwood``; anything else is a path."""
    if not name.strip() or name.endswith(("/", os.sep)) or Path(name).name in ("", ".", ".."):
        raise SaveError(f"{name!r}: a save is a file; give it a name (NAME or a path to NAME{SUFFIX}), not a folder")
    p = Path(name)
    if p.is_dir():
        raise SaveError(f"{name}: is a folder; a save is a file (NAME or a path to NAME{SUFFIX})")
    if p.parent == Path(".") and not p.suffix and not name.startswith("."):
        return saves_dir() / f"{name}{SUFFIX}"
    return p


def find_save(name: str) -> Path:
    """The save a name refers to: an existing path, else the bare name in the saves folder."""
    p = Path(name)
    if p.exists():
        return p
    q = save_path(name)
    if q.exists():
        return q
    raise SaveError(f"{name}: no such save (looked for {p} and {q})")


def inspect(path: str | Path) -> dict[str, Any]:
    """Everything ``ttwood saves inspect --json`` prints. Raises :class:`SaveError` if refused."""
    path = Path(path)
    with open_save(path) as save:
        last = save.turns
        (rows,) = save.con.execute("SELECT creatures FROM turns WHERE turn=?", (last,)).fetchone()
        creatures = [{"name": r[1], "alive": bool(r[2]), "health": r[3], "credit": r[4]} for r in orjson.loads(rows)]
        entries = [e for es in save.tape_entries().values() for e in es]
        models = sorted({str(e.meta["model"]) for e in entries if e.meta.get("model")}
                        | ({str(save.brains["model"])} if save.brains.get("model") else set()))
        brains_used = sorted({e.brain for e in entries})
        calls = len(entries)
        return {
            "file": str(path),
            "format": save.meta.format,
            "migrated_from": save.migrated_from,
            "app_version": save.meta.app_version,
            "created": save.meta.created,
            "scenario": {
                "id": save.meta.scenario_id, "name": save.meta.scenario_name,
                "source": save.meta.scenario_source, "sha256": save.meta.scenario_sha256,
            },
            "seed": save.seed,
            "turns": last,
            "creatures": creatures,
            "alive": sum(1 for c in creatures if c["alive"]),
            "brains": save.brains,
            "brains_used": brains_used,
            "models": models,
            "answers_on_tape": calls,
            "keyframes": len(save.keyframes),
            "branched_from": save.meta.branched_from,
            "size_bytes": path.stat().st_size,
            "integrity": "ok",
        }


def list_saves(folder: Path | None = None) -> list[dict[str, Any]]:
    """Every ``*.ttwood`` file in ``folder`` (default: :func:`saves_dir`), newest first, with a
    look inside (every row checked against its digest); files that are refused say why instead."""
    folder = saves_dir() if folder is None else folder
    if not folder.is_dir():
        return []
    out = []
    files = sorted(folder.glob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime, reverse=True)
    for p in files:
        st = p.stat()
        row: dict[str, Any] = {
            "name": p.stem, "file": str(p), "size_bytes": st.st_size,
            "modified": _dt.datetime.fromtimestamp(st.st_mtime, _dt.UTC).isoformat(timespec="seconds"),
        }
        try:
            with open_save(p, full_check=False) as save:
                save.check_digests()  # every row as written (a fraction of a second for a long game)
                row.update(scenario=save.meta.scenario_id, seed=save.seed, turns=save.turns, status="ok")
        except SaveError as exc:
            row.update(scenario=None, seed=None, turns=None, status=f"refused: {exc.message.removeprefix(f'{p}: ')}")
        out.append(row)
    return out
