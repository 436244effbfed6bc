"""The model card a training run writes next to its adapter (``OUT.json``): what the adapter is,
the data and base it came from (with their SHA-256), the settings, the loss curve, the
evaluations, llama.cpp's check, and the commands that trained it."""

from __future__ import annotations

import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from engine.learn import checkpoint as ckpt
from engine.learn.adapter import file_sha256

if TYPE_CHECKING:
    from engine.learn.config import TrainConfig
    from engine.learn.logits import AdapterCheck
    from engine.learn.train import Prepared


VALIDATION_FROM_DATASET = "the dataset's validation split"
VALIDATION_FROM_TRAIN = "every 20th training example, left out of training"
"""The card's ``data.validation_source``: where the validation examples came from. Cards before it
said ``validation_held_out_from_train`` (true or false), which read either way round."""
_OLD_SOURCE = "validation_held_out_from_train"


def validation_source(data: dict[str, Any]) -> str | None:
    """Where a card's validation examples came from (its ``data`` section), from a card of any
    version; ``None`` when it does not say."""
    source = data.get("validation_source")
    if isinstance(source, str):
        return source
    old = data.get(_OLD_SOURCE)
    if isinstance(old, bool):
        return VALIDATION_FROM_TRAIN if old else VALIDATION_FROM_DATASET
    return None


def command_line(cfg: TrainConfig, base: Path) -> str:
    """The ``ttwood train`` command that makes this run (settings left at their defaults left out)."""
    parts = ["ttwood train", f"--data {cfg.data}", f"--out {cfg.out}", f"--steps {cfg.steps}", f"--rank {cfg.rank}",
             f"--alpha {cfg.alpha:g}", f"--lr {cfg.lr:g}", f"--batch {cfg.batch}", f"--targets {','.join(cfg.targets)}",
             f"--seed {cfg.seed}"]
    if cfg.base is not None:
        parts.append(f"--base {base}")
    if cfg.warmup is not None:
        parts.append(f"--warmup {cfg.warmup}")
    if cfg.init is not None:  # what it went on from is part of how it was made
        parts.append(f"--init {cfg.init}")
    defaults = type(cfg)(data=cfg.data, out=cfg.out)
    for flag, value, default in (("--eval-every", cfg.eval_every, defaults.eval_every),
                                 ("--val-examples", cfg.val_max, defaults.val_max),
                                 ("--checkpoint-every", cfg.checkpoint_every, defaults.checkpoint_every),
                                 ("--max-tokens", cfg.max_tokens, defaults.max_tokens),
                                 ("--threads", cfg.threads, defaults.threads),
                                 ("--device", cfg.device, defaults.device),
                                 ("--loader", cfg.loader, defaults.loader)):
        if value != default:
            parts.append(f"{flag} {value}")
    if not cfg.prefix_no_grad:
        parts.append("--full-grad")
    if not cfg.bf16:
        parts.append("--no-bf16")
    return " ".join(parts)


def model_card(cfg: TrainConfig, p: Prepared, state: ckpt.RunState, base: Path, data_sha: str,
               check: AdapterCheck | None) -> dict[str, Any]:
    """What the adapter is and how it was made, written next to it as ``OUT.json``."""
    import peft
    import transformers

    final = state.evals[-1] if state.evals else None
    return {
        "adapter": {"name": cfg.out.stem, "file": cfg.out.name, "sha256": file_sha256(cfg.out),
                    "bytes": cfg.out.stat().st_size},
        "base_model": {"file": base.name, "path": str(base), "sha256": state.key["base_sha256"]},
        "data": {"file": str(cfg.data), "sha256": data_sha, "examples": p.examples, "train": len(p.train),
                 "validation": p.val_split, "validation_scored": len(p.val),
                 "validation_source": VALIDATION_FROM_TRAIN if p.held_out else VALIDATION_FROM_DATASET,
                 "train_tokens": sum(len(t.ids) for t in p.train), "answer_tokens": sum(t.n_answer for t in p.train),
                 "shared_prefix_tokens": p.prefix, "answer_spelling": p.spelling, "answer_form": p.form},
        "training": {"steps": state.step, "rank": cfg.rank, "alpha": cfg.alpha, "lr": cfg.lr, "batch": cfg.batch,
                     "targets": list(cfg.targets), "seed": cfg.seed, "warmup": cfg.warmup_steps,
                     "schedule": "linear warm-up, cosine to 10%", "bf16": cfg.bf16,
                     "prefix_no_grad": cfg.prefix_no_grad, "epochs": round(state.step * cfg.batch / len(p.train), 3),
                     "seconds": round(state.seconds, 1), "tokens": state.tokens,
                     "tokens_per_s": round(state.tokens / max(1e-9, state.seconds), 1)},
        "loss_curve": state.curve,
        "evaluations": state.evals,
        "val_loss": final["val_loss"] if final else None,
        "val_accuracy": final["val_accuracy"] if final else None,
        "llama_cpp_check": check.describe() if check else None,
        "command": command_line(cfg, base),
        "runs": state.runs,
        "software": {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__,
                     "python": platform.python_version()},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
