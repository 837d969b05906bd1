"""The escalatieladder in the database: proposals to escalate a plan to the next rung (sent
once, claimed like reminders), escalations with who, when, why and the outcome. The caller
owns the transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

from sqlalchemy import (
    CheckConstraint,
    Connection,
    Date,
    ForeignKey,
    Index,
    Integer,
    Row,
    String,
    Text,
    UniqueConstraint,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from dialogs.status import PlanStatus
from storage.access import PlanAccess
from storage.codec import Codec
from storage.crypto import Keyring
from storage.facts import FactsRepository
from storage.models import (
    ACTION_OPEN,
    Action,
    Base,
    Encrypted,
    Household,
    Plan,
    UTCDateTime,
)
from storage.reminders import ReminderRepository, after_failure
from storage.tx import Tx

# Why escalating was proposed: an action overdue, a negative decision, or by hand.
OVERDUE, DECISION, BY_HAND = "te_laat", "besluit", "hand"
CAUSES: Final = (OVERDUE, DECISION, BY_HAND)
# A proposal waits for an answer; escalated or declined is the answer; lapsed: the plan went
# past this rung meanwhile.
PROPOSED, ESCALATED, DECLINED, LAPSED = "voorgesteld", "opgeschaald", "afgewezen", "vervallen"
STATES: Final = (PROPOSED, ESCALATED, DECLINED, LAPSED)
# What escalating achieved, recorded later.
SOLVED, PARTLY, NOT_SOLVED = "opgelost", "deels", "niet"
OUTCOMES: Final = (SOLVED, PARTLY, NOT_SOLVED)

ESCALATION_REASON: Final = Encrypted("escalations.reason", row=("uid",))


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(repr(v) for v in values)


class Escalation(Base):
    """A proposal to escalate a plan to a rung of the ladder, and (once answered) the
    escalation itself: who, when, why, and later the outcome."""

    __tablename__ = "escalations"
    __table_args__ = (
        CheckConstraint(f"cause IN ({_in(CAUSES)})", name="cause"),
        CheckConstraint(f"state IN ({_in(STATES)})", name="state"),
        CheckConstraint(f"outcome IS NULL OR outcome IN ({_in(OUTCOMES)})", name="outcome"),
        # One proposal per overdue action and date: a restart or a second worker adds none.
        UniqueConstraint("action_id", "due_on", name="uq_escalations_action_id_due_on"),
        Index("ix_escalations_plan_id", "plan_id", "id"),
        Index("ix_escalations_sent_at", "sent_at", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Random, set before the insert: names the row for its encrypted reason.
    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), nullable=False
    )
    # The overdue action it was proposed for, and that action's date then.
    action_id: Mapped[int | None] = mapped_column(
        ForeignKey("actions.id", ondelete="CASCADE"), nullable=True
    )
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    cause: Mapped[str] = mapped_column(String(16), nullable=False)
    # The rung (0 is the lowest) and its name when proposed, as prompts/opvolging.yaml had it.
    rung: Mapped[int] = mapped_column(Integer, nullable=False)
    rung_name: Mapped[str] = mapped_column(String(128), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    # The proposal claimed for sending (and so sent, or being sent).
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Escalated or declined: by whom (an actor), when, and why (one short text).
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    author: Mapped[str | None] = mapped_column(String(128), nullable=True)
    reason: Mapped[str | None] = mapped_column(
        Text, nullable=True, info={"encrypted": ESCALATION_REASON}
    )
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    outcome_by: Mapped[str | None] = mapped_column(String(128), nullable=True)


@dataclass(frozen=True)
class EscalationRecord:
    id: int
    plan_id: int
    household: str
    plan_status: str
    action_id: int | None
    due_on: date | None
    cause: str
    rung: int
    rung_name: str
    state: str
    proposed_at: datetime
    sent_at: datetime | None
    decided_at: datetime | None
    author: str | None
    reason: str | None
    outcome: str | None
    outcome_at: datetime | None
    outcome_by: str | None


@dataclass(frozen=True)
class ClaimedProposal:
    """A proposal claimed for sending, with the Telegram user id to send it to."""

    escalation: EscalationRecord
    user_id: int | None
    attempts: int


_COLUMNS = (
    Escalation.id,
    Escalation.uid,
    Escalation.plan_id,
    Escalation.action_id,
    Escalation.due_on,
    Escalation.cause,
    Escalation.rung,
    Escalation.rung_name,
    Escalation.state,
    Escalation.proposed_at,
    Escalation.sent_at,
    Escalation.attempts,
    Escalation.decided_at,
    Escalation.author,
    Escalation.reason,
    Escalation.outcome,
    Escalation.outcome_at,
    Escalation.outcome_by,
    Plan.status.label("plan_status"),
    Household.number,
    Household.number_enc,
)


def _query() -> Any:
    return (
        select(*_COLUMNS)
        .join(Plan, Plan.id == Escalation.plan_id)
        .join(Household, Household.id == Plan.household_id)
    )


class EscalationRepository:
    """Proposals and escalations; never commits."""

    def __init__(self, tx: Tx | Session | Connection, keyring: Keyring) -> None:
        self._tx = Tx.of(tx)
        self._keyring = keyring
        self._codec = Codec(keyring)

    # --- the plan's place on the ladder --------------------------------------------------

    def next_rung(self, plan_id: int) -> int:
        """The rung above the highest the plan was escalated to (0 if never)."""
        top = self._tx.scalar(
            select(func.max(Escalation.rung)).where(
                Escalation.plan_id == plan_id, Escalation.state == ESCALATED
            )
        )
        return 0 if top is None else int(top) + 1

    # --- proposals -----------------------------------------------------------------------

    def lock_plan(self, plan_id: int) -> None:
        """Wait for any other worker proposing for this plan (PostgreSQL; SQLite has one
        writer at a time), so that each sees what the other proposed."""
        self._tx.execute(select(Plan.id).where(Plan.id == plan_id).with_for_update())

    def last_activity(self, plan_id: int) -> datetime | None:
        """When the plan was last proposed, escalated or declined."""
        found = self._tx.scalar(
            select(func.max(func.coalesce(Escalation.decided_at, Escalation.proposed_at))).where(
                Escalation.plan_id == plan_id
            )
        )
        if isinstance(found, str):  # SQLite hands back an aggregate of dates as text
            found = datetime.fromisoformat(found)
        if found is not None and found.tzinfo is None:
            found = found.replace(tzinfo=UTC)
        return found

    def overdue(self, *, due_by: date, plan_id: int | None = None) -> list[tuple[int, int, date]]:
        """(plan, action, date) of open actions due on or before `due_by` on plans that
        are not archived, not proposed for that date yet: of one plan, or of every plan
        someone can be told about."""
        proposed = select(Escalation.id).where(
            Escalation.action_id == Action.id, Escalation.due_on == Action.due
        )
        query = (
            select(Action.plan_id, Action.id, Action.due)
            .join(Plan, Plan.id == Action.plan_id)
            .where(
                Action.status == ACTION_OPEN,
                Action.removed_at.is_(None),
                Action.due.is_not(None),
                Action.due <= due_by,
                Plan.status != PlanStatus.ARCHIVED,
                ~proposed.exists(),
            )
            .order_by(Action.due, Action.id)
        )
        if plan_id is None:
            query = query.where(Plan.id.in_(select(PlanAccess.plan_id)))
        else:
            query = query.where(Plan.id == plan_id)
        return [(p, a, d) for p, a, d in self._tx.rows(query)]

    def propose(
        self,
        plan_id: int,
        *,
        cause: str,
        rung: int,
        rung_name: str,
        now: datetime,
        action_id: int | None = None,
        due_on: date | None = None,
    ) -> int | None:
        """A new proposal, to be claimed and sent; None if the action was proposed for
        that date already (by another worker, say)."""
        values = {
            "uid": uuid.uuid4().hex,
            "plan_id": plan_id,
            "action_id": action_id,
            "due_on": due_on,
            "cause": cause,
            "rung": rung,
            "rung_name": rung_name,
            "state": PROPOSED,
            "proposed_at": now,
            "attempts": 0,
        }
        dialect = postgresql if self._tx.dialect == "postgresql" else sqlite
        statement = (
            dialect.insert(Escalation)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["action_id", "due_on"])
            .returning(Escalation.id)
        )
        found = self._tx.execute(statement).first()
        return None if found is None else int(found[0])

    def claim_due(
        self, *, now: datetime, plan_id: int | None = None, limit: int = 50
    ) -> list[ClaimedProposal]:
        """Claim the proposals not sent yet (of one plan, or of all that a professional can be
        told about) and mark them sent, in one statement, as storage.reminders claims
        reminders: a restart or a second worker never sends one twice."""
        live = select(Plan.id).where(Plan.status != PlanStatus.ARCHIVED)
        pick = select(Escalation.id).where(
            Escalation.state == PROPOSED,
            Escalation.sent_at.is_(None),
            Escalation.failed_at.is_(None),
            or_(Escalation.retry_at.is_(None), Escalation.retry_at <= now),
            Escalation.plan_id.in_(live),
        )
        if plan_id is None:  # whom to send it to: a plan made in the terminal waits for it
            pick = pick.where(Escalation.plan_id.in_(select(PlanAccess.plan_id)))
        else:
            pick = pick.where(Escalation.plan_id == plan_id)
        pick = pick.order_by(Escalation.id).limit(limit).with_for_update(skip_locked=True)
        rows = self._tx.rows(
            update(Escalation)
            .where(Escalation.id.in_(pick))
            .values(sent_at=now, attempts=Escalation.attempts + 1, retry_at=None)
            .returning(Escalation.id, Escalation.attempts)
        )
        reminders = ReminderRepository(self._tx, self._keyring)
        claimed = []
        for escalation_id, attempts in sorted(rows):
            found = self.get(escalation_id)
            assert found is not None
            user_id = reminders.recipient(found.plan_id, found.action_id)
            claimed.append(ClaimedProposal(found, user_id, attempts))
        return claimed

    def mark_sent(self, escalation_id: int, now: datetime) -> None:
        """A proposal shown at once by the front end that made it: not to be sent again."""
        self._tx.execute(
            update(Escalation)
            .where(Escalation.id == escalation_id)
            .values(sent_at=now, attempts=Escalation.attempts + 1)
        )

    def failed(self, escalation_id: int, attempts: int, now: datetime) -> None:
        """A claimed proposal could not be sent: due again after a pause, or given up."""
        values = after_failure(attempts, now)
        self._tx.execute(update(Escalation).where(Escalation.id == escalation_id).values(**values))

    # --- answers -------------------------------------------------------------------------

    def decide(
        self,
        escalation_id: int,
        state: str,
        *,
        author: str,
        now: datetime,
        reason: str | None = None,
    ) -> None:
        """Answer a proposal: escalated (with why), declined, or lapsed."""
        uid = self._tx.scalar(select(Escalation.uid).where(Escalation.id == escalation_id))
        values: dict[str, Any] = {"state": state, "decided_at": now, "author": author}
        if reason is not None:
            values["reason"] = ESCALATION_REASON.seal(self._keyring, reason, {"uid": uid})
        self._tx.execute(update(Escalation).where(Escalation.id == escalation_id).values(**values))
        if state == ESCALATED:
            # The report over all plans counts escalated plans from their facts.
            plan_id = self._tx.scalar(
                select(Escalation.plan_id).where(Escalation.id == escalation_id)
            )
            FactsRepository(self._tx).set_course(plan_id, escalated_on=now.date())

    def set_outcome(self, escalation_id: int, outcome: str, *, author: str, now: datetime) -> None:
        self._tx.execute(
            update(Escalation)
            .where(Escalation.id == escalation_id)
            .values(outcome=outcome, outcome_at=now, outcome_by=author)
        )

    def restore(self, plan_id: int, *, action_id: int | None, **fields: Any) -> None:
        """An escalation as a backup holds it."""
        uid = uuid.uuid4().hex
        reason = fields.pop("reason")
        sealed = (
            None if reason is None else ESCALATION_REASON.seal(self._keyring, reason, {"uid": uid})
        )
        self._tx.execute(
            insert(Escalation).values(
                uid=uid, plan_id=plan_id, action_id=action_id, reason=sealed, attempts=0, **fields
            )
        )

    # --- reading -------------------------------------------------------------------------

    def get(self, escalation_id: int) -> EscalationRecord | None:
        row = self._tx.execute(_query().where(Escalation.id == escalation_id)).one_or_none()
        return None if row is None else self._record(row)

    def of_plan(self, plan_id: int) -> list[EscalationRecord]:
        """The plan's proposals and escalations, oldest first."""
        query = _query().where(Escalation.plan_id == plan_id).order_by(Escalation.id)
        return [self._record(row) for row in self._tx.execute(query)]

    def _record(self, row: Row[Any]) -> EscalationRecord:
        reason = (
            None
            if row.reason is None
            else ESCALATION_REASON.open(self._keyring, row.reason, {"uid": row.uid})
        )
        return EscalationRecord(
            id=row.id,
            plan_id=row.plan_id,
            household=self._codec.decode_household(row.number, row.number_enc),
            plan_status=row.plan_status,
            action_id=row.action_id,
            due_on=row.due_on,
            cause=row.cause,
            rung=row.rung,
            rung_name=row.rung_name,
            state=row.state,
            proposed_at=row.proposed_at,
            sent_at=row.sent_at,
            decided_at=row.decided_at,
            author=row.author,
            reason=reason,
            outcome=row.outcome,
            outcome_at=row.outcome_at,
            outcome_by=row.outcome_by,
        )
