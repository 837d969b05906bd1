"""Contract tests for storage/, run against real SQLite and PostgreSQL databases."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from dialogs.status import PlanStatus
from storage import (
    Answer,
    Base,
    Plan,
    PlanRecord,
    PlanRepository,
    StaleRevision,
    create_engine_for,
    make_session_factory,
    migrate,
)
from storage.db import alembic_config, ensure_encrypted
from storage.models import ANSWER_VALUE
from tests.integration.conftest import KEYRING
from tests.support.stored import every_plan, field_history


def start(
    sessions: sessionmaker[Session], household: str = "HH-1", **data: int | str
) -> PlanRecord:
    with sessions.begin() as session:
        return PlanRepository(session, KEYRING).start_plan(
            household, state="situatieschets.start", owner="terminal:alice", data=dict(data)
        )


def save(
    sessions: sessionmaker[Session],
    plan: PlanRecord | int,
    revision: int,
    *answers: tuple[str, object],
    state: str = "situatieschets.next",
    status: str = PlanStatus.OPEN,
) -> int:
    plan_id = plan if isinstance(plan, int) else plan.id
    with sessions.begin() as session:
        return PlanRepository(session, KEYRING).save_turn(
            plan_id,
            expected_revision=revision,
            state=state,
            data={"step": revision + 1},
            status=status,
            answers=list(answers),
            author="terminal:alice",
        )


def get(sessions: sessionmaker[Session], plan_id: int) -> PlanRecord:
    with sessions() as session:
        plan = PlanRepository(session, KEYRING).get(plan_id)
    assert plan is not None
    return plan


def assert_utc(moment: datetime) -> None:
    assert moment.tzinfo is not None
    assert moment.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - moment) < timedelta(minutes=5)


# --- schema ----------------------------------------------------------------------------------


def test_migrate_twice_is_idempotent_and_matches_models(engine: Engine) -> None:
    migrate(engine)

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert context.get_current_revision() == head
        assert compare_metadata(context, Base.metadata) == []


def test_a_household_has_at_most_one_active_plan(sessions: sessionmaker[Session]) -> None:
    plan = start(sessions)

    with sessions() as session:
        household_id = session.get_one(Plan, plan.id).household_id
        session.add(Plan(household_id=household_id, status=PlanStatus.FINISHED, state="x"))
        with pytest.raises(IntegrityError):
            session.flush()


# --- plans -----------------------------------------------------------------------------------


def test_start_plan_then_load_it(sessions: sessionmaker[Session]) -> None:
    started = start(sessions, step=0)

    assert started.household == "HH-1"
    assert started.status == PlanStatus.OPEN
    assert started.state == "situatieschets.start"
    assert started.data == {"step": 0}
    assert started.revision == 0
    assert started.owner == "terminal:alice"
    assert started.answers == {}
    assert_utc(started.created_at)
    assert_utc(started.updated_at)
    with sessions() as session:
        repository = PlanRepository(session, KEYRING)
        assert repository.current_plan("HH-1") == started
        assert repository.get(started.id) == started
        assert repository.current_plan("HH-2") is None
        assert repository.get(started.id + 1000) is None


def test_start_plan_again_archives_the_old_plan_and_keeps_it(
    sessions: sessionmaker[Session],
) -> None:
    old = start(sessions)
    save(sessions, old, 0, ("naam", "Jan"))

    new = start(sessions)

    assert new.id != old.id
    assert (new.status, new.revision, new.answers) == (PlanStatus.OPEN, 0, {})
    archived = get(sessions, old.id)
    assert archived.status == PlanStatus.ARCHIVED
    assert archived.answers == {"naam": "Jan"}
    with sessions() as session:
        repository = PlanRepository(session, KEYRING)
        assert repository.current_plan("HH-1") == new
        assert [p.id for p in repository.list_plans()] == [new.id]
        assert {p.id for p in every_plan(session, KEYRING)} == {old.id, new.id}
    # Whoever still holds the old plan must not keep writing into it.
    with pytest.raises(StaleRevision):
        save(sessions, old, 1, ("naam", "Piet"))


def test_list_plans_newest_updated_first(sessions: sessionmaker[Session]) -> None:
    first = start(sessions, "HH-1")
    second = start(sessions, "HH-2")
    third = start(sessions, "HH-3")
    save(sessions, first, 0, ("naam", "Jan"), status=PlanStatus.FINISHED)

    with sessions() as session:
        plans = PlanRepository(session, KEYRING).list_plans()

    assert [p.id for p in plans] == [first.id, third.id, second.id]
    assert plans[0].answers == {"naam": "Jan"}
    assert plans[0].status == PlanStatus.FINISHED
    assert plans[1].answers == {}


# --- answers ---------------------------------------------------------------------------------


def test_save_turn_appends_answers_and_keeps_history(sessions: sessionmaker[Session]) -> None:
    plan = start(sessions)

    assert save(sessions, plan, 0, ("naam", "Jan"), ("kinderen", ["Piet", "Kees"])) == 1
    assert save(sessions, plan, 1, ("naam", "Jan de Vries"), ("aantal", 3)) == 2
    assert save(sessions, plan, 2, ("kinderen", None), state="toekomstperspectief.start") == 3

    loaded = get(sessions, plan.id)
    assert loaded.answers == {"naam": "Jan de Vries", "aantal": 3}
    assert loaded.state == "toekomstperspectief.start"
    assert loaded.data == {"step": 3}
    assert loaded.revision == 3
    assert loaded.updated_at >= plan.updated_at
    assert_utc(loaded.updated_at)
    with sessions() as session:
        repository = PlanRepository(session, KEYRING)
        naam = field_history(repository, plan.id, "naam")
        everything = repository.history(plan.id)
    assert [a.value for a in naam] == ["Jan", "Jan de Vries"]
    assert [(a.field, a.value) for a in everything] == [
        ("naam", "Jan"),
        ("kinderen", ["Piet", "Kees"]),
        ("naam", "Jan de Vries"),
        ("aantal", 3),
        ("kinderen", None),
    ]
    assert {a.author for a in everything} == {"terminal:alice"}
    for answer in everything:
        assert_utc(answer.created_at)


def test_stale_revision_writes_nothing(sessions: sessionmaker[Session]) -> None:
    plan = start(sessions)
    save(sessions, plan, 0, ("naam", "Jan"))

    with sessions() as session:
        repository = PlanRepository(session, KEYRING)
        with pytest.raises(StaleRevision):
            repository.save_turn(
                plan.id,
                expected_revision=0,
                state="elders",
                data={"step": 99},
                status=PlanStatus.FINISHED,
                answers=[("naam", "Piet"), ("aantal", 2)],
                author="telegram:123",
            )
        session.rollback()

    loaded = get(sessions, plan.id)
    assert (loaded.revision, loaded.state, loaded.status) == (1, "situatieschets.next", "open")
    assert loaded.data == {"step": 1}
    assert loaded.answers == {"naam": "Jan"}
    with sessions() as session:
        assert len(PlanRepository(session, KEYRING).history(plan.id)) == 1


def test_unicode_and_long_values_round_trip_whole(sessions: sessionmaker[Session]) -> None:
    long_text = ("Zoë woont met haar 👨‍👩‍👧 in Ærøskøbing. " * 600)[:19_999] + "🙂"
    assert len(long_text) == 20_000
    plan = start(sessions, "HH-é🏠")

    save(sessions, plan, 0, ("situatie", long_text), ("namen", ["Zoë", "Jürgen", "李"]))

    loaded = get(sessions, plan.id)
    assert loaded.household == "HH-é🏠"
    assert loaded.answers == {"situatie": long_text, "namen": ["Zoë", "Jürgen", "李"]}
    with sessions() as session:
        stored = session.scalars(select(Answer).where(Answer.field == "namen")).one()
        row = {"plan_id": plan.id, "field": "namen", "created_at": stored.created_at}
    assert stored.value is not None
    assert ANSWER_VALUE.open(KEYRING, stored.value, row) == '["Zoë","Jürgen","李"]'


def test_float_values_are_rejected(sessions: sessionmaker[Session]) -> None:
    plan = start(sessions)

    for answer in [("bedrag", 12.5), ("bedragen", [100, 0.5])]:
        with pytest.raises(TypeError, match="integer cents"):
            save(sessions, plan, 0, answer)
    with sessions() as session, pytest.raises(TypeError):
        PlanRepository(session, KEYRING).save_turn(
            plan.id,
            expected_revision=0,
            state="x",
            data={"bedrag": 1.5},
            status=PlanStatus.OPEN,
            answers=[],
            author="terminal:alice",
        )
    with sessions() as session, pytest.raises(TypeError):
        PlanRepository(session, KEYRING).start_plan(
            "HH-2", state="x", owner=None, data={"bedrag": 0.1}
        )

    assert get(sessions, plan.id).revision == 0


# --- SQLite specifics ------------------------------------------------------------------------


def sqlite_engine(path: Path, **kwargs: int) -> Engine:
    engine = create_engine_for(f"sqlite:///{path}", **kwargs)
    migrate(engine)
    ensure_encrypted(engine, KEYRING)
    return engine


def test_sqlite_connection_settings(sqlite_path: Path) -> None:
    engine = sqlite_engine(sqlite_path, sqlite_busy_timeout_ms=1234)
    try:
        assert sqlite_path.is_file()
        with engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA synchronous").scalar() == 2  # FULL
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA busy_timeout").scalar() == 1234
    finally:
        engine.dispose()


def test_sqlite_read_only_database_refuses_writes(sqlite_path: Path) -> None:
    engine = sqlite_engine(sqlite_path)
    plan = start(make_session_factory(engine))
    engine.dispose()
    before = sqlite_path.read_bytes()

    read_only = create_engine_for(f"sqlite:///file:{sqlite_path}?mode=ro&uri=true")
    try:
        sessions = make_session_factory(read_only)
        assert get(sessions, plan.id) == plan
        with pytest.raises(OperationalError, match="readonly"):
            save(sessions, plan, 0, ("naam", "Jan"))
    finally:
        read_only.dispose()

    assert sqlite_path.read_bytes() == before


def test_sqlite_read_only_database_outside_wal_mode_is_readable(sqlite_path: Path) -> None:
    sqlite_path.parent.mkdir(parents=True)
    with sqlite3.connect(sqlite_path) as plain:
        plain.execute("CREATE TABLE t (x INTEGER)")
    plain.close()

    read_only = create_engine_for(f"sqlite:///file:{sqlite_path}?mode=ro&uri=true")
    try:
        with read_only.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "delete"
            assert connection.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
    finally:
        read_only.dispose()


def test_sqlite_locked_database_fails_after_busy_timeout(sqlite_path: Path) -> None:
    engine = sqlite_engine(sqlite_path, sqlite_busy_timeout_ms=100)
    sessions = make_session_factory(engine)
    plan = start(sessions)
    blocker = sqlite3.connect(sqlite_path, isolation_level=None)
    try:
        blocker.execute("BEGIN EXCLUSIVE")
        began = time.monotonic()
        with pytest.raises(OperationalError, match="locked"):
            save(sessions, plan, 0, ("naam", "Jan"))
        waited = time.monotonic() - began
        assert 0.09 <= waited < 3
    finally:
        blocker.rollback()
        blocker.close()
        engine.dispose()
    assert get_after_unlock(sqlite_path, plan.id).revision == 0


def get_after_unlock(path: Path, plan_id: int) -> PlanRecord:
    engine = create_engine_for(f"sqlite:///{path}")
    try:
        return get(make_session_factory(engine), plan_id)
    finally:
        engine.dispose()
