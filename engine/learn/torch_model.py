"""The base model as a trainable torch model, loaded from the same GGUF file llama.cpp runs, and its
LoRA (peft) moved to and from :class:`~engine.learn.adapter.LoraWeights`.

Two honest ways to the weights, both from the GGUF (no download):

* transformers' own GGUF loader (``from_pretrained(dir, gguf_file=name)``), which dequantises
  Q4_1/Q8_0/F16 and undoes llama.cpp's q/k row permutation; tried first;
* the ``gguf`` package (``GGUFReader`` + ``gguf.quants.dequantize``) into a ``LlamaForCausalLM``
  built from the file's own metadata, undoing the permutation ourselves; used when the first way
  fails (a transformers without GGUF support, or a quantization it does not know).

Needs the ``train`` extra (torch, transformers, peft).
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.core.errors import TTWoodError
from engine.learn.adapter import HF_MODULES, LoraWeights, unpermute_rows


def _reader_value(reader: Any, key: str) -> Any:
    f = reader.fields.get(key)
    return f.contents() if f is not None else None


def load_base(gguf_path: str | os.PathLike[str], *, how: str = "auto") -> Any:
    """A ``LlamaForCausalLM`` in float32 with the GGUF's weights (``how``: auto, transformers or gguf),
    its rotary frequencies as llama.cpp computes them (see :func:`use_rope_factors`)."""
    p = Path(gguf_path).expanduser()
    model = None
    if how in ("auto", "transformers"):
        try:
            model = _load_transformers(p)
        except Exception as exc:  # noqa: BLE001 - any failure of the first way falls back to the second
            if how == "transformers":
                raise TTWoodError(f"{p}: transformers could not load this GGUF ({exc})") from None
    if model is None:
        model = _load_gguf(p)
    use_rope_factors(model, p)
    return model


def _rope_settings(p: Path) -> tuple[float, int, np.ndarray | None]:
    """The GGUF's rope base, rotary dimensions and per-frequency factors (``rope_freqs.weight``,
    which Llama 3's files carry for its rope scaling; None when absent)."""
    from gguf import GGUFReader

    r = GGUFReader(str(p))
    base = float(_reader_value(r, "llama.rope.freq_base") or 10000.0)
    n_embd, n_head = int(_reader_value(r, "llama.embedding_length")), int(_reader_value(r, "llama.attention.head_count"))
    dims = int(_reader_value(r, "llama.rope.dimension_count") or n_embd // n_head)
    factors = next((np.array(t.data, dtype=np.float64).reshape(-1) for t in r.tensors if t.name == "rope_freqs.weight"), None)
    return base, dims, factors


def use_rope_factors(model: Any, p: Path) -> None:
    """Give the torch model the rotary frequencies llama.cpp uses: each divided by the file's
    factor (``rope_freqs.weight``, Llama 3's rope scaling). Without them torch would train a model
    that places tokens slightly differently from the one llama.cpp runs. Nothing to do without."""
    base, dims, factors = _rope_settings(p)
    if factors is None:
        return
    if factors.shape != (dims // 2,):
        raise TTWoodError(f"{p}: rope_freqs.weight holds {factors.size} factors, not {dims // 2}")
    rotary = model.model.rotary_emb
    plain = 1.0 / (base ** (np.arange(0, dims, 2, dtype=np.float64) / dims))
    inv_freq = torch.tensor(plain / factors, dtype=torch.float32, device=rotary.inv_freq.device)
    rotary.inv_freq.copy_(inv_freq)
    rotary.original_inv_freq.copy_(inv_freq)
    rotary.attention_scaling = 1.0


def _load_transformers(p: Path) -> Any:
    from transformers import AutoModelForCausalLM, modeling_gguf_pytorch_utils
    from transformers.utils import logging

    hf_logging: Any = logging
    gguf_utils: Any = modeling_gguf_pytorch_utils
    was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    bar = getattr(gguf_utils, "tqdm", None)
    if bar is not None:
        gguf_utils.tqdm = lambda it, **_: it  # its own bar, under ours otherwise
    try:
        model: Any = AutoModelForCausalLM.from_pretrained(str(p.parent), gguf_file=p.name, dtype=torch.float32)
    finally:
        if bar is not None:
            gguf_utils.tqdm = bar
        if was_on:
            hf_logging.enable_progress_bar()
    if getattr(model.config, "model_type", None) != "llama":
        raise TTWoodError(f"{p}: training supports llama-architecture models; this one is {model.config.model_type!r}")
    return model.eval()


_GGUF_TO_HF = {
    "attn_norm": "input_layernorm",
    "attn_q": "self_attn.q_proj",
    "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj",
    "ffn_norm": "post_attention_layernorm",
    "ffn_gate": "mlp.gate_proj",
    "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
}


def _config_from(reader: Any, tensors: dict[str, Any]) -> Any:
    """A ``LlamaConfig`` from the GGUF's metadata (``tensors``: its tensors by name)."""
    from transformers import LlamaConfig

    def v(key: str, default: Any = None) -> Any:
        got = _reader_value(reader, key)
        return default if got is None else got

    if v("general.architecture") != "llama":
        raise TTWoodError(f"training supports llama-architecture models; this one is {v('general.architecture')!r}")
    if v("llama.rope.scaling.type") not in (None, "none"):
        raise TTWoodError("this GGUF uses rope scaling, which the fallback loader does not rebuild")
    n_embd, n_head = int(v("llama.embedding_length")), int(v("llama.attention.head_count"))
    opts: dict[str, Any] = dict(
        vocab_size=int(tensors["token_embd.weight"].shape[-1]),  # GGUF shapes list the row length first
        hidden_size=n_embd,
        intermediate_size=int(v("llama.feed_forward_length")),
        num_hidden_layers=int(v("llama.block_count")),
        num_attention_heads=n_head,
        num_key_value_heads=int(v("llama.attention.head_count_kv", n_head)),
        head_dim=int(v("llama.rope.dimension_count", n_embd // n_head)),
        rms_norm_eps=float(v("llama.attention.layer_norm_rms_epsilon", 1e-5)),
        rope_theta=float(v("llama.rope.freq_base", 10000.0)),
        max_position_embeddings=int(v("llama.context_length", 4096)),
        tie_word_embeddings="output.weight" not in tensors,
        bos_token_id=v("tokenizer.ggml.bos_token_id"),
        eos_token_id=v("tokenizer.ggml.eos_token_id"),
    )
    return LlamaConfig(**opts)


def _load_gguf(p: Path) -> Any:
    from gguf import GGUFReader
    from gguf.quants import dequantize
    from transformers import LlamaForCausalLM

    r = GGUFReader(str(p))
    tensors = {t.name: t for t in r.tensors}
    cfg = _config_from(r, tensors)
    state: dict[str, torch.Tensor] = {}
    for name, t in tensors.items():
        if name == "rope_freqs.weight":
            continue  # not a weight: load_base applies it to the rotary frequencies
        shape = tuple(int(d) for d in reversed(t.shape))
        w = np.array(dequantize(t.data, t.tensor_type), dtype=np.float32).reshape(shape)
        parts = name.split(".")
        if parts[0] == "blk":
            kind = parts[2]
            if kind == "attn_q":
                w = unpermute_rows(w, cfg.num_attention_heads)
            elif kind == "attn_k":
                w = unpermute_rows(w, cfg.num_key_value_heads)
            key = f"model.layers.{parts[1]}.{_GGUF_TO_HF[kind]}.weight"
        else:
            key = {"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
                   "output.weight": "lm_head.weight"}[name]
        state[key] = torch.from_numpy(np.ascontiguousarray(w))
    model: Any = LlamaForCausalLM(cfg)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or [k for k in missing if k != "lm_head.weight"]:
        raise TTWoodError(f"{p}: weights do not fit the model (missing {missing[:3]}, unexpected {unexpected[:3]})")
    model.tie_weights()
    return model.float().eval()


def add_lora(model: Any, *, rank: int, alpha: float, targets: list[str], seed: int, dropout: float = 0.0) -> Any:
    """Wrap ``model`` with a fresh LoRA on ``targets`` (our short names: q, k, v, o, gate, up, down);
    ``lora_A`` is initialised from ``seed`` without touching torch's global generator."""
    from peft import LoraConfig, get_peft_model

    unknown = [t for t in targets if t not in HF_MODULES]
    if unknown or not targets:
        raise TTWoodError(f"unknown LoRA targets {unknown or targets} (choose from {', '.join(HF_MODULES)})")
    opts: dict[str, Any] = dict(
        r=rank,
        lora_alpha=alpha,
        target_modules=[HF_MODULES[t] for t in targets],
        lora_dropout=dropout,
        bias="none",
        task_type="CAUSAL_LM",
    )
    cfg = LoraConfig(**opts)
    with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # peft asks transformers a deprecated question
        torch.manual_seed(seed)
        return get_peft_model(model, cfg)


_LAYER = re.compile(r"\.layers\.(\d+)\.(?:self_attn|mlp)\.(\w+)$")
_TARGET_OF = {v: k for k, v in HF_MODULES.items()}


def lora_modules(peft_model: Any) -> dict[tuple[int, str], Any]:
    """peft's LoRA layers of a model, by (layer, target)."""
    found = {}
    for name, module in peft_model.named_modules():
        m = _LAYER.search(name)
        if m and m.group(2) in _TARGET_OF and hasattr(module, "lora_A") and "default" in module.lora_A:
            found[(int(m.group(1)), _TARGET_OF[m.group(2)])] = module
    return found


def lora_weights(peft_model: Any, *, alpha: float, n_head: int, n_kv_head: int) -> LoraWeights:
    """The LoRA's A and B matrices (Hugging Face layout, float32) of a peft model."""
    w = LoraWeights(alpha=alpha, n_head=n_head, n_kv_head=n_kv_head)
    for key, module in lora_modules(peft_model).items():
        a = module.lora_A["default"].weight.detach().float().cpu().numpy()
        b = module.lora_B["default"].weight.detach().float().cpu().numpy()
        w.pairs[key] = (a, b)
    return w


def with_lora(model: Any, weights: LoraWeights, *, seed: int = 0) -> Any:
    """``model`` wrapped with a LoRA holding ``weights`` (for checking a written adapter)."""
    peft_model = add_lora(model, rank=weights.rank, alpha=weights.alpha, targets=weights.targets, seed=seed)
    modules = lora_modules(peft_model)
    if set(modules) != set(weights.pairs):
        raise TTWoodError("the adapter's layers and targets do not match the model's")
    with torch.no_grad():
        for key, (a, b) in weights.pairs.items():
            modules[key].lora_A["default"].weight.copy_(torch.from_numpy(a))
            modules[key].lora_B["default"].weight.copy_(torch.from_numpy(b))
    return peft_model.eval()
