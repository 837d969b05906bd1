"""Persistence of households, plans and answers (SQLAlchemy models, repository, migrations)."""

from storage.db import create_engine_for, make_session_factory, migrate
from storage.models import (
    STATUS_GEARCHIVEERD,
    STATUS_KLAAR,
    STATUS_OPEN,
    STATUSES,
    Answer,
    Base,
    Household,
    Plan,
)
from storage.repository import AnswerRecord, PlanRecord, PlanRepository, StaleRevision

__all__ = [
    "STATUSES",
    "STATUS_GEARCHIVEERD",
    "STATUS_KLAAR",
    "STATUS_OPEN",
    "Answer",
    "AnswerRecord",
    "Base",
    "Household",
    "Plan",
    "PlanRecord",
    "PlanRepository",
    "StaleRevision",
    "create_engine_for",
    "make_session_factory",
    "migrate",
]
