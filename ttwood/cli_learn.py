"""``ttwood train``: fine-tune a LoRA adapter for the embedded model (or ``--base``) on a dataset of
(prompt, answer) examples; needs the ``train`` extra (``pip install -e '.[train]'``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from engine.core.errors import TTWoodError
from ttwood.options import AsJson

if TYPE_CHECKING:
    from engine.learn.loss import Evaluation
    from engine.learn.train import StepReport, TrainResult

err = Console(stderr=True)
out = Console()

ALL_TARGETS = "q,k,v,o,gate,up,down"


LOG_EVERY = 10
"""Without a terminal (a pipe, a log file) there is no bar: a line every this many steps."""


class BarReporter:
    """Shows a training run on the terminal: notes, a progress bar with the loss and the speed,
    and a line per evaluation."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None
        self.scoring_task: TaskID | None = None
        self.total = 0
        self.val = ""

    def note(self, text: str) -> None:
        self.progress.console.print(f"[dim]{text}[/]")

    def start(self, steps: int, done: int) -> None:
        self.task = self.progress.add_task("training", total=steps, completed=done, info="")
        self.total = steps

    def step(self, report: StepReport) -> None:
        if self.task is None:
            return
        info = f"loss {report.loss:.3f} · {report.tokens_per_s:,.0f} tokens/s · lr {report.lr:.1e}{self.val}"
        self.progress.update(self.task, completed=report.step, info=info)
        if self.progress.disable and (report.step % LOG_EVERY == 0 or report.step == self.total):
            self.progress.console.print(f"step {report.step}: {info}", markup=False)  # a pipe or a log has no bar

    def scoring(self, step: int, done: int, total: int) -> None:
        """A bar while the validation examples are scored (minutes on a CPU, before the first step too)."""
        if self.scoring_task is None:
            what = "before training" if step == 0 else f"at step {step}"
            self.scoring_task = self.progress.add_task("validation", total=total, info=f"scoring {what}")
        self.progress.update(self.scoring_task, completed=done)
        if done >= total:
            self.progress.remove_task(self.scoring_task)
            self.scoring_task = None

    def evaluation(self, e: Evaluation) -> None:
        self.val = f" · val {e.loss:.3f}"
        when = "before training" if e.step == 0 else f"step {e.step}"
        self.progress.console.print(
            f"{when}: validation loss [bold]{e.loss:.4f}[/], token accuracy {e.accuracy:.3f} "
            f"({e.examples} examples, {e.tokens} answer tokens)"
        )


def _targets(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(",") if t.strip())


# the options of `ttwood train`
_DATA = typer.Option("--data", "-d", help="The dataset: JSONL (or Parquet) of prompt/answer examples.")
_OUT_PATH = typer.Option("--out", "-o", help="The GGUF LoRA adapter to write (its model card goes to OUT.json).")
_STEPS = typer.Option("--steps", "-n", min=1, help="Optimizer steps.")
_RANK = typer.Option("--rank", "-r", min=1, max=512, help="LoRA rank.")
_ALPHA = typer.Option("--alpha", help="LoRA alpha (the update is scaled by alpha / rank).")
_LR = typer.Option("--lr", help="Peak learning rate (linear warm-up, then cosine to 10%).")
_BATCH = typer.Option("--batch", "-b", min=1, max=512, help="Examples per step.")
_TARGETS = typer.Option("--targets", help="Projections to adapt, comma-separated, from q,k,v,o,gate,up,down.")
_SEED = typer.Option("--seed", "-s", help="Seed of the LoRA's initial weights and the data order.")
_RESUME = typer.Option("--resume/--no-resume", help="Go on from OUT.ckpt/ if the same command left one there.")
_BASE = typer.Option("--base", help="The GGUF model to train for (default: the embedded SmolLM2-135M).")
_CHECKPOINT_EVERY = typer.Option("--checkpoint-every", min=1, help="Steps between checkpoints.")
_EVAL_EVERY = typer.Option("--eval-every", min=1, help="Steps between validation scores (default: every checkpoint).")
_VAL_MAX = typer.Option("--val-examples", min=1, help="Validation examples scored each time.")
_WARMUP = typer.Option("--warmup", min=0, help="Warm-up steps (default: 5% of --steps).")
_MAX_TOKENS = typer.Option("--max-tokens", min=16, help="Longest example allowed (prompt and answer).")
_BF16 = typer.Option("--bf16/--no-bf16", help="bf16 autocast (much faster on CPUs with AVX512-BF16 or AMX).")
_PREFIX_NO_GRAD = typer.Option(
    "--shared-prefix-no-grad/--full-grad",
    help="Run the prompt start every example shares once per batch, without gradients (faster; an approximation).",
)
_VERIFY = typer.Option("--verify/--no-verify", help="Check llama.cpp's logits with the adapter against torch's.")
_THREADS = typer.Option("--threads", min=1, help="CPU threads (default: torch's choice).")
_DEVICE = typer.Option("--device", help="Where to train: auto (a CUDA GPU when torch sees one, else the CPU), cpu or cuda.")
_LOADER = typer.Option("--loader", help="How the base weights reach torch: auto, transformers or gguf.")
_INIT = typer.Option("--init", help="A LoRA adapter (.gguf) to start from instead of a fresh one: its rank, alpha and "
                                    "targets are kept (e.g. the shipped adapter, to teach it more).")


def train(
    data: Annotated[Path, _DATA],
    out_path: Annotated[Path, _OUT_PATH],
    steps: Annotated[int, _STEPS] = 200,
    rank: Annotated[int, _RANK] = 8,
    alpha: Annotated[float, _ALPHA] = 16.0,
    lr: Annotated[float, _LR] = 8e-4,
    batch: Annotated[int, _BATCH] = 8,
    targets: Annotated[str, _TARGETS] = ALL_TARGETS,
    seed: Annotated[int, _SEED] = 1,
    resume: Annotated[bool, _RESUME] = True,
    base: Annotated[Path | None, _BASE] = None,
    checkpoint_every: Annotated[int, _CHECKPOINT_EVERY] = 25,
    eval_every: Annotated[int | None, _EVAL_EVERY] = None,
    val_max: Annotated[int, _VAL_MAX] = 64,
    warmup: Annotated[int | None, _WARMUP] = None,
    max_tokens: Annotated[int, _MAX_TOKENS] = 2048,
    bf16: Annotated[bool, _BF16] = True,
    prefix_no_grad: Annotated[bool, _PREFIX_NO_GRAD] = True,
    verify: Annotated[bool, _VERIFY] = True,
    threads: Annotated[int | None, _THREADS] = None,
    loader: Annotated[str, _LOADER] = "auto",
    device: Annotated[str, _DEVICE] = "auto",
    init: Annotated[Path | None, _INIT] = None,
    as_json: AsJson = False,
) -> None:
    """Fine-tune a LoRA adapter on (prompt, answer) examples and write it as a GGUF adapter that
    llama.cpp applies at run time (`ttwood run --adapter OUT`). Loss on the answers only; running
    the same command again resumes from its last checkpoint. --json prints the model card."""
    from engine.learn.config import TrainConfig
    cfg = TrainConfig(
        data=data, out=out_path, base=base, steps=steps, rank=rank, alpha=alpha, lr=lr, batch=batch,
        targets=_targets(targets), seed=seed, warmup=warmup, prefix_no_grad=prefix_no_grad, bf16=bf16,
        max_tokens=max_tokens, checkpoint_every=checkpoint_every, eval_every=eval_every, val_max=val_max,
        resume=resume, verify=verify, threads=threads, loader=loader, device=device, init=init,
    )
    cfg.check()  # a setting that cannot work is said before torch and the model load
    try:
        from engine.learn.train import train as run_training
    except ImportError as exc:
        raise TTWoodError(
            f"training needs the train extra ({exc.name or exc} is missing): pip install -e '.[train]' "
            "(on a CPU-only machine, pip install torch==2.13.0 takes the CPU build)", title="train"
        ) from None
    progress = Progress(TextColumn("[bold green]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        TimeRemainingColumn(), TextColumn("{task.fields[info]}"), console=err, disable=not err.is_terminal)
    try:
        with progress:
            result = run_training(cfg, BarReporter(progress))
    except KeyboardInterrupt:
        from engine.learn.checkpoint import STATE, checkpoint_dir

        folder = checkpoint_dir(cfg.out.expanduser())
        said = (f"{folder} keeps the run up to its last checkpoint (every {checkpoint_every} steps); run the same "
                "command to resume it") if (folder / STATE).is_file() else (
                "no checkpoint was written yet, so nothing is kept; the same command starts the run again")
        err.print(f"stopped: {said}", soft_wrap=True, markup=False)
        raise
    _report(result, as_json)


YOUNG_STEPS = 20
"""Fewer steps than this: a failed llama.cpp check may be rounding over a barely trained adapter."""


def _report(result: TrainResult, as_json: bool) -> None:
    """The summary (or the model card as JSON), then the llama.cpp check: an error if it failed."""
    card = result.card
    if as_json:
        sys.stdout.write(json.dumps(card) + "\n")
    else:
        t = card["training"]
        out.print(
            f"wrote [bold]{result.adapter}[/] ({card['adapter']['bytes'] / 1e6:.1f} MB) and {result.card_path}\n"
            f"{t['steps']} step{'s' * (t['steps'] != 1)}, {t['epochs']} epochs, {t['seconds']:.0f} s, "
            f"{t['tokens_per_s']:,.0f} tokens/s · {validation_line(card)}"
        )
    if result.check is not None:
        c = result.check
        rotary = f", q/k effect {c.rotary.correlation:.3f} (×{c.rotary.scale:.2f})" if c.rotary else ""
        line = (f"llama.cpp against torch: logit correlation {c.logits.correlation:.4f}, adapter effect "
                f"{c.effect.correlation:.3f} (×{c.effect.scale:.2f}){rotary}, "
                f"same top token {c.logits.top1_agreement:.0%}")
        if not c.ok:
            young = card["training"]["steps"] < YOUNG_STEPS
            raise TTWoodError(
                f"{line}: llama.cpp does not compute with the adapter what torch did. {result.adapter} is written"
                + (f"; after {card['training']['steps']} steps an adapter barely moves the logits, so rounding can "
                   "fail this check: train longer, or --no-verify to skip it" if young else
                   "; do not trust it (a wrong q/k permutation or alpha shows here)"), title="train")
        err.print(line + " [green]ok[/]")


def validation_line(card: dict[str, Any]) -> str:
    """The validation loss before training and after, from a model card, and where the examples came from."""
    if card["val_loss"] is None:
        return "no validation split scored"
    from engine.learn.card import validation_source

    first = card["evaluations"][0] if card["evaluations"] else None
    before = f"{first['val_loss']} before training → " if first and first["step"] == 0 else ""
    source = validation_source(card["data"])
    return (f"validation loss {before}{card['val_loss']} after · token accuracy {card['val_accuracy']}"
            + (f" ({source})" if source else ""))


def register(app: typer.Typer) -> None:
    """Add ``train`` to the ``ttwood`` command."""
    app.command("train")(train)
