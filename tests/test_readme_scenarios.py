"""What the README tells a newcomer about playing: every bundled wood is in its table of
scenarios (river-bend was missing), and its set-up puts `ttwood` where the commands after it
call it (they named a bare `ttwood` a fresh virtual environment does not put on the PATH)."""

from __future__ import annotations

import re
from pathlib import Path

from engine import scenario as scenarios

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_scenario_table_lists_every_bundled_wood() -> None:
    text = README.read_text(encoding="utf-8")
    table = set(re.findall(r"^\| `([a-z0-9-]+)` \|", text, re.MULTILINE))
    bundled = {f.id for f in scenarios.known() if f.source == "bundled"}
    assert bundled <= table, f"missing from the README's table: {sorted(bundled - table)}"


def test_the_set_up_puts_ttwood_on_the_path_before_calling_it() -> None:
    text = README.read_text(encoding="utf-8")
    setup = text.split("## Two commands", 1)[1].split("```bash", 1)[1].split("```", 1)[0].strip()
    steps = [s.strip() for s in setup.split("&&")]
    calls = [i for i, s in enumerate(steps) if s.startswith("ttwood ")]
    assert all(any(s in (". .venv/bin/activate", "source .venv/bin/activate") for s in steps[:i]) for i in calls), setup
    using = text.split("## Using it", 1)[1].split("```bash", 1)[0]
    assert ". .venv/bin/activate" in using and ".venv/bin/ttwood" in using, "the commands below say how ttwood is found"
