"""A training run's settings, checked before anything heavy loads (torch, the model, the data):
a setting that cannot work is one line at once."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.core.errors import TTWoodError
from engine.learn.adapter import file_sha256
from engine.minds.brains.llama_model import TARGETS
from engine.minds.brains.lora_check import MAX_ALPHA

MAX_LR = 1.0
"""The largest learning rate taken (a LoRA trains at 1e-4 to 1e-2; far above, the loss diverges)."""

ALL_TARGETS: tuple[str, ...] = tuple(TARGETS)


@dataclass(slots=True)
class TrainConfig:
    """A training run. The fields marked *key* must match to resume from a checkpoint."""

    data: Path
    out: Path
    base: Path | None = None
    """The GGUF model to train for (key: its SHA-256); None: the embedded SmolLM2-135M."""
    init: Path | None = None
    """A GGUF LoRA adapter to start from (its rank, alpha and targets win over these settings;
    key: its SHA-256): a round of ``ttwood improve`` goes on from the last round's adapter."""
    steps: int = 200
    rank: int = 8
    alpha: float = 16.0
    lr: float = 8e-4
    batch: int = 8
    targets: tuple[str, ...] = ALL_TARGETS
    seed: int = 1
    warmup: int | None = None
    """Steps of linear warm-up (default: 5% of the steps), then a cosine decay to 10% of ``lr``."""
    prefix_no_grad: bool = True
    """Run the prompt start shared by a batch's examples once per batch, without gradients."""
    bf16: bool = True
    max_tokens: int = 2048
    dropout: float = 0.0
    checkpoint_every: int = 25
    eval_every: int | None = None
    """Steps between evaluations (default: every checkpoint); one always ends the run."""
    val_max: int = 64
    """Validation examples scored at each evaluation (spread over the validation split)."""
    resume: bool = True
    verify: bool = True
    """After writing the adapter, compare llama.cpp's logits with it against torch's."""
    threads: int | None = None
    device: str = "auto"
    """Where to train: ``auto`` (a CUDA GPU when torch sees one, else the CPU), ``cpu`` or ``cuda``."""
    loader: str = "auto"
    """How the base weights reach torch: auto (transformers' GGUF loader, else the gguf package),
    transformers, or gguf (both give the same weights; the second is faster on small models)."""

    def key(self, data_sha256: str, base_sha256: str) -> dict[str, Any]:
        """What a checkpoint must share with this command to be resumed by it."""
        return {
            "data_sha256": data_sha256, "base_sha256": base_sha256, "steps": self.steps, "rank": self.rank,
            "alpha": self.alpha, "lr": self.lr, "batch": self.batch, "targets": list(self.targets), "seed": self.seed,
            "warmup": self.warmup_steps, "prefix_no_grad": self.prefix_no_grad, "bf16": self.bf16,
            "max_tokens": self.max_tokens, "dropout": self.dropout,
            **({"init_sha256": file_sha256(self.init)} if self.init is not None else {}),
        }

    @property
    def warmup_steps(self) -> int:
        return self.warmup if self.warmup is not None else max(1, self.steps // 20)

    def lr_at(self, step: int) -> float:
        """The learning rate of step ``step`` (0-based)."""
        if step < self.warmup_steps:
            return self.lr * (step + 1) / self.warmup_steps
        done = (step - self.warmup_steps) / max(1, self.steps - self.warmup_steps)
        return self.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, done))))

    def check(self) -> None:
        """A clear error for settings that cannot work."""
        bad = [t for t in self.targets if t not in TARGETS]
        if bad or not self.targets:
            named = ", ".join(bad) or "(none given)"
            raise TTWoodError(f"--targets: unknown {named} (choose from {', '.join(TARGETS)})")
        for name, value in (("steps", self.steps), ("rank", self.rank), ("batch", self.batch),
                            ("checkpoint_every", self.checkpoint_every)):
            if value < 1:
                raise TTWoodError(f"--{name.replace('_', '-')} must be at least 1 (got {value})")
        if not (self.lr > 0 and self.alpha > 0):
            raise TTWoodError("--lr and --alpha must be positive")
        if not self.lr <= MAX_LR:
            raise TTWoodError(f"--lr {self.lr:g}: a learning rate is at most {MAX_LR:g} (8e-4 is the default)")
        if not self.alpha <= MAX_ALPHA:
            raise TTWoodError(f"--alpha {self.alpha:g}: a LoRA's alpha is at most {MAX_ALPHA:g} (16 is the default)")
        if self.device not in ("auto", "cpu", "cuda"):
            raise TTWoodError(f"--device: {self.device!r} is not auto, cpu or cuda")
        if self.loader not in ("auto", "transformers", "gguf"):
            raise TTWoodError(f"--loader: {self.loader!r} is not auto, transformers or gguf")


