"""How the llama brain's decoder spells an answer in tokens, so a model can be taught that spelling.

With jump-forward the decoder does not sample what the grammar forces: it tokenizes the forced
text on its own and inserts it (``{"thinking":"`` at the start, ``","actions":[{"type":"`` after
the thought, …). The sampled tokens around it are the model's own. So the same answer is spelled
in other tokens than the tokenizer gives the whole text at once: a model trained on the whole
text's tokens meets splits it never saw and loses its way. :func:`decoder_spelling` gives the
tokens the decoder would hold after writing ``text``: the forced pieces as the decoder tokenizes
them, and at each sampled step the first token of the rest's natural spelling (the token a model
that learned the text would pick), exactly as :class:`~engine.minds.brains.llama.LlamaBrain`
takes them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine.core.errors import TTWoodError
from engine.minds.matcher import Matcher
from engine.minds.replan import Replanner, take


class SpellingError(TTWoodError):
    """The decoder could not write this answer (its grammar, planned again after each action,
    refuses it)."""

    title = "answer"


@dataclass(frozen=True, slots=True)
class Spelling:
    """An answer as the decoder writes it."""

    ids: tuple[int, ...]
    forced: tuple[bool, ...]
    """Per token: inserted by jump-forward (True) or sampled by the model (False)."""

    @property
    def sampled(self) -> int:
        """Tokens the model samples: the decode steps the answer costs."""
        return self.forced.count(False)


def decoder_spelling(
    text: str,
    matcher: Matcher,
    tokenize: Callable[[str], list[int]],
    piece: Callable[[int], bytes],
    *,
    replan: Replanner | None = None,
    jump_forward: bool = True,
) -> Spelling:
    """The tokens the decoder holds after writing ``text`` under ``matcher``'s grammar, planned
    again after each action by ``replan`` as the decoder does; a :class:`SpellingError` where the
    grammar refuses it. ``tokenize`` and ``piece`` are the model's (plain text, no special tokens)."""
    ids: list[int] = []
    forced: list[bool] = []
    pos = 0

    def force() -> None:
        nonlocal pos
        chunk = matcher.jump() if jump_forward else ""
        if not chunk:
            return
        if not text.startswith(chunk, pos) or take(matcher, replan, text[:pos], chunk) is None:
            raise SpellingError(f"the grammar forces {chunk!r} at character {pos}, the answer has {text[pos:pos + len(chunk)]!r}")
        toks = tokenize(chunk)
        ids.extend(toks)
        forced.extend([True] * len(toks))
        pos += len(chunk)

    force()
    while pos < len(text):
        rest = tokenize(text[pos:])
        if not rest:
            raise SpellingError(f"no token for {text[pos:]!r}")
        tok = rest[0]
        got = piece(tok).decode(errors="replace")
        if not got or not text.startswith(got, pos) or take(matcher, replan, text[:pos], got) is None:
            raise SpellingError(f"the grammar refuses {got!r} at character {pos}")
        ids.append(tok)
        forced.append(False)
        pos += len(got)
        if matcher.complete():
            break
        force()
    if pos != len(text):
        raise SpellingError(f"the answer is complete at character {pos} of {len(text)}")
    return Spelling(tuple(ids), tuple(forced))
