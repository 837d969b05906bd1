"""The unit of work: one transaction on one connection, its repositories, and the one place
where the driver's error for an unusable database becomes StorageUnavailable."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import cached_property
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from storage.access import AccessRepository
from storage.actions import ActionRepository
from storage.chats import ChatRepository
from storage.course import CourseRepository
from storage.crypto import Keyring
from storage.deletion import PlanDeletion
from storage.escalations import EscalationRepository
from storage.evaluations import EvaluationRepository
from storage.facts import FactsReader, FactsRepository
from storage.inbox import InboxRepository
from storage.lessons import LessonRepository
from storage.reminders import ReminderRepository
from storage.repository import PlanRepository
from storage.tx import READ_ONLY, Tx


class StorageUnavailable(Exception):
    """The database cannot be read or written (locked, read-only, gone)."""


@contextmanager
def available() -> Iterator[None]:
    """Turn the driver's error for an unusable database into StorageUnavailable."""
    try:
        yield
    except OperationalError as exc:
        raise StorageUnavailable(str(exc.orig)) from exc


class UnitOfWork:
    """One transaction and the repositories working in it. Use through a UnitOfWorkFactory:
    it commits when its block ends normally, and rolls back otherwise."""

    def __init__(self, tx: Tx, keyring: Keyring) -> None:
        self.tx = tx
        self.keyring = keyring
        self._after_commit: list[Callable[[], None]] = []

    @cached_property
    def plans(self) -> PlanRepository:
        return PlanRepository(self.tx, self.keyring)

    @cached_property
    def access(self) -> AccessRepository:
        return AccessRepository(self.tx, self.keyring)

    @cached_property
    def chats(self) -> ChatRepository:
        return ChatRepository(self.tx, self.keyring)

    @cached_property
    def inbox(self) -> InboxRepository:
        return InboxRepository(self.tx, self.keyring)

    @cached_property
    def actions(self) -> ActionRepository:
        return ActionRepository(self.tx, self.keyring)

    @cached_property
    def reminders(self) -> ReminderRepository:
        return ReminderRepository(self.tx, self.keyring)

    @cached_property
    def course(self) -> CourseRepository:
        return CourseRepository(self.tx, self.keyring)

    @cached_property
    def escalations(self) -> EscalationRepository:
        return EscalationRepository(self.tx, self.keyring)

    @cached_property
    def evaluations(self) -> EvaluationRepository:
        return EvaluationRepository(self.tx, self.keyring)

    @cached_property
    def lessons(self) -> LessonRepository:
        return LessonRepository(self.tx, self.keyring)

    @cached_property
    def facts(self) -> FactsRepository:
        return FactsRepository(self.tx)

    @cached_property
    def report(self) -> FactsReader:
        return FactsReader(self.tx)

    @cached_property
    def deletion(self) -> PlanDeletion:
        return PlanDeletion(self.tx)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once this unit's transaction has committed (never on rollback)."""
        self._after_commit.append(callback)


class UnitOfWorkFactory(Protocol):
    """Opens units of work; what services take, so a composition root can pass another."""

    def __call__(
        self, *, read_only: bool = False, snapshot: bool = False, claim: bool = True
    ) -> AbstractContextManager[UnitOfWork]: ...


class Units:
    """The unit-of-work factory on a database: each unit is one transaction on a connection
    of `engine` (no Session unless a repository needs the ORM)."""

    def __init__(self, engine: Engine, keyring: Keyring) -> None:
        self.engine = engine
        self.keyring = keyring

    @contextmanager
    def __call__(
        self, *, read_only: bool = False, snapshot: bool = False, claim: bool = True
    ) -> Iterator[UnitOfWork]:
        """A unit of work. A writing one first claims the webhook update being applied
        (storage.inbox.applying), unless `claim` is False: AlreadyApplied if it was applied
        before, so what it changes for that update is changed once. A `read_only` one
        never waits for, nor blocks, a writer; with `snapshot` all its reads see one moment
        (REPEATABLE READ on PostgreSQL; SQLite's read transactions do already)."""
        try:
            with self.engine.connect() as connection:
                options: dict[str, Any] = dict(READ_ONLY) if read_only or snapshot else {}
                if snapshot and connection.dialect.name == "postgresql":
                    options["isolation_level"] = "REPEATABLE READ"
                if options:
                    connection.execution_options(**options)
                tx = Tx(connection)
                unit = UnitOfWork(tx, self.keyring)
                try:
                    with connection.begin():
                        if claim and not read_only:
                            unit.inbox.claim_applying(unit.after_commit)
                        yield unit
                        tx.flush()
                finally:
                    tx.close()
        except OperationalError as exc:
            raise StorageUnavailable(str(exc.orig)) from exc
        for callback in unit._after_commit:
            callback()
