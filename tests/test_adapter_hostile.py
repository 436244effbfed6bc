"""LoRA adapters from strangers, and training runs that diverge.

llama.cpp loads any adapter whose shapes fit, and a NaN in it (or an alpha of 1e30) made every
logit NaN: the grammar sampler then threw inside llama.cpp and the process aborted (exit 134)
at the first token. An adapter's numbers are checked before llama.cpp sees it, the sampler
refuses NaN logits in one line, and ``ttwood train`` neither takes a learning rate that cannot
work nor writes an adapter once its loss stops being a number.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.learn.adapter import LoraWeights, write_adapter
from engine.minds.brains.llama_model import LlamaModel, ModelError
from engine.minds.brains.lora_check import lora_problem
from engine.minds.brains.shaped_model import SHAPES, make_shaped_model
from tests.test_learn import needs_train, write_examples

TINY = SHAPES["tiny"]
CMD = [sys.executable, "-c", "from ttwood.cli import main; main()"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_shaped_model("tiny", tmp_path_factory.mktemp("model") / "tiny.gguf", quant="f16")


def _adapter(path: Path, *, alpha: float = 8.0, fill: float | None = None) -> Path:
    """An adapter of the tiny model's v projections: small random weights, or all ``fill``."""
    rng = np.random.default_rng(0)
    w = LoraWeights(alpha=alpha, n_head=TINY.heads, n_kv_head=TINY.kv_heads)
    for layer in range(TINY.layers):
        a = rng.standard_normal((4, TINY.embd), dtype=np.float32) * 0.01
        b = rng.standard_normal((TINY.kv_heads * TINY.head_dim, 4), dtype=np.float32) * 0.01
        if fill is not None:
            a[:], b[:] = fill, fill
        w.pairs[(layer, "v")] = (a, b)
    return write_adapter(path, w)


@pytest.mark.parametrize(("alpha", "fill", "says"), [
    (8.0, float("nan"), "holds NaN or infinite values"),
    (8.0, float("inf"), "holds NaN or infinite values"),
    (1e30, None, "adapter.lora.alpha is 1e+30"),
    (float("inf"), None, "adapter.lora.alpha is inf"),
    (8.0, 1e6, "holds a value of 1e+06"),
])
def test_an_adapter_with_numbers_that_cannot_work_is_refused_on_load(
    tiny: Path, tmp_path: Path, alpha: float, fill: float | None, says: str
) -> None:
    bad = _adapter(tmp_path / "bad.gguf", alpha=alpha, fill=fill)
    assert says in (lora_problem(bad) or "")
    with pytest.raises(ModelError, match="refused as a LoRA adapter") as got:
        LlamaModel(tiny, adapter=bad)
    assert says in got.value.message and "\n" not in got.value.message


def test_a_sane_adapter_passes_the_check(tiny: Path, tmp_path: Path) -> None:
    good = _adapter(tmp_path / "good.gguf")
    assert lora_problem(good) is None
    LlamaModel(tiny, adapter=good).close()


def _run(tiny: Path, adapter: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, TTWOOD_SAVES_DIR=str(tmp_path / "saves"))
    return subprocess.run([*CMD, "run", "--turns", "1", "--brain", "llama", "--model", str(tiny), "--adapter", str(adapter),
                           "--threads", "1", "--save", "g"], capture_output=True, text=True, timeout=300, env=env)


def test_a_nan_adapter_is_one_line_not_an_abort(tiny: Path, tmp_path: Path) -> None:
    done = _run(tiny, _adapter(tmp_path / "nan.gguf", fill=float("nan")), tmp_path)
    assert done.returncode == 2, done.stderr[-800:]  # was 134: llama.cpp aborted at the first token
    assert "refused as a LoRA adapter" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_nan_logits_are_one_line_not_an_abort(tiny: Path, tmp_path: Path) -> None:
    """An adapter at the edge of the bounds still overflows this tiny model: the sampler's own
    check stops the game with one line instead of llama.cpp aborting the process."""
    edge = _adapter(tmp_path / "edge.gguf", alpha=1e4, fill=1e4)
    assert lora_problem(edge) is None
    done = _run(tiny, edge, tmp_path)
    assert done.returncode == 2, done.stderr[-800:]
    assert "NaN or infinite logits" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(("lr", "says"), [("1e30", "a learning rate is at most 1"), ("inf", "a learning rate is at most 1"),
                                          ("nan", "must be positive")])
def test_train_refuses_a_learning_rate_that_cannot_work(tmp_path: Path, lr: str, says: str) -> None:
    done = subprocess.run([*CMD, "train", "--data", str(tmp_path / "d.jsonl"), "--out", str(tmp_path / "a.gguf"), "--lr", lr],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert says in done.stderr and "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


@needs_train
@pytest.mark.slow
def test_a_run_whose_loss_is_not_a_number_stops_and_writes_no_adapter(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    import engine.learn.train as training
    from engine.learn.loss import BatchLoss

    real = training.batch_loss
    calls = 0

    def diverging(*args: object, **kwargs: object) -> BatchLoss:
        nonlocal calls
        calls += 1
        r = real(*args, **kwargs)  # type: ignore[arg-type]
        return r if calls < 3 else BatchLoss(r.loss * torch.tensor(float("nan")), r.tokens, r.correct, r.seen)

    monkeypatch.setattr(training, "batch_loss", diverging)
    data = write_examples(tmp_path / "d.jsonl", tiny, n=8)
    out = tmp_path / "a.gguf"
    cfg = training.TrainConfig(data=data, out=out, base=tiny, steps=6, batch=2, rank=2, checkpoint_every=2, threads=1,
                               verify=False, loader="gguf")
    from engine.learn.finite import Diverged

    with pytest.raises(Diverged, match=r"step 3: the loss is nan .*no adapter written") as got:
        training.train(cfg)
    assert "checkpoint" in got.value.message  # step 2's checkpoint, written before the loss broke, is kept
    assert not out.exists() and not out.with_suffix(".json").exists()


