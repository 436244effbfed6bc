"""``ttwood report DIR``: charts of a sweep or a comparison, as PNGs and one HTML page."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from ttwood.options import AsJson, errors_titled

err = Console(stderr=True)
out = Console()


def register(root: typer.Typer) -> None:
    """Add ``report`` to the ``ttwood`` command."""
    root.command("report")(report_cmd)


def report_cmd(
    folder: Annotated[Path, typer.Argument(help="A folder `ttwood sweep --out` or `ttwood compare --out` wrote.")],
    as_json: AsJson = False,
) -> None:
    """Draw a sweep's (or a comparison's) games: price paths with seed bands, Gini, trades and
    defaults over time, creatures alive, and a league table of the brains; written as PNGs and a
    self-contained HTML page (open it in any browser) into DIR/report/. --json prints {"html", "pngs",
    "games", "failed", "groups"}.

    Example: `ttwood sweep --seeds 1-8 --brain scripted --out runs/a && ttwood report runs/a`."""
    from engine.sweeps.report import write_report

    with errors_titled("report error"), err.status(f"drawing {escape(str(folder))}"):
        rep = write_report(folder)
    if as_json:
        sys.stdout.write(json.dumps({"html": str(rep.html), "pngs": [str(p) for p in rep.pngs], "games": rep.games,
                                     "failed": rep.failed, "groups": rep.groups}) + "\n")
        return
    out.print(f"{rep.games} games ({rep.failed} failed) in {len(rep.groups)} group{'s' if len(rep.groups) != 1 else ''}: "
              + escape(", ".join(rep.groups)))
    for p in rep.pngs:
        out.print(f"  {escape(str(p))}")
    out.print(f"open [bold]{escape(str(rep.html))}[/] in a browser")
