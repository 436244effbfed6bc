"""Traces as a dataset: ``ttwood saves export SAVE|FOLDER --traces FILE.parquet``, read back with
``datasets.load_dataset("parquet", ...)``."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from engine.saves import open_save
from engine.saves.traces import TRACE_COLUMNS
from ttwood.cli import app

runner = CliRunner()


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_a_save_exports_one_row_per_answer_that_datasets_reads(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    save = tmp_path / "wood.ttwood"
    invoke("run", "--brain", "scripted", "--turns", "3", "--seed", "2", "--save", str(save))
    invoke("saves", "export", str(save), "--traces", str(tmp_path / "t.parquet"))
    ds = datasets.load_dataset("parquet", data_files=str(tmp_path / "t.parquet"), split="train", cache_dir=str(tmp_path / "cache"))
    assert ds.column_names == list(TRACE_COLUMNS)
    with open_save(save) as s:
        tape = s.tape_entries()
    assert len(ds) == sum(len(v) for v in tape.values()) == 3 * 5
    first = ds[0]
    entry = tape[1][0]
    assert (first["game"], first["scenario"], first["seed"], first["turn"], first["seq"]) == ("wood", "thousand-token-wood", 2, 1, 0)
    assert first["creature"] == entry.creature and first["brain"] == "scripted"
    assert json.loads(first["parsed"]) == [a.model_dump(mode="json") for a in entry.actions]
    assert first["reasons"] == entry.reasons and first["thinking"] == entry.thinking


def test_a_sweep_folder_exports_every_game(tmp_path: Path) -> None:
    out = tmp_path / "sw"
    runner.invoke(app, ["sweep", "--seeds", "1-2", "--turns", "2", "--brain", "scripted", "--workers", "1", "--out", str(out), "--json"],
                  catch_exceptions=False)
    text = invoke("saves", "export", str(out), "--traces", str(tmp_path / "all.parquet"))
    assert "from 2 saves" in text
    table = pq.read_table(tmp_path / "all.parquet")
    assert table.num_rows == 2 * 2 * 5 and sorted(set(table.column("seed").to_pylist())) == [1, 2]
    refused = runner.invoke(app, ["saves", "export", str(out), "--traces", str(tmp_path / "all.jsonl")])
    assert refused.exit_code != 0 and "--traces FILE.parquet" in str(refused.exception)


@pytest.mark.model
def test_model_answers_carry_prompt_tokens_latency_model_and_adapter(tmp_path: Path) -> None:
    save = tmp_path / "llm.ttwood"
    invoke("run", "--brain", "llama", "--turns", "1", "--seed", "1", "--save", str(save))
    invoke("saves", "export", str(save), "--traces", str(tmp_path / "t.parquet"))
    rows = pq.read_table(tmp_path / "t.parquet").to_pylist()
    model_rows = [r for r in rows if r["brain"] == "llama"]
    assert model_rows
    for r in model_rows:
        assert r["prompt"] and r["raw"] is not None and r["model"]
        assert r["prompt_tokens"] > 0 and r["answer_tokens"] > 0 and r["latency_ms"] > 0
        assert r["adapter"] and json.loads(r["sampler"])
