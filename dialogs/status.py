"""A plan's status, defined once: the dialog sets it, storage keeps it, exports carry it."""

from __future__ import annotations

from enum import StrEnum


class PlanStatus(StrEnum):
    """The stored values are part of the database's CHECK constraint and of every export."""

    OPEN = "open"
    FINISHED = "klaar"
    ARCHIVED = "gearchiveerd"
