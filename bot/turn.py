"""What a use case of the plan service hands back, and what it raises instead."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dialogs import Outcome, Snapshot
from storage import ChatRecord, PlanRecord


@dataclass(frozen=True)
class Turn:
    """The dialog's outcome and the plan as stored after it."""

    plan_id: int
    household: str
    outcome: Outcome
    answers: dict[str, Any]
    saved: bool
    # The plan's revision after this turn; buttons carry it so an old one can be recognised.
    revision: int = 0
    # The event was a button of an earlier question: nothing was applied.
    stale: bool = False


class PlanFinished(Exception):
    """The household's current plan is finished: nothing was opened, changed or archived.

    The front end offers a choice: look at it (`PlanService.view`), change it
    (`PlanService.open_plan`, then `wijzig`), or start a new plan after a confirmation
    (`PlanService.renew`, which archives this one).
    """

    def __init__(self, plan: PlanRecord) -> None:
        super().__init__("the household's current plan is finished")
        self.plan_id = plan.id
        self.household = plan.household
        self.revision = plan.revision
        self.updated_at = plan.updated_at


class ChatMoved(Exception):
    """The chat no longer works on the plan (or with the facilitator) the caller assumed:
    it was rebound meanwhile, possibly by another worker. Nothing was applied."""


@dataclass(frozen=True)
class ChatTarget:
    """Bind the opened plan to this chat (Telegram); a group also records its facilitator."""

    chat_id: int
    kind: str
    facilitator: str | None = None
    first_message_id: int | None = None


@dataclass(frozen=True)
class Progress:
    """How far a plan is, as a list of plans shows it."""

    answered: int
    total: int  # the questions that apply to this plan
    step: int  # the current step's number; the number of steps once the plan is done
    steps: int


def snapshot_of(record: PlanRecord) -> Snapshot:
    return Snapshot(
        state=record.state,
        status=record.status,
        answers=record.answers,
        data=record.data,
        revision=record.revision,
    )


def same_binding(stored: ChatRecord | None, held: ChatRecord) -> bool:
    return (
        stored is not None
        and stored.plan_id == held.plan_id
        and stored.kind == held.kind
        and stored.facilitator == held.facilitator
    )
