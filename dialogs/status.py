"""A plan's status, defined once: the dialog sets it, storage keeps it, exports carry it."""

from __future__ import annotations

from enum import StrEnum


class PlanStatus(StrEnum):
    """The stored values are part of the database's CHECK constraint and of every export."""

    OPEN = "open"
    FINISHED = "klaar"
    ARCHIVED = "gearchiveerd"


class Stage(StrEnum):
    """A plan's course after the interview (storage.course keeps every change).

    A plan without a recorded step shows its interview status: `open` as concept, `klaar`
    as klaar. The decision is one step whose value is its outcome.
    """

    CONCEPT = "concept"
    FINISHED = "klaar"
    SUBMITTED = "ingediend"
    GRANTED = "toegekend"
    PARTLY = "deels"
    REJECTED = "afgewezen"
    EXECUTED = "uitgevoerd"
    EVALUATED = "geëvalueerd"


# The outcomes of a decision, and those of them that grant something.
DECISIONS = (Stage.GRANTED, Stage.PARTLY, Stage.REJECTED)
GRANTING = (Stage.GRANTED, Stage.PARTLY)
# The steps that are recorded (concept and klaar come from the interview itself).
RECORDED = (Stage.SUBMITTED, *DECISIONS, Stage.EXECUTED, Stage.EVALUATED)
# From which stage each recorded step may be taken.
ALLOWED_FROM: dict[Stage, tuple[Stage, ...]] = {
    Stage.SUBMITTED: (Stage.FINISHED, Stage.SUBMITTED, Stage.REJECTED),
    Stage.GRANTED: (Stage.SUBMITTED, *DECISIONS),
    Stage.PARTLY: (Stage.SUBMITTED, *DECISIONS),
    Stage.REJECTED: (Stage.SUBMITTED, *DECISIONS),
    Stage.EXECUTED: GRANTING,
    Stage.EVALUATED: (*GRANTING, Stage.EXECUTED, Stage.EVALUATED),
}


def stage_of(status: str, recorded: str | None) -> Stage | None:
    """The stage shown for a plan with interview `status` and its last recorded step; None
    for an archived plan that never went further than the interview."""
    if recorded is not None:
        return Stage(recorded)
    if status == PlanStatus.OPEN:
        return Stage.CONCEPT
    if status == PlanStatus.FINISHED:
        return Stage.FINISHED
    return None
