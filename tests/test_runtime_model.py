"""The embedded model runs as a Q8_0 copy of its packaged Q4_1 file (made once, in the cache): the
copy is whole, made only once, answers as the packaged file does (with the shipped adapter too),
and a cache that cannot be written falls back to the packaged file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gguf import GGUFReader

from engine.minds.brains.llama_model import LlamaModel
from engine.minds.brains.models import (
    CACHE_ENV,
    SHIPPED_ADAPTER,
    embedded_model_path,
    resolve_model,
    runtime_model_path,
)

PROMPT = (
    "<|im_start|>user\nTurn 3, spring. Market prices: firewood 4, honey 8, acorns 3. You are Hazel the "
    "squirrel. You hold 30 pebbles, 12 acorns. You are short of honey.<|im_end|>\n<|im_start|>assistant\n"
    '{"thinking":"short of honey, sell acorns","actions":[{"type":"order","side":"'
)


def _types(path: Path) -> dict[str, str]:
    return {t.name: t.tensor_type.name for t in GGUFReader(str(path)).tensors}


def _last_logits(path: Path, adapter: Path | None, n: int = 8) -> np.ndarray:
    """The model's logits at the last ``n`` positions of :data:`PROMPT` (one llama.cpp call)."""
    m = LlamaModel(path, threads=1, adapter=adapter)
    L = m.lib
    try:
        toks = m.tokenize(PROMPT, special=True)
        cp = L.llama_context_default_params()
        cp.n_ctx = 512
        cp.n_batch = 512
        cp.n_threads = cp.n_threads_batch = 1
        ctx = L.llama_init_from_model(m.model, cp)
        m.attach(ctx)
        b = L.llama_batch_init(len(toks), 0, 1)
        try:
            b.n_tokens = len(toks)
            for i, t in enumerate(toks):
                b.token[i], b.pos[i], b.n_seq_id[i] = t, i, 1
                b.seq_id[i][0] = 0
                b.logits[i] = i >= len(toks) - n
            assert L.llama_decode(ctx, b) == 0
            return np.array([np.ctypeslib.as_array(L.llama_get_logits_ith(ctx, i), shape=(m.n_vocab,))
                             for i in range(len(toks) - n, len(toks))])
        finally:
            L.llama_batch_free(b)
            L.llama_free(ctx)
    finally:
        m.close()


def test_the_embedded_model_runs_as_a_q8_0_copy_made_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    p = runtime_model_path()
    assert p.parent == tmp_path / "models" and p.is_file()
    assert resolve_model(None) == p  # what --brain llama and ttwood bench llm load
    src, out = _types(embedded_model_path()), _types(p)
    assert set(out) == set(src)
    assert {out[n] for n, t in src.items() if t == "Q4_1"} == {"Q8_0"}
    assert all(out[n] == t for n, t in src.items() if t != "Q4_1")  # norms (F32), embeddings (Q8_0) as they were
    stamp = p.stat().st_mtime_ns
    assert runtime_model_path() == p and p.stat().st_mtime_ns == stamp  # made once, then reused
    assert list((tmp_path / "models").iterdir()) == [p]  # no temporary file left beside it


def test_a_cut_off_copy_is_made_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    p = runtime_model_path()
    whole = p.read_bytes()
    p.write_bytes(whole[: len(whole) // 3])  # a disk that filled up, a copy cut short by hand
    assert runtime_model_path() == p and p.read_bytes() == whole


def test_a_cache_that_cannot_be_written_runs_the_packaged_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setenv(CACHE_ENV, str(blocker))
    assert runtime_model_path() == embedded_model_path()


@pytest.mark.parametrize("adapter", [None, SHIPPED_ADAPTER], ids=["bare", "shipped adapter"])
def test_the_copy_answers_as_the_packaged_model(adapter: Path | None, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    packaged = _last_logits(embedded_model_path(), adapter)
    copy = _last_logits(runtime_model_path(), adapter)
    # Both run the same weights to within 1/17 of a Q4_1 level; the logits differ by rounding (the
    # activations are rounded to 8 bits per block either way, in other blocks): each correlates
    # about 0.998 with the weights in F16.
    for a, b in zip(packaged, copy, strict=True):
        assert np.corrcoef(a, b)[0, 1] >= 0.995
        assert int(a.argmax()) == int(b.argmax())
    # and the check can fail: the bare model against the adapted one fails it
    if adapter is not None:
        bare = _last_logits(runtime_model_path(), None)
        assert any(np.corrcoef(x, y)[0, 1] < 0.995 or int(x.argmax()) != int(y.argmax())
                   for x, y in zip(bare, copy, strict=True))


def test_a_model_and_an_adapter_given_in_each_others_place_are_named_as_such() -> None:
    """`--model ADAPTER.gguf` and `--adapter MODEL.gguf` said only that llama.cpp could not load
    the file; the file's header says what it is, and the message says which option takes it."""
    from engine.minds.brains.llama_model import ModelError

    with pytest.raises(ModelError, match="it is a LoRA adapter, not a model: pass it with --adapter"):
        LlamaModel(SHIPPED_ADAPTER)
    with pytest.raises(ModelError, match="it is a model, not an adapter: pass it with --model"):
        LlamaModel(embedded_model_path(), adapter=embedded_model_path())
