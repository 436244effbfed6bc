"""The README's modder walk-through, run as written: its shell blocks through bash, its TOML blocks
pasted into the copied file, its sample error compared with what `validate` really says."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine import scenario as scenarios

ROOT = Path(__file__).parent.parent
BIN = Path(sys.executable).parent


def walkthrough() -> list[tuple[str, str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("### Make your own wood")
    end = text.index("\n## ", start)
    return re.findall(r"```(\w+)\n(.*?)```", text[start:end], flags=re.S)


def replace_table(text: str, head: str, new: str) -> str:
    """Swap the TOML table that starts with ``head`` (up to the next blank line) for ``new``."""
    start = text.index(head)
    end = text.find("\n\n", start)
    end = len(text.rstrip("\n")) if end < 0 else end
    return text[:start] + new.rstrip("\n") + text[end:]


@pytest.fixture()
def shell(tmp_path: Path):
    mods = tmp_path / "mods"
    env = dict(os.environ, TTWOOD_SCENARIOS=str(mods), PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    assert (BIN / "ttwood").exists(), f"the ttwood command is not installed next to {sys.executable}"

    def run(block: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)

    run.mods = mods  # type: ignore[attr-defined]
    return run


@pytest.mark.slow
def test_the_readme_walkthrough_works_as_written(shell) -> None:  # type: ignore[no-untyped-def]
    blocks = walkthrough()
    assert [lang for lang, _ in blocks] == ["bash", "toml", "toml", "toml", "bash", "text", "bash"]
    (_, copy), (_, meta), (_, creature), (_, legend), (_, validate), (_, sample), (_, play) = blocks
    mods: Path = shell.mods

    done = shell(copy)
    assert done.returncode == 0, done.stderr
    path = mods / "my-wood.toml"
    assert (mods / scenarios.SCHEMA_FILE).read_text(encoding="utf-8") == scenarios.schema_text()
    text = path.read_text(encoding="utf-8")
    assert text.startswith("#:schema ./ttwood-scenario.schema.json")

    text = replace_table(text, "[meta]\n", meta)
    text = replace_table(text, '[[creatures]]\nname = "Rusk"', creature)
    text = replace_table(text, '[[legends]]\nid = "beetle-blight"', legend)
    path.write_text(text, encoding="utf-8")

    done = shell(validate)
    assert done.returncode == 0, done.stderr
    assert f"ok  my-wood (user: {path})" in done.stdout

    # The README's sample mistake, made for real.
    typo = text.replace('species = "badger"', 'speices = "badger"')
    path.write_text(typo, encoding="utf-8")
    done = shell(validate)
    assert done.returncode == 2
    claimed = sample.strip().replace("…/", f"{mods}/").splitlines()
    assert claimed == done.stderr.splitlines()[: len(claimed)], (claimed, done.stderr)
    lines = [int(c.split(":")[1]) for c in claimed]
    assert typo.splitlines()[lines[0] - 1] == "[[creatures]]"
    assert typo.splitlines()[lines[1] - 1] == 'speices = "badger"'
    path.write_text(text, encoding="utf-8")

    done = shell(play)
    assert done.returncode == 0, done.stderr
    assert "books balance: ok" in done.stdout
    assert "Brock" in done.stdout and "My Wood" in done.stdout
    assert "badger" in done.stdout and "turn 10" in done.stdout

    done = shell("ttwood run my-wood --turns 12 --brain scripted --json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["scenario"] == "my-wood"
    assert "Brock" in {c["name"] for c in data["creatures"]} and "Rusk" not in {c["name"] for c in data["creatures"]}
    fired = {t["turn"]: t["legends"] for t in data["per_turn"] if t["legends"]}
    assert fired.get(10) == ["beetle-blight"], fired

    listed = json.loads(shell("ttwood scenarios list --json").stdout)["scenarios"]
    assert {"id": "my-wood", "name": "My Wood", "source": "user",
            "description": "The Thousand Token Wood with a greedy badger in place of the fox, and beetles every autumn."} in listed
