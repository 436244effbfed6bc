"""Finding scenarios: the bundled ones, the user's mod folder, or a path."""

from __future__ import annotations

import difflib
import hashlib
import os
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal

from engine.core.errors import ScenarioError
from engine.scenario.parsing import _one, parse
from engine.scenario.schema import DEFAULT_SCENARIO, MAX_BYTES, USER_DIR_ENV, Scenario, path_text
from engine.scenario.toml_positions import ScanError, scan

# --------------------------------------------------------------------------- finding scenarios


def user_dir() -> Path:
    """The user's scenario folder for mods: ``$TTWOOD_SCENARIOS``, else the platform's data folder
    (``~/.local/share/ttwood/scenarios`` on Linux)."""
    env = os.environ.get(USER_DIR_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("ttwood")) / "scenarios"


@dataclass(slots=True, frozen=True)
class Found:
    """A scenario file that was found: its id, where it comes from and where it lies."""

    id: str
    source: Literal["bundled", "user", "path"]
    location: str
    """The file's path (used in error messages)."""
    file: Traversable

    def read(self) -> str:
        """The file's text, refused with a clear message when it is too large or not UTF-8."""
        try:
            with self.file.open("rb") as f:
                data = f.read(MAX_BYTES + 1)  # no more: a 3 GB file is refused without being read whole
                size = os.fstat(f.fileno()).st_size if len(data) > MAX_BYTES and hasattr(f, "fileno") else 0
        except OSError as exc:
            raise _one(self.location, 1, "(whole file)", f"cannot read: {exc.strerror or exc}") from None
        if len(data) > MAX_BYTES:
            what = f"{size:,} bytes" if size > MAX_BYTES else f"more than {MAX_BYTES:,} bytes"
            raise _one(self.location, 1, "(whole file)", f"the file is {what}; a scenario may have at most {MAX_BYTES:,}")
        return decode(data, self.location)


def decode(data: bytes, source: str) -> str:
    """Scenario bytes as text: refused when too large or not UTF-8 (naming the line of the bad byte)."""
    if len(data) > MAX_BYTES:
        raise _one(source, 1, "(whole file)", f"the file is {len(data):,} bytes; a scenario may have at most {MAX_BYTES:,}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        try:
            near = scan(data.decode("utf-8", errors="replace")).key_near(line)
        except ScanError:
            near = ()
        raise _one(source, line, path_text(near),
                   f"not UTF-8 text (byte 0x{data[exc.start]:02x} at column {col}); save the file as UTF-8") from None


def bundled_ids() -> list[str]:
    """Ids of the scenarios that ship inside the package."""
    root = resources.files("ttwood_scenarios")
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".toml"))


def user_ids() -> list[str]:
    """Ids of the scenarios in the user's folder (``ID.toml`` files)."""
    folder = user_dir()
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.toml") if p.is_file())


def known() -> list[Found]:
    """Every scenario found by id, sorted by id: the bundled ones and the user's, a user file
    taking the place of a bundled one with the same id."""
    out = {sid: _bundled(sid) for sid in bundled_ids()}
    for sid in user_ids():
        out[sid] = _user(sid)
    return [out[k] for k in sorted(out)]


def _bundled(sid: str) -> Found:
    f = resources.files("ttwood_scenarios").joinpath(f"{sid}.toml")
    return Found(sid, "bundled", str(f), f)


def _user(sid: str) -> Found:
    p = user_dir() / f"{sid}.toml"
    return Found(sid, "user", str(p), p)


def find(ref: str | None) -> Found:
    """Find a scenario by id (the user's folder first, then the bundled ones) or by path."""
    ref = ref or DEFAULT_SCENARIO
    path = Path(ref)
    if ref.endswith(".toml") or "/" in ref or os.sep in ref or path.is_file():
        if not path.is_file():
            raise _one(ref, 1, "(whole file)", "is a folder, not a scenario file" if path.is_dir() else "no such scenario file")
        return Found(path.stem, "path", str(path), path)
    if (user_dir() / f"{ref}.toml").is_file():
        return _user(ref)
    if ref in bundled_ids():
        return _bundled(ref)
    ids = sorted({f.id for f in known()})
    close = difflib.get_close_matches(ref, ids, n=1)
    maybe = f" (did you mean {close[0]!r}?)" if close else ""
    raise ScenarioError(
        f"no scenario called {ref!r}{maybe}; known: {', '.join(ids)} "
        f"(bundled, or ID.toml files in {user_dir()}), or give a path to a .toml file"
    )


def resolve(ref: str | None) -> tuple[str, str]:
    """Find a scenario by id or path. Returns ``(source label, TOML text)``; the label is the
    file's path, which error messages name."""
    f = find(ref)
    return f.location, f.read()


def load(ref: str | None = None) -> tuple[Scenario, str]:
    """Load a scenario by id or path. Returns the scenario and its exact TOML text."""
    return load_found(find(ref))


def load_found(f: Found) -> tuple[Scenario, str]:
    """Read and validate a found scenario. A file found by id must carry that id in ``[meta]``."""
    text = f.read()
    sc = parse(text, f.location)
    if f.source != "path" and sc.meta.id != f.id:
        line = scan(text).locate(("meta", "id"))[0]
        raise _one(f.location, line, "meta.id",
                   f"the file is {f.id}.toml but its id is {sc.meta.id!r}; set id = \"{f.id}\" (or rename the file)")
    return sc, text


def text_hash(text: str) -> str:
    """A short stable hash of a scenario's text (for saves and reports)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
