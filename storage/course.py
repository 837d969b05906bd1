"""A plan's course after the interview (ingediend, besluit, uitgevoerd, geëvalueerd) with
every step kept, and the budget claims of granted plans; the caller owns the transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Final

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Connection,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from dialogs.money import from_cents, to_cents
from dialogs.status import RECORDED, Stage
from storage.access import OWNER, USER_ID, PlanAccess, Professional
from storage.crypto import Keyring
from storage.facts import FactsRepository
from storage.models import Base, Encrypted, Plan, UTCDateTime, utcnow
from storage.tx import Tx

# The role on a plan of a Doorbraakteam member it was submitted to: they may look, not change.
READER: Final = "lezer"
COURSE_WHO = Encrypted("plan_course.who", row=("uid",))
_STAGE_CHECK: Final = f"stage IN ({', '.join(repr(s.value) for s in RECORDED)})"


class CourseStep(Base):
    """One step of a plan's course: who recorded it, when, and to or by whom."""

    __tablename__ = "plan_course"
    __table_args__ = (
        CheckConstraint(_STAGE_CHECK, name="stage"),
        Index("ix_plan_course_plan_id_id", "plan_id", "id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    # Random, set before the insert: names the row for its encrypted `who`.
    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), nullable=False
    )
    stage: Mapped[str] = mapped_column(String(16), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    author: Mapped[str] = mapped_column(String(128), nullable=False)
    # ingediend: bij wie (the Doorbraakteam); a decision: who decided. Free text: encrypted.
    who: Mapped[str] = mapped_column(Text, nullable=False, info={"encrypted": COURSE_WHO})
    # The day it happened (a decision's date), as given; `at` is when it was recorded.
    day: Mapped[date] = mapped_column(Date, nullable=False)


class BudgetClaim(Base):
    """The amount a granted plan claims from a team's doorbraakbudget (exact, in euros)."""

    __tablename__ = "budget_claims"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), nullable=False, index=True
    )
    team: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    # Whole cents: exact in every database (SQLite's NUMERIC would pass through a float).
    cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # The day of the decision: the budget period it counts in.
    day: Mapped[date] = mapped_column(Date, nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    author: Mapped[str] = mapped_column(String(128), nullable=False)


@dataclass(frozen=True)
class StepRecord:
    stage: Stage
    at: datetime
    author: str
    who: str
    day: date


@dataclass(frozen=True)
class ClaimRecord:
    plan_id: int
    team: str
    amount: Decimal
    day: date
    at: datetime
    author: str
    # The stage of the claiming plan now.
    stage: Stage


class CourseRepository:
    """Steps of plans' courses and budget claims; never commits."""

    def __init__(self, tx: Tx | Session | Connection, keyring: Keyring) -> None:
        self._tx = Tx.of(tx)
        self._keyring = keyring

    def record(
        self, plan_id: int, stage: Stage, *, author: str, who: str, day: date, now: datetime
    ) -> StepRecord:
        """Add a step (the caller checked that it may be taken)."""
        uid = uuid.uuid4().hex
        self._tx.execute(
            insert(CourseStep).values(
                uid=uid,
                plan_id=plan_id,
                stage=stage.value,
                at=now,
                author=author,
                who=COURSE_WHO.seal(self._keyring, who, {"uid": uid}),
                day=day,
            )
        )
        # The report over all plans counts the course from the plan's facts (storage.facts).
        facts = FactsRepository(self._tx)
        if stage is Stage.SUBMITTED:
            facts.set_course(plan_id, submitted_on=day)
        elif stage in (Stage.GRANTED, Stage.PARTLY, Stage.REJECTED):
            facts.set_course(plan_id, decided_on=day, decision=stage.value)
        elif stage is Stage.EVALUATED:
            facts.set_course(plan_id, evaluated_on=day)
        return StepRecord(stage, now, author, who, day)

    def steps(self, plan_id: int) -> list[StepRecord]:
        query = (
            select(CourseStep.uid, CourseStep.stage, CourseStep.at, CourseStep.author)
            .add_columns(CourseStep.who, CourseStep.day)
            .where(CourseStep.plan_id == plan_id)
            .order_by(CourseStep.id)
        )
        return [
            StepRecord(
                Stage(row.stage),
                row.at,
                row.author,
                COURSE_WHO.open(self._keyring, row.who, {"uid": row.uid}),
                row.day,
            )
            for row in self._tx.execute(query)
        ]

    def last(self, plan_id: int) -> str | None:
        """The plan's last recorded step, None if there is none."""
        return self._tx.scalar(
            select(CourseStep.stage)
            .where(CourseStep.plan_id == plan_id)
            .order_by(CourseStep.id.desc())
            .limit(1)
        )

    # --- budget claims -------------------------------------------------------------------

    def claim(
        self,
        plan_id: int,
        team: str,
        amount: Decimal | None,
        *,
        day: date,
        author: str,
        now: datetime,
    ) -> None:
        """The plan's claim is now `amount` (none: no claim); a plan has at most one."""
        self._tx.execute(delete(BudgetClaim).where(BudgetClaim.plan_id == plan_id))
        if amount is not None:
            self._tx.execute(
                insert(BudgetClaim).values(
                    plan_id=plan_id,
                    team=team,
                    cents=to_cents(amount),
                    day=day,
                    at=now,
                    author=author,
                )
            )

    def claims(self, plan_id: int | None = None) -> list[ClaimRecord]:
        """Claims with their plan's stage now: of one plan, or of every plan."""
        last = (
            select(CourseStep.plan_id, func.max(CourseStep.id).label("id"))
            .group_by(CourseStep.plan_id)
            .subquery()
        )
        query = (
            select(BudgetClaim.plan_id, BudgetClaim.team, BudgetClaim.cents, BudgetClaim.day)
            .add_columns(BudgetClaim.at, BudgetClaim.author, CourseStep.stage)
            .join(last, last.c.plan_id == BudgetClaim.plan_id)
            .join(CourseStep, CourseStep.id == last.c.id)
            .order_by(BudgetClaim.id)
        )
        if plan_id is not None:
            query = query.where(BudgetClaim.plan_id == plan_id)
        return [
            ClaimRecord(
                r.plan_id, r.team, from_cents(r.cents), r.day, r.at, r.author, Stage(r.stage)
            )
            for r in self._tx.execute(query)
        ]

    # --- the Doorbraakteam ---------------------------------------------------------------

    def members(self, team: str) -> list[tuple[int, int]]:
        """The team's registered professionals: (professional id, Telegram user id)."""
        rows = self._tx.execute(
            select(Professional.id, Professional.user_key, Professional.user_enc)
            .where(Professional.team == team)
            .order_by(Professional.id)
        )
        return [
            (row.id, int(USER_ID.open(self._keyring, row.user_enc, {"user_key": row.user_key})))
            for row in rows
        ]

    def owner(self, plan_id: int) -> int | None:
        """The Telegram user id of the plan's owner, if a registered professional owns it."""
        row = self._tx.execute(
            select(Professional.user_key, Professional.user_enc)
            .join(PlanAccess, PlanAccess.professional_id == Professional.id)
            .where(PlanAccess.plan_id == plan_id, PlanAccess.role == OWNER)
            .limit(1)
        ).first()
        if row is None:
            return None
        return int(USER_ID.open(self._keyring, row.user_enc, {"user_key": row.user_key}))

    def share_read_only(
        self, plan_id: int, professional_ids: Sequence[int], now: datetime
    ) -> None:
        """Let the professionals look at the plan, unless they have a role on it already."""
        query = select(PlanAccess.professional_id).where(PlanAccess.plan_id == plan_id)
        have = set(self._tx.scalars(query))
        for professional_id in professional_ids:
            if professional_id not in have:
                values = {"professional_id": professional_id, "role": READER, "created_at": now}
                self._tx.execute(insert(PlanAccess).values(plan_id=plan_id, **values))

    def plan_status(self, plan_id: int) -> str | None:
        return self._tx.scalar(select(Plan.status).where(Plan.id == plan_id))
