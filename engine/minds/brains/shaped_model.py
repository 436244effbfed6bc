"""A GGUF with a real model's shapes and random weights, for honest timings where the real weights
cannot be downloaded.

Speed depends on shapes (layers, widths, heads, vocabulary) and on the quantization, not on the
values of the weights, so a file with Llama-3.2-3B's shapes quantized to Q4_K_M times like the
real one. Its answers are noise, but the grammar (the action mask) still only lets it say legal
things. The tokenizer and chat template are the embedded model's, padded with unused tokens up to
the shape's vocabulary. Written with the ``gguf`` package (F16, in a temporary file), then
quantized through llama.cpp's own ``llama_model_quantize``.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.core.errors import TTWoodError
from engine.minds.brains.llama_model import quantize
from engine.minds.brains.models import embedded_model_path


@dataclass(frozen=True, slots=True)
class Shape:
    vocab: int
    embd: int
    layers: int
    ff: int
    heads: int
    kv_heads: int
    rope_base: float
    context: int
    llama3_rope: tuple[float, float, float, int] | None = None
    """Llama 3's rope scaling (factor, low- and high-frequency factors, original context), which its
    GGUF files carry as per-frequency factors (``rope_freqs.weight``); None: plain rope."""

    @property
    def head_dim(self) -> int:
        return self.embd // self.heads

    def rope_factors(self) -> list[float] | None:
        """What llama.cpp divides each rotary frequency by: the factors Llama 3's converter writes."""
        if self.llama3_rope is None:
            return None
        factor, low, high, old_ctx = self.llama3_rope
        out = []
        for i in range(0, self.head_dim, 2):
            wavelength = 2 * math.pi * self.rope_base ** (i / self.head_dim)
            if wavelength < old_ctx / high:
                out.append(1.0)
            elif wavelength > old_ctx / low:
                out.append(factor)
            else:
                smooth = (old_ctx / wavelength - low) / (high - low)
                out.append(1 / ((1 - smooth) / factor + smooth))
        return out

    def parameters(self) -> int:
        hd = self.head_dim
        per_layer = 2 * self.embd * self.heads * hd + 2 * self.embd * self.kv_heads * hd + 3 * self.embd * self.ff + 2 * self.embd
        return self.vocab * self.embd + self.layers * per_layer + self.embd


SHAPES = {
    # meta-llama/Llama-3.2-3B-Instruct's config.json (tied embeddings; rope scaling "llama3")
    "llama-3.2-3b": Shape(vocab=128256, embd=3072, layers=28, ff=8192, heads=24, kv_heads=8, rope_base=500000.0,
                          context=131072, llama3_rope=(32.0, 1.0, 4.0, 8192)),
    # toys for tests; the second with Llama 3's rope factors, scaled so they matter within a short prompt
    "tiny": Shape(vocab=49152, embd=256, layers=2, ff=512, heads=4, kv_heads=2, rope_base=10000.0, context=4096),
    "tiny-llama3": Shape(vocab=49152, embd=256, layers=2, ff=512, heads=4, kv_heads=2, rope_base=10000.0,
                         context=4096, llama3_rope=(8.0, 1.0, 4.0, 32)),
}
QUANTS = {"q4_k_m": 15, "q8_0": 7, "f16": 1}
"""Names accepted by ``--quant`` and their ``llama_ftype``."""


def _tokenizer() -> dict[str, Any]:
    """The embedded model's tokenizer fields."""
    from gguf import GGUFReader

    r = GGUFReader(str(embedded_model_path()))

    def value(key: str) -> Any:
        f = r.fields.get(key)
        return f.contents() if f is not None else None

    return {k: value(k) for k in (
        "tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.tokens", "tokenizer.ggml.token_type",
        "tokenizer.ggml.merges", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
        "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id", "tokenizer.chat_template",
    )}


def _write_f16(shape: Shape, path: Path, seed: int, step: Callable[[str], None]) -> None:
    import gguf

    w = gguf.GGUFWriter(str(path), "llama")
    _write_header(w, shape)
    _write_weights(w, shape, seed, step)
    step("writing")
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def _write_header(w: Any, shape: Shape) -> None:
    """The shape's hyperparameters and the embedded model's tokenizer, padded to the shape's vocabulary."""
    import gguf

    tok = _tokenizer()
    tokens = list(tok["tokenizer.ggml.tokens"])
    types = list(tok["tokenizer.ggml.token_type"])
    if len(tokens) > shape.vocab:
        raise TTWoodError(f"the shape's vocabulary ({shape.vocab}) is smaller than the tokenizer's ({len(tokens)})")
    pad = shape.vocab - len(tokens)
    tokens += [f"<|unused_{i}|>" for i in range(pad)]
    types += [int(gguf.TokenType.UNUSED)] * pad
    w.add_name(f"random weights, {shape.vocab}-token vocabulary, {shape.layers} layers of {shape.embd}")
    w.add_context_length(shape.context)
    w.add_embedding_length(shape.embd)
    w.add_block_count(shape.layers)
    w.add_feed_forward_length(shape.ff)
    w.add_head_count(shape.heads)
    w.add_head_count_kv(shape.kv_heads)
    w.add_rope_dimension_count(shape.head_dim)
    w.add_rope_freq_base(shape.rope_base)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(shape.vocab)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    w.add_tokenizer_model(tok["tokenizer.ggml.model"])
    w.add_tokenizer_pre(tok["tokenizer.ggml.pre"])
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(list(tok["tokenizer.ggml.merges"]))
    w.add_bos_token_id(int(tok["tokenizer.ggml.bos_token_id"]))
    w.add_eos_token_id(int(tok["tokenizer.ggml.eos_token_id"]))
    w.add_unk_token_id(int(tok["tokenizer.ggml.unknown_token_id"]))
    w.add_pad_token_id(int(tok["tokenizer.ggml.padding_token_id"]))
    w.add_add_bos_token(False)
    w.add_chat_template(tok["tokenizer.chat_template"])


def _write_weights(w: Any, shape: Shape, seed: int, step: Callable[[str], None]) -> None:
    """Random F16 weights of the shape's sizes (small, so activations stay finite)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    hd = shape.head_dim

    def weight(rows: int, cols: int) -> Any:
        return (rng.standard_normal((rows, cols), dtype=np.float32) * 0.02).astype(np.float16)

    ones = np.ones(shape.embd, dtype=np.float32)
    step("embeddings")
    w.add_tensor("token_embd.weight", weight(shape.vocab, shape.embd))
    for i in range(shape.layers):
        step(f"layer {i + 1}/{shape.layers}")
        b = f"blk.{i}."
        w.add_tensor(b + "attn_norm.weight", ones)
        w.add_tensor(b + "attn_q.weight", weight(shape.heads * hd, shape.embd))
        w.add_tensor(b + "attn_k.weight", weight(shape.kv_heads * hd, shape.embd))
        w.add_tensor(b + "attn_v.weight", weight(shape.kv_heads * hd, shape.embd))
        w.add_tensor(b + "attn_output.weight", weight(shape.embd, shape.heads * hd))
        w.add_tensor(b + "ffn_norm.weight", ones)
        w.add_tensor(b + "ffn_gate.weight", weight(shape.ff, shape.embd))
        w.add_tensor(b + "ffn_up.weight", weight(shape.ff, shape.embd))
        w.add_tensor(b + "ffn_down.weight", weight(shape.embd, shape.ff))
    w.add_tensor("output_norm.weight", ones)
    factors = shape.rope_factors()
    if factors is not None:
        w.add_tensor("rope_freqs.weight", np.array(factors, dtype=np.float32))


def make_shaped_model(
    shape_name: str,
    out: str | os.PathLike[str],
    *,
    quant: str = "q4_k_m",
    seed: int = 0,
    threads: int | None = None,
    step: Callable[[str], None] | None = None,
) -> Path:
    """Write a GGUF with ``shape_name``'s shapes and random weights to ``out``, quantized to ``quant``."""
    if shape_name not in SHAPES:
        raise TTWoodError(f"unknown shape {shape_name!r} (known: {', '.join(SHAPES)})")
    if quant not in QUANTS:
        raise TTWoodError(f"unknown quantization {quant!r} (known: {', '.join(QUANTS)})")
    try:
        import gguf  # noqa: F401
    except ImportError:
        raise TTWoodError("writing a model needs the `gguf` package: pip install gguf") from None
    shape = SHAPES[shape_name]
    out = Path(out).expanduser()
    if out.exists():
        raise TTWoodError(f"{out}: already exists (choose another --out or remove it)")
    out.parent.mkdir(parents=True, exist_ok=True)
    say = step or (lambda _: None)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        f16 = Path(tmp) / "f16.gguf"
        _write_f16(shape, f16, seed, say)
        if quant == "f16":
            f16.replace(out)
            return out
        say(f"quantizing to {quant}")
        done = Path(tmp) / "quantized.gguf"
        quantize(f16, done, QUANTS[quant], threads=threads)
        done.replace(out)  # whole or not at all
    return out
