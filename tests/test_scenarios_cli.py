"""``ttwood scenarios list|show|validate|schema``, discovery of mods, and the committed JSON Schema."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from engine import scenario as scenarios
from ttwood.cli import app

runner = CliRunner()
SCENARIOS = Path(__file__).parent.parent / "scenarios"


@pytest.fixture()
def mods(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user scenario folder, found through TTWOOD_SCENARIOS."""
    folder = tmp_path / "mods"
    folder.mkdir()
    monkeypatch.setenv("TTWOOD_SCENARIOS", str(folder))
    return folder


def copy_default(folder: Path, sid: str) -> Path:
    text = (SCENARIOS / "thousand-token-wood.toml").read_text(encoding="utf-8")
    path = folder / f"{sid}.toml"
    path.write_text(text.replace('id = "thousand-token-wood"', f'id = "{sid}"'), encoding="utf-8")
    return path


def test_committed_schema_is_the_generated_one() -> None:
    committed = (SCENARIOS / scenarios.SCHEMA_FILE).read_text(encoding="utf-8")
    assert committed == scenarios.schema_text(), "run: ttwood scenarios schema --out scenarios/ttwood-scenario.schema.json"


def test_schema_command_writes_the_schema(tmp_path: Path) -> None:
    result = runner.invoke(app, ["scenarios", "schema"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == scenarios.json_schema()
    out = tmp_path / "s.json"
    result = runner.invoke(app, ["scenarios", "schema", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == scenarios.schema_text()


def test_every_bundled_file_points_at_the_schema_and_the_schema_accepts_it() -> None:
    schema = json.loads((SCENARIOS / scenarios.SCHEMA_FILE).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for sid in scenarios.bundled_ids():
        text = (SCENARIOS / f"{sid}.toml").read_text(encoding="utf-8")
        assert text.splitlines()[0] == "#:schema ./ttwood-scenario.schema.json", sid
        errors = [e.message for e in validator.iter_errors(tomllib.loads(text))]
        assert errors == [], (sid, errors)


def test_schema_refuses_an_unknown_key_like_the_loader() -> None:
    validator = jsonschema.Draft202012Validator(scenarios.json_schema())
    data = tomllib.loads((SCENARIOS / "thousand-token-wood.toml").read_text(encoding="utf-8"))
    data["creatures"][0]["colur"] = "red"
    assert any("colur" in e.message for e in validator.iter_errors(data))


def test_list_json_has_bundled_and_user_scenarios(mods: Path) -> None:
    copy_default(mods, "my-wood")
    result = runner.invoke(app, ["scenarios", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["scenarios"]
    by_id = {r["id"]: r for r in rows}
    assert set(rows[0]) == {"id", "name", "description", "source"}
    assert by_id["thousand-token-wood"]["source"] == "bundled"
    assert by_id["my-wood"]["source"] == "user"
    assert by_id["my-wood"]["name"] == "Thousand Token Wood"
    assert set(scenarios.bundled_ids()) | {"my-wood"} == set(by_id)
    for r in rows:
        assert r["description"], r["id"]


def test_a_user_file_takes_the_place_of_a_bundled_one(mods: Path) -> None:
    path = copy_default(mods, "thousand-token-wood")
    path.write_text(path.read_text(encoding="utf-8").replace('name = "Thousand Token Wood"', 'name = "My Own Wood"'), encoding="utf-8")
    sc, _ = scenarios.load("thousand-token-wood")
    assert sc.meta.name == "My Own Wood"
    rows = json.loads(runner.invoke(app, ["scenarios", "list", "--json"]).stdout)["scenarios"]
    assert [r["source"] for r in rows if r["id"] == "thousand-token-wood"] == ["user"]


def test_a_broken_mod_is_listed_not_fatal_and_validate_names_it(mods: Path) -> None:
    bad = copy_default(mods, "half-done")
    bad.write_text(bad.read_text(encoding="utf-8").replace("capacity = 10", "capacity = ten"), encoding="utf-8")
    result = runner.invoke(app, ["scenarios", "list", "--json"])
    assert result.exit_code == 0, result.output
    row = next(r for r in json.loads(result.stdout)["scenarios"] if r["id"] == "half-done")
    assert row["name"] == "(invalid)" and "half-done.toml:" in row["description"]
    result = runner.invoke(app, ["scenarios", "validate"])
    assert result.exit_code == 2
    assert f"{bad}:" in result.stderr and "creatures.0.capacity" in result.stderr
    for sid in scenarios.bundled_ids():
        assert f"ok  {sid} (bundled" in result.stdout


def test_a_mod_must_carry_its_file_name_as_id(mods: Path) -> None:
    path = mods / "other-name.toml"
    path.write_text((SCENARIOS / "thousand-token-wood.toml").read_text(encoding="utf-8"), encoding="utf-8")
    result = runner.invoke(app, ["scenarios", "validate", "other-name"])
    assert result.exit_code == 2
    assert f"{path}:6: meta.id: the file is other-name.toml but its id is 'thousand-token-wood'" in result.stderr


def test_validate_all_bundled_passes() -> None:
    result = runner.invoke(app, ["scenarios", "validate"])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("ok  ") >= len(scenarios.bundled_ids()) >= 5


def test_validate_a_path_and_show_it(tmp_path: Path) -> None:
    path = copy_default(tmp_path, "loose")
    result = runner.invoke(app, ["scenarios", "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert f"ok  loose (path: {path})" in result.stdout
    result = runner.invoke(app, ["scenarios", "show", str(path), "--toml"])
    assert result.exit_code == 0
    assert result.stdout == path.read_text(encoding="utf-8")


def test_show_summarises_a_scenario() -> None:
    result = runner.invoke(app, ["scenarios", "show", "thousand-token-wood"])
    assert result.exit_code == 0, result.output
    text = result.stdout
    for needle in ("Thousand Token Wood", "map 16×8", "winter", "firewood", "Barnaby", "woodcutter",
                   "run-on-oonas-hoard", "on demand", "price.firewood", "5 notes, 6 events, 6 messages"):
        assert needle in text, needle
