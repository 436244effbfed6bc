"""Many woods at once: sweeps, counterfactual comparisons and reports, on a Dask cluster.

- :mod:`.spec`: one game (:class:`GameSpec`) and the grid a sweep asks for (scenario × seed ×
  brain set × legend set), checked before any worker starts.
- :mod:`.play`: the task a worker runs: one game through :meth:`Game.run`, autosaved, returned
  as ``ttwood run --json``'s object and the save's bytes.
- :mod:`.tables`: ``results.parquet`` (a row per game) and ``turns.parquet`` (a row per game-turn).
- :mod:`.cluster`: the local cluster or a scheduler's address; submission, retries, resuming.
- :mod:`.league`: seat-swap games, their pairs and the league table (``ttwood league``), with
  95% intervals from :mod:`.intervals`.
"""

from engine.sweeps.cluster import Progress, Sweep, connect
from engine.sweeps.spec import BrainSet, GameSpec, LegendSet, Options, SweepError, grid, parse_brain, parse_legends, parse_seeds

__all__ = [
    "BrainSet", "GameSpec", "LegendSet", "Options", "Progress", "Sweep", "SweepError", "connect", "grid", "parse_brain",
    "parse_legends", "parse_seeds",
]
