"""Fine-tuning: datasets, GGUF LoRA adapters (with llama's q/k permutation), training on a tiny
model, and llama.cpp computing with the adapter what torch computed.

The tests that train need the ``train`` extra (torch, transformers, peft) and skip without it.
The model is a tiny llama with random weights written as F16 (``make_shaped_model("tiny")``), so
torch and llama.cpp run the very same weights. Training here loads them with the ``gguf`` package
(a few seconds faster than transformers' GGUF loader, which parses the file twice); a test checks
that both loaders give the same model.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from engine.core.errors import TTWoodError
from engine.learn.adapter import LoraWeights, permute_rows, read_adapter, unpermute_rows, write_adapter
from engine.learn.data import DataError, batch_order, common_prefix, load_examples, split_examples, tokenize
from engine.minds.brains.llama_model import LlamaModel, ModelError
from engine.minds.brains.shaped_model import SHAPES, make_shaped_model

HAS_TRAIN = all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers", "peft"))
needs_train = pytest.mark.skipif(not HAS_TRAIN, reason="needs the train extra: pip install -e '.[train]'")
TINY = SHAPES["tiny"]
GOODS = ("wood", "berries", "honey", "fish")
NAMES = ("Hazel", "Oona", "Bram", "Tilly", "Fen", "Moss")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny llama (2 layers of 256, 4 heads, 2 KV heads) with random F16 weights."""
    return make_shaped_model("tiny", tmp_path_factory.mktemp("model") / "tiny.gguf", quant="f16")


def write_examples(path: Path, model_path: Path, n: int = 48) -> Path:
    """Synthetic examples in the dataset format: a shared system prompt (the rules), a short
    private part, and a compact JSON answer that follows from it."""
    m = LlamaModel(model_path)
    rules = "You live in a wood. Each turn answer with JSON: produce, buy or sell goods. " * 2
    rows = []
    for i in range(n):
        name, good, qty = NAMES[i % 6], GOODS[i % 4], 1 + i % 5
        prompt = f"{m.pre}{rules}{m.mid}Turn {i}. You are {name}. You hold {qty} {good}.{m.post}"
        act = {"type": "order", "side": "sell", "good": good, "qty": qty} if qty > 2 else {"type": "produce", "qty": 3}
        answer = json.dumps({"thinking": f"{name} has {qty} {good}", "actions": [act]}, separators=(",", ":"))
        rows.append({"prompt": prompt, "answer": answer, "split": "validation" if i % 8 == 0 else "train",
                     "scenario": "toy", "seed": i, "turn": i, "creature": name})
    m.close()
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


# ---------------------------------------------------------------- the q/k permutation


def test_permutation_puts_each_rotary_pair_side_by_side() -> None:
    """Hugging Face rotates dimension i of a head with i + d/2; llama.cpp (after its converter's
    permutation) with its neighbour. So row i of head h goes to 2i, row i + d/2 to 2i + 1."""
    n_head, d, rank = 3, 8, 2
    b = np.arange(n_head * d * rank, dtype=np.float32).reshape(n_head * d, rank)
    p = permute_rows(b, n_head)
    for h in range(n_head):
        for i in range(d // 2):
            assert (p[h * d + 2 * i] == b[h * d + i]).all()
            assert (p[h * d + 2 * i + 1] == b[h * d + i + d // 2]).all()
    assert (unpermute_rows(p, n_head) == b).all()


def test_adapter_round_trip_and_llama_cpp_loads_it(tiny: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    hd, r = TINY.head_dim, 4
    outs = {"q": TINY.heads * hd, "k": TINY.kv_heads * hd, "v": TINY.kv_heads * hd, "down": TINY.embd}
    ins = {"q": TINY.embd, "k": TINY.embd, "v": TINY.embd, "down": TINY.ff}
    w = LoraWeights(alpha=8.0, n_head=TINY.heads, n_kv_head=TINY.kv_heads)
    for layer in range(TINY.layers):
        for t in outs:
            w.pairs[(layer, t)] = (rng.standard_normal((r, ins[t]), dtype=np.float32),
                                   rng.standard_normal((outs[t], r), dtype=np.float32))
    path = write_adapter(tmp_path / "a.gguf", w, name="round-trip")
    back = read_adapter(path, n_head=TINY.heads, n_kv_head=TINY.kv_heads)
    assert back.alpha == 8.0 and back.rank == r and back.targets == ["q", "k", "v", "down"]
    for key, (a, b) in w.pairs.items():
        assert np.array_equal(back.pairs[key][0], a) and np.array_equal(back.pairs[key][1], b)
    m = LlamaModel(tiny, adapter=path)
    try:
        card = m.adapter_card()
        assert card is not None and card["name"] == "round-trip" and len(card["sha256"]) == 64
        assert m.adapter_spelling == "text"  # the default: the brain then samples every token
    finally:
        m.close()
    assert LlamaModel(tiny).adapter_card() is None
    decoder = write_adapter(tmp_path / "d.gguf", w, spelling="decoder")
    m = LlamaModel(tiny, adapter=decoder)
    assert m.adapter_spelling == "decoder"
    assert m.adapter_form == "json"  # written so by default, as every adapter before the lines spelling learned
    m.close()
    lined = write_adapter(tmp_path / "l.gguf", w, spelling="decoder", form="lines")
    m = LlamaModel(tiny, adapter=lined)
    assert m.adapter_form == "lines"
    m.close()
    odd = write_adapter(tmp_path / "o.gguf", w, form="yaml")
    with pytest.raises(ModelError, match="spelled 'yaml'"):
        LlamaModel(tiny, adapter=odd)


def test_an_adapter_for_other_shapes_is_one_clear_error(tiny: Path, tmp_path: Path) -> None:
    w = LoraWeights(alpha=8.0, n_head=TINY.heads, n_kv_head=TINY.kv_heads)
    rows = TINY.kv_heads * TINY.head_dim
    w.pairs[(0, "v")] = (np.zeros((4, TINY.embd + 1), np.float32), np.zeros((rows, 4), np.float32))
    bad = write_adapter(tmp_path / "bad.gguf", w)
    with pytest.raises(ModelError, match="could not load this LoRA adapter"):
        LlamaModel(tiny, adapter=bad)
    with pytest.raises(ModelError, match="no such adapter file"):
        LlamaModel(tiny, adapter=tmp_path / "missing.gguf")
    text = tmp_path / "notes.gguf"
    text.write_text("not a GGUF file at all\n")
    with pytest.raises(ModelError, match="not a GGUF adapter file"):
        LlamaModel(tiny, adapter=text)
    with pytest.raises(ModelError, match="could not load this LoRA adapter"):
        LlamaModel(tiny, adapter=tiny)  # a GGUF, but a model, not an adapter


# ---------------------------------------------------------------- datasets

GOOD = {"prompt": "p", "answer": "a", "split": "train", "scenario": "s", "seed": 1, "turn": 0, "creature": "c"}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "the dataset is empty"),
        ("\n\n", "the dataset is empty"),
        (json.dumps(GOOD) + "\n{not json\n", "line 2: not valid JSON"),
        (json.dumps(GOOD | {"seed": "1"}) + "\n", "line 1: 'seed' must be an integer"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "answer"}) + "\n", "line 1: missing key 'answer'"),
        (json.dumps(GOOD | {"split": "test"}) + "\n", "line 1: 'split' must be 'train' or 'validation'"),
        (json.dumps(GOOD | {"answer": ""}) + "\n", "line 1: 'answer' is empty"),
        (json.dumps(GOOD | {"split": "validation"}) + "\n", "no example has split 'train'"),
        ("[1, 2]\n", "line 1: expected a JSON object"),
    ],
)
def test_bad_datasets_name_the_file_line_and_reason(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=says) as info:
        load_examples(path)
    assert str(path) in info.value.message
    with pytest.raises(DataError, match="no such dataset file"):
        load_examples(tmp_path / "missing.jsonl")


def test_a_parquet_dataset_reads_as_its_jsonl_does(tmp_path: Path) -> None:
    """The same rows as Parquet (token ids as list columns, as a conversion of `ttwood dataset`'s
    JSONL keeps them) give the same examples; a file that is not Parquet is one clear error."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [GOOD | {"answer_ids": [5, 6, 7], "prompt_ids": [1, 2], "turn": t} for t in range(3)]
    rows.append(GOOD | {"split": "validation", "answer_ids": [8], "prompt_ids": [1]})
    jsonl = tmp_path / "d.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    parquet = tmp_path / "d.parquet"
    pq.write_table(pa.Table.from_pylist(rows), parquet)
    from_parquet = load_examples(parquet)
    assert [e.answer_ids for e in from_parquet] == [(5, 6, 7)] * 3 + [(8,)]
    assert [(e.answer_ids, e.turn, e.split) for e in from_parquet] == [
        (e.answer_ids, e.turn, e.split) for e in load_examples(jsonl)]
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet", encoding="utf-8")
    with pytest.raises(DataError, match="not a readable Parquet file") as info:
        load_examples(bad)
    assert str(bad) in info.value.message


def test_tokens_are_the_brains_and_end_with_the_end_of_turn(tiny: Path, tmp_path: Path) -> None:
    data = load_examples(write_examples(tmp_path / "d.jsonl", tiny, n=8))
    m = LlamaModel(tiny)
    try:
        toks = tokenize(data, m, max_tokens=1000)
        e, t = data[0], toks[0]
        assert list(t.ids[: t.n_prompt]) == m.tokenize(e.prompt, special=True, bos=True)
        assert list(t.ids[t.n_prompt : -1]) == m.tokenize(e.answer, special=False)
        assert m.piece(t.ids[-1]) == b"" and t.ids[-1] == m.tokenize("<|im_end|>", special=True)[0]
        prefix = common_prefix(toks)
        assert 0 < prefix < min(x.n_prompt for x in toks)
        with pytest.raises(DataError, match="more than --max-tokens 20"):
            tokenize(data, m, max_tokens=20, source="d.jsonl")
    finally:
        m.close()
    train, val, held = split_examples(data)
    assert len(val) == 1 and not held


def test_answer_ids_are_the_answer_as_given_and_checked(tiny: Path, tmp_path: Path) -> None:
    """An example with ``answer_ids`` (the decoder's spelling) trains on exactly those tokens, with
    no end token (the decoder stops at the grammar's end); ids that do not spell the answer with
    this model's vocabulary are one clear error naming the line."""
    m = LlamaModel(tiny)
    try:
        row = GOOD | {"prompt": f"{m.pre}rules{m.mid}turn{m.post}", "answer": '{"a":1}'}
        natural = m.tokenize(row["answer"], special=False)
        split = m.tokenize('{"a":', special=False) + m.tokenize("1}", special=False)
        path = tmp_path / "ids.jsonl"
        path.write_text(json.dumps(row | {"answer_ids": split}) + "\n" + json.dumps(row) + "\n", encoding="utf-8")
        with_ids, plain = tokenize(load_examples(path), m, max_tokens=1000)
        assert list(with_ids.ids[with_ids.n_prompt :]) == split
        assert list(plain.ids[plain.n_prompt : -1]) == natural  # no ids: the natural spelling, then the end token
        wrong = natural[:-1] + [natural[-1] + 1]
        path.write_text(json.dumps(row | {"answer_ids": wrong}) + "\n", encoding="utf-8")
        with pytest.raises(DataError, match="line 1: 'answer_ids' do not spell the answer"):
            tokenize(load_examples(path), m, max_tokens=1000, source=str(path))
        path.write_text(json.dumps(row | {"answer_ids": ["x"]}) + "\n", encoding="utf-8")
        with pytest.raises(DataError, match="line 1: 'answer_ids' must be a list of token ids"):
            load_examples(path)
    finally:
        m.close()


def test_batch_order_is_fixed_by_the_seed_and_grouped_by_length() -> None:
    lengths = [(i * 37) % 101 for i in range(200)]
    a = batch_order(lengths, 8, seed=3, epoch=0)
    assert a == batch_order(lengths, 8, seed=3, epoch=0)
    assert a != batch_order(lengths, 8, seed=3, epoch=1) and a != batch_order(lengths, 8, seed=4, epoch=0)
    assert sorted(i for b in a for i in b) == list(range(200))
    spread = np.mean([max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in a])
    assert spread < 10  # within a pool of 32 batches, a batch holds neighbouring lengths
    groups = [(i % 3,) for i in range(200)]  # three woods' prompts
    g = batch_order(lengths, 8, seed=3, epoch=0, groups=groups)
    assert sorted(i for b in g for i in b) == list(range(200))
    assert sum(len({groups[i] for i in b}) > 1 for b in g) <= 2  # one wood a batch, but where a group ends


# ---------------------------------------------------------------- training


@pytest.mark.slow
@needs_train
def test_train_resume_and_llama_cpp_computes_what_torch_trained(tiny: Path, tmp_path: Path) -> None:
    """Train a few steps, interrupted and resumed; the adapter matches an uninterrupted run's; llama.cpp
    with it gives torch's logits (correlation ≥ 0.99) while the same LoRA without the q/k
    permutation fails that check; and the adapted model plays a legal turn."""
    from engine.learn import checkpoint as ckpt
    from engine.learn.logits import check_adapter
    from engine.learn.torch_model import load_base, with_lora
    from engine.learn.train import TrainConfig, train

    data = write_examples(tmp_path / "d.jsonl", tiny)

    class StopAt:
        def note(self, text: str) -> None: ...
        def start(self, steps: int, done: int) -> None: ...
        def scoring(self, step: int, done: int, total: int) -> None: ...
        def evaluation(self, e: object) -> None: ...
        def step(self, report: object) -> None:
            if getattr(report, "step", 0) == 5:
                raise KeyboardInterrupt

    def cfg(out: Path, verify: bool = False) -> TrainConfig:
        return TrainConfig(data=data, out=out, base=tiny, steps=8, batch=4, lr=1e-2, rank=8, alpha=16.0,
                           checkpoint_every=4, val_max=4, threads=2, verify=verify, loader="gguf")

    out = tmp_path / "toy.gguf"
    with pytest.raises(KeyboardInterrupt):
        train(cfg(out), StopAt())
    assert not out.exists() and (ckpt.checkpoint_dir(out) / ckpt.STATE).is_file()
    notes: list[str] = []

    class Notes(StopAt):
        def note(self, text: str) -> None:
            notes.append(text)

        def step(self, report: object) -> None: ...

    result = train(cfg(out, verify=True), Notes())  # the same command again (but checking): resumes from step 4
    assert any(n.startswith("resuming from step 4") for n in notes), notes
    assert result.check is not None and result.check.ok, result.check
    card = json.loads(result.card_path.read_text())
    assert card["training"]["steps"] == 8 and len(card["loss_curve"]) == 8
    assert card["evaluations"][0]["step"] == 0 and card["val_loss"] < card["evaluations"][0]["val_loss"]
    assert card["data"]["train"] == 42 and card["llama_cpp_check"]["ok"]

    straight = train(cfg(tmp_path / "straight.gguf"))
    w = read_adapter(result.adapter, n_head=TINY.heads, n_kv_head=TINY.kv_heads)
    w2 = read_adapter(straight.adapter, n_head=TINY.heads, n_kv_head=TINY.kv_heads)
    for key, (a, b) in w.pairs.items():
        assert np.allclose(a, w2.pairs[key][0], atol=1e-5) and np.allclose(b, w2.pairs[key][1], atol=1e-5)

    unpermuted = write_adapter(tmp_path / "unpermuted.gguf", w, permute=False)
    torch_model = with_lora(load_base(tiny, how="gguf"), w)
    m = LlamaModel(tiny)
    toks = [t.ids for t in tokenize(load_examples(data)[:2], m, max_tokens=1000)]
    m.close()
    good = check_adapter(tiny, result.adapter, torch_model, toks)
    bad = check_adapter(tiny, unpermuted, torch_model, toks)
    assert good.ok and good.logits.correlation >= 0.99, good
    assert not bad.ok and not bad.passed()["rotary"], bad  # its q/k part is what is wrong
    _plays_a_legal_turn(tiny, result.adapter)


def _plays_a_legal_turn(model_path: Path, adapter: Path) -> None:
    from engine import scenario as scenarios
    from engine.elders.scripted import ScriptedBrain
    from engine.minds.brains.llama import LlamaBrain
    from engine.turn.game import Game
    from engine.turn.observe import observe_all

    sc, _ = scenarios.load(None)
    g = Game(sc, 2, ScriptedBrain())
    g.step()
    obs = observe_all(g.wood, g.wood.alive(), {})
    m = LlamaModel(model_path, adapter=adapter)
    brain = LlamaBrain(sc, m, seed=3)
    try:
        answers = brain.decide(obs)
    finally:
        brain.close()
        m.close()
    assert len(answers) == len(obs)
    assert all(a.problems == [] for a in answers), [a.raw for a in answers]


@needs_train
def test_a_resumed_run_may_change_its_steps(tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--steps lengthens a finished run or cuts it short (the warm-up the run began with is kept,
    though the default one follows --steps); the card lists each command that trained it; '~' in
    the paths is the home folder; a place the adapter cannot go is said before any work."""
    from engine.learn.train import TrainConfig, train

    monkeypatch.setenv("HOME", str(tmp_path))
    data = write_examples(tmp_path / "d.jsonl", tiny, n=16)

    def cfg(steps: int) -> TrainConfig:
        return TrainConfig(data=Path("~/d.jsonl"), out=Path("~/runs/a.gguf"), base=tiny, steps=steps, batch=2, rank=4,
                           checkpoint_every=10, val_max=2, threads=1, verify=False, loader="gguf")

    assert cfg(20).warmup_steps == 1 and cfg(40).warmup_steps == 2
    first = train(cfg(20))
    assert first.adapter == tmp_path / "runs" / "a.gguf" and first.adapter.is_file() and data.is_file()
    longer = train(cfg(40))  # refused before: "warmup 1 → 2"
    card = longer.card
    assert card["training"]["steps"] == 40 and len(card["loss_curve"]) == 40 and card["training"]["warmup"] == 1
    assert [(r["from_step"], r["to_step"]) for r in card["runs"]] == [(0, 20), (20, 40)]
    assert "--steps 40" in card["runs"][1]["command"] and "--warmup 1" in card["runs"][1]["command"]
    assert card["data"]["validation"] == 2 and card["data"]["validation_scored"] == 2
    shorter = train(cfg(30))  # at or below the checkpoint's step: the adapter as the checkpoint has it
    assert shorter.card["training"]["steps"] == 40 and len(shorter.card["runs"]) == 2
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    with pytest.raises(TTWoodError, match="cannot write the adapter and its checkpoints here"):
        train(TrainConfig(data=data, out=blocked / "a.gguf", base=tiny, steps=2, verify=False))
    # an --out that would overwrite the dataset, the adapter's own card, or is a folder: refused
    # before anything is read or trained (the dataset was overwritten with the adapter, and the
    # adapter with its card), and the dataset is whole
    before = data.read_bytes()
    for out, why in ((data, "is the dataset"), (tmp_path / "a.json", "its model card goes to"), (tmp_path, "is a folder")):
        with pytest.raises(TTWoodError, match=why):
            train(TrainConfig(data=data, out=out, base=tiny, steps=2, verify=False))
    card_is_data = tmp_path / "e.json"
    card_is_data.write_bytes(before)
    with pytest.raises(TTWoodError, match="is the dataset"):
        train(TrainConfig(data=card_is_data, out=tmp_path / "e.gguf", base=tiny, steps=2, verify=False))
    assert data.read_bytes() == before and card_is_data.read_bytes() == before


@needs_train
def test_an_incomplete_checkpoint_is_one_clear_error(tmp_path: Path) -> None:
    import torch

    from engine.learn import checkpoint as ckpt

    folder = tmp_path / "a.gguf.ckpt"
    folder.mkdir()
    torch.save({"key": {"steps": 3}, "step": 1}, folder / ckpt.STATE)
    with pytest.raises(ckpt.CheckpointError, match="an incomplete checkpoint.*--no-resume"):
        ckpt.load(folder, {"steps": 3})
    (folder / ckpt.STATE).write_text("garbage")  # not a torch file at all: one short line, no torch advice
    with pytest.raises(ckpt.CheckpointError) as got:
        ckpt.read(folder)
    assert "not a readable training checkpoint" in got.value.message and "--no-resume" in got.value.message
    assert "weights_only" not in got.value.message and "\n" not in got.value.message


@needs_train
def test_train_refuses_a_checkpoint_of_other_settings(tiny: Path, tmp_path: Path) -> None:
    from engine.learn import checkpoint as ckpt
    from engine.learn.train import TrainConfig

    cfg = TrainConfig(data=tmp_path / "d.jsonl", out=tmp_path / "a.gguf")
    folder = ckpt.checkpoint_dir(cfg.out)
    ckpt.save(folder, ckpt.RunState(key=cfg.key("abc", "def"), step=3))
    assert ckpt.load(folder, cfg.key("abc", "def")) is not None
    with pytest.raises(ckpt.CheckpointError, match="rank 8 → 4.*--no-resume"):
        ckpt.load(folder, TrainConfig(data=cfg.data, out=cfg.out, rank=4).key("abc", "def"))
    ckpt.clear(folder)
    assert not folder.exists()


@needs_train
def test_the_fallback_loader_gives_transformers_weights(tiny: Path) -> None:
    """Both ways to torch weights (transformers' GGUF loader and ours, through the gguf package)
    give the same model, and it computes llama.cpp's logits."""
    from engine.learn.logits import compare, llama_logits, torch_logits
    from engine.learn.torch_model import load_base

    m = LlamaModel(tiny)
    toks = m.tokenize(f"{m.pre}The wood is quiet.{m.mid}Sell two honey.{m.post}", special=True, bos=True)
    ours = llama_logits(m, toks)
    m.close()
    a = torch_logits(load_base(tiny, how="transformers"), toks)
    b = torch_logits(load_base(tiny, how="gguf"), toks)
    assert np.allclose(a, b, atol=1e-4)
    assert compare(ours, a).correlation > 0.999


@needs_train
def test_the_train_command_prints_its_card_and_says_errors_plainly(tiny: Path, tmp_path: Path) -> None:
    """`ttwood train` as a user runs it: the model card as JSON on stdout; a bad dataset is one line
    on stderr and exit status 2, no traceback."""
    import subprocess
    import sys

    cmd = [sys.executable, "-c", "from ttwood.cli import main; main()", "train"]
    data = write_examples(tmp_path / "d.jsonl", tiny, n=8)
    out = tmp_path / "a.gguf"
    done = subprocess.run([*cmd, "--data", str(data), "--out", str(out), "--base", str(tiny), "--steps", "2",
                           "--batch", "2", "--rank", "2", "--threads", "1", "--no-verify", "--loader", "gguf", "--json"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    card = json.loads(done.stdout)
    assert card["training"]["steps"] == 2 and card["adapter"]["file"] == "a.gguf" and out.is_file()
    assert card["runs"][0]["command"].startswith("ttwood train --data") and "--threads 1" in card["runs"][0]["command"]
    bad = subprocess.run([*cmd, "--data", str(tmp_path / "missing.jsonl"), "--out", str(out), "--base", str(tiny)],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "no such dataset file" in bad.stderr and "Traceback" not in bad.stderr


@needs_train
@pytest.mark.parametrize("how", ["transformers", "gguf"])
def test_llama3_rope_factors_reach_torch(tmp_path: Path, how: str) -> None:
    """Llama 3's GGUF files carry rope scaling as per-frequency factors (``rope_freqs.weight``) that
    llama.cpp divides the rotary frequencies by; both ways to torch weights apply them, so torch
    trains the model llama.cpp runs. Without them the logits drift far more."""
    import torch

    from engine.learn.logits import compare, llama_logits, torch_logits
    from engine.learn.torch_model import load_base

    path = make_shaped_model("tiny-llama3", tmp_path / "l3.gguf", quant="f16")
    m = LlamaModel(path)
    text = "The river is high tonight. Sell two honey, buy three acorns, then rest by the fire and wait."
    toks = m.tokenize(f"{m.pre}{text}{m.mid}Sell two honey.{m.post}", special=True, bos=True)
    ours = llama_logits(m, toks)
    m.close()
    model = load_base(path, how=how)
    right = compare(ours, torch_logits(model, toks)).correlation
    rotary = model.model.rotary_emb
    dims = 2 * rotary.inv_freq.shape[0]
    rotary.inv_freq.copy_(1.0 / (10000.0 ** (torch.arange(0, dims, 2, dtype=torch.float32) / dims)))
    plain = compare(ours, torch_logits(model, toks)).correlation
    assert right > 0.99999, right
    assert 1 - plain > 100 * (1 - right), (right, plain)


@needs_train
def test_a_stopped_training_says_how_to_resume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    import engine.learn.train as training
    from ttwood.cli import app

    def stopped(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "train", stopped)
    from engine.learn.checkpoint import STATE

    out = tmp_path / "a.gguf"
    args = ["train", "--data", str(tmp_path / "d.jsonl"), "--out", str(out), "--checkpoint-every", "5"]
    r = CliRunner().invoke(app, args)  # stopped before its first checkpoint: nothing to resume
    assert r.exit_code == 130, r.output
    assert "no checkpoint was written yet" in r.output and "keeps the run" not in r.output
    (tmp_path / "a.gguf.ckpt").mkdir()
    (tmp_path / "a.gguf.ckpt" / STATE).write_bytes(b"")
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 130, r.output
    assert f"{out}.ckpt keeps the run" in r.output and "every 5 steps" in r.output and "run the same command" in r.output


@pytest.mark.slow
@needs_train
def test_training_shows_its_validation_scoring_and_the_loss_before_and_after(tiny: Path, tmp_path: Path) -> None:
    """`ttwood train` scored the validation examples before training with no sign of progress (minutes
    on a CPU, a silent pause), never printed that score, and ended with the last loss only: the
    scoring now reports each batch, the score before training is reported, and the summary says
    the loss before and after."""
    from engine.learn.train import TrainConfig, train
    from ttwood.cli_learn import validation_line

    data = write_examples(tmp_path / "d.jsonl", tiny, n=12)
    heard: list[tuple[str, int]] = []

    class Recorder:
        def note(self, text: str) -> None: ...
        def start(self, steps: int, done: int) -> None:
            heard.append(("start", done))
        def scoring(self, step: int, done: int, total: int) -> None:
            heard.append(("scoring", step))
        def step(self, report: object) -> None:
            heard.append(("step", getattr(report, "step", -1)))
        def evaluation(self, e: object) -> None:
            heard.append(("evaluation", getattr(e, "step", -1)))

    cfg = TrainConfig(data=data, out=tmp_path / "a.gguf", base=tiny, steps=2, batch=2, rank=2, val_max=2, threads=1,
                      verify=False, loader="gguf", checkpoint_every=2)
    result = train(cfg, Recorder())
    first_step = heard.index(("step", 1))
    assert ("scoring", 0) in heard[:first_step] and ("evaluation", 0) in heard[:first_step], heard
    line = validation_line(result.card)
    before = result.card["evaluations"][0]["val_loss"]
    assert line.startswith(f"validation loss {before} before training → {result.card['val_loss']} after"), line
    assert line.endswith("(the dataset's validation split)"), line


def test_a_model_card_says_where_its_validation_came_from_in_words_and_old_cards_still_read() -> None:
    """The card's `validation_held_out_from_train: false` read either way round (held out from
    training, or taken from it?); the field is `validation_source`, in words, and a card written
    before (the shipped adapter's) still reads."""
    pytest.importorskip("torch")
    from engine.learn.card import VALIDATION_FROM_DATASET, VALIDATION_FROM_TRAIN, validation_source
    from engine.minds.brains.models import SHIPPED_ADAPTER

    shipped = json.loads(SHIPPED_ADAPTER.with_suffix(".json").read_text())
    assert shipped["data"]["validation_held_out_from_train"] is False  # an old card, as shipped
    assert validation_source(shipped["data"]) == VALIDATION_FROM_DATASET
    assert validation_source({"validation_held_out_from_train": True}) == VALIDATION_FROM_TRAIN
    assert validation_source({"validation_source": VALIDATION_FROM_TRAIN}) == VALIDATION_FROM_TRAIN
    assert validation_source({}) is None


def test_the_card_s_command_names_the_adapter_it_went_on_from(tmp_path: Path) -> None:
    from engine.learn.card import command_line
    from engine.learn.config import TrainConfig

    fresh = TrainConfig(data=tmp_path / "d.jsonl", out=tmp_path / "a.gguf")
    assert "--init" not in command_line(fresh, tmp_path / "base.gguf")
    more = TrainConfig(data=tmp_path / "d.jsonl", out=tmp_path / "b.gguf", init=tmp_path / "a.gguf")
    assert f"--init {tmp_path / 'a.gguf'}" in command_line(more, tmp_path / "base.gguf")
