"""What the engine and the flows of a field (one per question kind) know of each other."""

from __future__ import annotations

from typing import Any, Protocol

from dialogs.events import Reply
from dialogs.spec import Field


class Turn(Protocol):
    """One plan for one event, as a flow sees it: the engine owns the position."""

    answers: dict[str, Any]
    # The dialog's private sub-state, stored with the plan as JSON; flows keep theirs here.
    data: dict[str, Any]
    replies: list[Reply]

    def record(self, key: str, value: Any) -> None:
        """Store an answer (stored before any reply is sent)."""

    def pass_over(self, key: str) -> None:
        """Note an optional field passed over with `overslaan` (shown in the overview)."""


class FieldFlow(Protocol):
    """How one kind of field is asked and answered; the engine moves on when told so."""

    def ask(self, turn: Turn, spec_field: Field) -> None:
        """Add the question the field is at to `turn.replies`."""

    def on_text(self, turn: Turn, spec_field: Field, text: str) -> bool:
        """Typed text (or a pressed label); True when the field is done and the dialog moves on."""

    def back(self, turn: Turn, spec_field: Field) -> bool:
        """`terug`; True when handled within the field, False to go to the previous field."""

    def skip(self, turn: Turn, spec_field: Field) -> bool:
        """`overslaan`; True when the field is done and the dialog moves on."""

    def interrupted(self, turn: Turn, command: str) -> None:
        """A command came in: drop whatever waits on an answer that the command replaces."""
