"""SQLAlchemy models for households, their plans and the append-only answer log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

STATUS_OPEN: Final = "open"
STATUS_KLAAR: Final = "klaar"
STATUS_GEARCHIVEERD: Final = "gearchiveerd"
STATUSES: Final = frozenset({STATUS_OPEN, STATUS_KLAAR, STATUS_GEARCHIVEERD})

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


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Household(Base):
    __tablename__ = "households"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The keyed hash (hex HMAC-SHA256) of the household number, for lookup; the number itself
    # is only stored encrypted, in number_enc.
    number: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    # Nullable only for rows from before encryption, until storage.db.ensure_encrypted runs.
    number_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class Plan(Base):
    __tablename__ = "plans"
    __table_args__ = (
        CheckConstraint(
            "status IN ('open', 'klaar', 'gearchiveerd')",
            name="status",
        ),
        # A household works on one plan at a time; archived plans are kept as history.
        Index(
            "uq_plans_household_id_active",
            "household_id",
            unique=True,
            sqlite_where=text("status <> 'gearchiveerd'"),
            postgresql_where=text("status <> 'gearchiveerd'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("households.id", ondelete="CASCADE"), nullable=False, index=True
    )
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    state: Mapped[str] = mapped_column(String(128), nullable=False)
    data: Mapped[str] = mapped_column(Text, nullable=False, default="{}", server_default="{}")
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    # Indexed: /hervat lists a professional's own plans among all of them.
    owner: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), nullable=False, default=utcnow, index=True
    )


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
    value: Mapped[str | None] = mapped_column(Text, nullable=True)
    author: Mapped[str] = mapped_column(String(128), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class Chat(Base):
    """Which plan a chat is working on; in a group, who leads the session."""

    __tablename__ = "chats"

    # Telegram chat ids exceed 32 bits for supergroups.
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
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
    text: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class Meta(Base):
    """Facts about the database itself, such as the key check."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)


# Every encrypted column as (table, column, context); the context is the associated data, so a
# ciphertext only decrypts in the column it was written for. professionals.user_enc belongs to
# storage/access.py (migration 0004); code that uses this list skips tables that do not exist.
ENCRYPTED_COLUMNS: Final = (
    ("households", "number_enc", "households.number"),
    ("plans", "data", "plans.data"),
    ("answers", "value", "answers.value"),
    ("suggestions", "text", "suggestions.text"),
    ("professionals", "user_enc", "professionals.user"),
)
# Keyed-hash columns that can be recomputed from an encrypted one:
# (table, hash column, encrypted column holding the hashed text, hash purpose).
HASHED_COLUMNS: Final = (
    ("households", "number", "number_enc", "household"),
    ("professionals", "user_key", "user_enc", "telegram"),
)
