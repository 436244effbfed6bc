"""Help text that wraps as prose at any terminal width.

Docstrings and help strings are written wrapped at the source's line length; Typer's help keeps
those line ends after the first paragraph, so at 80 columns a sentence broke mid-line. Each
paragraph is joined into one line here, and the terminal wraps it; an indented paragraph (an
example command) is kept as written.
"""

from __future__ import annotations

import inspect

import typer


def prose(text: str) -> str:
    """``text`` with each paragraph on one line, but those whose lines are indented (examples)."""
    out = []
    for paragraph in inspect.cleandoc(text).split("\n\n"):
        lines = paragraph.splitlines()
        out.append(paragraph if any(line.startswith(" ") for line in lines) else " ".join(line.strip() for line in lines))
    return "\n\n".join(out)


def flow_help(app: typer.Typer) -> None:
    """Make the help of ``app``, its commands and its groups prose (call it once every command is added)."""
    if isinstance(app.info.help, str):
        app.info.help = prose(app.info.help)
    for command in app.registered_commands:
        text = command.help if isinstance(command.help, str) else inspect.getdoc(command.callback) if command.callback else None
        if text:
            command.help = prose(text)
    for group in app.registered_groups:
        if isinstance(group.typer_instance, typer.Typer):
            flow_help(group.typer_instance)
        if isinstance(group.help, str):
            group.help = prose(group.help)
