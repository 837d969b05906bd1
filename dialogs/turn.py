"""The plan as the dialog holds it for one event: the stored snapshot, and the model the
state machine drives (what a field's flow sees of it is dialogs.flow.Turn)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dialogs.events import Reply
from dialogs.status import PlanStatus

# Keys of the engine's private sub-state (stored with the plan as JSON).
EDITING = "wijzig"  # step number being edited after `wijzig <stap>`
SKIPPED = "overgeslagen"  # optional fields passed over with `overslaan`
OPEN = "open"  # required fields answered `weet ik nog niet`: open points, never filled
SELECTION = "selectie"  # options ticked with buttons on a multiple choice, not yet submitted


def noted_open(data: Mapping[str, Any]) -> tuple[str, ...]:
    """The keys noted as open points in a plan's dialog data (for the documents)."""
    return tuple(data.get(OPEN, ()))


@dataclass(frozen=True)
class Snapshot:
    """A plan as stored: where the dialog is and what has been answered."""

    state: str
    status: str = PlanStatus.OPEN
    answers: Mapping[str, Any] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)
    revision: int = 0


class TurnModel:
    """The model the machine drives for one event (dialogs.flow.Turn); pooled between events."""

    # Bound by the machine in add_model.
    state: str
    trigger: Callable[..., bool]
    # The plan, for one event (start() to clear()).
    answers: dict[str, Any]
    data: dict[str, Any]
    status: str
    replies: list[Reply]
    changes: list[tuple[str, Any]]

    def __init__(self) -> None:
        self.clear()

    def start(self, snapshot: Snapshot) -> None:
        """Take up a plan for one event (the machine sets `state`)."""
        self.answers = dict(snapshot.answers)
        self.data = dict(snapshot.data)
        self.status = snapshot.status

    def clear(self) -> None:
        """Hold nothing of a plan: the model waits in a pool between events."""
        self.answers = {}
        self.data = {}
        self.status = PlanStatus.OPEN
        self.replies = []
        self.changes = []

    def record(self, key: str, value: Any) -> None:
        self.answers[key] = value
        self.changes.append((key, value))
        for noted in (SKIPPED, OPEN):
            keys = self.data.get(noted)
            if keys and key in keys:
                self.data[noted] = [k for k in keys if k != key]

    def mark_open(self, key: str) -> None:
        """Note a required field as an open point: the interview moves on, the plan stays open."""
        keys = list(self.data.get(OPEN, []))
        if key not in keys:
            keys.append(key)
        self.data[OPEN] = keys

    def pass_over(self, key: str) -> None:
        skipped = list(self.data.get(SKIPPED, []))
        if key not in skipped:
            skipped.append(key)
        self.data[SKIPPED] = skipped
