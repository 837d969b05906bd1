"""Persistence of households, plans and answers (SQLAlchemy models, repository, migrations)."""

from storage import access, inbox  # noqa: F401 - their tables belong to Base.metadata
from storage.db import READ_ONLY, create_engine_for, make_session_factory, migrate
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
from storage.repository import (
    AnswerRecord,
    ChatRecord,
    PlanRecord,
    PlanRepository,
    StaleRevision,
    SuggestionRecord,
)

__all__ = [
    "READ_ONLY",
    "STATUSES",
    "STATUS_GEARCHIVEERD",
    "STATUS_KLAAR",
    "STATUS_OPEN",
    "Answer",
    "AnswerRecord",
    "Base",
    "ChatRecord",
    "Household",
    "Plan",
    "PlanRecord",
    "PlanRepository",
    "StaleRevision",
    "SuggestionRecord",
    "create_engine_for",
    "make_session_factory",
    "migrate",
]
