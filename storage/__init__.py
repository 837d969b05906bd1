"""Persistence of households, plans and answers (SQLAlchemy models, repository, migrations)."""

from storage import (  # noqa: F401 - their tables belong to Base.metadata
    access,
    bundle,
    course,
    escalations,
    evaluations,
    facts,
    inbox,
    lessons,
)
from storage.db import READ_ONLY, create_engine_for, make_session_factory, migrate
from storage.models import (
    STATUSES,
    Answer,
    Base,
    Household,
    Plan,
)
from storage.records import AnswerRecord, ChatRecord, PlanRecord, StaleRevision, SuggestionRecord
from storage.repository import PlanRepository
from storage.uow import StorageUnavailable, UnitOfWork, UnitOfWorkFactory, Units

__all__ = [
    "READ_ONLY",
    "STATUSES",
    "Answer",
    "AnswerRecord",
    "Base",
    "ChatRecord",
    "Household",
    "Plan",
    "PlanRecord",
    "PlanRepository",
    "StaleRevision",
    "StorageUnavailable",
    "SuggestionRecord",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "Units",
    "create_engine_for",
    "make_session_factory",
    "migrate",
]
