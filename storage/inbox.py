"""The webhook inbox: Telegram updates stored before they are acknowledged, until applied.

Several bot workers share it. An update is a row from the moment a worker has it until it is
done; then its payload (which holds the answer) is dropped at once, and the bare row is kept a
while so that a delivery Telegram repeats is recognised. A worker applies a chat's updates in
`update_id` order, and only when no lower id is still on its way (see `next_in_order`).

Every write transaction that applies an update claims it first (`InboxRepository.claim_applying`,
for the update in `applying`): it marks the update done in that same transaction, so whatever
an update changes is applied once, even if its worker dies right after the commit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Connection,
    CursorResult,
    Engine,
    Index,
    String,
    Text,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.crypto import Keyring, TamperedData, WrongKey
from storage.models import Base, Encrypted, Hashed, UTCDateTime, utcnow
from storage.tx import Tx

# Both bound to the update's id, which is known before the row is stored.
PAYLOAD: Final = Encrypted("inbox.payload", row=("update_id",))
CHAT_ID: Final = Encrypted("inbox.chat", row=("update_id",))
CHAT_PURPOSE: Final = "inbox.chat"


class InboxEntry(Base):
    """One update; a row without a chat is an id given up on, with every missing id below."""

    __tablename__ = "inbox"
    __table_args__ = (
        # A worker's one question: the chat's lowest update not done yet.
        Index(
            "ix_inbox_pending",
            "chat_key",
            "update_id",
            postgresql_where=text("done_at IS NULL"),
            sqlite_where=text("done_at IS NULL"),
        ),
    )

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # A keyed hash of the chat id, as for professionals: the id of a private chat is the
    # user's Telegram id. NULL for a marker.
    chat_key: Mapped[str | None] = mapped_column(
        String(64), nullable=True, info={"hashed": Hashed("chat_enc", CHAT_PURPOSE)}
    )
    # The chat id, encrypted: a new key recomputes chat_key from it (storage.db.rotate_key),
    # so updates still waiting stay with their chat. NULL for a marker and rows stored before
    # migration 0006.
    chat_enc: Mapped[str | None] = mapped_column(Text, nullable=True, info={"encrypted": CHAT_ID})
    # The update as JSON, encrypted; NULL once it is done.
    payload: Mapped[str | None] = mapped_column(Text, nullable=True, info={"encrypted": PAYLOAD})
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AlreadyApplied(Exception):
    """The update being applied was applied before (by another worker, or before a restart):
    nothing was done, and nothing is to be said."""


@dataclass
class Applying:
    """The update this context applies; `claimed` once a transaction that claimed it committed."""

    update_id: int
    claimed: bool = False

    def committed(self) -> None:
        self.claimed = True


# Set by whoever applies an update (the inbox worker, for webhook and long polling alike); the
# services' write transactions claim it. Unset (the terminal, the CLI), nothing is claimed.
_APPLYING: ContextVar[Applying | None] = ContextVar("applying", default=None)


@contextmanager
def applying(update_id: int) -> Iterator[Applying]:
    """Apply update `update_id` in this block: its write transactions claim it."""
    current = Applying(update_id)
    token = _APPLYING.set(current)
    try:
        yield current
    finally:
        _APPLYING.reset(token)


@dataclass(frozen=True)
class InboxUpdate:
    update_id: int
    chat_key: str
    # None when it cannot be decrypted (a key that was replaced while it waited).
    payload: dict[str, Any] | None


class InboxRepository:
    """The inbox's rows; never commits, so the caller decides the transaction."""

    def __init__(self, tx: Tx | Session | Connection, keyring: Keyring) -> None:
        self._tx = Tx.of(tx)
        self._keyring = keyring

    def chat_key(self, chat_id: int) -> str:
        return self._keyring.hash(str(chat_id), purpose=CHAT_PURPOSE)

    def add(self, update_id: int, chat_id: int, payload: dict[str, Any]) -> bool:
        """Store an update of chat `chat_id`; False if it is here already (a repeated delivery).

        An update that comes after its id was given up (`give_up`) takes the marker's place:
        late, but acknowledged updates are never dropped.
        """
        row = {"update_id": update_id}
        values = {
            "update_id": update_id,
            "chat_key": self.chat_key(chat_id),
            "chat_enc": CHAT_ID.seal(self._keyring, str(chat_id), row),
            "payload": PAYLOAD.seal(self._keyring, _dumps(payload), row),
            "received_at": utcnow(),
            "done_at": None,
        }
        dialect = self._tx.dialect
        if dialect in ("postgresql", "sqlite"):
            module = postgresql if dialect == "postgresql" else sqlite
            stmt = module.insert(InboxEntry).values(values)
            upsert = stmt.on_conflict_do_update(
                index_elements=[InboxEntry.update_id],
                set_={name: stmt.excluded[name] for name in values if name != "update_id"},
                where=InboxEntry.chat_key.is_(None),
            )
            # preserve_rowcount: SQLAlchemy reports an INSERT's row count only when asked.
            result = self._tx.execute(upsert.execution_options(preserve_rowcount=True))
            return _count(result) == 1
        try:
            with self._tx.connection.begin_nested():
                self._tx.execute(insert(InboxEntry).values(values))
            return True
        except IntegrityError:
            replaced = self._tx.execute(
                update(InboxEntry)
                .where(InboxEntry.update_id == update_id)
                .where(InboxEntry.chat_key.is_(None))
                .values({k: v for k, v in values.items() if k != "update_id"})
            )
            return _count(replaced) == 1

    def next_in_order(self, chat_key: str) -> tuple[InboxUpdate | None, int | None]:
        """The chat's lowest update not done yet, and the highest id below it that may still
        arrive (None if none may, and then it is the chat's turn to apply it).

        Call it in one snapshot (REPEATABLE READ on PostgreSQL): read in two transactions, a
        lower update committed in between is missed by the first look and found by the second,
        and the later update is applied first.
        """
        item = self.next(chat_key)
        return item, None if item is None else self.missing_before(item.update_id)

    def next(self, chat_key: str) -> InboxUpdate | None:
        """The chat's lowest update that is not done yet."""
        row = self._tx.execute(
            select(InboxEntry.update_id, InboxEntry.payload)
            .where(InboxEntry.chat_key == chat_key)
            .where(InboxEntry.done_at.is_(None))
            .order_by(InboxEntry.update_id)
            .limit(1)
        ).one_or_none()
        if row is None:
            return None
        try:
            payload = json.loads(PAYLOAD.open(self._keyring, row.payload or "", row._mapping))
        except (WrongKey, TamperedData):
            payload = None
        return InboxUpdate(row.update_id, chat_key, payload)

    def missing_before(self, update_id: int) -> int | None:
        """The highest id below `update_id` that may still arrive, or None if none may.

        Telegram numbers a bot's updates one by one. Every id below a done row is settled:
        the row was only applied once nothing below it was missing, or its lower ids were
        given up. So only the ids between the highest done row below `update_id` and
        `update_id` itself must all be here. Without a done row below it, the check starts
        at the lowest row there is: the first update ever has no predecessor to wait for.
        """
        settled = self._tx.scalar(
            select(func.max(InboxEntry.update_id))
            .where(InboxEntry.update_id < update_id)
            .where(InboxEntry.done_at.is_not(None))
        )
        if settled is None:
            low = self._tx.scalar(
                select(func.min(InboxEntry.update_id)).where(InboxEntry.update_id < update_id)
            )
            if low is None:
                return None
        else:
            low = settled + 1
        present = self._tx.scalars(
            select(InboxEntry.update_id)
            .where(InboxEntry.update_id >= low)
            .where(InboxEntry.update_id < update_id)
            .order_by(InboxEntry.update_id.desc())
        )
        expected = update_id - 1
        for found in present:
            if found != expected:
                break
            expected -= 1
        return expected if expected >= low else None

    def give_up(self, update_id: int) -> None:
        """Stop waiting for `update_id` and every id below it that has not come."""
        now = utcnow()
        try:
            with self._tx.connection.begin_nested():
                self._tx.execute(
                    insert(InboxEntry).values(update_id=update_id, received_at=now, done_at=now)
                )
        except IntegrityError:
            pass  # it arrived after all

    def mark_done(self, update_id: int) -> bool:
        """Mark an update done and drop its payload; False if it was done already.

        In the transaction that applies the update, this makes applying it happen once: a
        second worker's attempt waits for the first to commit, then gets False.
        """
        result = self._tx.execute(
            update(InboxEntry)
            .where(InboxEntry.update_id == update_id)
            .where(InboxEntry.done_at.is_(None))
            .values(done_at=utcnow(), payload=None)
        )
        if _count(result) == 1:
            return True
        # No such row (forgotten by `purge`): nothing to guard.
        found = self._tx.scalar(
            select(InboxEntry.update_id).where(InboxEntry.update_id == update_id)
        )
        return found is None

    def claim(self, update_id: int) -> None:
        """Mark an update done in the transaction that applies it; AlreadyApplied if it was."""
        if not self.mark_done(update_id):
            raise AlreadyApplied

    def claim_applying(self, after_commit: Callable[[Callable[[], None]], None]) -> None:
        """Claim the update this context applies (`applying`), if any, in this transaction;
        `after_commit` registers what to do once the transaction has committed.

        Once a claiming transaction has committed, the update's later transactions go on
        without claiming: the claim is per update, not per transaction. A rolled-back claim
        counts for nothing, so the next transaction claims again.
        """
        current = _APPLYING.get()
        if current is None or current.claimed:
            return
        self.claim(current.update_id)
        after_commit(current.committed)

    def has_pending(self, chat_key: str) -> bool:
        found = self._tx.scalar(
            select(InboxEntry.update_id)
            .where(InboxEntry.chat_key == chat_key)
            .where(InboxEntry.done_at.is_(None))
            .limit(1)
        )
        return found is not None

    def waiting_chats(self, received_before: datetime) -> list[str]:
        """Chats with an update that has waited since before `received_before`."""
        return list(
            self._tx.scalars(
                select(InboxEntry.chat_key)
                .where(InboxEntry.done_at.is_(None))
                .where(InboxEntry.chat_key.is_not(None))
                .where(InboxEntry.received_at < received_before)
                .distinct()
            )
        )

    def purge(self, done_before: datetime) -> int:
        """Forget updates done before `done_before`; the number forgotten."""
        result = self._tx.execute(
            delete(InboxEntry)
            .where(InboxEntry.done_at.is_not(None))
            .where(InboxEntry.done_at < done_before)
        )
        return _count(result)

    def expire(self, received_before: datetime) -> int:
        """Forget every update that is done, and those waiting since before `received_before`
        (the retention period): what a waiting update says must not outlive it. The number
        forgotten."""
        result = self._tx.execute(
            delete(InboxEntry).where(
                InboxEntry.done_at.is_not(None) | (InboxEntry.received_at < received_before)
            )
        )
        return _count(result)


@contextmanager
def chat_lock(engine: Engine, chat_key: str) -> Iterator[bool]:
    """Try to take a chat's lock for as long as the block runs; yields whether it was taken.

    On PostgreSQL it is an advisory lock in a transaction of its own, so it holds across
    processes and goes with the connection when a worker dies. Other databases serve one
    process, which keeps its chats apart itself: there it is always taken.
    """
    if engine.dialect.name != "postgresql":
        yield True
        return
    # 64 bits of the chat's keyed hash: two chats, or a chat and storage.db's migration lock,
    # will not share a key.
    key = int(chat_key[:16], 16) - 2**63
    with engine.connect() as connection, connection.begin():
        taken = connection.execute(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}
        ).scalar_one()
        yield bool(taken)


def _count(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
