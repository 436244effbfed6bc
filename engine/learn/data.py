"""Training examples: read and check a dataset file, tokenize it as the llama brain does, and batch it.

A dataset is JSONL (one object a line) or Parquet (read with pyarrow) with the
columns ``prompt`` (the exact text the brain feeds the model, chat template applied, ending where
the answer starts), ``answer`` (the compact JSON answer), ``split`` (``train`` or
``validation``), ``scenario``, ``seed``, ``turn`` and ``creature``. Every problem is reported
with the file, the line and the reason.

No torch here: tokenizing uses llama.cpp's own tokenizer (:class:`LlamaModel`), so the ids are
exactly the ones the game feeds the model.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.core.errors import TTWoodError
from engine.minds.brains.llama_model import LlamaModel

SPLITS = ("train", "validation")
MAX_EXAMPLE_BYTES = 4 * 1024 * 1024
"""The longest example (one JSONL line, or one Parquet row's text) read: a prompt within any
model's context is far shorter, and a longer line is refused after this many bytes, not read whole."""
MAX_ROW_GROUP_BYTES = 512 * 1024 * 1024
"""The largest Parquet row group read (it is read whole): a bigger one is refused before reading."""
_INT_BOUND = 2**63
_FIELDS: dict[str, type | tuple[type, ...]] = {
    "prompt": str,
    "answer": str,
    "split": str,
    "scenario": str,
    "seed": int,
    "turn": int,
    "creature": str,
}


class DataError(TTWoodError):
    """A dataset file that is missing, empty or malformed."""

    title = "dataset"


@dataclass(frozen=True, slots=True)
class Example:
    """One creature-turn: the prompt the model saw and the answer it should give."""

    prompt: str
    answer: str
    split: str
    scenario: str
    seed: int
    turn: int
    creature: str
    line: int
    """Where it is in the file (1-based line of a JSONL file, row + 1 of a Parquet file)."""
    answer_ids: tuple[int, ...] | None = None
    """The answer as the decoder spells it (``ttwood dataset`` writes them; see
    :mod:`engine.minds.spelling`); ``None``: the tokenizer's spelling of the whole answer."""


@dataclass(frozen=True, slots=True)
class Tokens:
    """An example as token ids: the prompt, then the answer and the end-of-turn token."""

    ids: tuple[int, ...]
    n_prompt: int

    @property
    def n_answer(self) -> int:
        return len(self.ids) - self.n_prompt


def _shown(value: Any) -> str:
    """A value as an error message shows it: its start only (it may be huge, or nested deep)."""
    if isinstance(value, int) and value.bit_length() > 100:
        return f"an integer of {value.bit_length():,} bits"
    try:
        return f"{value!r:.60}"
    except (RecursionError, ValueError):
        return f"a {type(value).__name__}"


def _check_row(row: Any, where: str, line: int) -> Example:
    if not isinstance(row, dict):
        raise DataError(f"{where}: expected a JSON object, got {type(row).__name__}")
    for key, kind in _FIELDS.items():
        if key not in row:
            raise DataError(f"{where}: missing key {key!r}")
        value = row[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            wanted = "an integer" if kind is int else "a string"
            raise DataError(f"{where}: {key!r} must be {wanted}, got {_shown(value)}")
        if isinstance(value, int) and not -_INT_BOUND <= value < _INT_BOUND:
            raise DataError(f"{where}: {key!r} must be a 64-bit integer, got one of {value.bit_length():,} bits")
        if isinstance(value, str) and len(value) > MAX_EXAMPLE_BYTES:
            raise DataError(f"{where}: {key!r} is {len(value):,} characters, longer than any example can be")
    if row["split"] not in SPLITS:
        raise DataError(f"{where}: 'split' must be 'train' or 'validation', got {row['split']!r:.40}")
    if not row["prompt"]:
        raise DataError(f"{where}: 'prompt' is empty")
    if not row["answer"]:
        raise DataError(f"{where}: 'answer' is empty")
    ids = row.get("answer_ids")
    if ids is not None and (not isinstance(ids, list | tuple) or not ids
                            or not all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < _INT_BOUND for i in ids)):
        raise DataError(f"{where}: 'answer_ids' must be a list of token ids, got {_shown(ids)}")
    return Example(**{k: row[k] for k in _FIELDS}, line=line, answer_ids=tuple(ids) if ids is not None else None)


def _json_line(raw: bytes, where: str) -> Any:
    try:
        return json.loads(raw)
    except UnicodeDecodeError:
        raise DataError(f"{where}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
    except ValueError as exc:  # Python's own limit: an integer of more than 4,300 digits
        raise DataError(f"{where}: not valid JSON here ({str(exc).split(';')[0]})") from None
    except RecursionError:  # 100,000 brackets: the parser's recursion ends cleanly, here
        raise DataError(f"{where}: nested too deep; an example is one flat JSON object") from None


def _jsonl_rows(path: Path) -> Iterator[tuple[str, int, Any]]:
    try:
        with path.open("rb") as f:
            n = 0
            while raw := f.readline(MAX_EXAMPLE_BYTES + 1):
                n += 1
                where = f"{path}, line {n}"
                if len(raw) > MAX_EXAMPLE_BYTES and not raw.endswith(b"\n"):
                    raise DataError(f"{where}: longer than {MAX_EXAMPLE_BYTES:,} bytes, more than any example can be "
                                    "(one example a line)")
                if not raw.strip():
                    continue
                yield where, n, _json_line(raw.strip(), where)
    except OSError as exc:
        raise DataError(f"{path}: cannot read it ({exc.strerror or exc})") from None


def _parquet_rows(path: Path) -> Iterator[tuple[str, int, Any]]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        for i in range(pf.metadata.num_row_groups):
            size = pf.metadata.row_group(i).total_byte_size
            if size > MAX_ROW_GROUP_BYTES:
                raise DataError(f"{path}: its row group {i + 1} is {size:,} bytes, more than the {MAX_ROW_GROUP_BYTES:,} "
                                "read at once; write it with smaller row groups (pyarrow's row_group_size)")
        rows = pf.read().to_pylist()  # plain Python values: token ids come as lists of ints
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many kinds; each becomes one clear message
        raise DataError(f"{path}: not a readable Parquet file ({exc})") from None
    for n, row in enumerate(rows, 1):
        yield f"{path}, row {n}", n, row


def load_examples(path: str | os.PathLike[str]) -> list[Example]:
    """Every example of a JSONL or Parquet dataset, checked; a clear error for the first bad line."""
    p = Path(path).expanduser()
    if not p.exists():
        raise DataError(f"{p}: no such dataset file (make one with `ttwood dataset --out FILE`)")
    if not p.is_file():
        raise DataError(f"{p}: not a file")
    rows = _parquet_rows(p) if p.suffix.lower() in (".parquet", ".pq") else _jsonl_rows(p)
    examples = [_check_row(row, where, n) for where, n, row in rows]
    if not examples:
        raise DataError(f"{p}: the dataset is empty (no examples)")
    if not any(e.split == "train" for e in examples):
        raise DataError(f"{p}: no example has split 'train'")
    return examples


def split_examples(examples: Sequence[Example]) -> tuple[list[Example], list[Example], bool]:
    """(train, validation, held_out): the file's own split; when it has no validation examples,
    every 20th training example (at least one) is held out instead and ``held_out`` is True."""
    train = [e for e in examples if e.split == "train"]
    val = [e for e in examples if e.split == "validation"]
    if val or len(train) < 2:
        return train, val, False
    held = set(range(0, len(train), 20))
    return [e for i, e in enumerate(train) if i not in held], [train[i] for i in sorted(held)], True


def end_of_turn(model: LlamaModel) -> int:
    """The token that ends a message in the model's chat template (``<|im_end|>`` for ChatML): the
    first token of the text between the system and the user message. The vocabulary's own
    "end of turn" is not reliable (SmolLM2's GGUF names ``<|endoftext|>``)."""
    L = model.lib
    toks = model.tokenize(model.mid, special=True)
    if toks and (L.llama_vocab_is_eog(model.vocab, toks[0]) or L.llama_vocab_is_control(model.vocab, toks[0])):
        return toks[0]
    return int(L.llama_vocab_eos(model.vocab))


def tokenize(
    examples: Sequence[Example], model: LlamaModel, *, max_tokens: int, source: str = "dataset"
) -> list[Tokens]:
    """Token ids as the llama brain makes them: the prompt with special tokens parsed and the
    model's own BOS rule, then the answer: as the decoder spells it where the example says
    (``answer_ids``, checked to spell the answer with this model's vocabulary; the decoder stops
    at the grammar's end, so no end token), else as plain text and the end-of-turn token."""
    eot = end_of_turn(model)
    out = []
    for e in examples:
        prompt = model.tokenize(e.prompt, special=True, bos=True)
        if e.answer_ids is not None:
            answer = list(e.answer_ids)
            if any(i >= model.n_vocab for i in answer) or b"".join(map(model.piece, answer)) != e.answer.encode():
                raise DataError(
                    f"{source}, line {e.line}: 'answer_ids' do not spell the answer with this model's tokenizer "
                    "(the dataset was made for another model: remake it with `ttwood dataset --model`)"
                )
        else:
            answer = model.tokenize(e.answer, special=False) + [eot]
        if len(prompt) + len(answer) > max_tokens:
            raise DataError(
                f"{source}, line {e.line}: {len(prompt) + len(answer)} tokens, more than --max-tokens {max_tokens} "
                f"({e.scenario}, seed {e.seed}, turn {e.turn}, {e.creature})"
            )
        out.append(Tokens(tuple(prompt + answer), len(prompt)))
    return out


def common_prefix(seqs: Sequence[Tokens]) -> int:
    """Tokens every prompt starts with (the chat template's head and the rules), at most every
    prompt's length less one, so each example still has a prompt token of its own."""
    if not seqs:
        return 0
    first = seqs[0].ids
    n = min(s.n_prompt for s in seqs) - 1
    for s in seqs[1:]:
        ids = s.ids
        i = 0
        while i < n and ids[i] == first[i]:
            i += 1
        n = i
    return max(0, n)


GROUP_TOKENS = 64
"""Prompts whose first this many tokens agree (the same wood's rules) are batched together, so a
batch shares a long prompt start that runs once, without gradients (:mod:`engine.learn.loss`)."""


def group_keys(seqs: Sequence[Tokens]) -> list[tuple[int, ...]]:
    """The batching group of each example: its first :data:`GROUP_TOKENS` tokens."""
    return [s.ids[:GROUP_TOKENS] for s in seqs]


def batch_order(
    lengths: Sequence[int],
    batch: int,
    seed: int,
    epoch: int,
    *,
    groups: Sequence[tuple[int, ...]] | None = None,
    pool: int = 32,
) -> list[list[int]]:
    """The batches of one epoch, as example indices: shuffled by (seed, epoch); within pools of
    ``pool`` batches sorted by group (when given) and length, so a batch shares its prompt start
    and pads little; batch order shuffled again. The same arguments always give the same order,
    which is what lets a run resume exactly."""
    rng = random.Random(f"{seed}:{epoch}")
    idx = list(range(len(lengths)))
    rng.shuffle(idx)
    batches: list[list[int]] = []
    span = batch * pool
    for start in range(0, len(idx), span):
        if groups is None:
            chunk = sorted(idx[start : start + span], key=lambda i: lengths[i])
        else:
            chunk = sorted(idx[start : start + span], key=lambda i: (groups[i], lengths[i]))
        batches += [chunk[j : j + batch] for j in range(0, len(chunk), batch)]
    rng.shuffle(batches)
    return batches
