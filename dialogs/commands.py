"""The command words of the interview: a whole message that names one (with or without `/`)."""

from __future__ import annotations

from dialogs.events import Command
from dialogs.spec import Interview

# The dialog's own commands; their words are under `commands:` in prompts/messages.yaml.
# `evaluatie`: the evaluation of a finished plan (bot.evaluations runs it; the dialog only
# refuses it on a plan that is not finished).
COMMANDS: tuple[str, ...] = (
    "terug", "overslaan", "verder", "overzicht", "wijzig", "stop", "plan", "help",
    "evaluatie",
)  # fmt: skip


def parse_command(spec: Interview, text: str) -> Command | None:
    """A whole message that is a command word (with or without `/`), or an unknown `/x`."""
    words = text.strip().split(maxsplit=1)
    if not words:
        return None
    head = words[0].lower()
    slash = head.startswith("/")
    head = head.lstrip("/").split("@", 1)[0]
    arg = words[1].strip() if len(words) > 1 else ""
    for name in COMMANDS:
        if head in spec.commands.get(name, ()) and (not arg or name == "wijzig"):
            return Command(name, arg)
    if slash:
        return Command(head, arg)
    return None
