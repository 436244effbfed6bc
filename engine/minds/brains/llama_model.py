"""A GGUF model loaded through llama.cpp's low-level API: its tokenizer, chat template, an optional
LoRA adapter, and a clear error for a file that is missing, unreadable or not a model."""

from __future__ import annotations

import ctypes
import hashlib
import os
from pathlib import Path
from typing import Any

from engine.core.errors import EngineBug, TTWoodError
from engine.minds.brains.lora_check import lora_problem

SYS_MARK, USER_MARK = "@@TTWOOD-SYSTEM@@", "@@TTWOOD-USER@@"


_QUIET: Any = None
"""The no-op log callback handed to llama.cpp; kept for the life of the process, since llama.cpp
holds on to it."""


def quiet_llama_logs() -> None:
    """Silence llama.cpp's logging (it writes to stderr, under our progress bars)."""
    global _QUIET
    import llama_cpp as lib

    if _QUIET is None:
        _QUIET = lib.llama_log_callback(lambda level, text, user: None)
    lib.llama_log_set(_QUIET, ctypes.c_void_p(0))


SPELLING_KEY = "ttwood.answer_spelling"
FORM_KEY = "ttwood.answer_form"
"""An adapter's metadata: how the answers it learned were written (``lines`` or ``json``); an
adapter without it learned ``json``, the only spelling there was."""
"""The adapter's GGUF key saying how it learned to spell answers (``decoder`` or ``text``)."""

TARGETS: dict[str, str] = {
    "q": "attn_q",
    "k": "attn_k",
    "v": "attn_v",
    "o": "attn_output",
    "gate": "ffn_gate",
    "up": "ffn_up",
    "down": "ffn_down",
}
"""Our short target names and llama.cpp's tensor names (a LoRA never touches the embeddings or the
output head: they are tied in the embedded model, and llama.cpp's converter refuses ``lm_head``)."""


class ModelError(TTWoodError):
    """A model file that is missing, unreadable or not a GGUF model."""

    title = "model"


def check_model_file(path: str | os.PathLike[str]) -> Path:
    """A readable GGUF file, or a clear error naming it."""
    p = Path(path).expanduser()
    if not p.exists():
        raise ModelError(f"{p}: no such model file (give a GGUF file with --model PATH)")
    if not p.is_file():
        raise ModelError(f"{p}: not a file")
    try:
        with p.open("rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise ModelError(f"{p}: cannot read it ({exc.strerror or exc})") from None
    if magic != b"GGUF":
        raise ModelError(f"{p}: not a GGUF model file (it does not start with the GGUF magic)")
    return p



def gguf_says(path: Path) -> tuple[str | None, str | None]:
    """What a GGUF file's header says it is: ``general.type`` (``model``, ``adapter``) and
    ``general.architecture``; ``None`` for what cannot be read (to explain a failed load)."""
    try:
        import gguf

        fields = gguf.GGUFReader(str(path)).fields
        return tuple(  # type: ignore[return-value]
            str(f.contents()) if (f := fields.get(key)) is not None else None
            for key in ("general.type", "general.architecture"))
    except Exception:  # noqa: BLE001 - a damaged file raises many kinds; the caller says it is damaged
        return None, None

class LlamaModel:
    """A loaded GGUF model with its tokenizer and chat template (no context yet)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        gpu_layers: int = 0,
        threads: int | None = None,
        adapter: str | os.PathLike[str] | None = None,
        adapter_scale: float = 1.0,
    ) -> None:
        import llama_cpp as lib  # imported here: loading the library is slow and not every brain needs it

        self.lib = lib
        self.path = check_model_file(path)
        lib.llama_backend_init()
        quiet_llama_logs()
        mp = lib.llama_model_default_params()
        mp.n_gpu_layers = gpu_layers if gpu_layers >= 0 else 999
        # Weight repacking ("extra buffer types") crashes multi-token batches on some CPUs (seen with
        # AMX on a virtual machine that does not grant it); off unless asked for.
        mp.use_extra_bufts = os.environ.get("TTWOOD_CPU_REPACK") == "1"
        self.gpu_layers = gpu_layers
        self.model = lib.llama_model_load_from_file(str(self.path).encode(), mp)
        if not self.model:
            kind, arch = gguf_says(self.path)
            why = ("it is a LoRA adapter, not a model: pass it with --adapter" if kind == "adapter" else
                   f"damaged, or an architecture this build does not know{f' ({arch})' if arch else ''}")
            raise ModelError(f"{self.path}: llama.cpp could not load this model ({why})")
        self.vocab = lib.llama_model_get_vocab(self.model)
        self.n_vocab = lib.llama_vocab_n_tokens(self.vocab)
        self.add_bos = bool(lib.llama_vocab_get_add_bos(self.vocab))
        self.threads = threads or max(1, os.cpu_count() or 1)
        buf = ctypes.create_string_buffer(256)
        lib.llama_model_desc(self.model, buf, 256)
        self.desc = buf.value.decode(errors="replace")
        self.name = self._meta("general.name") or self.path.stem
        self.n_params = int(lib.llama_model_n_params(self.model))
        self.n_ctx_train = int(lib.llama_model_n_ctx_train(self.model))
        """The longest context the model was trained for: no call may be longer."""
        self.gpu = bool(lib.llama_supports_gpu_offload()) and gpu_layers != 0
        self.pre, self.mid, self.post = self._template_parts()
        self.adapter: Any = None
        """The loaded LoRA adapter (llama.cpp's pointer), applied to each context by :meth:`attach`."""
        self.adapter_path: Path | None = None
        self.adapter_name: str | None = None
        self.adapter_sha256: str | None = None
        self.adapter_spelling: str | None = None
        """How the adapter learned to spell answers: ``"decoder"`` (as the jump-forward decoder
        inserts forced text, see :mod:`engine.minds.spelling`) or ``"text"`` (the tokenizer's
        spelling of the whole answer: the decoder must then sample every token)."""
        self.adapter_form = "json"
        """How the adapter's answers are written (:data:`FORM_KEY`)."""
        self.adapter_scale = adapter_scale
        if adapter is not None:
            try:
                self._load_adapter(adapter)
            except ModelError:
                self.close()
                raise

    def check_budget(self, tokens: int) -> None:
        """Refuse a per-turn budget longer than the model's context (it would fail late, out of memory)."""
        if tokens > self.n_ctx_train:
            raise ModelError(f"the scenario's budget.tokens ({tokens:,}) is more than {self.name}'s context of "
                             f"{self.n_ctx_train:,} tokens: lower the budget, or use a model with a longer context")

    def _load_adapter(self, path: str | os.PathLike[str]) -> None:
        """Load a GGUF LoRA adapter for this model (``llama_adapter_lora_init``); mmap stays on."""
        p = Path(path).expanduser()
        if not p.is_file():
            raise ModelError(f"{p}: no such adapter file (give a GGUF LoRA adapter, or --adapter none)")
        h = hashlib.sha256()
        try:
            with p.open("rb") as f:
                if f.read(4) != b"GGUF":
                    raise ModelError(f"{p}: not a GGUF adapter file (it does not start with the GGUF magic)")
                f.seek(0)
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
        except OSError as exc:
            raise ModelError(f"{p}: cannot read it ({exc.strerror or exc})") from None
        problem = lora_problem(p)
        if problem is not None:  # llama.cpp would load it, then abort the process at the first token
            raise ModelError(f"{p}: refused as a LoRA adapter: {problem}")
        ptr = self.lib.llama_adapter_lora_init(self.model, str(p).encode())
        if not ptr:
            kind, arch = gguf_says(p)
            mine = self._meta("general.architecture")
            why = ("it is a model, not an adapter: pass it with --model" if kind == "model" else
                   f"an adapter for {arch} models, and this model is {mine}" if kind == "adapter" and arch and mine and arch != mine
                   else "not an adapter, or its shapes do not match the model's: an adapter trained for another model")
            raise ModelError(f"{p}: llama.cpp could not load this LoRA adapter for {self.name} ({why})")
        self.adapter = ptr
        self.adapter_path = p
        self.adapter_sha256 = h.hexdigest()
        buf = ctypes.create_string_buffer(512)
        n = self.lib.llama_adapter_meta_val_str(ptr, b"general.name", buf, 512)
        self.adapter_name = buf.value.decode(errors="replace") if n > 0 else p.stem
        n = self.lib.llama_adapter_meta_val_str(ptr, SPELLING_KEY.encode(), buf, 512)
        self.adapter_spelling = buf.value.decode(errors="replace") if n > 0 else "text"
        n = self.lib.llama_adapter_meta_val_str(ptr, FORM_KEY.encode(), buf, 512)
        self.adapter_form = buf.value.decode(errors="replace") if n > 0 else "json"
        if self.adapter_form not in ("lines", "json"):
            raise ModelError(f"{p}: this adapter learned answers spelled {self.adapter_form!r}, which this version does not know")

    def attach(self, ctx: Any) -> None:
        """Apply the adapter (if any) to a context made from this model: call it once per context,
        right after ``llama_init_from_model``. Without an adapter it does nothing."""
        if self.adapter is None:
            return
        lib = self.lib
        adapters = (lib.llama_adapter_lora_p_ctypes * 1)(self.adapter)
        scales = (ctypes.c_float * 1)(self.adapter_scale)
        if lib.llama_set_adapters_lora(ctx, adapters, 1, scales) != 0:
            raise ModelError(f"{self.adapter_path}: llama.cpp could not apply the adapter to a context")

    def adapter_card(self) -> dict[str, str] | None:
        """``{"name", "sha256"}`` of the adapter for the model card, or None when there is none."""
        if self.adapter is None or self.adapter_name is None or self.adapter_sha256 is None:
            return None
        return {"name": self.adapter_name, "sha256": self.adapter_sha256}

    def _meta(self, key: str) -> str | None:
        buf = ctypes.create_string_buffer(512)
        n = self.lib.llama_model_meta_val_str(self.model, key.encode(), buf, 512)
        return buf.value.decode(errors="replace") if n > 0 else None

    def _apply(self, tmpl: bytes | None, messages: list[tuple[str, str]]) -> str | None:
        lib = self.lib
        arr = (lib.llama_chat_message * len(messages))()
        keep = []
        for i, (role, content) in enumerate(messages):
            r, c = role.encode(), content.encode()
            keep += [r, c]
            arr[i].role = r
            arr[i].content = c
        size = 4096
        for _ in range(2):
            buf = ctypes.create_string_buffer(size)
            n = lib.llama_chat_apply_template(tmpl, arr, len(messages), True, buf, size)
            if n < 0:
                return None
            if n <= size:
                return buf.raw[:n].decode(errors="replace")
            size = n + 16
        return None

    def _template_parts(self) -> tuple[str, str, str]:
        """The chat template around the system text and the user text: ``pre SYSTEM mid USER post``."""
        tmpl = self.lib.llama_model_chat_template(self.model, None)
        self.template = "model" if tmpl else "chatml (the model has no template)"
        for messages in ([("system", SYS_MARK), ("user", USER_MARK)], [("user", f"{SYS_MARK}\n\n{USER_MARK}")]):
            text = self._apply(tmpl, messages) if tmpl else None
            if text is None:
                text = self._apply(b"chatml", messages)
                self.template = "chatml (fallback)"
            if text and SYS_MARK in text and USER_MARK in text and text.index(SYS_MARK) < text.index(USER_MARK):
                pre, rest = text.split(SYS_MARK, 1)
                mid, post = rest.split(USER_MARK, 1)
                return pre, mid, post
        raise ModelError(f"{self.path}: cannot apply this model's chat template")

    def tokenize(self, text: str, *, special: bool, bos: bool = False) -> list[int]:
        data = text.encode()
        cap = len(data) + 16
        buf = (self.lib.llama_token * cap)()
        n = self.lib.llama_tokenize(self.vocab, data, len(data), buf, cap, bos and self.add_bos, special)
        if n < 0:
            raise EngineBug(f"tokenizer needs {-n} tokens")
        return list(buf[:n])

    def count(self, text: str) -> int:
        """Tokens of a user text (special-token strings stay plain text)."""
        return len(self.tokenize(text, special=False))

    def piece(self, tok: int) -> bytes:
        buf = ctypes.create_string_buffer(64)
        n = self.lib.llama_token_to_piece(self.vocab, tok, buf, 64, 0, False)
        return buf.raw[:n] if n > 0 else b""

    def close(self) -> None:
        if getattr(self, "adapter", None) is not None:
            self.lib.llama_adapter_lora_free(self.adapter)
            self.adapter = None
        if getattr(self, "model", None):
            self.lib.llama_model_free(self.model)
            self.model = None


def quantize(src: Path, dst: Path, ftype: int, *, threads: int | None = None, requantize: bool = False) -> None:
    """Write the model ``src`` at ``dst`` in llama.cpp's file type ``ftype`` (``llama_model_quantize``;
    ``requantize``: ``src`` may already be quantized). A :class:`ModelError` when llama.cpp fails."""
    import llama_cpp as lib

    lib.llama_backend_init()
    quiet_llama_logs()
    params = lib.llama_model_quantize_default_params()
    params.ftype = ftype
    params.nthread = threads or os.cpu_count() or 1
    params.allow_requantize = requantize
    rc = lib.llama_model_quantize(str(src).encode(), str(dst).encode(), ctypes.byref(params))
    if rc != 0 or not dst.is_file():
        raise ModelError(f"{src}: llama.cpp could not write it as file type {ftype} (code {rc})")


def adapter_shape(path: str | os.PathLike[str]) -> dict[str, Any]:
    """An adapter's rank and the projections it adapts (``{"rank", "targets"}``, targets named as
    ``ttwood train --targets`` takes them), from its tensors' names and shapes (no data read)."""
    from gguf import GGUFReader

    try:
        r = GGUFReader(str(Path(path).expanduser()))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: not a readable GGUF file ({exc})") from None
    names = {v: k for k, v in TARGETS.items()}
    ranks: set[int] = set()
    found: set[str] = set()
    for t in r.tensors:
        parts = t.name.split(".")
        if len(parts) == 5 and parts[2] in names and parts[4] == "lora_a":
            found.add(names[parts[2]])
            ranks.add(int(t.shape[-1]))  # lora_a is (rank, in): the reader lists ggml's order, in first
    return {"rank": max(ranks) if ranks else 0, "targets": ",".join(k for k in TARGETS if k in found)}
