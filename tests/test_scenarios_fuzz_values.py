"""Hypothesis fuzz of scenario files by value, string and structure: every mutated file either
validates cleanly, then plays, shows and runs in the UI without an error, or is refused with
``file:line: key: reason`` — never a traceback.

A mutation takes a ``key = value`` line of the default wood and replaces its value with a hostile
one (NaN, infinities, huge and negative numbers, strings with control, bidi and markup
characters, lists and tables where numbers belong), renames its key, drops it, or repeats the
line. Examples: ``VALIDATE_EXAMPLES`` for validate + run + ``scenarios show``,
``UI_EXAMPLES`` for the terminal UI (each starts the app headless and plays a turn).
"""

from __future__ import annotations

import io
import math
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.style import Style

from engine import scenario as scenarios
from engine.core.errors import ScenarioError, TTWoodError
from engine.economy import legends
from engine.elders.scripted import ScriptedBrain
from engine.turn.game import Game
from engine.turn.report import run_json

VALIDATE_EXAMPLES = 400
UI_EXAMPLES = 3
SCENARIOS = Path(__file__).parent.parent / "scenarios"
DEFAULT = (SCENARIOS / "thousand-token-wood.toml").read_text(encoding="utf-8")
LINES = DEFAULT.splitlines()
KEY_LINE = re.compile(r"^(\s*)([A-Za-z_][A-Za-z0-9_-]*)(\s*=\s*)(.+)$")
EDITABLE = [i for i, ln in enumerate(LINES) if KEY_LINE.match(ln) and not ln.rstrip().endswith(("[", "{"))]
SCALAR = re.compile(r'(?<![\w.-])([A-Za-z_][A-Za-z0-9_-]*)(\s*=\s*)("(?:[^"\\\n]|\\.)*"|[-+0-9.eE_]+|true|false)')
SPANS = [(m.start(3), m.end(3)) for m in SCALAR.finditer(DEFAULT)]
"""Every scalar value of the file (in ``key = value`` lines and in inline tables: legends' effects, holdings…)."""
STRINGS = [i for i, (a, _) in enumerate(SPANS) if DEFAULT[a] == '"']
NUMBERS = [i for i, (a, _) in enumerate(SPANS) if DEFAULT[a] not in '"tf']
PROBLEM = re.compile(r"^fuzz\.toml:(\d+): \S.*?: \S")
HOSTILE_CHARS = "a Z 0 [ ] / \\ \" ' \x00 \x07 \x1b \x7f \u200b \u202e \u2066 \u2028 \ufeff é 漢 🌲 \n \t".split(" ")
HOSTILE_WORDS = ["spring", "Oona", "[/bold]", "[red]", "[link=file:///etc/passwd]", "\x1b[2J", "\x1b]0;pwned\x07", "\u202e",
                 "\u200f", "\r", " ", "   ", "%s", "{}", "nan", "inf"]


def toml_value(v: Any) -> str:
    """``v`` written as a TOML value (inline)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        out = []
        for ch in v:
            if ch in '"\\':
                out.append("\\" + ch)
            elif ord(ch) < 0x20 or ord(ch) == 0x7F or 0xD800 <= ord(ch) <= 0xDFFF:
                out.append(f"\\u{ord(ch):04X}")
            else:
                out.append(ch)
        return '"' + "".join(out) + '"'
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"


hostile_text = (st.lists(st.sampled_from(HOSTILE_CHARS) | st.sampled_from(HOSTILE_WORDS), min_size=0, max_size=6).map("".join)
                | st.text(max_size=30))
hostile_number = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1, 2**31, 2**53 + 1, 2**63, 2**64, -(2**70), 10**30, 1e30, -1e30, 1e-300, float("nan"), float("inf")]),
    st.integers(-1000, 1000),
)
plain = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1, 2**31, 2**53 + 1, 2**63, 2**64, -(2**70), 10**30]),
    st.integers(-1000, 1000),
    st.booleans(),
    hostile_text,
)
values = st.one_of(plain, st.lists(plain, max_size=3),
                   st.dictionaries(st.sampled_from(["a", "qty", "set", "kind", "x"]), plain, max_size=2))
mutation = st.one_of(
    st.tuples(st.just("value"), st.sampled_from(EDITABLE), values),
    st.tuples(st.just("scalar"), st.integers(0, len(SPANS) - 1), values),
    # type-minded: a string where a string was, a number where a number was (more of them validate)
    st.tuples(st.just("scalar"), st.sampled_from(STRINGS), hostile_text),
    st.tuples(st.just("scalar"), st.sampled_from(NUMBERS), hostile_number),
    st.tuples(st.just("rename"), st.sampled_from(EDITABLE), st.sampled_from(["nmae", "set", "kind", "x_y", "colour"])),
    st.tuples(st.just("drop"), st.sampled_from(EDITABLE), st.none()),
    st.tuples(st.just("repeat"), st.sampled_from(EDITABLE), st.none()),
)


def mutate(edits: list[tuple[str, int, Any]]) -> str:
    text = DEFAULT
    for _, i, arg in sorted((e for e in edits if e[0] == "scalar"), key=lambda e: -SPANS[e[1]][0]):
        a, b = SPANS[i]
        if b <= len(text) and text[a:b] == DEFAULT[a:b]:  # (two edits of one value: the first wins)
            text = text[:a] + toml_value(arg) + text[b:]
    lines = text.splitlines()
    for kind, i, arg in edits:
        if kind == "scalar":
            continue
        m = KEY_LINE.match(lines[i])
        if m is None:  # dropped by an earlier edit
            continue
        indent, key, eq, _ = m.groups()
        if kind == "value":
            lines[i] = f"{indent}{key}{eq}{toml_value(arg)}"
        elif kind == "rename":
            lines[i] = f"{indent}{arg}{eq}{m.group(4)}"
        elif kind == "drop":
            lines[i] = ""
        else:
            lines[i] = lines[i] + "\n" + lines[i]
    return "\n".join(lines) + "\n"


def refused_or_loads(text: str) -> scenarios.Scenario | None:
    """The scenario, or None when refused with ``fuzz.toml:LINE: KEY: reason`` (anything else fails)."""
    try:
        sc = scenarios.parse(text, "fuzz.toml")
    except ScenarioError as exc:
        first = str(exc).splitlines()[0]
        m = PROBLEM.match(first)
        assert m, first
        assert 1 <= int(m.group(1)) <= text.count("\n") + 1, first
        return None
    return sc


COUNTS = {"valid": 0, "refused": 0}


@settings(max_examples=VALIDATE_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=st.lists(mutation, min_size=1, max_size=3))
def test_a_mutated_file_validates_plays_and_shows_or_is_refused_with_its_line(edits: list[tuple[str, int, Any]]) -> None:
    from ttwood import cli, cli_scenarios

    text = mutate(edits)
    sc = refused_or_loads(text)
    if sc is None:
        COUNTS["refused"] += 1
        return
    COUNTS["valid"] += 1
    try:
        game = Game(sc, 1, ScriptedBrain(message_chars=sc.budget.message_chars))
    except TTWoodError:
        return  # a clear refusal of a game this scenario cannot make (one message, as the CLI prints it)
    for lg in sc.legends:  # every legend's effects, whenever the file says it fires
        legends.fire(game.wood, lg)
    reports = game.run(3)
    ok, detail = game.conservation()
    assert ok, detail
    for c in sc.expanded_cast():
        Style.parse(f"bold {c.colour}")  # as the UI styles a creature (an unknown colour raises)
    # `ttwood run`'s summary and `ttwood scenarios show`, rendered with Rich markup around every
    # name the file gave: no markup error, and nothing of the file reaches the terminal raw
    path = Path(tempfile.mkdtemp(prefix="ttwood-fuzz-")) / "fuzz.toml"
    path.write_text(text, encoding="utf-8")
    shown, before = io.StringIO(), (cli.out, cli_scenarios.out)
    cli.out = cli_scenarios.out = Console(file=shown, width=120, color_system=None)
    try:
        cli._summary(run_json(game, reports, brain="scripted"))
        cli_scenarios.show(str(path))
    finally:
        cli.out, cli_scenarios.out = before
    raw = [ch for ch in shown.getvalue() if unicodedata.category(ch)[0] == "C" and ch != "\n"]
    assert raw == [], f"written raw to the terminal: {raw!r}"


def test_the_fuzz_saw_both_kinds() -> None:
    """(Runs after the fuzz: what share of the mutated files were valid, for the record.)"""
    print(f"scenario fuzz: {VALIDATE_EXAMPLES} examples, {COUNTS['valid']} valid, {COUNTS['refused']} refused")
    assert COUNTS["valid"] + COUNTS["refused"] > 0


@pytest.mark.slow
@settings(max_examples=UI_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])  # (no shrinking: each example starts the app)
@given(edits=st.lists(st.tuples(st.just("value"), st.sampled_from(EDITABLE), hostile_text), min_size=1, max_size=2))
def test_a_valid_mutated_file_runs_in_the_terminal_ui(edits: list[tuple[str, int, Any]], tmp_path_factory: pytest.TempPathFactory) -> None:
    import asyncio

    from hypothesis import assume

    from engine.session import Session
    from tests.tui_helpers import SIZE, make_app, settle
    from ttwood.cli_play import brain_maker

    text = mutate(edits)
    assume(refused_or_loads(text) is not None)
    folder = tmp_path_factory.mktemp("fuzz-ui")
    path = folder / "fuzz.toml"
    path.write_text(text, encoding="utf-8")
    session = Session.new(str(path), brain_maker("scripted"), 1)

    async def play() -> None:
        app = make_app(folder / "saves", session)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("n")
            await settle(app, pilot)
            assert app.errors == [] and session.turn == 1
            for key in ("c", "escape", "question_mark", "escape"):
                await pilot.press(key)
                await pilot.pause()

    asyncio.run(play())
