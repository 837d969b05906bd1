"""Reading what the product stored, for assertions: every plan (archived ones too), the audit
log, and one field's answers. The product itself never needs these views."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import AnswerRecord, PlanRecord, PlanRepository
from storage.access import AuditEntry
from storage.crypto import Keyring
from storage.models import Plan


def every_plan(session: Session, keyring: Keyring) -> list[PlanRecord]:
    """Every plan, archived ones included, most recently updated first."""
    repo = PlanRepository(session, keyring)
    ids = session.scalars(select(Plan.id).order_by(Plan.updated_at.desc(), Plan.id.desc()))
    return [record for plan_id in ids.all() if (record := repo.get(plan_id)) is not None]


def audit_log(app: Any, plan_id: int | None = None) -> list[AuditEntry]:
    """The audit log (of one plan), oldest first; `app` is a bootstrapped bot.bootstrap.App."""
    query = select(AuditEntry).order_by(AuditEntry.id)
    if plan_id is not None:
        query = query.where(AuditEntry.plan_id == plan_id)
    with app.sessions() as session:
        return list(session.scalars(query))


def field_history(repo: PlanRepository, plan_id: int, field: str) -> list[AnswerRecord]:
    """One field's answers, in the order they were given."""
    return [record for record in repo.history(plan_id) if record.field == field]
