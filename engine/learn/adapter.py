"""LoRA adapters as GGUF files that llama.cpp applies at run time (``llama_adapter_lora_init``).

The format is the one llama.cpp's ``convert_lora_to_gguf.py`` writes and ``src/llama-adapter.cpp``
reads: metadata ``general.type = "adapter"``, ``general.architecture = "llama"``, ``adapter.type =
"lora"``, ``adapter.lora.alpha`` (float32); tensors ``blk.N.<name>.weight.lora_a`` (rank, in) and
``.lora_b`` (out, rank), exactly peft's ``lora_A`` and ``lora_B``. llama.cpp scales the product by
``alpha / rank``.

One trap: llama.cpp's converter permutes the rows of llama's q and k projections (it interleaves
the two rotary halves of every head differently from Hugging Face), and transformers undoes that
when it loads a GGUF. A LoRA trained on the Hugging Face layout must have the rows of its
``lora_b`` for q and k permuted the same way (heads of q: ``n_head``; of k: ``n_kv_head``), or
llama.cpp applies a subtly wrong adapter: greedy text may still look right while the logits are
off. :func:`write_adapter` permutes; :func:`read_adapter` undoes it.

Only numpy and the ``gguf`` package are needed here (no torch).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.core.errors import TTWoodError
from engine.minds.brains.llama_model import FORM_KEY, SPELLING_KEY, TARGETS

Array = npt.NDArray[np.float32]

HF_MODULES: dict[str, str] = {
    "q": "q_proj",
    "k": "k_proj",
    "v": "v_proj",
    "o": "o_proj",
    "gate": "gate_proj",
    "up": "up_proj",
    "down": "down_proj",
}
"""The same targets as Hugging Face's module names (what peft's ``target_modules`` takes)."""


class AdapterError(TTWoodError):
    """An adapter file that is missing, unreadable or not a LoRA adapter for this model."""

    title = "adapter"


@dataclass(slots=True)
class LoraWeights:
    """A LoRA in Hugging Face's layout: per (layer, target) the pair ``A`` (rank, in), ``B`` (out, rank)."""

    alpha: float
    n_head: int
    n_kv_head: int
    pairs: dict[tuple[int, str], tuple[Array, Array]] = field(default_factory=dict)

    @property
    def rank(self) -> int:
        ranks = {int(a.shape[0]) for a, _ in self.pairs.values()}
        if len(ranks) != 1:
            raise AdapterError(f"the adapter's pairs have ranks {sorted(ranks)}; expected one rank")
        return ranks.pop()

    @property
    def targets(self) -> list[str]:
        found = {t for _, t in self.pairs}
        return [t for t in TARGETS if t in found]


def permute_rows(b: Array, n_head: int) -> Array:
    """Rows of a q/k output, from Hugging Face's rotary layout to llama.cpp's (its converter's
    ``LlamaModel.permute``): within each head, interleave the two rotary halves."""
    rows = b.shape[0]
    if rows % (2 * n_head):
        raise AdapterError(f"{rows} rows do not split into {n_head} heads of two rotary halves")
    return b.reshape(n_head, 2, rows // n_head // 2, *b.shape[1:]).swapaxes(1, 2).reshape(b.shape)


def unpermute_rows(b: Array, n_head: int) -> Array:
    """The inverse of :func:`permute_rows` (llama.cpp's layout back to Hugging Face's)."""
    rows = b.shape[0]
    if rows % (2 * n_head):
        raise AdapterError(f"{rows} rows do not split into {n_head} heads of two rotary halves")
    return b.reshape(n_head, rows // n_head // 2, 2, *b.shape[1:]).swapaxes(1, 2).reshape(b.shape)


def _heads_for(target: str, n_head: int, n_kv_head: int) -> int | None:
    return {"q": n_head, "k": n_kv_head}.get(target)


def write_adapter(
    path: str | os.PathLike[str],
    weights: LoraWeights,
    *,
    name: str | None = None,
    permute: bool = True,
    spelling: str = "text",
    form: str = "json",
) -> Path:
    """Write ``weights`` as a GGUF LoRA adapter for a llama-architecture model; atomically (a
    temporary file renamed into place). ``permute=False`` writes the q/k rows unpermuted, which is
    wrong for llama.cpp: it exists only so a test can show that the logits check catches it.
    ``spelling``: how the answers it learned were spelled (``decoder`` or ``text``), written as
    ``ttwood.answer_spelling`` so the brain knows whether it may jump forward; ``form``: how they
    were written (``lines`` or ``json``), as ``ttwood.answer_form`` so the brain writes the same."""
    import gguf

    out = Path(path).expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    w = gguf.GGUFWriter(str(tmp), "llama")
    w.add_type(gguf.GGUFType.ADAPTER)
    w.add_name(name or out.stem)
    w.add_string(gguf.Keys.Adapter.TYPE, "lora")
    w.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(weights.alpha))
    w.add_string(SPELLING_KEY, spelling)
    w.add_string(FORM_KEY, form)
    order = list(TARGETS)
    for (layer, target), (a, b) in sorted(weights.pairs.items(), key=lambda kv: (kv[0][0], order.index(kv[0][1]))):
        heads = _heads_for(target, weights.n_head, weights.n_kv_head)
        if permute and heads is not None:
            b = permute_rows(b, heads)
        stem = f"blk.{layer}.{TARGETS[target]}.weight"
        w.add_tensor(stem + ".lora_a", np.ascontiguousarray(a, dtype=np.float32))
        w.add_tensor(stem + ".lora_b", np.ascontiguousarray(b, dtype=np.float32))
    try:
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        tmp.replace(out)
    except BaseException:  # a failed or interrupted write leaves no half file behind
        w.close()
        tmp.unlink(missing_ok=True)
        raise
    return out


def _field(reader: Any, key: str) -> Any:
    f = reader.fields.get(key)
    return f.contents() if f is not None else None


def read_adapter(path: str | os.PathLike[str], *, n_head: int, n_kv_head: int) -> LoraWeights:
    """Read a GGUF LoRA adapter back into Hugging Face's layout (q/k rows unpermuted). The head
    counts are the base model's (``llama.attention.head_count`` and ``..._kv``)."""
    from gguf import GGUFReader

    p = Path(path).expanduser()
    if not p.is_file():
        raise AdapterError(f"{p}: no such adapter file")
    try:
        r = GGUFReader(str(p))
    except (OSError, ValueError) as exc:
        raise AdapterError(f"{p}: not a readable GGUF file ({exc})") from None
    if _field(r, "general.type") != "adapter" or _field(r, "adapter.type") != "lora":
        raise AdapterError(f"{p}: not a LoRA adapter (general.type must be 'adapter', adapter.type 'lora')")
    alpha = _field(r, "adapter.lora.alpha")
    weights = LoraWeights(alpha=float(alpha) if alpha is not None else 0.0, n_head=n_head, n_kv_head=n_kv_head)
    names = {v: k for k, v in TARGETS.items()}
    halves: dict[tuple[int, str], dict[str, Array]] = {}
    for t in r.tensors:
        parts = t.name.split(".")  # blk.N.attn_q.weight.lora_a
        if len(parts) != 5 or parts[0] != "blk" or parts[2] not in names or parts[4] not in ("lora_a", "lora_b"):
            raise AdapterError(f"{p}: unexpected tensor {t.name!r}")
        shape = tuple(int(d) for d in reversed(t.shape))
        data = np.array(t.data, dtype=np.float32).reshape(shape)
        halves.setdefault((int(parts[1]), names[parts[2]]), {})[parts[4]] = data
    for key, pair in halves.items():
        if set(pair) != {"lora_a", "lora_b"}:
            raise AdapterError(f"{p}: layer {key[0]} {key[1]} has only {', '.join(pair)}")
        b = pair["lora_b"]
        heads = _heads_for(key[1], n_head, n_kv_head)
        weights.pairs[key] = (pair["lora_a"], unpermute_rows(b, heads) if heads is not None else b)
    if weights.pairs and not alpha:
        weights.alpha = float(weights.rank)  # llama.cpp's rule: no alpha means a scale of 1
    return weights


def head_counts(model_path: str | os.PathLike[str]) -> tuple[int, int]:
    """(n_head, n_kv_head) of a llama GGUF model, as llama.cpp reads them (fast: the ``gguf``
    package's reader parses the whole tokenizer first)."""
    import ctypes

    from engine.minds.brains.llama_model import LlamaModel

    m = LlamaModel(model_path, threads=1)
    try:
        L = m.lib
        buf = ctypes.create_string_buffer(64)
        L.llama_model_meta_val_str(m.model, b"general.architecture", buf, 64)
        if buf.value != b"llama":
            arch = buf.value.decode(errors="replace")
            raise AdapterError(f"{model_path}: LoRA training supports llama-architecture models, not {arch!r}")
        return int(L.llama_model_n_head(m.model)), int(L.llama_model_n_head_kv(m.model))
    finally:
        m.close()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file, in hex (adapters and datasets are named by it in model cards)."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
