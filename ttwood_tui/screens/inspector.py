"""The inspector: exactly what one creature saw, what it answered, and what the rules made of it."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane

from engine.session import Session, describe
from engine.turn.memory import recall

SCRIPTED_NOTE = (
    "This creature has a scripted brain: fixed rules of thumb decide for it, so there is no prompt "
    "and no raw answer. Its actions and what the rules made of them are below."
)
HUMAN_NOTE = "You decide for this creature: its actions are the ones you queued."


def prompt_view(meta: dict) -> Group:
    """The prompt exactly as the model saw it, after a table of each section's token count."""
    sections = meta.get("sections") or {}
    table = Table(title="prompt sections", show_header=True, header_style="bold", expand=False)
    table.add_column("section")
    table.add_column("tokens", justify="right")
    for name, tokens in sections.items():
        table.add_row(str(name), str(tokens))
    pt, at = meta.get("prompt_tokens"), meta.get("answer_tokens")
    if pt is not None:
        table.add_row(Text("prompt total", style="bold"), Text(str(pt), style="bold"))
    if at is not None:
        table.add_row("answer", str(at))
    head = Text()
    for key in ("model", "latency_ms", "seed", "max_tokens"):
        if key in meta:
            head.append(f"{key}: ", style="dim")
            head.append(f"{meta[key]}   ")
    return Group(head, table, Text(""), Text(str(meta.get("prompt", "")), style="on #1a1a1a"))


class InspectorScreen(Screen[None]):
    """One creature's last turn; ``[`` and ``]`` step to the previous or next creature."""

    DEFAULT_CSS = """
    InspectorScreen #who { height: 1; padding: 0 1; background: $primary-background; }
    InspectorScreen TabbedContent { height: 1fr; }
    InspectorScreen VerticalScroll { padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape,i", "app.pop_screen", "back", id="inspector-back", tooltip="Back to the wood."),
        Binding("left_square_bracket", "other(-1)", "prev creature", id="inspector-prev", tooltip="Inspect the creature above.", key_display="["),
        Binding("right_square_bracket", "other(1)", "next creature", id="inspector-next", tooltip="Inspect the creature below.", key_display="]"),
    ]

    def __init__(self, session: Session, creature: str) -> None:
        super().__init__(id="inspector")
        self.session = session
        self.creature = creature

    def compose(self) -> ComposeResult:
        yield Static(id="who")
        with TabbedContent(id="tabs"):
            with TabPane("prompt", id="tab-prompt"):
                with VerticalScroll():
                    yield Static(id="prompt")
            with TabPane("answer", id="tab-answer"):
                with VerticalScroll():
                    yield Static(id="answer")
            with TabPane("memory", id="tab-memory"):
                with VerticalScroll():
                    yield Static(id="memory")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.render_creature()
        if self.session.brain_name(self.creature) in ("scripted", "human"):
            self.query_one(TabbedContent).active = "tab-answer"

    def action_other(self, delta: int) -> None:
        names = [c.name for c in self.session.wood.creatures]
        i = names.index(self.creature) if self.creature in names else 0
        self.creature = names[(i + delta) % len(names)]
        self.render_creature()

    def render_creature(self) -> None:
        """Fill the three tabs for :attr:`creature`."""
        s = self.session
        c = s.wood.by_name[self.creature]
        brain = s.brain_name(c.name)
        d = s.last.get(c.name)
        who = Text()
        who.append(f"{c.glyph} {c.name}", style=f"bold {c.colour or 'white'}")
        who.append(f"  the {c.species} · {c.role} · brain: {brain} · turn {s.turn}", style="bold")
        if d is None:
            who.append("  (no turn played yet)", style="dim")
        self.query_one("#who", Static).update(who)

        if brain == "scripted":
            prompt: Text | Group = Text(SCRIPTED_NOTE, style="italic")
        elif brain == "human":
            prompt = Text(HUMAN_NOTE, style="italic")
        elif d is None or "prompt" not in d.answer.meta:
            prompt = Text("This brain recorded no prompt for its last turn.", style="italic")
        else:
            prompt = prompt_view(d.answer.meta)
        self.query_one("#prompt", Static).update(prompt)
        self.query_one("#answer", Static).update(self._answer_view())
        self.query_one("#memory", Static).update(self._memory_view())

    def _answer_view(self) -> Group:
        d = self.session.last.get(self.creature)
        if d is None:
            return Group(Text("Nothing yet: play a turn (n).", style="italic"))
        parts: list = []
        if self.session.brain_name(self.creature) == "scripted":
            parts.append(Text(SCRIPTED_NOTE, style="italic"))
        if d.answer.raw is not None:
            parts += [Text("raw answer", style="bold underline"), Text(d.answer.raw), Text("")]
        if d.answer.thinking:
            parts += [Text("thinking", style="bold underline"), Text(d.answer.thinking), Text("")]
        table = Table(title="actions and what the rules made of them", show_header=True, header_style="bold", expand=True)
        table.add_column("action")
        table.add_column("result")
        for action, reason in d.results:
            table.add_row(describe(action), Text("applied", style="green") if reason is None else Text(f"refused: {reason}", style="red"))
        if not d.results:
            table.add_row(Text("(no actions)", style="dim"), "")
        parts.append(table)
        if d.answer.problems:
            parts.append(Text("parts of the answer that could not be read:", style="bold red"))
            parts += [Text(f"  • {p}", style="red") for p in d.answer.problems]
        return Group(*parts)

    def _memory_view(self) -> Group:
        c = self.session.wood.by_name[self.creature]
        parts: list = [Text("its notes", style="bold underline")]
        parts += [Text(f"  • {n}") for n in c.notes] or [Text("  (none)", style="dim")]
        memories = getattr(c, "memories", None)
        if memories is not None:
            parts.append(Text("what it remembers (most salient)", style="bold underline"))
            parts += [Text(f"  • {m}") for m in recall(memories, self.session.turn, 8)] or [Text("  (nothing)", style="dim")]
        trust = getattr(c, "trust", None)
        if trust:
            parts.append(Text("trust from the books (delivered / defaulted)", style="bold underline"))
            parts += [Text(f"  {name}: {v[0]} / {v[1]}") for name, v in sorted(trust.items())]
        parts.append(Text("inbox (read next turn)", style="bold underline"))
        parts += [Text(f"  {i.turn:>3} {i.kind:<8} {i.sender}: {i.text}") for i in c.inbox[-12:]] or [Text("  (empty)", style="dim")]
        return Group(*parts)
