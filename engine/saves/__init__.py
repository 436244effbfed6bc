"""Save files: one SQLite file per game, to resume, replay exactly, rewind, branch and share.

The API, for the command line and the terminal UI:

- :class:`Autosaver` writes a game as it goes, one transaction per turn::

      saver = Autosaver.create(path, game, scenario_text=text, brains=choice.describe())
      game.run(n, saver.record)  # the one game loop, each turn recorded as soon as it is played
      saver.close()              # or use ``with``; a crash costs at most the turn in flight

  ``Autosaver.resume(path, game)`` continues a save whose game came from :meth:`LoadedSave.game_at`.
- :func:`open_save` checks a file (untrusted input: see :mod:`engine.saves.guard`) and returns a
  :class:`LoadedSave` (a context manager): ``.scenario``, ``.scenario_text``, ``.seed``, ``.turns``
  (the last turn), ``.meta``, ``.brains`` (what played), ``.hashes``, ``.reports()``, ``.tape()``,
  and ``.game_at(turn, brains) -> Game``, the game right after ``turn`` ready to step on (rewind).
- :func:`branch` (``src``, ``at``, ``dst``) writes a new save holding the game up to ``at``.
- :func:`replay` re-simulates a save from its seed and tape (no model) and, with ``verify``,
  names the first turn whose state differs from the recorded one (:class:`ReplayResult`).
- :func:`inspect`, :func:`list_saves`, :func:`export_copy`, :func:`export_traces`: what
  ``ttwood saves inspect|list|export`` do.
- :func:`saves_dir`, :func:`save_path`, :func:`find_save`, :func:`look_up_save`, :func:`save_name`,
  :func:`free_path`, :func:`is_save`: where saves live, and the one rule that turns a save's name
  into a path (:mod:`engine.saves.catalog`).

Every refusal is a :class:`SaveError` (a ``TTWoodError``) whose message names the file and why.
"""

from engine.saves.catalog import find_save, free_path, inspect, is_save, list_saves, look_up_save, save_name, save_path, saves_dir
from engine.saves.guard import APPLICATION_ID, FORMAT_VERSION, MAX_SAVE_BYTES, SaveError
from engine.saves.load import LoadedSave, open_save
from engine.saves.replay import ReplayResult, replay
from engine.saves.share import branch, export_copy, export_traces
from engine.saves.snapshot import state_hash
from engine.saves.store import KEYFRAME_EVERY, SUFFIX, Autosaver

__all__ = [
    "APPLICATION_ID", "FORMAT_VERSION", "KEYFRAME_EVERY", "MAX_SAVE_BYTES", "SUFFIX", "Autosaver", "LoadedSave",
    "ReplayResult", "SaveError", "branch", "export_copy", "export_traces", "find_save", "free_path", "inspect",
    "is_save", "list_saves", "look_up_save", "open_save", "replay", "save_name", "save_path", "saves_dir", "state_hash",
]
