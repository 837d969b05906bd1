"""Input events and replies: the only currency between the adapters and the dialog core."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Text:
    """Free text typed by the professional: an answer or a command word."""

    text: str
    # False where choices are shown as buttons without numbers (Telegram): a typed number
    # then names no choice the professional could see, so it is refused, not guessed.
    numbered: bool = True


@dataclass(frozen=True)
class Command:
    """A command given directly, e.g. from `/terug` in Telegram; `arg` as typed after it."""

    name: str
    arg: str = ""


@dataclass(frozen=True)
class Choose:
    """A button pressed: option `index` of the question being asked now.

    On a multiple choice it ticks or unticks the option (see Submit); on any other question
    the option's label is the answer, never read as a command.
    """

    index: int


@dataclass(frozen=True)
class Submit:
    """The options ticked on a multiple choice are the answer."""


Event = Text | Command | Choose | Submit


@dataclass(frozen=True)
class Question:
    field: str
    kind: str
    text: str
    help: tuple[str, ...]
    choices: tuple[str, ...]
    max: int | None
    required: bool
    step: int
    steps: int
    step_name: str
    # What is stored now, shown when a question is asked again (`terug`, `wijzig`).
    current: str | None = None
    intro: str = ""
    # Bumped by every stored change; lets a front end refuse answers to an old question.
    revision: int = 0
    # Within a field that asks several things (cost lines): which sub-question this is.
    part: str = ""
    # The options ticked so far on a multiple choice answered with buttons.
    selected: tuple[str, ...] = ()
    # `verder` would pass over this and the other optional questions left in the step.
    skip_rest: bool = False

    @property
    def mark(self) -> str:
        """The message key of the note after the question's text: required, or how to skip."""
        if self.required:
            return "verplicht_kenmerk"
        return "niet_verplicht_rest_kenmerk" if self.skip_rest else "niet_verplicht_kenmerk"

    @property
    def limited(self) -> bool:
        """Whether a multiple choice allows fewer options than it shows (`Kies er hoogstens`)."""
        return self.max is not None and self.max < len(self.choices)

    @property
    def ticks(self) -> bool:
        """Whether buttons tick options (and a `Klaar` button submits them) rather than answer.

        The one home of this rule: only a multiple choice asked as a field of its own ticks;
        a sub-question of a field (`part`) is answered by one press.
        """
        return self.kind == "multichoice" and not self.part


@dataclass(frozen=True)
class Message:
    text: str


@dataclass(frozen=True)
class Error:
    text: str


@dataclass(frozen=True)
class Document:
    """Ask the front end to render the plan as a file in `format` (e.g. `md`)."""

    format: str
    part: str = "plan"


@dataclass(frozen=True)
class Summary:
    """Ask the front end to send the template `<part>.txt.j2` as a chat message (not a file)."""

    part: str


@dataclass(frozen=True)
class Done:
    pass


Reply = Question | Message | Error | Summary | Document | Done


@dataclass(frozen=True)
class Outcome:
    """What one event did: replies to send and the changes to store, in one transaction."""

    replies: tuple[Reply, ...]
    state: str
    status: str
    data: dict[str, Any] = field(default_factory=dict)
    answers: tuple[tuple[str, Any], ...] = ()
    stopped: bool = False
    # Whether the plan must be stored (answers, position or sub-state changed); when it is,
    # its revision goes up by one and the questions above carry that new revision.
    persist: bool = False
