"""SQLAlchemy models for households, their plans and the append-only answer log."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dialogs.status import PlanStatus
from storage.crypto import Keyring, row_identity

# The statuses are defined once, in dialogs.status; stored as their plain string values.
STATUSES: Final = frozenset(status.value for status in PlanStatus)
# The same text as the first migration's constraint: 'open', 'klaar', 'gearchiveerd'.
_STATUS_CHECK: Final = f"status IN ({', '.join(repr(s.value) for s in PlanStatus)})"
_NOT_ARCHIVED: Final = f"status <> '{PlanStatus.ARCHIVED}'"

# Deterministic constraint names keep later Alembic batch migrations on SQLite workable:
# batch mode can only drop or alter a constraint it can name.
NAMING_CONVENTION: Final = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Encrypted:
    """How a column is encrypted, declared as `info={"encrypted": Encrypted(...)}`.

    `context` names the column and `row` the columns whose values name the row; both are the
    AES-GCM associated data, so a value only decrypts in the column and row it was written
    for. The row's columns must be known before the row is inserted, and never change after.
    """

    context: str
    row: tuple[str, ...]

    def identity(self, values: Mapping[Any, Any]) -> str:
        return row_identity(*(values[name] for name in self.row))

    def seal(self, keyring: Keyring, plaintext: str, values: Mapping[Any, Any]) -> str:
        """Encrypt `plaintext` for the row whose column values are `values`."""
        return keyring.encrypt(plaintext, context=self.context, row=self.identity(values))

    def open(self, keyring: Keyring, token: str, values: Mapping[Any, Any]) -> str:
        """Decrypt the value stored in the row whose column values are `values`."""
        return keyring.decrypt(token, context=self.context, row=self.identity(values))


@dataclass(frozen=True)
class Hashed:
    """A keyed-hash lookup column, declared as `info={"hashed": Hashed(...)}`: the keyed hash
    (with `purpose`) of the text that `source`, an encrypted column of the same row, holds.

    With `plaintext_before`, a row whose `source` is still NULL holds the plaintext here: it
    was stored before the column was encrypted, and storage.db.ensure_encrypted converts it.
    """

    source: str
    purpose: str
    plaintext_before: bool = False


def encrypted_columns(table: Table) -> dict[str, Encrypted]:
    """The table's encrypted columns, as declared on the model."""
    return {c.name: c.info["encrypted"] for c in table.columns if "encrypted" in c.info}


def hashed_columns(table: Table) -> dict[str, Hashed]:
    """The table's keyed-hash columns, as declared on the model."""
    return {c.name: c.info["hashed"] for c in table.columns if "hashed" in c.info}


def protected_tables() -> Iterator[Table]:
    """Every table with an encrypted column, in dependency order. Tables of storage.access
    and storage.inbox are included: importing the storage package registers them."""
    for table in Base.metadata.sorted_tables:
        if encrypted_columns(table):
            yield table


def protected_columns(table: Table) -> list[Column[Any]]:
    """The table's encrypted and keyed-hash columns and the columns naming its rows."""
    names = {*encrypted_columns(table), *hashed_columns(table)}
    for spec in encrypted_columns(table).values():
        names.update(spec.row)
    return [column for column in table.columns if column.name in names]


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp that is stored as UTC and always read back as aware UTC."""

    # SQLite has no timezone type and returns naive datetimes; PostgreSQL returns them in the
    # session time zone. Normalising here gives callers the same value on both backends.
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; pass an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# The encrypted columns of this module. Each row is named by values known before its insert,
# so binding costs no statement: an answer or idea by its plan, field and time (the turn's own
# microsecond timestamp), a keyed-hash row by its hash, a plan by its id.
HOUSEHOLD_NUMBER: Final = Encrypted("households.number", row=("number",))
PLAN_DATA: Final = Encrypted("plans.data", row=("id",))
ANSWER_VALUE: Final = Encrypted("answers.value", row=("plan_id", "field", "created_at"))
SUGGESTION_TEXT: Final = Encrypted("suggestions.text", row=("plan_id", "field", "created_at"))
CHAT_ID: Final = Encrypted("chats.chat_id", row=("chat_key",))
# An action's point is named by its own random uid: its text, position and date may change.
ACTION_POINT: Final = Encrypted("actions.point", row=("uid",))
CHAT_PURPOSE: Final = "chat"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Household(Base):
    __tablename__ = "households"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The keyed hash (hex HMAC-SHA256) of the household number, for lookup; the number itself
    # is only stored encrypted, in number_enc.
    number: Mapped[str] = mapped_column(
        String(64),
        unique=True,
        nullable=False,
        info={"hashed": Hashed("number_enc", "household", plaintext_before=True)},
    )
    # Nullable only for rows from before encryption, until storage.db.ensure_encrypted runs.
    number_enc: Mapped[str | None] = mapped_column(
        Text, nullable=True, info={"encrypted": HOUSEHOLD_NUMBER}
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class Plan(Base):
    __tablename__ = "plans"
    __table_args__ = (
        CheckConstraint(_STATUS_CHECK, name="status"),
        # A household works on one plan at a time; archived plans are kept as history.
        Index(
            "uq_plans_household_id_active",
            "household_id",
            unique=True,
            sqlite_where=text(_NOT_ARCHIVED),
            postgresql_where=text(_NOT_ARCHIVED),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("households.id", ondelete="CASCADE"), nullable=False, index=True
    )
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    state: Mapped[str] = mapped_column(String(128), nullable=False)
    data: Mapped[str] = mapped_column(
        Text, nullable=False, default="{}", server_default="{}", info={"encrypted": PLAN_DATA}
    )
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    # Indexed: /hervat lists a professional's own plans among all of them.
    owner: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), nullable=False, default=utcnow, index=True
    )
    # Reminders about this plan switched off (`herinneringen uit` in the terminal), since.
    reminders_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Answer(Base):
    __tablename__ = "answers"
    __table_args__ = (Index("ix_answers_plan_id_id", "plan_id", "id"),)

    # SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit sequence
    # because this log only grows.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), nullable=False
    )
    field: Mapped[str] = mapped_column(String(128), nullable=False)
    value: Mapped[str | None] = mapped_column(
        Text, nullable=True, info={"encrypted": ANSWER_VALUE}
    )
    author: Mapped[str] = mapped_column(String(128), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class Chat(Base):
    """Which plan a chat is working on; in a group, who leads the session."""

    __tablename__ = "chats"

    # The keyed hash of the Telegram chat id: a private chat's id is its user's Telegram id.
    # The id itself is only stored encrypted, in chat_enc (for a bot that must write to its
    # chats); nullable only for rows from before migration 0006, until ensure_encrypted runs.
    chat_key: Mapped[str] = mapped_column(
        String(64),
        primary_key=True,
        info={"hashed": Hashed("chat_enc", CHAT_PURPOSE, plaintext_before=True)},
    )
    chat_enc: Mapped[str | None] = mapped_column(Text, nullable=True, info={"encrypted": CHAT_ID})
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    facilitator: Mapped[str | None] = mapped_column(String(128), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    # In a private chat: the message that opened the plan there (see bot.telegram._forget).
    first_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Suggestion(Base):
    """An idea a member of a kraak-en-maaksessie added with /idee, kept with the plan's step."""

    __tablename__ = "suggestions"
    __table_args__ = (Index("ix_suggestions_plan_id_id", "plan_id", "id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), nullable=False
    )
    step: Mapped[int] = mapped_column(Integer, nullable=False)
    field: Mapped[str] = mapped_column(String(128), nullable=False)
    author: Mapped[str] = mapped_column(String(128), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False, info={"encrypted": SUGGESTION_TEXT})
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class Meta(Base):
    """Facts about the database itself, such as the key check."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)


# An action's status (Dutch, as shown): open, done, or no longer needed.
ACTION_OPEN, ACTION_DONE, ACTION_LAPSED = "open", "gedaan", "vervallen"
ACTION_STATUSES: Final = (ACTION_OPEN, ACTION_DONE, ACTION_LAPSED)
# What a reminder is about: an action on its due date, or the plan's evaluation date.
REMIND_ACTION, REMIND_EVALUATION = "actie", "evaluatie"
# Exactly one of a plan and a lesson.
REMINDER_ABOUT: Final = (
    "(plan_id IS NOT NULL AND lesson_id IS NULL) OR (plan_id IS NULL AND lesson_id IS NOT NULL)"
)


class Action(Base):
    """One point of a plan's actieplan (wie, wat, wanneer) as a thing with a status.

    Made and kept in step with the plan's list answers (bot.actions); a point taken out of the
    answer is kept with `removed_at` set, so its history and status survive a change back.
    """

    __tablename__ = "actions"
    __table_args__ = (
        CheckConstraint(
            f"status IN ({', '.join(repr(s) for s in ACTION_STATUSES)})", name="status"
        ),
        Index("ix_actions_plan_id_field", "plan_id", "field", "position"),
        # /acties: open actions soonest first.
        Index("ix_actions_status_due", "status", "due"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Random, set before the insert: names the row for its encrypted point.
    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), nullable=False
    )
    # The list field the point is in (actieplan.voor_doorbraak, ...), and its place there.
    field: Mapped[str] = mapped_column(String(128), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    # The point as stored in the answer: `wie | wat | wanneer`.
    point: Mapped[str] = mapped_column(Text, nullable=False, info={"encrypted": ACTION_POINT})
    # A registered colleague who owns it (NULL: the free-text wie of the point only).
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("professionals.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # The wanneer read as a date; NULL when it could not be read (or was not given).
    due: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=ACTION_OPEN)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class ActionEvent(Base):
    """The append-only history of an action: who changed what about it, and when."""

    __tablename__ = "action_events"
    __table_args__ = (Index("ix_action_events_action_id_id", "action_id", "id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    action_id: Mapped[int] = mapped_column(
        ForeignKey("actions.id", ondelete="CASCADE"), nullable=False
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    author: Mapped[str] = mapped_column(String(128), nullable=False)
    # aangemaakt, gewijzigd, status, datum, weg (out of the answer), terug (back in it).
    change: Mapped[str] = mapped_column(String(16), nullable=False)
    # The action's status and date after the change.
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    due: Mapped[date | None] = mapped_column(Date, nullable=True)


class Reminder(Base):
    """A private message the bot owes a professional on a day: the schedule lives here, not
    in memory, so a restart loses none; claiming one marks it sent (bot.reminders)."""

    __tablename__ = "reminders"
    __table_args__ = (
        Index("ix_reminders_sent_at_due_on", "sent_at", "due_on"),
        # About a plan (its action or evaluation) or about a lesson (storage.lessons).
        CheckConstraint(REMINDER_ABOUT, name="about"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    # NULL: a lesson's reminder.
    plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), nullable=True, index=True
    )
    # NULL: the plan's evaluation.
    action_id: Mapped[int | None] = mapped_column(
        ForeignKey("actions.id", ondelete="CASCADE"), nullable=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    # The day it is due; the hour and quiet times are settings, applied when it is claimed.
    due_on: Mapped[date] = mapped_column(Date, nullable=False)
    # Claimed (and so sent, or being sent); NULL again after a send that failed.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    # After a failed send: not before this moment.
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Given up after too many failed sends (the professional blocked the bot, say).
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Due while its professional (or its plan) had reminders off: not sent, and not later
    # either (a pile of old reminders at once helps nobody; the action stays in /acties).
    skipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    # A lesson's reminder: the lesson; a row per recipient (`professional_id`) is made when
    # the lesson's own row (without one) is claimed, so each is sent and retried on its own.
    lesson_id: Mapped[int | None] = mapped_column(
        ForeignKey("lessons.id", ondelete="CASCADE"), nullable=True, index=True
    )
    professional_id: Mapped[int | None] = mapped_column(
        ForeignKey("professionals.id", ondelete="CASCADE"), nullable=True
    )
