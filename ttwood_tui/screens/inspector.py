"""The inspector: exactly what one creature saw, what it answered, and what the rules made of it.

It shows the view of the turn that was last finished when it opened (a turn played meanwhile
does not change what it shows)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane

from engine.session import DecidedView, PromptView, SessionView, describe

SCRIPTED_NOTE = (
    "This creature has a scripted brain: fixed rules of thumb decide for it, so there is no prompt "
    "and no raw answer. Its actions and what the rules made of them are below."
)
HUMAN_NOTE = "You decide for this creature: its actions are the ones you queued."


def prompt_view(p: PromptView) -> Group:
    """The prompt exactly as the model saw it, after a table of each section's token count."""
    table = Table(title="prompt sections", show_header=True, header_style="bold", expand=False)
    table.add_column("section")
    table.add_column("tokens", justify="right")
    for name, tokens in p.sections:
        table.add_row(name, tokens)
    if p.prompt_tokens is not None:
        table.add_row(Text("prompt total", style="bold"), Text(str(p.prompt_tokens), style="bold"))
    if p.answer_tokens is not None:
        table.add_row("answer", str(p.answer_tokens))
    head = Text()
    for key, value in p.head:
        head.append(f"{key}: ", style="dim")
        head.append(f"{value}   ")
    return Group(head, table, Text(""), Text(p.text, style="on #1a1a1a"))


class InspectorScreen(Screen[None]):
    """One creature's last turn; ``[`` and ``]`` step to the previous or next creature."""

    DEFAULT_CSS = """
    InspectorScreen #who { height: 1; padding: 0 1; background: $primary-background; }
    InspectorScreen TabbedContent { height: 1fr; }
    InspectorScreen VerticalScroll { padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape,i", "app.pop_screen", "back", id="inspector-back", tooltip="Back to the wood."),
        Binding("left_square_bracket", "other(-1)", "prev creature", id="inspector-prev",
                tooltip="Inspect the creature above.", key_display="["),
        Binding("right_square_bracket", "other(1)", "next creature", id="inspector-next",
                tooltip="Inspect the creature below.", key_display="]"),
    ]

    def __init__(self, view: SessionView, creature: str) -> None:
        super().__init__(id="inspector")
        self.view = view
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
        if self._decider() in ("scripted", "human"):
            self.query_one(TabbedContent).active = "tab-answer"

    def action_other(self, delta: int) -> None:
        names = [c.name for c in self.view.wood.creatures]
        i = names.index(self.creature) if self.creature in names else 0
        self.creature = names[(i + delta) % len(names)]
        self.render_creature()

    def _decider(self) -> str:
        """The kind of brain that decided the creature's last turn (the one that decides next, before any)."""
        d = self.view.wood.creature(self.creature).decided
        return d.brain if d is not None else self.view.brain(self.creature)

    def render_creature(self) -> None:
        """Fill the three tabs for :attr:`creature`: its last turn, as the brain that played it saw it."""
        c = self.view.wood.creature(self.creature)
        brain = self.view.brain(c.name)
        d = c.decided
        decider = self._decider()
        who = Text()
        who.append(f"{c.glyph} {c.name}", style=f"bold {c.colour or 'white'}")
        who.append(f"  the {c.species} · {c.role} · brain: {brain} · turn {self.view.turn}", style="bold")
        if d is None:
            who.append("  (no turn played yet)", style="dim")
        self.query_one("#who", Static).update(who)

        if decider == "scripted":
            prompt: Text | Group = Text(SCRIPTED_NOTE, style="italic")
        elif decider == "human":
            prompt = Text(HUMAN_NOTE, style="italic")
        elif d is None or d.prompt is None:
            prompt = Text("This brain recorded no prompt for its last turn.", style="italic")
        else:
            prompt = prompt_view(d.prompt)
        self.query_one("#prompt", Static).update(prompt)
        self.query_one("#answer", Static).update(self._answer_view(d, decider))
        self.query_one("#memory", Static).update(self._memory_view())

    def _answer_view(self, d: DecidedView | None, brain: str) -> Group:
        if d is None:
            return Group(Text("Nothing yet: play a turn (n).", style="italic"))
        parts: list[RenderableType] = []
        if brain == "scripted":
            parts.append(Text(SCRIPTED_NOTE, style="italic"))
        if d.raw is not None:
            parts += [Text("raw answer", style="bold underline"), Text(d.raw), Text("")]
        if d.thinking:
            parts += [Text("thinking", style="bold underline"), Text(d.thinking), Text("")]
        table = Table(title="actions and what the rules made of them", show_header=True, header_style="bold", expand=True)
        table.add_column("action")
        table.add_column("result")
        for r in d.results:
            result = Text("applied", style="green") if r.reason is None else Text(f"refused: {r.reason}", style="red")
            table.add_row(describe(r.action), result)
        if not d.results:
            table.add_row(Text("(no actions)", style="dim"), "")
        parts.append(table)
        if d.problems:
            parts.append(Text("parts of the answer that could not be read:", style="bold red"))
            parts += [Text(f"  • {p}", style="red") for p in d.problems]
        return Group(*parts)

    def _memory_view(self) -> Group:
        c = self.view.wood.creature(self.creature)
        parts: list[RenderableType] = [Text("its notes", style="bold underline")]
        parts += [Text(f"  • {n}") for n in c.notes] or [Text("  (none)", style="dim")]
        parts.append(Text("what it remembers (most salient)", style="bold underline"))
        parts += [Text(f"  • {m}") for m in c.memories] or [Text("  (nothing)", style="dim")]
        if c.trust:
            parts.append(Text("trust from the books (delivered / defaulted)", style="bold underline"))
            parts += [Text(f"  {name}: {kept} / {broke}") for name, kept, broke in c.trust]
        parts.append(Text("inbox (read next turn)", style="bold underline"))
        parts += [Text(f"  {i.turn:>3} {i.kind:<8} {i.sender}: {i.text}") for i in c.inbox[-12:]] or [Text("  (empty)", style="dim")]
        return Group(*parts)
