"""Lessons of the reflectiesessie (issue 16): a lesson with where it came from, an owner (a
professional, or a role of the team), a due day and a status, and its reminders. The caller
owns the transaction.

A lesson asked for step by step in Telegram is a draft (`step` set: the question waiting for
its answer) until its last answer: each answer is stored before the next question is sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
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
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.access import BELEIDSMEDEWERKER, TEAMLEIDER, USER_ID, Professional
from storage.crypto import Keyring
from storage.models import Base, Encrypted, UTCDateTime, utcnow
from storage.tx import Tx

# A lesson's status, in the words of the actions: open, done, no longer needed.
LESSON_OPEN, LESSON_DONE, LESSON_LAPSED = "open", "gedaan", "vervallen"
LESSON_STATUSES: Final = (LESSON_OPEN, LESSON_DONE, LESSON_LAPSED)
# The roles that may own a lesson (and that record them).
OWNER_ROLES: Final = (TEAMLEIDER, BELEIDSMEDEWERKER)
# The steps of a draft, in the order they are asked.
STEP_TEXT, STEP_SOURCE, STEP_OWNER, STEP_DUE = "tekst", "bron", "eigenaar", "datum"
STEPS: Final = (STEP_TEXT, STEP_SOURCE, STEP_OWNER, STEP_DUE)
# What a reminder about a lesson is (Reminder.kind).
REMIND_LESSON: Final = "les"

# Named by the lesson's own random uid: its other columns change.
LESSON_TEXT: Final = Encrypted("lessons.text", row=("uid",))
LESSON_SOURCE: Final = Encrypted("lessons.source", row=("uid",))


def _in(values: Sequence[str]) -> str:
    return ", ".join(repr(v) for v in values)


class Lesson(Base):
    """A lesson of a reflectiesessie: team information, never about one household."""

    __tablename__ = "lessons"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(LESSON_STATUSES)})", name="status"),
        CheckConstraint(f"owner_role IS NULL OR owner_role IN ({_in(OWNER_ROLES)})", name="role"),
        CheckConstraint(f"step IS NULL OR step IN ({_in(STEPS)})", name="step"),
        # /lessen and the report: a team's open lessons, soonest first.
        Index("ix_lessons_team_status_due_on", "team", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Random, set before the insert: names the row for its encrypted columns.
    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    team: Mapped[str] = mapped_column(String(100), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False, info={"encrypted": LESSON_TEXT})
    # Where it came from: a group label or a quarter, never a household number.
    source: Mapped[str | None] = mapped_column(
        Text, nullable=True, info={"encrypted": LESSON_SOURCE}
    )
    # The owner: a registered professional, or a role (the team's holders of it).
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("professionals.id", ondelete="SET NULL"), nullable=True, index=True
    )
    owner_role: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # NULL only in a draft.
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=LESSON_OPEN)
    # A draft: the question waiting for its answer; NULL once the lesson is complete.
    step: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_by: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


@dataclass(frozen=True)
class LessonRecord:
    id: int
    team: str
    text: str
    source: str | None
    owner_id: int | None
    owner_role: str | None
    due_on: date | None
    status: str
    step: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    done_at: datetime | None


_COLUMNS = (
    Lesson.id,
    Lesson.uid,
    Lesson.team,
    Lesson.text,
    Lesson.source,
    Lesson.owner_id,
    Lesson.owner_role,
    Lesson.due_on,
    Lesson.status,
    Lesson.step,
    Lesson.created_by,
    Lesson.created_at,
    Lesson.updated_at,
    Lesson.done_at,
)


class LessonRepository:
    """Lessons and their reminders; never commits."""

    def __init__(self, tx: Tx | Session | Connection, keyring: Keyring) -> None:
        self._tx = Tx.of(tx)
        self._keyring = keyring

    # --- making one ------------------------------------------------------------------------

    def add(
        self,
        *,
        team: str,
        text: str,
        source: str | None,
        owner_id: int | None,
        owner_role: str | None,
        due_on: date | None,
        created_by: str,
        now: datetime,
        step: str | None = None,
    ) -> int:
        """A new lesson (with `step`: a draft waiting for that answer); its id. A complete
        open lesson gets its reminder on its day."""
        uid = uuid.uuid4().hex
        row = {"uid": uid}
        lesson_id: int = self._tx.execute(
            insert(Lesson)
            .values(
                uid=uid,
                team=team,
                text=LESSON_TEXT.seal(self._keyring, text, row),
                source=None if source is None else LESSON_SOURCE.seal(self._keyring, source, row),
                owner_id=owner_id,
                owner_role=owner_role,
                due_on=due_on,
                status=LESSON_OPEN,
                step=step,
                created_by=created_by,
                created_at=now,
                updated_at=now,
            )
            .returning(Lesson.id)
        ).scalar_one()
        return lesson_id

    def draft_of(self, created_by: str) -> LessonRecord | None:
        """The draft `created_by` is answering the questions of, if any."""
        row = self._tx.execute(
            select(*_COLUMNS)
            .where(Lesson.created_by == created_by, Lesson.step.is_not(None))
            .order_by(Lesson.id.desc())
            .limit(1)
        ).first()
        return None if row is None else self._record(row)

    def answer(
        self, lesson_id: int, values: dict[str, Any], step: str | None, now: datetime
    ) -> None:
        """Store a draft's answer (`text`, `source`, `owner_id`/`owner_role`, `due_on`) and
        the next question (None: complete)."""
        uid = self._tx.scalar(select(Lesson.uid).where(Lesson.id == lesson_id))
        row = {"uid": uid}
        stored = dict(values)
        if "text" in stored:
            stored["text"] = LESSON_TEXT.seal(self._keyring, stored["text"], row)
        if stored.get("source") is not None:
            stored["source"] = LESSON_SOURCE.seal(self._keyring, stored["source"], row)
        self._tx.execute(
            update(Lesson)
            .where(Lesson.id == lesson_id)
            .values(**stored, step=step, updated_at=now)
        )

    def drop_draft(self, lesson_id: int) -> None:
        self._tx.execute(delete(Lesson).where(Lesson.id == lesson_id, Lesson.step.is_not(None)))

    # --- status ----------------------------------------------------------------------------

    def set_status(self, lesson_id: int, status: str, now: datetime) -> bool:
        """Done or lapsed (or open again); False if there is no such complete lesson."""
        changed = self._tx.execute(
            update(Lesson)
            .where(Lesson.id == lesson_id, Lesson.step.is_(None))
            .values(
                status=status,
                updated_at=now,
                done_at=now if status == LESSON_DONE else None,
            )
        )
        return bool(changed.rowcount == 1)

    # --- reading ---------------------------------------------------------------------------

    def get(self, lesson_id: int) -> LessonRecord | None:
        row = self._tx.execute(select(*_COLUMNS).where(Lesson.id == lesson_id)).first()
        return None if row is None else self._record(row)

    def listed(
        self,
        teams: Sequence[str | None] | None,
        *,
        status: str | None = LESSON_OPEN,
        done_since: date | None = None,
        done_until: date | None = None,
    ) -> list[LessonRecord]:
        """Complete lessons of `teams` (None: every team), soonest first; with `status`
        LESSON_DONE, those done from `done_since` up to `done_until` (days, UTC)."""
        query = select(*_COLUMNS).where(Lesson.step.is_(None))
        if teams is not None:
            query = query.where(Lesson.team.in_([t for t in teams if t is not None]))
        if status is not None:
            query = query.where(Lesson.status == status)
        if done_since is not None:
            query = query.where(
                Lesson.done_at >= datetime.combine(done_since, time.min, tzinfo=UTC)
            )
        if done_until is not None:
            query = query.where(
                Lesson.done_at < datetime.combine(done_until, time.max, tzinfo=UTC)
            )
        query = query.order_by(Lesson.due_on, Lesson.id)
        return [self._record(row) for row in self._tx.execute(query)]

    def _record(self, row: Row[Any]) -> LessonRecord:
        identity = {"uid": row.uid}
        return LessonRecord(
            id=row.id,
            team=row.team,
            text=LESSON_TEXT.open(self._keyring, row.text, identity),
            source=None
            if row.source is None
            else LESSON_SOURCE.open(self._keyring, row.source, identity),
            owner_id=row.owner_id,
            owner_role=row.owner_role,
            due_on=row.due_on,
            status=row.status,
            step=row.step,
            created_by=row.created_by,
            created_at=row.created_at,
            updated_at=row.updated_at,
            done_at=row.done_at,
        )

    # --- reminders -------------------------------------------------------------------------

    def recipients(self, lesson_id: int) -> list[tuple[int, int, bool]]:
        """Whom a reminder about the lesson goes to: (professional id, Telegram user id,
        reminders off). Its owner; for a role, the team's holders of it (a
        beleidsmedewerker: every one, as they see every team)."""
        lesson = self._tx.execute(
            select(Lesson.owner_id, Lesson.owner_role, Lesson.team).where(Lesson.id == lesson_id)
        ).first()
        if lesson is None:
            return []
        columns = (
            Professional.id,
            Professional.user_key,
            Professional.user_enc,
            Professional.reminders_off_at,
        )
        if lesson.owner_id is not None:
            query = select(*columns).where(Professional.id == lesson.owner_id)
        elif lesson.owner_role == TEAMLEIDER:
            query = select(*columns).where(
                Professional.role == TEAMLEIDER, Professional.team == lesson.team
            )
        elif lesson.owner_role == BELEIDSMEDEWERKER:
            query = select(*columns).where(Professional.role == BELEIDSMEDEWERKER)
        else:
            return []
        found = []
        for row in self._tx.execute(query.order_by(Professional.id)):
            user_id = USER_ID.open(self._keyring, row.user_enc, {"user_key": row.user_key})
            found.append((row.id, int(user_id), row.reminders_off_at is not None))
        return found


def open_lessons() -> Any:
    """The ids of open, complete lessons: a reminder about another is not sent."""
    return select(Lesson.id).where(Lesson.status == LESSON_OPEN, Lesson.step.is_(None))
