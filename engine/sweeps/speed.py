"""How a sweep's speed grows with workers: the same games on local clusters of 1, 2, ... worker
processes, one after another in one run (``ttwood bench sweep``)."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from engine.sweeps.cluster import Progress, Sweep, connect
from engine.sweeps.spec import GameSpec


def _warm() -> bool:
    """Import the game on a worker before the clock starts."""
    import engine.sweeps.play  # noqa: F401

    return True


Report = Callable[[int, Progress], None]


def _quiet(n: int, p: Progress) -> None:
    pass


def bench_sweep(specs: list[GameSpec], workers: list[int], on_progress: Report = _quiet) -> dict[str, Any]:
    """Play ``specs`` on a local cluster of each size in ``workers``; the clock runs from the first
    game submitted to the last one recorded (the cluster's start and the imports are left out)."""
    runs: list[dict[str, Any]] = []
    for n in workers:
        with connect(n) as client, tempfile.TemporaryDirectory(prefix="ttwood-bench-") as tmp:
            client.wait_for_workers(n)
            client.run(_warm)
            load_before = os.getloadavg()[0]
            started = time.perf_counter()
            tally = Sweep(Path(tmp), specs, retries=0).run(client, partial(on_progress, n))
            seconds = time.perf_counter() - started
        runs.append({"workers": n, "seconds": round(seconds, 3), "games": tally.done, "failed": tally.failed,
                     "games_per_s": round(tally.done / seconds, 3), "load_before": round(load_before, 2),
                     "load_after": round(os.getloadavg()[0], 2)})
    base = runs[0]["games_per_s"]
    for r in runs:
        r["speedup"] = round(r["games_per_s"] / base, 3) if base else None
    return {"games": len(specs), "turns": specs[0].turns if specs else 0, "cores": os.cpu_count(), "runs": runs}
