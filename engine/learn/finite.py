"""A training run whose numbers stop being finite stops, and writes no adapter.

A learning rate far too high (``--lr 1e30``, ``--lr inf``) made the loss NaN and the run still
wrote an adapter of NaN weights, which llama.cpp then loaded and aborted on at the first token.
Such a rate is refused before any work (:data:`engine.learn.config.MAX_LR`); a loss or a LoRA weight that stops being
finite stops the run (:class:`Diverged`), before its optimizer step or its checkpoint.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from engine.core.errors import TTWoodError
from engine.learn import checkpoint as ckpt


class Diverged(TTWoodError):
    """The loss or the weights stopped being finite numbers: the run stops and writes nothing."""

    title = "train"


def check_loss(loss: float, step: int, lr: float, folder: Path) -> None:
    """Stop before step ``step`` (0-based) updates anything when its loss is not a number."""
    if math.isfinite(loss):
        return
    kept = f" (the checkpoint in {folder} keeps step {step}'s weights)" if (folder / ckpt.STATE).is_file() else ""
    raise Diverged(f"step {step + 1}: the loss is {loss} (the run diverged: --lr {lr:g} is too high); "
                   f"stopped, no adapter written{kept}")


def check_weights(model: Any, step: int) -> None:
    """Refuse LoRA weights that are no longer finite (a diverged run is neither checkpointed nor written)."""
    for name, p in model.named_parameters():
        if p.requires_grad and not bool(torch.isfinite(p.detach()).all()):
            raise Diverged(f"step {step}: the LoRA weight {name} is no longer a finite number (the run diverged: "
                           "lower --lr); stopped, no adapter written")
