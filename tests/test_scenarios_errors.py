"""The corpus of broken scenario files: each is refused with its file, the line and the key path.

Every file in ``tests/data/bad_scenarios`` marks the line at fault with a comment
``# <- error: KEY PATH | TEXT``: the error must name the file, that line, that key path and
contain the text. (``empty.toml`` cannot hold a marker: it must be refused at line 1.)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine import scenario as scenarios
from engine.core.errors import ScenarioError

CORPUS = Path(__file__).parent / "data" / "bad_scenarios"
FILES = sorted(CORPUS.glob("*.toml"))
MARK = "# <- error: "


def expectation(path: Path) -> tuple[int, str, str]:
    """``(line, key path, text)`` from the file's marker comment."""
    lines = path.read_bytes().decode("utf-8", errors="replace").splitlines()
    marked = [(i + 1, ln.split(MARK, 1)[1]) for i, ln in enumerate(lines) if MARK in ln]
    if not marked:
        assert path.name == "empty.toml", f"{path.name} has no '{MARK}' marker"
        return 1, "(whole file)", "the file is empty"
    assert len(marked) == 1, f"{path.name} marks {len(marked)} lines"
    line, spec = marked[0]
    key, _, text = spec.partition(" | ")
    return line, key.strip(), text.strip()


def test_the_corpus_is_big_and_every_file_is_marked() -> None:
    assert len(FILES) >= 40
    for path in FILES:
        expectation(path)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_broken_file_is_refused_naming_file_line_and_key(path: Path) -> None:
    line, key, text = expectation(path)
    with pytest.raises(ScenarioError) as exc:
        scenarios.load(str(path))
    message = str(exc.value)
    first = message.splitlines()[0]
    assert first.startswith(f"{path}:{line}: {key}: "), message
    assert text in first, message
    assert "Traceback" not in message


def test_validate_refuses_the_whole_corpus_in_one_clear_run() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ttwood.cli", "scenarios", "validate", *map(str, FILES)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    for path in FILES:
        line, key, _ = expectation(path)
        assert f"{path}:{line}: {key}: " in proc.stderr, path.name
    assert f"{len(FILES)} of {len(FILES)} scenario files have problems" in proc.stderr


@pytest.mark.parametrize("name", ["unknown-key-typo", "not-utf8", "absurd-nesting", "syntax-unclosed-array"])
def test_run_with_a_broken_file_is_one_message_and_exit_2(name: str) -> None:
    path = CORPUS / f"{name}.toml"
    line, key, text = expectation(path)
    proc = subprocess.run(
        [sys.executable, "-m", "ttwood.cli", "run", str(path), "--turns", "1"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    # Rich must not eat the [brackets] of a message as markup.
    assert f"scenario error: {path}:{line}: {key}: " in proc.stderr, proc.stderr
    assert proc.stdout == ""


def test_too_large_file_is_refused_before_parsing(tmp_path: Path) -> None:
    big = tmp_path / "huge.toml"
    big.write_text("# padding\n" * 150_000, encoding="utf-8")
    with pytest.raises(ScenarioError) as exc:
        scenarios.load(str(big))
    assert str(exc.value).startswith(f"{big}:1: (whole file): the file is 1,500,000 bytes; a scenario may have at most 1,000,000")


def test_missing_file_and_unknown_id(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"gone\.toml:1: \(whole file\): no such scenario file"):
        scenarios.load(str(tmp_path / "gone.toml"))
    (tmp_path / "adir.toml").mkdir()  # it is there, but it is a folder: "no such file" misled
    with pytest.raises(ScenarioError, match=r"adir\.toml:1: \(whole file\): is a folder, not a scenario file"):
        scenarios.load(str(tmp_path / "adir.toml"))
    with pytest.raises(ScenarioError, match=r"no scenario called 'thousand-token-wod' \(did you mean 'thousand-token-wood'\?\); known: "):
        scenarios.load("thousand-token-wod")


def test_validation_outside_parse_still_checks_cross_references() -> None:
    import tomllib

    data = tomllib.loads((CORPUS / "makes-missing-good.toml").read_text(encoding="utf-8"))
    with pytest.raises(ValueError, match="creatures.2.makes: creature 'Cy' makes 'jelly', which is not a good"):
        scenarios.Scenario.model_validate(data)


def test_all_problems_are_listed_at_once_in_line_order(tmp_path: Path) -> None:
    text = (CORPUS / "unknown-key-typo.toml").read_text(encoding="utf-8")
    text = text.replace("capacity = 4", "capacity = -1").replace('kind = "fuel"', 'kind = "fual"')
    bad = tmp_path / "many.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as exc:
        scenarios.load(str(bad))
    lines = str(exc.value).splitlines()
    assert [ln.split(": ", 2)[1] for ln in lines] == ["meta.autor", "goods.0.kind", "creatures.1.capacity"]
    numbers = [int(ln.split(":")[1]) for ln in lines]
    assert numbers == sorted(numbers)
