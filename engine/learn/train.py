"""Train a LoRA for the embedded model (or any llama-architecture GGUF) on (prompt, answer) examples
and ship it as a GGUF adapter that llama.cpp applies at run time.

``train(TrainConfig(data=..., out=...), reporter)``:

1. reads and checks the dataset (:mod:`engine.learn.data`) and tokenizes it with llama.cpp's own
   tokenizer, exactly as the llama brain feeds the model;
2. loads the base model's weights from its GGUF into torch (:mod:`engine.learn.torch_model`) and
   wraps it with a fresh LoRA (peft), initialised from the seed;
3. trains with the loss on the answer tokens only (:mod:`engine.learn.loss`), bf16 autocast and
   flushed denormals on the CPU, batches grouped by length in an order fixed by the seed, the
   shared prompt prefix run without gradients; held-out loss and token accuracy at every
   evaluation; a checkpoint every ``checkpoint_every`` steps (running the same command again
   resumes from it, to the same result as an uninterrupted run);
4. writes the adapter (q/k rows permuted for llama.cpp, :mod:`engine.learn.adapter`), checks
   llama.cpp's logits with it against torch's (:mod:`engine.learn.logits`), and writes the model
   card ``OUT.json``.

Needs the ``train`` extra (torch, transformers, peft).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import torch

from engine.core.errors import TTWoodError
from engine.learn import checkpoint as ckpt
from engine.learn.adapter import LoraWeights, file_sha256, head_counts, read_adapter, write_adapter
from engine.learn.card import command_line, model_card
from engine.learn.config import TrainConfig
from engine.learn.data import DataError, Tokens, batch_order, common_prefix, group_keys, load_examples, split_examples, tokenize
from engine.learn.finite import check_loss, check_weights
from engine.learn.logits import AdapterCheck, check_adapter
from engine.learn.loss import Evaluation, autocast, batch_loss, device_of, evaluate
from engine.learn.torch_model import add_lora, load_base, lora_weights, with_lora
from engine.minds.brains.llama_model import LlamaModel
from engine.minds.brains.models import embedded_model_path
from engine.minds.forms import form_of


@dataclass(frozen=True, slots=True)
class StepReport:
    """One training step, for the progress bar."""

    step: int
    steps: int
    loss: float
    lr: float
    tokens_per_s: float
    """Over the last few steps."""


class Reporter(Protocol):
    """Where a run tells how it goes (the CLI draws a progress bar; tests stay quiet): ``scoring``
    batch by batch while the validation examples are scored (step 0: before training), then ``evaluation``."""

    def note(self, text: str) -> None: ...
    def start(self, steps: int, done: int) -> None: ...
    def scoring(self, step: int, done: int, total: int) -> None: ...
    def step(self, report: StepReport) -> None: ...
    def evaluation(self, e: Evaluation) -> None: ...


class Quiet:
    """A reporter that says nothing."""

    def note(self, text: str) -> None:
        pass

    def start(self, steps: int, done: int) -> None:
        pass

    def scoring(self, step: int, done: int, total: int) -> None:
        pass

    def step(self, report: StepReport) -> None:
        pass

    def evaluation(self, e: Evaluation) -> None:
        pass


@dataclass(slots=True)
class Prepared:
    """The dataset as token ids, with what batching needs."""

    train: list[Tokens]
    val: list[Tokens]
    prefix: int
    """Tokens every prompt of the dataset starts with (a batch's own shared start may be longer)."""
    pad: int
    examples: int
    held_out: bool
    """The file had no validation examples: every 20th training example was held out."""
    spelling: str = "text"
    """``decoder`` when every training answer comes as the decoder spells it (``answer_ids``)."""
    form: str = "json"
    """How its answers are written (:mod:`engine.minds.forms`): the adapter says so, so the brain
    asks for that spelling."""
    val_split: int = 0
    """Examples in the validation split (``val`` holds the ``--val-examples`` of them scored)."""
    _orders: dict[int, list[list[int]]] = field(default_factory=dict)

    def batch_at(self, step: int, size: int, seed: int) -> list[Tokens]:
        """The batch of step ``step`` (0-based): a pure function of the data, the size and the seed."""
        per_epoch = -(-len(self.train) // size)
        epoch, i = divmod(step, per_epoch)
        if epoch not in self._orders:
            lengths = [len(t.ids) for t in self.train]
            self._orders = {epoch: batch_order(lengths, size, seed, epoch, groups=group_keys(self.train))}
        return [self.train[j] for j in self._orders[epoch][i]]


def prepare(cfg: TrainConfig, base: Path) -> Prepared:
    """Read, check, split and tokenize the dataset (llama.cpp's tokenizer, as the brain does)."""
    examples = load_examples(cfg.data)
    train, val, held_out = split_examples(examples)
    val_split = len(val)
    if len(val) > cfg.val_max:
        step = len(val) / cfg.val_max
        val = [val[int(i * step)] for i in range(cfg.val_max)]
    m = LlamaModel(base, threads=cfg.threads)
    try:
        train_t = tokenize(train, m, max_tokens=cfg.max_tokens, source=str(cfg.data))
        val_t = tokenize(val, m, max_tokens=cfg.max_tokens, source=str(cfg.data))
        pad = int(m.lib.llama_vocab_eos(m.vocab))
    finally:
        m.close()
    prefix = common_prefix(train_t + val_t)
    spelling = "decoder" if all(e.answer_ids is not None for e in train) else "text"
    forms = {form_of(e.answer) for e in examples}
    if len(forms) > 1:
        raise DataError(f"{cfg.data}: its answers are spelled two ways (lines and JSON): an adapter learns one; "
                        "remake the dataset with one `ttwood dataset --form`")
    return Prepared(train=train_t, val=val_t, prefix=prefix, pad=max(0, pad), examples=len(examples),
                    held_out=held_out, spelling=spelling, val_split=val_split, form=forms.pop())


@dataclass(frozen=True, slots=True)
class TrainResult:
    """What a finished run wrote."""

    adapter: Path
    card_path: Path
    card: dict[str, Any]
    check: AdapterCheck | None


def _val_batches(p: Prepared, size: int) -> list[list[Tokens]]:
    groups = group_keys(p.val)
    order = sorted(range(len(p.val)), key=lambda i: (groups[i], len(p.val[i].ids)))
    return [[p.val[i] for i in order[j : j + size]] for j in range(0, len(order), size)]


def _restore(model: Any, opt: torch.optim.Optimizer, state: ckpt.RunState) -> None:
    if state.lora:
        missing = set(state.lora) - {n for n, _ in model.named_parameters()}
        if missing:
            raise ckpt.CheckpointError(f"the checkpoint's LoRA does not fit the model ({sorted(missing)[:2]})")
        with torch.no_grad():
            for name, param in model.named_parameters():
                if name in state.lora:
                    param.copy_(state.lora[name])
    if state.optimizer:
        opt.load_state_dict(state.optimizer)
    if state.rng is not None:
        torch.set_rng_state(state.rng)


def _snapshot(model: Any, opt: torch.optim.Optimizer, state: ckpt.RunState) -> None:
    check_weights(model, state.step)
    state.lora = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    state.optimizer = opt.state_dict()
    state.rng = torch.get_rng_state()


def _loop(cfg: TrainConfig, p: Prepared, model: Any, state: ckpt.RunState, rep: Reporter, folder: Path) -> None:
    params = [q for q in model.parameters() if q.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)
    _restore(model, opt, state)
    eval_every = cfg.eval_every or cfg.checkpoint_every
    val_batches = _val_batches(p, cfg.batch)

    def score(step: int) -> Evaluation:
        return evaluate(model, val_batches, step=step, shared_prefix=cfg.prefix_no_grad, pad=p.pad, bf16=cfg.bf16,
                        on_batch=lambda done, total: rep.scoring(step, done, total))

    if not state.evals and val_batches and state.step == 0:
        rep.note(f"scoring the {len(p.val)} validation examples before training")
        state.evals.append((e := score(0)).describe())
        rep.evaluation(e)
    if val_batches and state.step >= cfg.steps and (not state.evals or state.evals[-1]["step"] != state.step):
        # a run cut short by a smaller --steps: score where it stopped, so the card says how it ends
        rep.note(f"scoring the validation examples at step {state.step}")
        e = score(state.step)
        state.evals.append(e.describe())
        rep.evaluation(e)
    rep.start(cfg.steps, state.step)
    model.train()
    recent: list[tuple[int, float]] = []
    while state.step < cfg.steps:
        batch = p.batch_at(state.step, cfg.batch, cfg.seed)
        lr = cfg.lr_at(state.step)
        for g in opt.param_groups:
            g["lr"] = lr
        t0 = time.perf_counter()
        with autocast(cfg.bf16, device_of(model).type):
            r = batch_loss(model, batch, shared_prefix=cfg.prefix_no_grad, pad=p.pad)
        loss = float(r.loss.detach())
        check_loss(loss, state.step, cfg.lr, folder)
        opt.zero_grad(set_to_none=True)
        r.loss.backward()  # type: ignore[no-untyped-call]
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        dt = time.perf_counter() - t0
        state.step += 1
        state.curve.append(round(loss, 5))
        state.tokens += r.seen
        state.seconds += dt
        recent = (recent + [(r.seen, dt)])[-10:]
        speed = sum(n for n, _ in recent) / max(1e-9, sum(s for _, s in recent))
        if state.runs:
            state.runs[-1]["to_step"] = state.step
        rep.step(StepReport(state.step, cfg.steps, loss, lr, speed))
        last = state.step == cfg.steps
        if val_batches and (state.step % eval_every == 0 or last):
            e = score(state.step)
            state.evals.append(e.describe())
            rep.evaluation(e)
        if state.step % cfg.checkpoint_every == 0 or last:
            _snapshot(model, opt, state)
            ckpt.save(folder, state)


def train(cfg: TrainConfig, reporter: Reporter | None = None) -> TrainResult:
    """Train, write the adapter and its model card, and check the adapter in llama.cpp."""
    rep = reporter or Quiet()
    cfg = replace(cfg, data=Path(cfg.data).expanduser(), out=Path(cfg.out).expanduser(),
                  base=None if cfg.base is None else Path(cfg.base).expanduser(),
                  init=None if cfg.init is None else Path(cfg.init).expanduser())
    cfg.check()
    base = cfg.base or embedded_model_path()
    if cfg.base is not None and not cfg.base.is_file():
        raise TTWoodError(f"{cfg.base}: no such model file (give the GGUF model to train for with --base PATH)")
    ckpt.check_out(cfg.out, cfg.data)
    folder = ckpt.checkpoint_dir(cfg.out)
    if not cfg.resume:
        ckpt.clear(folder)
    saved = ckpt.read(folder)
    cfg = _resumed_warmup(cfg, saved)
    n_head, n_kv = head_counts(base)  # and a clear error now for a model of another architecture
    cfg, start = _start_from(cfg, n_head, n_kv)
    data_sha = file_sha256(cfg.data) if cfg.data.is_file() else ""
    rep.note(f"reading {cfg.data}")
    p = prepare(cfg, base)
    key = cfg.key(data_sha, file_sha256(base))
    state = ckpt.restore(saved, key, folder) if saved is not None else ckpt.RunState(key=key)
    if state.step:
        rep.note(f"resuming from step {state.step} ({folder})")
    if state.step < cfg.steps:
        state.runs.append({"command": command_line(cfg, base), "from_step": state.step, "to_step": state.step})
    # Denormals flushed to zero for the run only: the setting is the processor's, for the whole
    # process, and left on it breaks other code's floats (subnormals vanish).
    torch.set_flush_denormal(True)
    threads = torch.get_num_threads()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    try:
        rep.note(f"loading {base.name} into torch")
        if start is not None:
            model = with_lora(load_base(base, how=cfg.loader), start, seed=cfg.seed).train().to(_device(cfg))
        else:
            model = add_lora(load_base(base, how=cfg.loader), rank=cfg.rank, alpha=cfg.alpha, targets=list(cfg.targets),
                             seed=cfg.seed, dropout=cfg.dropout).to(_device(cfg))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            _loop(cfg, p, model, state, rep, folder)
        weights = lora_weights(model, alpha=cfg.alpha, n_head=n_head, n_kv_head=n_kv)
        try:
            write_adapter(cfg.out, weights, name=cfg.out.stem, spelling=p.spelling, form=p.form)
        except OSError as exc:
            raise TTWoodError(f"{cfg.out}: cannot write the adapter ({exc.strerror or exc}); the checkpoint in "
                              f"{folder} keeps the training: run the same command again", title="train") from None
        check = None
        if cfg.verify:
            rep.note("checking the adapter in llama.cpp against torch")
            sample = (p.val or p.train)[:2]
            check = check_adapter(base, cfg.out, model, [t.ids for t in sample], last=64, threads=cfg.threads)
        card = model_card(cfg, p, state, base, data_sha, check)
        return TrainResult(cfg.out, ckpt.write_card(cfg.out, card), card, check)
    finally:
        torch.set_num_threads(threads)
        torch.set_flush_denormal(False)


def _start_from(cfg: TrainConfig, n_head: int, n_kv: int) -> tuple[TrainConfig, LoraWeights | None]:
    """The adapter ``--init`` names, read (its rank, alpha and targets become the run's), or none."""
    if cfg.init is None:
        return cfg, None
    start = read_adapter(cfg.init, n_head=n_head, n_kv_head=n_kv)  # a missing or foreign file: one AdapterError
    return replace(cfg, rank=start.rank, alpha=start.alpha, targets=tuple(start.targets)), start


def _resumed_warmup(cfg: TrainConfig, saved: dict[str, Any] | None) -> TrainConfig:
    """The command's settings, with the warm-up of the run it resumes when ``--warmup`` is not
    given: the default warm-up follows ``--steps``, which a resumed run may change."""
    if cfg.warmup is not None or not cfg.resume:
        return cfg
    warmup = saved["key"].get("warmup") if saved is not None else None
    return replace(cfg, warmup=warmup) if isinstance(warmup, int) else cfg


def _device(cfg: TrainConfig) -> str:
    """The device to train on: a CUDA GPU when asked for or (``auto``) when torch sees one."""
    if cfg.device == "cuda" and not torch.cuda.is_available():
        raise TTWoodError("--device cuda: torch sees no CUDA GPU (is this a CPU build of torch?)")
    return "cuda" if cfg.device == "cuda" or (cfg.device == "auto" and torch.cuda.is_available()) else "cpu"
