"""Does llama.cpp with the adapter compute what the trained torch model computes? Compare logits.

Greedy text is a weak test (a wrongly permuted adapter can still pick the same tokens), so the check
compares every position's logits over the whole vocabulary, three ways:

* **logits**: llama.cpp with the adapter against torch with the LoRA; Pearson correlation at least
  :data:`MIN_CORRELATION` (the issue's criterion);
* **effect**: what the adapter changes (logits with it less logits without it) in each engine;
* **rotary**: the effect of the adapter's q and k projections alone (the ones whose rows llama.cpp
  permutes), written to a temporary adapter and compared the same way.

Each effect must also have torch's size (the least-squares factor of llama.cpp's over torch's).
The rotary check is the sharp one. Measured on the embedded model after 12 steps of training, the
same LoRA *without* the q/k permutation still had logits correlated 0.994 and an effect correlated
0.976 (Q4_1's rounding keeps the bars for those two from being tight), yet its q/k part computed
something else: its effect correlated 0.13 with torch's, at 4% of its size.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.minds.brains.llama_model import LlamaModel, ModelError

MIN_CORRELATION = 0.99
"""An adapter passes when llama.cpp's logits correlate at least this well with torch's, ..."""
MIN_EFFECT_CORRELATION = 0.9
"""... its effect on them at least this well (a difference of two runs of each engine, so it
carries both engines' rounding twice: a lower bar), ..."""
MIN_ROTARY_CORRELATION = 0.5
"""... and the effect of its q/k part alone at least this well; both effects must also be of the
size torch gives them (:data:`EFFECT_SCALE`). Measured on the embedded model after 12 steps: the
q/k effect correlated 0.94 with torch's at a scale of 1.001 with the permutation, and 0.13 at a
scale of 0.04 without it (a lightly trained q/k moves the logits little, so rounding weighs more
in the correlation; it rises with training)."""
EFFECT_SCALE = (0.8, 1.25)
"""The size of an effect in llama.cpp over its size in torch (the least-squares factor) must lie in
this range: correlation alone cannot see a wrong ``alpha``, as a scaled effect correlates perfectly."""
ROTARY = ("q", "k")

Logits = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class LogitMatch:
    """How well two sets of logits (positions × vocabulary) agree."""

    correlation: float
    max_abs_diff: float
    top1_agreement: float
    positions: int
    scale: float = 1.0
    """Least-squares factor of the first over the second (both centred): 1 when alike in size."""

    def describe(self) -> dict[str, Any]:
        return {
            "correlation": round(self.correlation, 5),
            "max_abs_diff": round(self.max_abs_diff, 4),
            "top1_agreement": round(self.top1_agreement, 4),
            "positions": self.positions,
            "scale": round(self.scale, 4),
        }


@dataclass(frozen=True, slots=True)
class AdapterCheck:
    """llama.cpp with the adapter against torch with the LoRA: the logits, the adapter's effect,
    and the effect of its q/k part alone (None when it adapts neither q nor k)."""

    logits: LogitMatch
    effect: LogitMatch
    rotary: LogitMatch | None

    def passed(self) -> dict[str, bool]:
        """Each comparison against its bar."""
        lo, hi = EFFECT_SCALE
        return {
            "logits": self.logits.correlation >= MIN_CORRELATION,
            "effect": self.effect.correlation >= MIN_EFFECT_CORRELATION and lo <= self.effect.scale <= hi,
            "rotary": self.rotary is None
            or (self.rotary.correlation >= MIN_ROTARY_CORRELATION and lo <= self.rotary.scale <= hi),
        }

    @property
    def ok(self) -> bool:
        return all(self.passed().values())

    def describe(self) -> dict[str, Any]:
        return {
            "logits": self.logits.describe(), "effect": self.effect.describe(),
            "rotary": self.rotary.describe() if self.rotary else None, "passed": self.passed(), "ok": self.ok,
            "bars": {"logits": MIN_CORRELATION, "effect": MIN_EFFECT_CORRELATION, "effect_scale": list(EFFECT_SCALE),
                     "rotary": MIN_ROTARY_CORRELATION},
        }


def compare(a: Logits, b: Logits) -> LogitMatch:
    """Agreement of two arrays of logits of the same shape (positions × vocabulary)."""
    if a.shape != b.shape:
        raise ValueError(f"logits of shapes {a.shape} and {b.shape}")
    x = a.astype(np.float64).ravel()
    y = b.astype(np.float64).ravel()
    x -= x.mean()
    y -= y.mean()
    xy, yy = float((x * y).sum()), float((y * y).sum())
    denom = float(np.sqrt((x * x).sum() * yy))
    return LogitMatch(
        correlation=xy / denom if denom > 0 else 0.0,
        max_abs_diff=float(np.abs(a - b).max()),
        top1_agreement=float((a.argmax(-1) == b.argmax(-1)).mean()),
        positions=int(a.shape[0]),
        scale=xy / yy if yy > 0 else 0.0,
    )


def llama_logits(model: LlamaModel, tokens: Sequence[int], *, last: int | None = None, adapter: bool = True) -> Logits:
    """llama.cpp's logits at the ``last`` positions of ``tokens`` (all by default), from a fresh
    single-sequence context, with the model's adapter (if it has one and ``adapter`` is True)."""
    L = model.lib
    cp = L.llama_context_default_params()
    n = len(tokens)
    cp.n_ctx = max(256, -(-n // 256) * 256)
    cp.n_batch = cp.n_ctx
    cp.n_ubatch = min(512, cp.n_ctx)
    cp.n_threads = model.threads
    cp.n_threads_batch = model.threads
    ctx = L.llama_init_from_model(model.model, cp)
    if not ctx:
        raise ModelError(f"{model.path}: llama.cpp could not make a context of {n} tokens")
    batch = L.llama_batch_init(n, 0, 1)
    keep = n if last is None else min(n, last)
    try:
        if adapter:
            model.attach(ctx)
        batch.n_tokens = n
        for i, tok in enumerate(tokens):
            batch.token[i] = tok
            batch.pos[i] = i
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = 0
            batch.logits[i] = i >= n - keep
        if L.llama_decode(ctx, batch) != 0:
            raise ModelError(f"{model.path}: llama_decode failed on {n} tokens")
        ptr = L.llama_get_logits(ctx)
        return np.ctypeslib.as_array(ptr, shape=(keep, model.n_vocab)).astype(np.float32).copy()
    finally:
        L.llama_batch_free(batch)
        L.llama_free(ctx)


def torch_logits(model: Any, tokens: Sequence[int], *, last: int | None = None) -> Logits:
    """The torch model's logits (float32, no autocast) at the ``last`` positions of ``tokens``."""
    import torch

    keep = len(tokens) if last is None else min(len(tokens), last)
    with torch.no_grad():
        device = next(model.parameters()).device
        ids = torch.tensor([list(tokens)], dtype=torch.long, device=device)
        out = model(input_ids=ids, use_cache=False, logits_to_keep=keep)
    return np.asarray(out.logits[0].float().cpu().numpy(), dtype=np.float32)


def _llama_side(base: Path, adapter: Path, tokens: Sequence[Sequence[int]], last: int | None,
                threads: int | None, *, bare: bool) -> tuple[Logits, Logits | None]:
    m = LlamaModel(base, threads=threads, adapter=adapter)
    try:
        with_it = np.concatenate([llama_logits(m, t, last=last) for t in tokens])
        without = np.concatenate([llama_logits(m, t, last=last, adapter=False) for t in tokens]) if bare else None
    finally:
        m.close()
    return with_it, without


@contextmanager
def _only(peft_model: Any, targets: Sequence[str]) -> Iterator[None]:
    """Within the block, the LoRA acts only on ``targets`` (the others' scaling set to 0)."""
    from engine.learn.torch_model import lora_modules

    saved = {}
    for (_, target), module in lora_modules(peft_model).items():
        saved[id(module)] = (module, module.scaling["default"])
        if target not in targets:
            module.scaling["default"] = 0.0
    try:
        yield
    finally:
        for module, scale in saved.values():
            module.scaling["default"] = scale


def _rotary_adapter(adapter: Path, folder: Path, n_head: int, n_kv_head: int) -> Path | None:
    """The adapter's q/k tensors alone, as they are in the file, in a temporary adapter (None if it
    has no q/k, or nothing else: then its whole effect is the rotary one)."""
    from engine.learn.adapter import read_adapter, write_adapter

    w = read_adapter(adapter, n_head=n_head, n_kv_head=n_kv_head)
    if not set(w.targets) & set(ROTARY) or set(w.targets) <= set(ROTARY):
        return None
    w.pairs = {k: v for k, v in w.pairs.items() if k[1] in ROTARY}
    return write_adapter(folder / "rotary.gguf", w)  # unpermuted on reading, permuted again: the file's own rows


def check_adapter(
    base: str | os.PathLike[str],
    adapter: str | os.PathLike[str],
    peft_model: Any,
    token_lists: Sequence[Sequence[int]],
    *,
    last: int | None = None,
    threads: int | None = None,
) -> AdapterCheck:
    """llama.cpp running ``base`` with ``adapter`` against ``peft_model`` (torch: the base with the
    trained LoRA) at the ``last`` positions of each token list, all positions pooled (see the
    module's docstring for the three comparisons)."""
    from engine.learn.adapter import head_counts

    base, adapter = Path(base), Path(adapter)
    ours, ours_base = _llama_side(base, adapter, token_lists, last, threads, bare=True)
    assert ours_base is not None
    was_training = peft_model.training
    peft_model.eval()
    try:
        theirs = np.concatenate([torch_logits(peft_model, t, last=last) for t in token_lists])
        with peft_model.disable_adapter():
            theirs_base = np.concatenate([torch_logits(peft_model, t, last=last) for t in token_lists])
        effect = compare(ours - ours_base, theirs - theirs_base)
        rotary: LogitMatch | None = effect
        with tempfile.TemporaryDirectory() as tmp:
            qk = _rotary_adapter(adapter, Path(tmp), *head_counts(base))
            if qk is not None:
                ours_qk, _ = _llama_side(base, qk, token_lists, last, threads, bare=False)
                with _only(peft_model, ROTARY):
                    theirs_qk = np.concatenate([torch_logits(peft_model, t, last=last) for t in token_lists])
                rotary = compare(ours_qk - ours_base, theirs_qk - theirs_base)
            elif not any(t in ROTARY for t in _targets_of(peft_model)):
                rotary = None
    finally:
        if was_training:
            peft_model.train()
    return AdapterCheck(logits=compare(ours, theirs), effect=effect, rotary=rotary)


def _targets_of(peft_model: Any) -> set[str]:
    from engine.learn.torch_model import lora_modules

    return {t for _, t in lora_modules(peft_model)}
