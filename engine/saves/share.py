"""Branching and exporting saves: new self-contained files, written atomically."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson

from engine.saves.convert import DIGEST_TABLES
from engine.saves.guard import FORMAT_VERSION, SaveError
from engine.saves.load import LoadedSave, open_save
from engine.saves.migrate import reseal
from engine.saves.snapshot import Snapshotter
from engine.saves.store import atomic_file, build_copy, write_meta

_PER_TURN = DIGEST_TABLES[FORMAT_VERSION]
_PROMPT_KEYS = ("prompt", "sections")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def branch(src: str | Path, at: int, dst: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``dst``: the game in ``src`` up to turn ``at``, ready to resume from there."""
    src, dst = Path(src), Path(dst)
    if _same_file(src, dst):
        raise SaveError(f"{dst}: a branch must go to a new file, not over the save it comes from")
    if dst.exists() and not overwrite:
        raise SaveError(f"{dst}: already exists (choose another name)")
    with open_save(src) as save:
        if not 0 <= at <= save.turns:
            raise SaveError(f"{src}: has turns 0 to {save.turns}; cannot branch at turn {at}")
        game = save.game_at(at)
        state = Snapshotter().encode(game)[0].decode()
        meta = save.meta.model_dump()
        meta["branched_from"] = {"file": src.name, "turn": at, "state_hash": save.hashes[at]}

        def fill(con: sqlite3.Connection) -> None:
            write_meta(con, meta)
            con.execute("INSERT INTO main.turns SELECT * FROM src.turns WHERE turn <= ?", (at,))
            for t in _PER_TURN:
                con.execute(f"INSERT INTO main.{t} SELECT * FROM src.{t} WHERE turn <= ?", (at,))
            con.execute("UPDATE main.turns SET state=? WHERE turn=?", (state, at))

        build_copy(dst, fill, attach=save.db)
    return dst


def export_copy(src: str | Path, dst: str | Path, *, prompts: bool = True, overwrite: bool = False) -> Path:
    """Write a compact, self-contained copy of a save to share (``prompts=False`` drops the
    prompts from the tape; every other part is kept, so it still replays exactly)."""
    src, dst = Path(src), Path(dst)
    if _same_file(src, dst):
        raise SaveError(f"{dst}: export to a new file, not over the save itself")
    if dst.exists() and not overwrite:
        raise SaveError(f"{dst}: already exists (choose another name)")
    with open_save(src) as save:
        meta = save.meta.model_dump()

        def fill(con: sqlite3.Connection) -> None:
            write_meta(con, meta)
            con.execute("INSERT INTO main.turns SELECT * FROM src.turns")
            for t in _PER_TURN:
                con.execute(f"INSERT INTO main.{t} SELECT * FROM src.{t}")
            if not prompts:
                rows = con.execute("SELECT turn, seq, meta FROM main.tape").fetchall()
                for turn, seq, m in rows:
                    d = orjson.loads(m)
                    if any(k in d for k in _PROMPT_KEYS):
                        for k in _PROMPT_KEYS:
                            d.pop(k, None)
                        con.execute("UPDATE main.tape SET meta=? WHERE turn=? AND seq=?", (orjson.dumps(d).decode(), turn, seq))
                reseal(con, FORMAT_VERSION)

        build_copy(dst, fill, attach=save.db)
    return dst


def trace_rows(save: LoadedSave) -> list[dict[str, Any]]:
    """One row per recorded answer (a model call, or a scripted or human answer)."""
    out = []
    q = ("SELECT turn, seq, creature, brain, actions, reasons, problems, raw, thinking, meta, "
         "prompt_tokens, answer_tokens, latency_ms FROM tape ORDER BY turn, seq")
    for turn, seq, creature, brain, actions, reasons, problems, raw, thinking, meta, pt, at, lat in save.con.execute(q):
        m = orjson.loads(meta)
        out.append({
            "turn": turn, "seq": seq, "creature": creature, "brain": brain, "model": m.get("model"),
            "prompt": m.get("prompt"), "raw": raw, "parsed": orjson.loads(actions), "reasons": orjson.loads(reasons),
            "problems": orjson.loads(problems), "thinking": thinking, "prompt_tokens": pt, "answer_tokens": at,
            "latency_ms": lat, "sampler": m.get("sampler"), "seed": m.get("seed"),
        })
    return out


def export_traces(src: str | Path, dst: str | Path, *, overwrite: bool = False) -> int:
    """Write the tape as JSONL (one row per call) atomically; returns the number of rows."""
    src, dst = Path(src), Path(dst)
    if dst.exists() and not overwrite:
        raise SaveError(f"{dst}: already exists (choose another name)")
    with open_save(src) as save:
        rows = trace_rows(save)
    with atomic_file(dst) as tmp:
        with open(tmp, "wb") as f:
            for r in rows:
                f.write(orjson.dumps(r) + b"\n")
    return len(rows)
