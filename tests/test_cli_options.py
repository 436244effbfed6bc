"""The command line's options, help and errors: each shared option declared once, help that wraps
as prose at 80 columns, errors titled by the command that failed, and the resume rules outside the
command line (``engine.session.resume``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from ttwood.cli import app

runner = CliRunner()
TTWOOD = Path(__file__).resolve().parent.parent / "ttwood"


def _commands(command: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command's path (``("saves", "export")``), the groups' own included."""
    subs = getattr(command, "commands", {})
    return [p for name, sub in subs.items() for p in _commands(sub, (*path, name))] + [path]


def _hard_wrapped(text: str, width: int) -> list[tuple[str, str]]:
    """Pairs of lines of the help's prose (outside its option boxes) where the next line's first
    word would have fitted on the line before: a line end written into the text, not the wrap."""
    lines = [line.rstrip() for line in text.splitlines()]
    found = []
    for a, b in zip(lines, lines[1:], strict=False):
        if not a.strip() or not b.strip() or a.lstrip()[:1] in "│╭╰" or b.lstrip()[:1] in "│╭╰":
            continue
        if b.startswith("   ") or a.startswith("   "):  # an example command, as written
            continue
        if len(a) + 1 + len(b.split()[0]) < width:
            found.append((a, b))
    return found


def test_every_help_wraps_as_prose_at_80_columns() -> None:
    """`ttwood sweep --help` at 80 columns broke sentences where the source's lines end ("...stops
    with the command;" then "--address ..."): every command's help now flows."""
    paths = _commands(typer.main.get_command(app))
    assert ("sweep",) in paths and ("saves", "export") in paths
    for path in paths:
        r = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"}, terminal_width=80)
        assert r.exit_code == 0, (path, r.output)
        assert max(len(line.rstrip()) for line in r.output.splitlines()) <= 80, path
        assert _hard_wrapped(r.output, 80) == [], (path, _hard_wrapped(r.output, 80))


SHARED = ("--json", "--brain-for", "--base-url", "--server", "--timeout", "--gpu-layers", "--adapter", "--threads",
          "--force", "--scenario", "--model")
"""Options many commands take, each declared once in ``ttwood/options.py`` (``--threads`` twice:
per game, where several games play at once, and for the one game)."""


def test_each_shared_option_is_declared_once() -> None:
    """The same option was declared again in every command that took it (44 times over), with
    defaults and help that drifted apart (compare's --server listed no kinds of server)."""
    declared: dict[str, list[str]] = {flag: [] for flag in SHARED}
    for path in sorted(TTWOOD.glob("*.py")):
        for flag in re.findall(r'typer\.Option\(\s*"(--[a-z-]+)', path.read_text()):
            if flag in declared:
                declared[flag].append(path.name)
    declared["--threads"].remove("cli_learn.py")  # torch's threads, for training
    declared["--model"].remove("cli_dataset.py")  # the model whose tokenizer builds the prompts
    declared["--adapter"].remove("cli.py")  # `bench llm`: the adapter timed against the bare model
    assert declared == {flag: ["options.py"] * (2 if flag == "--threads" else 1) for flag in SHARED}
    assert "MODEL_OPTIONS" not in (TTWOOD / "cli_play.py").read_text()  # no global that `play` fills in


def test_the_game_and_brain_options_read_alike_in_every_command() -> None:
    commands: dict[str, Any] = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    helps: dict[str, set[str]] = {}
    for name in ("run", "play", "serve", "compare", "sweep"):
        for p in commands[name].params:
            if p.param_type_name == "option" and p.opts[0] in ("--base-url", "--server", "--gpu-layers", "--adapter", "--seed",
                                                             "--turns", "--brain-for", "--json"):
                helps.setdefault(p.opts[0], set()).add(f"{p.help} {p.default}")
    assert len(helps) == 8 and all(len(h) == 1 for h in helps.values()), helps
    assert all(p.help for p in commands["serve"].params if p.param_type_name == "option"), "serve: an option without help"


def test_compare_and_report_errors_say_their_own_command(tmp_path: Path) -> None:
    """`ttwood report` and `ttwood compare` said "sweep error:" for their own mistakes."""
    r = runner.invoke(app, ["compare", "--seed", "1"])
    assert r.exit_code != 0 and getattr(r.exception, "title", None) == "compare error", r.output
    assert "say what differs" in str(r.exception)
    r = runner.invoke(app, ["report", str(tmp_path / "nothing-here")])
    assert r.exit_code != 0 and getattr(r.exception, "title", None) == "report error", (r.output, r.exception)


def test_saves_export_names_the_option_it_misses(tmp_path: Path) -> None:
    """`ttwood saves export SAVE` said "save refused: SAVE: say what to export", as if the save were
    at fault; it names the missing option."""
    save = tmp_path / "a.ttwood"
    assert runner.invoke(app, ["run", "--brain", "scripted", "--turns", "1", "--save", str(save), "--json"]).exit_code == 0
    for target in (str(save), str(tmp_path)):
        r = runner.invoke(app, ["saves", "export", target])
        assert r.exit_code != 0 and getattr(r.exception, "title", None) == "saves export", r.output
        assert str(r.exception).startswith("missing option: --to FILE") and "--traces FILE.parquet" in str(r.exception)
    r = runner.invoke(app, ["saves", "export", str(tmp_path), "--to", str(tmp_path / "b.ttwood")])
    assert "is a folder: --to copies one save" in str(r.exception), r.output


def test_compare_says_when_it_reuses_games_it_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --out, `ttwood compare` reads back the games an earlier run left in the saves folder
    and said nothing: a changed engine or scenario went unnoticed. It says so, and how to play afresh."""
    monkeypatch.setenv("TTWOOD_SAVES_DIR", str(tmp_path))
    args = ["compare", "--seed", "2", "--turns", "2", "--legend", "run-on-oonas-hoard@1", "--brain", "scripted", "--json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, (first.output, first.exception)
    assert "reusing" not in first.stderr
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "reusing both games played before in" in again.stderr and "--out DIR plays them afresh" in again.stderr
    assert again.stdout.strip() == first.stdout.strip()


def test_the_resume_rules_need_no_command_line(tmp_path: Path) -> None:
    """The rules a resumed game follows live in the engine's session layer: any front end (the
    command line, the terminal UI, a browser tab) resumes a save alike."""
    from engine.minds.factory import BrainChoice
    from engine.saves import SaveError
    from engine.session.resume import resume_game

    save = tmp_path / "s.ttwood"
    assert runner.invoke(app, ["run", "--brain", "scripted", "--turns", "2", "--save", str(save), "--json"]).exit_code == 0
    game, chosen = resume_game(save, BrainChoice(kind="llama", threads=3), frozenset())
    assert game.turn == 2 and chosen.kind == "scripted"  # the recorded brains, not the default asked for
    game, chosen = resume_game(save, BrainChoice(kind="scripted", threads=3), frozenset({"threads"}))
    assert chosen.threads == 3  # how a brain runs may change
    with pytest.raises(SaveError, match="Drop --brain"):
        resume_game(save, BrainChoice(kind="llama"), frozenset({"brain"}))
