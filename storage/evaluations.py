"""Evaluations of plans: each a short interview kept with its answers, encrypted as one
value; a plan has several (after 3, 6, 12 months). The caller owns the transaction."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    CheckConstraint,
    Connection,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.crypto import Keyring
from storage.models import Base, Encrypted, UTCDateTime, utcnow
from storage.records import dumps, reject_floats
from storage.tx import Tx

# An evaluation in progress, and one whose interview is done.
EVALUATION_OPEN, EVALUATION_DONE = "open", "klaar"
EVALUATION_STATUSES: Final = (EVALUATION_OPEN, EVALUATION_DONE)
# Named by its own random uid, like an action: known before the insert, never changed.
EVALUATION_CONTENT: Final = Encrypted("evaluations.content", row=("uid",))


class Evaluation(Base):
    """One evaluation of a plan: where its interview is, and (encrypted) what the plan gave
    it (actions, cost lines pro rata) and what was answered."""

    __tablename__ = "evaluations"
    __table_args__ = (
        CheckConstraint(
            f"status IN ({', '.join(repr(s) for s in EVALUATION_STATUSES)})", name="status"
        ),
        Index("ix_evaluations_plan_id_id", "plan_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), nullable=False
    )
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=EVALUATION_OPEN)
    # The evaluation interview's position (a field key, or "klaar").
    state: Mapped[str] = mapped_column(String(128), nullable=False)
    # Whole months since the plan was finished: the period its figures are counted over.
    months: Mapped[int] = mapped_column(Integer, nullable=False)
    # {"given": ..., "answers": ..., "data": ...} as JSON, encrypted.
    content: Mapped[str] = mapped_column(
        Text, nullable=False, info={"encrypted": EVALUATION_CONTENT}
    )
    author: Mapped[str] = mapped_column(String(128), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


@dataclass(frozen=True)
class EvaluationRecord:
    id: int
    plan_id: int
    status: str
    state: str
    months: int
    given: dict[str, Any]
    answers: dict[str, Any]
    data: dict[str, Any]
    author: str
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None

    @property
    def done(self) -> bool:
        return self.status == EVALUATION_DONE


_COLUMNS = (
    Evaluation.id,
    Evaluation.uid,
    Evaluation.plan_id,
    Evaluation.status,
    Evaluation.state,
    Evaluation.months,
    Evaluation.content,
    Evaluation.author,
    Evaluation.created_at,
    Evaluation.updated_at,
    Evaluation.finished_at,
)


class EvaluationRepository:
    """A plan's evaluations; never commits."""

    def __init__(self, tx: Tx | Session | Connection, keyring: Keyring) -> None:
        self._tx = Tx.of(tx)
        self._keyring = keyring

    def add(
        self,
        plan_id: int,
        *,
        state: str,
        months: int,
        given: dict[str, Any],
        author: str,
        now: datetime,
        status: str = EVALUATION_OPEN,
        answers: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        finished_at: datetime | None = None,
        updated_at: datetime | None = None,
    ) -> int:
        """A new evaluation (or one from a backup, with its answers and times)."""
        uid = uuid.uuid4().hex
        content = self._seal(uid, given, answers or {}, data or {})
        return int(
            self._tx.execute(
                insert(Evaluation)
                .values(
                    uid=uid,
                    plan_id=plan_id,
                    status=status,
                    state=state,
                    months=months,
                    content=content,
                    author=author,
                    created_at=now,
                    updated_at=updated_at or now,
                    finished_at=finished_at,
                )
                .returning(Evaluation.id)
            ).scalar_one()
        )

    def save(
        self,
        evaluation_id: int,
        *,
        state: str,
        status: str,
        answers: dict[str, Any],
        data: dict[str, Any],
        now: datetime,
    ) -> None:
        """The evaluation after a turn; finishing it dates it."""
        row = self._row(evaluation_id)
        if row is None:
            raise LookupError(f"evaluation {evaluation_id} does not exist")
        given = json.loads(EVALUATION_CONTENT.open(self._keyring, row.content, row._mapping))[
            "given"
        ]
        values: dict[str, Any] = {
            "state": state,
            "status": status,
            "content": self._seal(row.uid, given, answers, data),
            "updated_at": now,
        }
        if status == EVALUATION_DONE and row.finished_at is None:
            values["finished_at"] = now
        self._tx.execute(update(Evaluation).where(Evaluation.id == evaluation_id).values(**values))

    def get(self, evaluation_id: int) -> EvaluationRecord | None:
        row = self._row(evaluation_id)
        return None if row is None else self._record(row)

    def of_plan(self, plan_id: int) -> list[EvaluationRecord]:
        """The plan's evaluations, the first first."""
        query = select(*_COLUMNS).where(Evaluation.plan_id == plan_id).order_by(Evaluation.id)
        return [self._record(row) for row in self._tx.execute(query)]

    def _row(self, evaluation_id: int) -> Any:
        query = select(*_COLUMNS).where(Evaluation.id == evaluation_id)
        return self._tx.execute(query).one_or_none()

    def _seal(
        self, uid: str, given: dict[str, Any], answers: dict[str, Any], data: dict[str, Any]
    ) -> str:
        content = {"given": given, "answers": answers, "data": data}
        reject_floats(content, "evaluation")
        return EVALUATION_CONTENT.seal(self._keyring, dumps(content), {"uid": uid})

    def _record(self, row: Any) -> EvaluationRecord:
        content = json.loads(EVALUATION_CONTENT.open(self._keyring, row.content, row._mapping))
        return EvaluationRecord(
            id=row.id,
            plan_id=row.plan_id,
            status=row.status,
            state=row.state,
            months=row.months,
            given=content["given"],
            answers=content["answers"],
            data=content["data"],
            author=row.author,
            created_at=row.created_at,
            updated_at=row.updated_at,
            finished_at=row.finished_at,
        )
