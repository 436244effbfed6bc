"""Checkpoints of a training run (``OUT.ckpt/state.pt``), so that running the same command again
resumes where it stopped; and the model card (``OUT.json``) written next to the adapter.

A checkpoint holds the LoRA's weights, the optimizer's state, the step, the random generators'
states, the loss curve and evaluations so far, and the run's *key*: the settings and the dataset's
SHA-256. A checkpoint whose key differs from the command's is refused with a message that names the
difference (``--no-resume`` starts over).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from engine.core.errors import TTWoodError

STATE = "state.pt"


class CheckpointError(TTWoodError):
    """A checkpoint that cannot be read, or that belongs to another run."""

    title = "checkpoint"


@dataclass(slots=True)
class RunState:
    """Everything a run needs to go on from ``step``."""

    key: dict[str, Any]
    step: int = 0
    lora: dict[str, torch.Tensor] = field(default_factory=dict)
    optimizer: dict[str, Any] = field(default_factory=dict)
    rng: torch.Tensor | None = None
    curve: list[float] = field(default_factory=list)
    """Training loss at every step."""
    evals: list[dict[str, Any]] = field(default_factory=list)
    tokens: int = 0
    """Tokens processed so far (for the tokens/s of the whole run)."""
    seconds: float = 0.0
    """Training time so far, over every session of the run."""
    runs: list[dict[str, Any]] = field(default_factory=list)
    """Each command that trained this run: ``{"command", "from_step", "to_step"}`` (a run stopped
    and resumed, or lengthened with a larger ``--steps``, has several)."""


def checkpoint_dir(out: Path) -> Path:
    """``ADAPTER.gguf`` → ``ADAPTER.gguf.ckpt/``."""
    return out.with_name(out.name + ".ckpt")


def save(folder: Path, state: RunState) -> None:
    """Write the checkpoint whole or not at all (a temporary file renamed into place)."""
    tmp = folder / (STATE + ".part")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _write(tmp, state)
        os.replace(tmp, folder / STATE)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CheckpointError(f"{folder / STATE}: cannot write the checkpoint ({exc.strerror or exc})") from None


def _write(tmp: Path, state: RunState) -> None:
    torch.save(
        {
            "key": state.key,
            "step": state.step,
            "lora": state.lora,
            "optimizer": state.optimizer,
            "rng": state.rng,
            "curve": state.curve,
            "evals": state.evals,
            "tokens": state.tokens,
            "seconds": state.seconds,
            "runs": state.runs,
        },
        tmp,
    )


FREE_KEYS = frozenset({"steps"})
"""Settings a resumed run may change: ``--steps`` lengthens a run or cuts it short (at or below the
checkpoint's step it writes the adapter from the checkpoint as it is; the learning-rate schedule
follows the new total from there)."""


def _differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    keys = sorted((set(old) | set(new)) - FREE_KEYS)
    return [f"{k} {old.get(k)!r} → {new.get(k)!r}" for k in keys if old.get(k) != new.get(k)]


def read(folder: Path) -> dict[str, Any] | None:
    """The checkpoint in ``folder`` as saved (None if there is none); a clear error if it is damaged
    or not a checkpoint. Read once: :func:`restore` makes the run's state of it."""
    path = folder / STATE
    if not path.is_file():
        return None
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - a damaged file raises many kinds
        why = type(exc).__name__ + (f": {str(exc).split('.')[0][:120]}" if str(exc).strip() else "")
        raise CheckpointError(f"{path}: not a readable training checkpoint ({why}); remove {folder} or run with "
                              "--no-resume to start the run again") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("key"), dict):
        raise CheckpointError(f"{path}: not a training checkpoint; remove it or run with --no-resume")
    return raw


def load(folder: Path, key: dict[str, Any]) -> RunState | None:
    """The checkpoint in ``folder`` if there is one (None if not); refused if its key differs."""
    raw = read(folder)
    return None if raw is None else restore(raw, key, folder)


def restore(raw: dict[str, Any], key: dict[str, Any], folder: Path) -> RunState:
    """The run's state from a checkpoint :func:`read` from ``folder``; refused if its key differs."""
    path = folder / STATE
    diff = _differences(raw["key"], key)
    if diff:
        raise CheckpointError(
            f"{path} belongs to a run with other settings ({'; '.join(diff)}): run the same command to resume it, "
            "or add --no-resume to start over"
        )
    try:
        return RunState(key=raw["key"], step=int(raw["step"]), lora=raw["lora"], optimizer=raw["optimizer"],
                        rng=raw["rng"], curve=list(raw["curve"]), evals=list(raw["evals"]),
                        tokens=int(raw["tokens"]), seconds=float(raw["seconds"]), runs=list(raw.get("runs", [])))
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: an incomplete checkpoint ({type(exc).__name__}: {exc}); "
                              "remove it or run with --no-resume") from None


def clear(folder: Path) -> None:
    """Remove a checkpoint (``--no-resume``)."""
    for name in (STATE, STATE + ".part"):
        (folder / name).unlink(missing_ok=True)
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


def card_path(out: Path) -> Path:
    """``ADAPTER.gguf`` → ``ADAPTER.json``."""
    return out.with_suffix(".json")


def write_card(out: Path, card: dict[str, Any]) -> Path:
    """Write the model card next to the adapter (atomically)."""
    path = card_path(out)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def check_out(out: Path, data: Path) -> None:
    """Fail at once, before the dataset is read and the model loaded, when the adapter, its card
    and its checkpoints cannot be written where ``--out`` says (a missing folder is made), or
    would overwrite the dataset or each other."""
    def fail(why: str) -> TTWoodError:
        return TTWoodError(f"{out}: {why}", title="train")

    if out.is_dir():
        raise fail("is a folder; --out names the adapter file to write, e.g. --out adapters/wood.gguf")
    if card_path(out) == out:
        raise fail("its model card goes to OUT with .json in place of the suffix, the adapter's own name here; "
                   "name the adapter .gguf")
    if data.resolve() in (out.resolve(), card_path(out).resolve()):
        raise fail("is the dataset (--data), which the adapter or its model card would overwrite; choose another --out")
    probe = out.with_name(out.name + ".write-test")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise TTWoodError(f"{out}: cannot write the adapter and its checkpoints here ({exc.strerror or exc})",
                          title="train") from None
