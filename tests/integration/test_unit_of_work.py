"""The unit of work (storage.uow) and the seams it gives: one transaction, one translation of
database failures, and a composition root that takes another unit-of-work factory."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Column, Engine, ForeignKey, Integer, Table, func, insert, select, text

from bot.bootstrap import bootstrap
from bot.config import Settings
from dialogs import Error, Text
from storage import Plan, StorageUnavailable, UnitOfWork, Units
from storage.crypto import Keyring
from storage.deletion import dependents
from storage.models import Base
from tests.conftest import TEST_SECRET, sample_answer


class Switchable:
    """A unit-of-work factory around the real one that can be switched off, as a database
    that goes away: every unit then fails as the real one would, with StorageUnavailable."""

    def __init__(self, real: Units) -> None:
        self.real = real
        self.down = False

    def __call__(
        self, *, read_only: bool = False, snapshot: bool = False, claim: bool = True
    ) -> AbstractContextManager[UnitOfWork]:
        if self.down:
            raise StorageUnavailable("switched off")
        return self.real(read_only=read_only, snapshot=snapshot, claim=claim)


def test_bootstrap_wires_the_services_to_the_factory_it_is_given(tmp_path: Path) -> None:
    made: list[Switchable] = []

    def make_units(engine: Engine, keyring: Keyring) -> Switchable:
        made.append(Switchable(Units(engine, keyring)))
        return made[0]

    app = bootstrap(Settings(data_dir=tmp_path, secret_key=TEST_SECRET), make_units=make_units)
    try:
        [units] = made
        assert app.units is units and app.service.units is units and app.access.units is units
        opened = app.service.open("3012", actor="terminal:t")
        units.down = True
        field = app.dialog.spec.fields[0]
        turn = app.service.handle(opened.plan_id, Text(sample_answer(field)), author="terminal:t")
        # Nothing stored, and the user is told so in the wording of messages.yaml.
        assert not turn.saved
        unsaved = app.dialog.spec.message("opslaan_mislukt")
        assert [r.text for r in turn.outcome.replies if isinstance(r, Error)] == [unsaved]
        units.down = False
        assert app.service.plan(opened.plan_id) is not None
        record, history = app.service.plan(opened.plan_id) or (None, None)
        assert record is not None and record.revision == opened.revision and history == []
    finally:
        app.engine.dispose()


def test_a_unit_commits_at_its_end_and_rolls_back_on_an_error(units: Units) -> None:
    with units() as uow:
        uow.plans.start_plan("HH-1", state="x", owner=None)
    with pytest.raises(LookupError), units() as uow:
        uow.plans.start_plan("HH-2", state="x", owner=None)
        raise LookupError
    with units(read_only=True) as uow:
        assert uow.tx.scalar(select(func.count()).select_from(Plan)) == 1


def test_a_database_failure_arrives_once_as_storage_unavailable(units: Units) -> None:
    with pytest.raises(StorageUnavailable), units() as uow:
        uow.plans.start_plan("HH-1", state="x", owner=None)
        # What the driver reports for a database that went away: the connection is gone
        # (PostgreSQL), or a table is (SQLite); both are OperationalError.
        if uow.tx.dialect == "postgresql":
            uow.tx.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        uow.tx.execute(text("SELECT * FROM no_such_table"))
    with units(read_only=True) as uow:
        assert uow.tx.scalar(select(func.count()).select_from(Plan)) == 0


def test_after_commit_runs_only_after_a_commit(units: Units) -> None:
    calls: list[str] = []

    @contextmanager
    def unit(fail: bool) -> Iterator[None]:
        with units() as uow:
            uow.after_commit(lambda: calls.append("committed"))
            yield
            if fail:
                raise LookupError

    with pytest.raises(LookupError), unit(fail=True):
        pass
    assert calls == []
    with unit(fail=False):
        pass
    assert calls == ["committed"]


def test_deletion_finds_a_new_table_of_a_plan_from_its_foreign_key(
    engine: Engine, units: Units
) -> None:
    # A table added later, referring to plans without ON DELETE CASCADE: deleting the plan
    # fails on the foreign key unless deletion finds the table's rows itself.
    table = Table(
        "test_actions",
        Base.metadata,
        Column("id", Integer, primary_key=True),
        Column("plan_id", ForeignKey("plans.id"), nullable=False),
    )
    try:
        table.create(engine)
        with units() as uow:
            plan = uow.plans.start_plan("HH-1", state="x", owner=None)
            uow.tx.execute(insert(table).values(plan_id=plan.id))
        assert "test_actions" in {t.name for t, _, _ in dependents(Plan.__table__)}
        with units() as uow:
            assert uow.deletion.delete_plan(plan.id)
        with units(read_only=True) as uow:
            assert uow.tx.scalar(select(func.count()).select_from(table)) == 0
            assert uow.tx.scalar(select(func.count()).select_from(Plan)) == 0
    finally:
        table.drop(engine, checkfirst=True)
        Base.metadata.remove(table)
