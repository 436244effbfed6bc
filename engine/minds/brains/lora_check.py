"""What a LoRA adapter's numbers must be before llama.cpp is given it.

llama.cpp loads any adapter whose tensor shapes fit the model, and a NaN in its weights (or an
alpha so large that ``alpha / rank`` times the weights overflows) turns every logit into NaN:
its sampler then aborts the whole process at the first token. So an adapter file is read here
first (memory-mapped, a bounded chunk at a time): its ``adapter.lora.alpha`` and every value of
every tensor must be finite and within sane bounds, or :func:`lora_problem` says which is not.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

MAX_ALPHA = 1e4
"""The largest ``adapter.lora.alpha`` taken (peft's usual values are 8 to 512; llama.cpp scales
the adapter's product by ``alpha / rank``)."""
MAX_VALUE = 1e4
"""The largest magnitude a LoRA weight may have (trained ones are well below 10)."""
CHUNK = 1 << 20
"""Values checked at a time (bounded memory whatever the adapter's size)."""


def _float_chunks(tensor: Any) -> Iterator[np.ndarray[Any, Any]]:
    """A tensor's values as float32 arrays of at most :data:`CHUNK` values."""
    import gguf

    kind = gguf.GGMLQuantizationType(int(tensor.tensor_type))
    flat = np.asarray(tensor.data).reshape(-1)
    if kind in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16, gguf.GGMLQuantizationType.F64):
        for i in range(0, flat.size, CHUNK):
            yield np.asarray(flat[i:i + CHUNK], dtype=np.float32)
        return
    if kind == gguf.GGMLQuantizationType.BF16:
        raw = flat.view(np.uint16)
        for i in range(0, raw.size, CHUNK):
            yield (raw[i:i + CHUNK].astype(np.uint32) << 16).view(np.float32)
        return
    block, size = gguf.GGML_QUANT_SIZES[kind]
    step = max(1, CHUNK // block) * size  # whole blocks
    from gguf.quants import dequantize

    for i in range(0, flat.size, step):
        yield np.asarray(dequantize(flat[i:i + step], kind), dtype=np.float32).reshape(-1)


def lora_problem(path: Path) -> str | None:
    """Why the GGUF LoRA adapter at ``path`` must not reach llama.cpp (``None``: its alpha and its
    values are finite and sane). A file the ``gguf`` package cannot parse is left to llama.cpp,
    whose own refusal explains it."""
    try:
        import gguf

        reader = gguf.GGUFReader(str(path))
    except Exception:  # noqa: BLE001 - a damaged file raises many kinds; llama.cpp's load says it is damaged
        return None
    field = reader.fields.get("adapter.lora.alpha")
    if field is not None:
        try:
            alpha = float(field.contents())
        except (TypeError, ValueError):
            return "its adapter.lora.alpha is not a number"
        if not math.isfinite(alpha) or abs(alpha) > MAX_ALPHA:
            return f"its adapter.lora.alpha is {alpha:g}; an adapter's alpha is a finite number up to {MAX_ALPHA:g}"
    for tensor in reader.tensors:
        try:
            chunks = _float_chunks(tensor)
            for values in chunks:
                if not np.isfinite(values).all():
                    return f"its tensor {tensor.name} holds NaN or infinite values (a training run that diverged)"
                top = float(np.abs(values).max()) if values.size else 0.0
                if top > MAX_VALUE:
                    return f"its tensor {tensor.name} holds a value of {top:.3g}; a LoRA weight is at most {MAX_VALUE:g} in size"
        except (KeyError, ValueError, NotImplementedError):
            return f"its tensor {tensor.name} is of a type ({tensor.tensor_type!r}) an adapter cannot have"
    return None
