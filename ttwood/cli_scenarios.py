"""``ttwood scenarios``: list, show and validate scenarios, and write their JSON Schema."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from engine import scenario as scenarios
from engine.core.errors import ScenarioError, TTWoodError
from engine.minds.budget_fit import budget_fit
from ttwood.options import AsJson

app = typer.Typer(
    help="List, show and validate scenarios (bundled, your mod folder, or any path); write the JSON Schema.",
    no_args_is_help=True,
)

err = Console(stderr=True)
out = Console()


def _row(found: scenarios.Found) -> dict[str, Any]:
    try:
        sc, _ = scenarios.load_found(found)
    except TTWoodError as exc:
        first = str(exc).splitlines()[0]
        return {"id": found.id, "name": "(invalid)", "description": first, "source": found.source}
    return {"id": found.id, "name": sc.meta.name, "description": sc.meta.description, "source": found.source}


@app.command("list")
def list_scenarios(as_json: AsJson = False) -> None:
    """Every scenario known by id: bundled ones and those in your mod folder."""
    rows = [_row(f) for f in scenarios.known()]
    if as_json:
        sys.stdout.write(json.dumps({"scenarios": rows}) + "\n")
        return
    table = Table(caption=f"your mods: {escape(str(scenarios.user_dir()))}")
    for col in ("id", "name", "source", "description"):
        table.add_column(col)
    for r in rows:
        table.add_row(escape(r["id"]), escape(r["name"]), r["source"], escape(r["description"]))
    out.print(table)


@app.command("show")
def show(
    scenario: Annotated[str, typer.Argument(help="A scenario id or a path to a .toml file.")],
    toml: Annotated[bool, typer.Option("--toml", help="Print the file's exact TOML text instead of a summary.")] = False,
) -> None:
    """A readable summary of one scenario (or its TOML text with --toml)."""
    found = scenarios.find(scenario)
    sc, text = scenarios.load_found(found)
    if toml:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    _summary(found, sc)


def _summary(found: scenarios.Found, sc: scenarios.Scenario) -> None:
    m = sc.meta
    out.print(f"[bold]{escape(m.name)}[/] ({escape(m.id)}, version {escape(m.version)}"
              + (f", by {escape(m.author)}" if m.author else "") + ")")
    out.print(f"{found.source}: {escape(found.location)}")
    if m.description:
        out.print(escape(m.description))
    mp = sc.map
    shape = "drawn layout" if mp.layout else f"generated, {mp.forest_fraction:.0%} forest"
    out.print(f"\n[bold]map[/] {mp.width}×{mp.height} ({shape}); trees per tile {mp.tree_capacity}, "
              f"regrowth {mp.regrowth_rate}, collapse below {mp.collapse_below} for {mp.collapse_turns} turns")
    seasons = Table(title="seasons")
    for col in ("season", "turns", "firewood / turn", "yields"):
        seasons.add_column(col)
    for s in sc.seasons:
        cold = f"{s.cold}" + (f" +{s.cold_rise}/turn" if s.cold_rise else "")
        yields = ", ".join(f"{g} ×{v}" for g, v in s.yields.items())
        seasons.add_row(escape(s.name), str(s.length), cold, escape(yields))
    out.print(seasons)
    goods = Table(title="goods")
    for col in ("good", "kind", "rots / turn", "base value"):
        goods.add_column(col)
    for g in sc.goods:
        goods.add_row(g.id, g.kind, f"{g.perish:.0%}", str(g.base_value))
    out.print(goods)
    copies = {gen.like: gen.count for gen in sc.generate}
    cast = Table(title=f"cast ({len(sc.expanded_cast())} creatures)")
    for col in ("name", "species", "role", "makes", "holdings", "copies"):
        cast.add_column(col)
    for c in sc.creatures:
        holdings = ", ".join(f"{q} {a}" for a, q in c.holdings.items())
        cast.add_row(
            f"{escape(c.glyph)} {escape(c.name)}", escape(c.species), c.role, c.makes or "—", escape(holdings),
            str(copies.get(c.name, "")),
        )
    out.print(cast)
    n, k, cr, b, mem = sc.needs, sc.market, sc.credit, sc.budget, sc.memory
    out.print(f"[bold]needs[/] meal of {n.meal_size} foods; hunger −{n.hunger_damage}, cold −{n.cold_damage}, "
              f"recovery +{n.recovery} health a turn")
    fees = f"; fee {k.order_fee} + {k.fee_pct}% per order" if k.order_fee or k.fee_pct else ""
    out.print(f"[bold]market[/] orders rest {k.order_expiry} turns, offers {k.offer_expiry}{fees}")
    out.print(f"[bold]credit[/] terms up to {cr.max_term} turns, interest up to {cr.max_interest_pct}%, "
              f"default fine {cr.default_penalty}, credit −{cr.default_drop} per default")
    out.print(f"[bold]budget[/] {b.tokens} tokens and {b.max_actions} actions a turn; "
              f"[bold]memory[/] {mem.notes} notes, {mem.events} events, {mem.messages} messages")
    if sc.legends:
        legends = Table(title="legends")
        for col in ("id", "name", "when", "effects"):
            legends.add_column(col)
        for lg in sc.legends:
            w = lg.when
            if w.turn is not None:
                when = f"turn {w.turn}"
            elif w.condition is not None:
                when = f"{w.condition.metric} {w.condition.op} {w.condition.value:g}"
            else:
                when = "on demand"
            legends.add_row(escape(lg.id), escape(lg.name), escape(when), ", ".join(e.kind for e in lg.effects))
        out.print(legends)


@app.command("validate")
def validate(
    files: Annotated[list[str] | None, typer.Argument(help="Files or ids; every known scenario when none.")] = None,
) -> None:
    """Check scenario files; every problem names the file, the line and the key."""
    targets: list[tuple[str, scenarios.Found | None]] = (
        [(f.id, f) for f in scenarios.known()] if not files else [(ref, None) for ref in files]
    )
    failed = 0
    for ref, found in targets:
        try:
            found = found or scenarios.find(ref)
            sc, _ = scenarios.load_found(found)
            problem = budget_fit(sc).problem()
            if problem is not None:
                raise TTWoodError(f"{found.location}: budget.tokens: {problem}")
            out.print(f"[green]ok[/]  {escape(found.id)} ({found.source}: {escape(found.location)})", soft_wrap=True)
        except TTWoodError as exc:
            failed += 1
            for line in str(exc).splitlines():
                err.print(escape(line), style="red", soft_wrap=True, highlight=False)
    if failed:
        err.print(f"{failed} of {len(targets)} scenario files have problems")
        raise typer.Exit(2)


@app.command("folder")
def folder() -> None:
    """Print your mod folder (creating it): ID.toml files there are found by id.

    Set TTWOOD_SCENARIOS to use another folder."""
    path = scenarios.user_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot create the mod folder: {exc.strerror or exc}") from None
    sys.stdout.write(f"{path}\n")


@app.command("schema")
def schema(
    out_file: Annotated[Path | None, typer.Option("--out", "-o", help="Write the schema to this file.")] = None,
) -> None:
    """Write the JSON Schema of scenario files (for editors: Taplo, Even Better TOML)."""
    text = scenarios.schema_text()
    if out_file is None:
        sys.stdout.write(text)
        return
    try:
        out_file.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{out_file}: cannot write the schema: {exc.strerror or exc}") from None
    err.print(f"wrote {escape(str(out_file))}")
