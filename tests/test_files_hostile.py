"""Files from strangers read within bounds: a scenario file or a training line of gigabytes is
refused after reading at most its limit (it was read whole first: a 3 GB file took 3.1 GB of
memory); training data with integers of thousands of digits or nesting 100,000 deep is one
line naming the file and the line (they were tracebacks); a full disk while the dataset is
written leaves nothing half-written."""

from __future__ import annotations

import errno
import json
import tracemalloc
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine import scenario as scenarios
from engine.core.errors import ScenarioError
from engine.learn.data import DataError, load_examples

GOOD = {"prompt": "p", "answer": "a", "split": "train", "scenario": "s", "seed": 1, "turn": 0, "creature": "c"}


def _sparse(path: Path, size: int, head: bytes = b"") -> Path:
    with path.open("wb") as f:
        f.write(head)
        f.truncate(size)  # a hole: gigabytes on paper, nothing on the disk
    return path


def _peak(fn: Any) -> int:
    tracemalloc.start()
    try:
        fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def test_a_huge_scenario_file_is_refused_without_being_read_whole(tmp_path: Path) -> None:
    big = _sparse(tmp_path / "huge.toml", 300 * 1024 * 1024, b"# padding\n")

    def load() -> None:
        with pytest.raises(ScenarioError, match="the file is 314,572,800 bytes; a scenario may have at most 1,000,000"):
            scenarios.load(str(big))

    assert _peak(load) < 20 * 1024 * 1024  # it read 300 MB before


def test_a_huge_training_line_is_refused_without_being_read_whole(tmp_path: Path) -> None:
    line = json.dumps(GOOD) + "\n"
    data = _sparse(tmp_path / "d.jsonl", 300 * 1024 * 1024, line.encode() + b'{"prompt": "')

    def load() -> None:
        with pytest.raises(DataError, match=r"d\.jsonl, line 2: longer than 4,194,304 bytes"):
            load_examples(data)

    assert _peak(load) < 40 * 1024 * 1024


@pytest.mark.parametrize(("line", "says"), [
    ('{"prompt": "p", "seed": ' + "9" * 5000 + "}", "line 1: not valid JSON here (Exceeds the limit (4300 digits)"),
    ("[" * 100_000 + "]" * 100_000, "line 1: nested too deep"),
    ('{"prompt": ' + "[" * 100_000 + "]" * 100_000 + "}", "line 1: nested too deep"),
    (json.dumps(GOOD | {"seed": 10**30}), "'seed' must be a 64-bit integer, got one of 100 bits"),
    (json.dumps(GOOD | {"turn": -(10**40)}), "'turn' must be a 64-bit integer"),
    (json.dumps(GOOD | {"seed": 10**200}), "'seed' must be a 64-bit integer, got one of 665 bits"),
    (json.dumps(GOOD | {"answer_ids": [1, 10**30]}), "'answer_ids' must be a list of token ids"),
    (json.dumps(GOOD | {"seed": [[[[1]]]] * 1000}), "'seed' must be an integer, got [[[[1]]]"),
], ids=["5000-digits", "nested-list", "nested-in-a-field", "seed-1e30", "turn-1e40", "seed-1e200", "answer-id-1e30",
        "a-list-for-a-seed"])
def test_training_data_with_huge_numbers_or_deep_nesting_is_one_line(tmp_path: Path, line: str, says: str) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(DataError) as got:
        load_examples(data)
    assert says in got.value.message and "\n" not in got.value.message and len(got.value.message) < 400, got.value.message


def test_a_parquet_row_group_too_large_to_read_is_refused_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.learn.data as data_mod

    path = tmp_path / "d.parquet"
    pq.write_table(pa.Table.from_pylist([GOOD | {"prompt": "x" * 200_000}]), path)
    monkeypatch.setattr(data_mod, "MAX_ROW_GROUP_BYTES", 100_000)  # a 512 MB row group, scaled down
    with pytest.raises(DataError, match="its row group 1 is .* bytes, more than the 100,000 read at once"):
        load_examples(path)


def test_a_parquet_prompt_longer_than_any_example_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    pq.write_table(pa.Table.from_pylist([GOOD | {"prompt": "x" * (5 * 1024 * 1024)}]), path)
    with pytest.raises(DataError, match="row 1: 'prompt' is 5,242,880 characters, longer than any example can be"):
        load_examples(path)


def test_a_full_disk_while_the_dataset_is_written_leaves_no_half_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.learn.dataset import part_path, write_jsonl

    out = tmp_path / "teacher.jsonl"
    out.write_text("the old dataset\n")
    real_open = Path.open

    class Full:
        def __init__(self, f: Any) -> None:
            self.f, self.n = f, 0

        def write(self, text: str) -> int:
            self.n += 1
            if self.n > 2:
                raise OSError(errno.ENOSPC, "No space left on device")
            return int(self.f.write(text))

        def __enter__(self) -> Full:
            return self

        def __exit__(self, *exc: object) -> None:
            self.f.close()

    monkeypatch.setattr(Path, "open", lambda self, *a, **k: Full(real_open(self, *a, **k)))
    rows = ({"n": i} for i in range(10))
    with pytest.raises(DataError, match=r"cannot write the dataset \(No space left on device\); nothing was written, "
                                        "the file there is as it was"):
        write_jsonl(out, rows)
    monkeypatch.undo()
    assert out.read_text() == "the old dataset\n" and not part_path(out).exists()
