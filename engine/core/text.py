"""Text that came from creatures or the player, made safe to show and to put in a prompt."""

from __future__ import annotations

import re
import unicodedata

_SPECIAL = re.compile(
    r"<\|[^|<>]{0,40}\|>|</?s>|\[/?INST\]|<<SYS>>|<</SYS>>|<start_of_turn>|<end_of_turn>|<\|?(?:im_start|im_end|endoftext|eot_id)\|?>",
    re.IGNORECASE,
)


def clean_text(text: str, limit: int) -> str:
    """Strip model special-token strings and control characters, squeeze spaces, cap the length."""
    text = _SPECIAL.sub(" ", text)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: max(0, limit - 1)].rstrip() + "…"
    return text
