"""The reminder schedule in the database: what is due is claimed (and so marked sent) in one
statement, so a restart sends none twice and several workers never send one twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from dialogs.status import PlanStatus
from storage.access import OWNER, USER_ID, PlanAccess, Professional
from storage.crypto import Keyring
from storage.lessons import REMIND_LESSON, LessonRepository, open_lessons
from storage.models import (
    ACTION_OPEN,
    REMIND_ACTION,
    REMIND_EVALUATION,
    Action,
    Plan,
    Reminder,
)
from storage.tx import Tx

# After a failed send: tried again after this many minutes times the attempts so far; given
# up after MAX_ATTEMPTS (the professional blocked the bot, say).
RETRY_MINUTES = 5
MAX_ATTEMPTS = 5


def after_failure(attempts: int, now: datetime) -> dict[str, datetime | None]:
    """The columns of a claimed message that could not be sent after `attempts` tries: due
    again after a pause, or given up."""
    if attempts >= MAX_ATTEMPTS:
        return {"failed_at": now}
    wait = timedelta(minutes=RETRY_MINUTES * attempts)
    return {"sent_at": None, "retry_at": now + wait}


@dataclass(frozen=True)
class Claimed:
    """A reminder claimed for sending: whom to send it to and what it is about."""

    id: int
    # None: about a lesson (`lesson_id`).
    plan_id: int | None
    action_id: int | None
    kind: str
    due_on: date
    # The Telegram user id of the professional (their private chat); None if nobody has one.
    user_id: int | None
    attempts: int
    lesson_id: int | None = None


@dataclass(frozen=True)
class ReminderRecord:
    """A reminder as exported: what it is about, its day, and what became of it."""

    action_id: int | None
    kind: str
    due_on: date
    sent_at: datetime | None
    skipped_at: datetime | None
    failed_at: datetime | None


@dataclass(frozen=True)
class _Recipient:
    professional_id: int
    user_id: int
    off: bool


class ReminderRepository:
    """Reminders; never commits."""

    def __init__(self, tx: Tx | Session | Connection, keyring: Keyring) -> None:
        self._tx = Tx.of(tx)
        self._keyring = keyring

    # --- the schedule --------------------------------------------------------------------

    def schedule_action(
        self, plan_id: int, action_id: int, due: date | None, status: str, now: datetime
    ) -> None:
        """One reminder for an open action with a date, on that date. A reminder for the same
        date that exists already (sent or not) is kept, so storing the same answer again or
        a restart never sends one twice."""
        if due is None or status != ACTION_OPEN:
            self.unschedule_action(action_id)
            return
        self._schedule(plan_id, action_id, REMIND_ACTION, due, now)

    def unschedule_action(self, action_id: int) -> None:
        """Drop the action's reminders not sent yet (sent ones are its history)."""
        self._tx.execute(
            delete(Reminder)
            .where(Reminder.action_id == action_id)
            .where(Reminder.sent_at.is_(None))
        )

    def schedule_evaluation(self, plan_id: int, due: date | None, now: datetime) -> None:
        """One reminder on the plan's evaluation date (None: none)."""
        if due is None:
            self._tx.execute(
                delete(Reminder)
                .where(Reminder.plan_id == plan_id, Reminder.kind == REMIND_EVALUATION)
                .where(Reminder.sent_at.is_(None))
            )
            return
        self._schedule(plan_id, None, REMIND_EVALUATION, due, now)

    def schedule_lesson(self, lesson_id: int, due: date | None, now: datetime) -> None:
        """One reminder on an open lesson's day (None: none, as for a lesson done)."""
        mine = (Reminder.lesson_id == lesson_id) & Reminder.professional_id.is_(None)
        if due is None:
            self._tx.execute(delete(Reminder).where(mine, Reminder.sent_at.is_(None)))
            return
        self._keep_one(mine, due, now, lesson_id=lesson_id, kind=REMIND_LESSON)

    def _schedule(
        self, plan_id: int, action_id: int | None, kind: str, due: date, now: datetime
    ) -> None:
        mine = (
            Reminder.action_id == action_id
            if action_id is not None
            else (Reminder.plan_id == plan_id) & (Reminder.kind == kind)
        )
        self._keep_one(mine, due, now, plan_id=plan_id, action_id=action_id, kind=kind)

    def _keep_one(self, mine: Any, due: date, now: datetime, **about: Any) -> None:
        """The reminder `mine` on `due`: one for that day made already (sent or not) is
        kept, so storing the same again or a restart never sends one twice; one for
        another day not sent yet is replaced."""
        same = self._tx.execute(
            select(Reminder.id).where(mine, Reminder.due_on == due).limit(1)
        ).first()
        if same is not None:
            return
        self._tx.execute(delete(Reminder).where(mine, Reminder.sent_at.is_(None)))
        self._tx.execute(insert(Reminder).values(**about, due_on=due, attempts=0, created_at=now))

    # --- sending -------------------------------------------------------------------------

    def claim_due(self, *, today: date, now: datetime, limit: int = 50) -> list[Claimed]:
        """Claim the reminders due by `today` (and not waiting for a retry) and mark them
        sent, in one statement: on PostgreSQL, rows another worker is claiming are skipped
        (FOR UPDATE SKIP LOCKED), and one it claimed is no longer unsent; SQLite runs one
        writer at a time. Only reminders of plans that are not archived, that a professional
        can be told about, and (for an action) of actions still open."""
        live = select(Plan.id).where(Plan.status != PlanStatus.ARCHIVED)
        open_actions = select(Action.id).where(
            Action.status == ACTION_OPEN, Action.removed_at.is_(None)
        )
        pick = (
            select(Reminder.id)
            .where(
                Reminder.sent_at.is_(None),
                Reminder.failed_at.is_(None),
                Reminder.skipped_at.is_(None),
                Reminder.due_on <= today,
                or_(Reminder.retry_at.is_(None), Reminder.retry_at <= now),
                or_(
                    and_(
                        Reminder.plan_id.in_(live),
                        Reminder.plan_id.in_(select(PlanAccess.plan_id)),
                        or_(Reminder.action_id.is_(None), Reminder.action_id.in_(open_actions)),
                    ),
                    Reminder.lesson_id.in_(open_lessons()),
                ),
            )
            .order_by(Reminder.due_on, Reminder.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = self._tx.rows(
            update(Reminder)
            .where(Reminder.id.in_(pick))
            .values(sent_at=now, attempts=Reminder.attempts + 1, retry_at=None)
            .returning(
                Reminder.id,
                Reminder.plan_id,
                Reminder.action_id,
                Reminder.kind,
                Reminder.due_on,
                Reminder.attempts,
                Reminder.lesson_id,
                Reminder.professional_id,
            )
        )
        claimed: list[Claimed] = []
        skipped: list[int] = []
        for reminder_id, plan_id, action_id, kind, due_on, attempts, lesson, to in sorted(rows):
            if lesson is not None:
                claimed.extend(self._lesson(reminder_id, lesson, to, kind, due_on, attempts, now))
                continue
            recipient = self._recipient(plan_id, action_id)
            if recipient is not None and (recipient.off or self._plan_off(plan_id)):
                skipped.append(reminder_id)
                continue
            user_id = None if recipient is None else recipient.user_id
            claimed.append(
                Claimed(reminder_id, plan_id, action_id, kind, due_on, user_id, attempts)
            )
        if skipped:
            # Switched off: skipped for good, in the same transaction as the claim.
            self._tx.execute(
                update(Reminder)
                .where(Reminder.id.in_(skipped))
                .values(sent_at=None, skipped_at=now, attempts=Reminder.attempts - 1)
            )
        return claimed

    def _lesson(
        self,
        reminder_id: int,
        lesson_id: int,
        professional_id: int | None,
        kind: str,
        due_on: date,
        attempts: int,
        now: datetime,
    ) -> list[Claimed]:
        """A claimed reminder about a lesson. The lesson's own row is handed out to one row
        per recipient, made claimed (or skipped, for one with reminders off) in the same
        transaction; a recipient's row that failed before is theirs alone."""
        everyone = LessonRepository(self._tx, self._keyring).recipients(lesson_id)
        if professional_id is not None:
            mine = [r for r in everyone if r[0] == professional_id]
            if not mine or mine[0][2]:
                self._tx.execute(
                    update(Reminder)
                    .where(Reminder.id == reminder_id)
                    .values(sent_at=None, skipped_at=now, attempts=Reminder.attempts - 1)
                )
                return []
            return [
                Claimed(reminder_id, None, None, kind, due_on, mine[0][1], attempts, lesson_id)
            ]
        found = []
        for recipient, user_id, off in everyone:
            values = {"skipped_at": now} if off else {"sent_at": now, "attempts": 1}
            new_id = self._tx.execute(
                insert(Reminder)
                .values(
                    lesson_id=lesson_id,
                    professional_id=recipient,
                    kind=kind,
                    due_on=due_on,
                    created_at=now,
                    **values,
                )
                .returning(Reminder.id)
            ).scalar_one()
            if not off:
                found.append(Claimed(new_id, None, None, kind, due_on, user_id, 1, lesson_id))
        if not everyone:
            # Nobody holds the role: nobody to tell, and not later either.
            self._tx.execute(
                update(Reminder)
                .where(Reminder.id == reminder_id)
                .values(sent_at=None, skipped_at=now, attempts=Reminder.attempts - 1)
            )
        return found

    def recipient(self, plan_id: int, action_id: int | None) -> int | None:
        """The Telegram user a message about the plan (or its action) goes to: see
        `_recipient`."""
        found = self._recipient(plan_id, action_id)
        return None if found is None else found.user_id

    def _recipient(self, plan_id: int, action_id: int | None) -> _Recipient | None:
        """The action's registered owner, else the plan's owner, else whoever it was shared
        with first: one professional, so a reminder never reaches two."""
        columns = (
            Professional.id,
            Professional.user_key,
            Professional.user_enc,
            Professional.reminders_off_at,
        )
        candidates = []
        if action_id is not None:
            candidates.append(
                select(*columns)
                .join(Action, Action.owner_id == Professional.id)
                .where(Action.id == action_id)
            )
        candidates.append(
            select(*columns)
            .join(PlanAccess, PlanAccess.professional_id == Professional.id)
            .where(PlanAccess.plan_id == plan_id)
            .order_by((PlanAccess.role != OWNER), PlanAccess.created_at)
            .limit(1)
        )
        for query in candidates:
            row = self._tx.execute(query).first()
            if row is not None:
                user_id = USER_ID.open(self._keyring, row.user_enc, {"user_key": row.user_key})
                return _Recipient(row.id, int(user_id), row.reminders_off_at is not None)
        return None

    # --- switched off, for a professional or (in the terminal) for a plan --------------------

    def _plan_off(self, plan_id: int) -> bool:
        return self.plan_off_since(plan_id) is not None

    def plan_off_since(self, plan_id: int) -> datetime | None:
        return self._tx.execute(
            select(Plan.reminders_off_at).where(Plan.id == plan_id)
        ).scalar_one_or_none()

    def professional_off_since(self, professional_id: int) -> datetime | None:
        return self._tx.execute(
            select(Professional.reminders_off_at).where(Professional.id == professional_id)
        ).scalar_one_or_none()

    def switch_plan(self, plan_id: int, *, on: bool, now: datetime) -> None:
        """Reminders about the plan on or off, for whoever would get them."""
        self._switch(Plan, plan_id, on=on, now=now)

    def switch_professional(self, professional_id: int, *, on: bool, now: datetime) -> None:
        """The professional's reminders on or off."""
        self._switch(Professional, professional_id, on=on, now=now)

    def _switch(
        self, table: type[Plan] | type[Professional], row_id: int, *, on: bool, now: datetime
    ) -> None:
        """Off again keeps the moment they were first switched off."""
        query = update(table).where(table.id == row_id)
        if on:
            self._tx.execute(query.values(reminders_off_at=None))
        else:
            self._tx.execute(
                query.where(table.reminders_off_at.is_(None)).values(reminders_off_at=now)
            )

    def failed(self, reminder_id: int, attempts: int, now: datetime) -> None:
        """A claimed reminder could not be sent: due again after a pause, or given up."""
        values = after_failure(attempts, now)
        self._tx.execute(update(Reminder).where(Reminder.id == reminder_id).values(**values))

    def later(self, plan_id: int, due: date, now: datetime) -> None:
        """A new evaluation reminder for the plan (its evaluation date moved)."""
        self._schedule(plan_id, None, REMIND_EVALUATION, due, now)

    # --- export and import ---------------------------------------------------------------

    def of_plan(self, plan_id: int) -> list[ReminderRecord]:
        """The plan's reminders, sent or not, in the order they were made."""
        query = (
            select(
                Reminder.action_id,
                Reminder.kind,
                Reminder.due_on,
                Reminder.sent_at,
                Reminder.skipped_at,
                Reminder.failed_at,
            )
            .where(Reminder.plan_id == plan_id)
            .order_by(Reminder.id)
        )
        return [ReminderRecord(*row) for row in self._tx.rows(query)]

    def replace(self, plan_id: int, records: list[ReminderRecord], now: datetime) -> None:
        """The plan's reminders become exactly `records` (an import): those it had scheduled
        are dropped, so one sent before stays sent and is never sent again."""
        self._tx.execute(delete(Reminder).where(Reminder.plan_id == plan_id))
        for record in records:
            done = record.sent_at is not None or record.failed_at is not None
            self._tx.execute(
                insert(Reminder).values(
                    plan_id=plan_id,
                    action_id=record.action_id,
                    kind=record.kind,
                    due_on=record.due_on,
                    sent_at=record.sent_at,
                    skipped_at=record.skipped_at,
                    failed_at=record.failed_at,
                    attempts=1 if done else 0,
                    created_at=now,
                )
            )

    def sent(self, plan_id: int | None = None) -> list[tuple[int, int | None, str, date]]:
        """Reminders sent (for tests and `acties`): plan, action, kind, day."""
        query = select(Reminder.plan_id, Reminder.action_id, Reminder.kind, Reminder.due_on).where(
            Reminder.sent_at.is_not(None), Reminder.failed_at.is_(None)
        )
        if plan_id is not None:
            query = query.where(Reminder.plan_id == plan_id)
        return self._tx.rows(query.order_by(Reminder.id))
