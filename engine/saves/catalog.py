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


def _bare(name: str) -> bool:
    """A name with no folder in it (``my-wood``, ``wood.v2``, ``my-wood.ttwood``), not a hidden file's."""
    return "/" not in name and os.sep not in name and not name.startswith(".")


def is_save(name: str) -> bool:
    """Whether a command-line argument names a save file (``NAME.ttwood`` or a path to one) rather
    than a scenario or a bare save name."""
    return name.endswith(SUFFIX)


def save_path(name: str) -> Path:
    """Where a save called ``name`` is written: a bare name without the suffix (``my-wood``) is
    ``saves_dir()/NAME.ttwood``; anything else (``my-wood.ttwood``, ``runs/a.ttwood``) is a path."""
    if not name.strip() or name.endswith(("/", os.sep)) or Path(name).name in ("", ".", ".."):
        raise SaveError(f"{name!r}: a save is a file; give it a name (NAME or a path to NAME{SUFFIX}), not a folder")
    p = Path(name)
    if p.is_dir():
        raise SaveError(f"{name}: is a folder; a save is a file (NAME or a path to NAME{SUFFIX})")
    if _bare(name) and not is_save(name):
        return saves_dir() / f"{name}{SUFFIX}"
    return p


def _places(name: str) -> list[Path]:
    """Where a save called ``name`` may be, in order: the path as given, then (a bare name) the
    saves folder, as ``NAME.ttwood`` (the name ``ttwood saves list`` shows) or as given."""
    places = [Path(name)]
    if _bare(name) and name.strip() and name not in (".", ".."):
        places.append(saves_dir() / (name if is_save(name) else f"{name}{SUFFIX}"))
    return places


def look_up_save(name: str) -> Path | None:
    """The save file ``name`` refers to, or ``None``: the one rule every command reads a save name
    by. A file at the path as given wins; a bare name (no folder) is then looked for in the saves
    folder, with or without its suffix (``my-wood``, ``my-wood.ttwood``, ``wood.v2``)."""
    for place in _places(name):
        try:
            if place.is_file():
                return place
        except OSError:  # a name too long for the file system: no file of that name
            continue
    return None


def find_save(name: str) -> Path:
    """The save ``name`` refers to (:func:`look_up_save`); :class:`SaveError` naming where it looked."""
    found = look_up_save(name)
    if found is None and Path(name).is_dir():
        raise SaveError(f"{name}: is a folder; a save is a file (NAME or a path to NAME{SUFFIX})")
    if found is None:
        looked = " and ".join(str(p) for p in dict.fromkeys(_places(name)))
        raise SaveError(f"{name}: no such save (looked for {looked})")
    return found


def save_name(path: Path) -> str | None:
    """The bare name that finds ``path`` (:func:`look_up_save`): its stem, as ``ttwood saves list``
    shows it, when it lies in the saves folder and no file here has that name; else ``None``."""
    stem = path.stem
    if path.suffix != SUFFIX or not _bare(stem) or not stem.strip():
        return None
    try:
        shadowed = Path(stem).is_file()
        there = _places(stem)[-1].resolve() == path.resolve()
    except OSError:  # a name too long for the file system
        return None
    return stem if there and not shadowed else None


def free_path(folder: Path, stem: str) -> Path:
    """``folder/STEM.ttwood``, or ``STEM-2``, ``STEM-3``… when that is taken: a new save's name
    that clobbers none."""
    path = folder / f"{stem}{SUFFIX}"
    n = 2
    while path.exists():
        path = folder / f"{stem}-{n}{SUFFIX}"
        n += 1
    return path


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
