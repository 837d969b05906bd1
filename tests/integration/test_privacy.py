"""Nothing identifying in plain text: every column classified, old databases converted, the
raw files and a pg_dump after a realistic session, and a purge that leaves no waiting update."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, make_url, select, text, update
from sqlalchemy.orm import Session, sessionmaker

import storage
from bot.access import AccessService
from bot.bootstrap import bootstrap
from bot.config import Settings
from bot.service import ChatTarget
from dialogs import Text
from storage import PlanRepository, Units, create_engine_for, make_session_factory, migrate
from storage.access import AccessRepository
from storage.chats import ChatRepository
from storage.db import STORAGE_FORMAT, alembic_config, ensure_encrypted
from storage.inbox import InboxEntry, InboxRepository
from storage.models import Base, Meta, encrypted_columns, hashed_columns, utcnow
from tests.conftest import TEST_SECRET
from tests.integration.conftest import KEYRING

# Columns that hold nothing about a person: states, ids, times, roles, keyed hashes of
# one-time codes, actors ("prof:12"), team names. A new column must be added here or be
# declared encrypted or hashed on its model.
NOT_PERSONAL = {
    "households": {"id", "created_at"},
    "plans": {
        "id",
        "household_id",
        "status",
        "state",
        "revision",
        "owner",
        "created_at",
        "updated_at",
        "reminders_off_at",
    },
    "answers": {"id", "plan_id", "field", "author", "created_at"},
    "chats": {"plan_id", "kind", "facilitator", "updated_at", "first_message_id"},
    "suggestions": {"id", "plan_id", "step", "field", "author", "created_at"},
    "meta": {"key", "value"},
    "professionals": {"id", "team", "created_at", "reminders_off_at", "role"},
    "invites": {"id", "code_hash", "team", "created_at", "expires_at", "used_at", "role"},
    "plan_access": {"plan_id", "professional_id", "role", "created_at"},
    "share_codes": {
        "id",
        "code_hash",
        "plan_id",
        "created_by",
        "created_at",
        "expires_at",
        "used_at",
    },
    "audit_log": {"id", "at", "actor", "action", "plan_id", "detail"},
    "inbox": {"update_id", "received_at", "done_at"},
    # An evaluation's answers and what the plan gave it are encrypted as one value; where its
    # interview is, its months and its dates are not.
    "evaluations": {
        "id",
        "uid",
        "plan_id",
        "status",
        "state",
        "months",
        "author",
        "created_at",
        "updated_at",
        "finished_at",
    },
    # An action's point (wie, wat, wanneer) is encrypted; its date and status are not, so the
    # database can find what is due (a date says nothing of the household on its own).
    "actions": {
        "id",
        "uid",
        "plan_id",
        "field",
        "position",
        "owner_id",
        "due",
        "status",
        "removed_at",
        "created_at",
        "updated_at",
    },
    "action_events": {"id", "action_id", "at", "author", "change", "status", "due"},
    "reminders": {
        "id",
        "plan_id",
        "action_id",
        "kind",
        "due_on",
        "sent_at",
        "attempts",
        "retry_at",
        "failed_at",
        "skipped_at",
        "created_at",
        "lesson_id",
        "professional_id",
    },
    # A lesson (issue 16): its text and source are encrypted; the rest is a team, an owner
    # (a professional's number or a role), a day, a status and an actor.
    "lessons": {
        "id",
        "uid",
        "team",
        "owner_id",
        "owner_role",
        "due_on",
        "status",
        "step",
        "created_by",
        "created_at",
        "updated_at",
        "done_at",
    },
    # The plan's course: who it went to and who decided are encrypted (`who`); a stage, a
    # day, a team and an amount say nothing of the household on their own.
    "plan_course": {"id", "uid", "plan_id", "stage", "at", "author", "day"},
    "budget_claims": {"id", "plan_id", "team", "cents", "day", "at", "author"},
    # The escalatieladder: why is encrypted; the rest is the ladder's own words (its
    # rungs), states and times, and actors as the audit log names them.
    "escalations": {
        "id",
        "uid",
        "plan_id",
        "action_id",
        "due_on",
        "cause",
        "rung",
        "rung_name",
        "state",
        "proposed_at",
        "sent_at",
        "attempts",
        "retry_at",
        "failed_at",
        "decided_at",
        "author",
        "outcome",
        "outcome_at",
        "outcome_by",
    },
    # The report's facts of a plan (README, "Leren van alle plannen"): a team, dates,
    # choices of the interview's own lists as bits, totals in whole euros; no free text.
    "plan_facts": {
        "plan_id",
        "team",
        "started_on",
        "started_quarter",
        "finished_on",
        "finished_quarter",
        "finished_days",
        "submitted_on",
        "decided_on",
        "decision",
        "escalated_on",
        "evaluated_on",
        "domains",
        "schuurt",
        "laws",
        "huidig",
        "dreigend",
        "doorbraak",
        "directe",
        "reele",
        "sharing",
        "updated_at",
        # What came true (migration 0016): a day, round amounts, fixed choices, two counts.
        "realised_on",
        "realised_quarter",
        "projected_directe",
        "projected_reele",
        "realised_directe",
        "realised_reele",
        "exp_doorbraak",
        "exp_meer",
        "exp_sneller",
        "exp_zinvoller",
        "actions_dated",
        "actions_on_time",
    },
    "report_names": {"kind", "bit", "name"},
    # Per plan and law of legitimiteit (a bit of report_names), how many rules: no text.
    "plan_rule_laws": {"plan_id", "law", "rules"},
}

# Invented: a Telegram user id, chat ids, a household number and answers.
USER = 8123456789
PRIVATE_CHAT = 8123456788
GROUP_CHAT = -1004455667788
HOUSEHOLD = "WT-77123"
ANSWERS = ("Kwelderblauw-rapsodie 5519", "Zeppelinmos-toekan 8802", "Hooibergviool-quasar 3371")
IDEA = "Idee-Marmotlantaarn 4410"
WAITING = "Wachtend-Pelikaanfluit 6623"


def test_every_column_is_encrypted_hashed_or_known_not_personal() -> None:
    assert storage.access and storage.inbox  # their tables are in Base.metadata
    unclassified = []
    for table in Base.metadata.sorted_tables:
        encrypted, hashed = encrypted_columns(table), hashed_columns(table)
        for name, spec in encrypted.items():
            assert set(spec.row) <= set(table.c.keys()), f"{table.name}.{name}"
        for name, how in hashed.items():
            assert how.source in encrypted, f"{table.name}.{name}: hashed from {how.source}"
        allowed = NOT_PERSONAL.get(table.name, set())
        for column in table.columns:
            declared = column.name in encrypted or column.name in hashed
            assert not (declared and column.name in allowed), f"{table.name}.{column.name}"
            if not declared and column.name not in allowed:
                unclassified.append(f"{table.name}.{column.name}")
    assert unclassified == []


def test_a_database_of_migration_0005_is_converted(url: str) -> None:
    """Old-style values: a chat id in plain text and values not bound to their rows."""
    engine = create_engine_for(url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0005")
            old_style_rows(connection)
        migrate(engine)
        ensure_encrypted(engine, KEYRING)
        with engine.connect() as connection:
            converted = dump_columns(engine)
            form = connection.scalar(select(Meta.value).where(Meta.key == STORAGE_FORMAT))
        head = ScriptDirectory.from_config(alembic_config(url=url)).get_current_head()
        assert form is not None and form.endswith(f":{head}")
        ensure_encrypted(engine, KEYRING)  # idempotent: nothing changes a second time
        assert dump_columns(engine) == converted

        sessions = make_session_factory(engine)
        with sessions() as session:
            repo = PlanRepository(session, KEYRING)
            plan = repo.current_plan(HOUSEHOLD)
            assert plan is not None
            assert plan.answers == {"situatieschets.situatie": ANSWERS[0]}
            assert plan.data == {"stap": 1}
            assert [s.text for s in repo.suggestions(plan.id)] == [IDEA]
            chat = ChatRepository(session, KEYRING).chat(PRIVATE_CHAT)
            assert chat is not None and (chat.plan_id, chat.first_message_id) == (1, 5)
            assert AccessRepository(session, KEYRING).professional(USER) is not None
            inbox = InboxRepository(session, KEYRING)
            waiting = inbox.next(inbox.chat_key(PRIVATE_CHAT))
            assert waiting is not None and waiting.payload == {"text": WAITING}
        # and the chat still works through the repository's other calls
        with sessions.begin() as session:
            repo = ChatRepository(session, KEYRING)
            repo.move_chat(PRIVATE_CHAT, GROUP_CHAT)
            assert repo.chat(PRIVATE_CHAT) is None
            assert repo.chat(GROUP_CHAT) is not None
        assert_absent(raw_sqlite(engine) if engine.dialect.name == "sqlite" else pg_dump(url))
    finally:
        engine.dispose()


def old_style_rows(connection: Connection) -> None:
    """Rows as the code before row binding and migration 0006 wrote them."""
    now = utcnow()

    def insert(sql: str, **params: object) -> None:
        connection.execute(text(sql), {"now": now, **params})

    insert(
        "INSERT INTO households (id, number, number_enc, created_at) VALUES (1, :h, :e, :now)",
        h=KEYRING.hash(HOUSEHOLD, purpose="household"),
        e=KEYRING.encrypt(HOUSEHOLD, context="households.number"),
    )
    insert(
        "INSERT INTO plans (id, household_id, status, state, data, revision, created_at,"
        " updated_at) VALUES (1, 1, 'open', 'x', :d, 1, :now, :now)",
        d=KEYRING.encrypt('{"stap":1}', context="plans.data"),
    )
    insert(
        "INSERT INTO answers (plan_id, field, value, author, created_at)"
        " VALUES (1, 'situatieschets.situatie', :v, 'prof:1', :now)",
        v=KEYRING.encrypt(json.dumps(ANSWERS[0]), context="answers.value"),
    )
    insert(
        "INSERT INTO suggestions (plan_id, step, field, author, text, created_at)"
        " VALUES (1, 1, 'x', 'prof:1', :t, :now)",
        t=KEYRING.encrypt(IDEA, context="suggestions.text"),
    )
    insert(
        "INSERT INTO professionals (user_key, user_enc, team, created_at)"
        " VALUES (:k, :e, 'wijkteam', :now)",
        k=KEYRING.hash(str(USER), purpose="telegram"),
        e=KEYRING.encrypt(str(USER), context="professionals.user"),
    )
    insert(
        "INSERT INTO chats (chat_id, plan_id, kind, updated_at, first_message_id)"
        " VALUES (:c, 1, 'private', :now, 5)",
        c=PRIVATE_CHAT,
    )
    insert(
        "INSERT INTO inbox (update_id, chat_key, payload, received_at) VALUES (9, :k, :p, :now)",
        k=KEYRING.hash(str(PRIVATE_CHAT), purpose="inbox.chat"),
        p=KEYRING.encrypt(json.dumps({"text": WAITING}), context="inbox.payload"),
    )
    insert(
        "INSERT INTO meta (key, value) VALUES ('key_check', :v)",
        v=KEYRING.encrypt("doorbraakbot key check", context="meta.key_check"),
    )


def dump_columns(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [
            tuple(row)
            for table in Base.metadata.sorted_tables
            if encrypted_columns(table)
            for row in connection.execute(select(table).order_by(*table.primary_key.columns))
        ]


def test_purge_forgets_updates_done_or_waiting_past_the_retention(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        inbox = InboxRepository(session, KEYRING)
        for update_id in (1, 2, 3):
            inbox.add(update_id, PRIVATE_CHAT, {"update_id": update_id, "text": WAITING})
        inbox.mark_done(1)
        long_ago = utcnow() - timedelta(days=31)
        session.execute(
            update(InboxEntry).where(InboxEntry.update_id == 2).values(received_at=long_ago)
        )

    AccessService(Units(sessions.kw["bind"], KEYRING)).purge(30)

    with sessions() as session:
        left = session.scalars(select(InboxEntry.update_id)).all()
    assert left == [3]  # done (1) and waiting for 31 days (2) are gone


def test_no_identifying_value_in_the_raw_database_after_a_session(
    url: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data", secret_key=TEST_SECRET, database_url=url)
    app = bootstrap(settings)
    try:
        professional = app.access.register(app.access.invite("wijkteam"), USER)
        assert professional is not None
        actor = professional.actor
        private = ChatTarget(PRIVATE_CHAT, "private", first_message_id=3)
        turn = app.service.open(HOUSEHOLD, actor=actor, chat=private, professional=professional)
        for answer in ANSWERS:
            turn = app.service.handle(turn.plan_id, Text(answer), author=actor)
        stored = json.dumps(turn.answers, ensure_ascii=False)
        assert all(answer in stored for answer in ANSWERS), "the answers were not stored"
        group = ChatTarget(GROUP_CHAT, "group", facilitator=actor)
        app.service.open(HOUSEHOLD, actor=actor, chat=group, professional=professional)
        assert app.service.suggest(turn.plan_id, author=actor, text=IDEA) is not None
        assert app.service.chat(PRIVATE_CHAT) is not None
        with app.sessions.begin() as session:
            update_ = {"update_id": 77, "message": {"chat": {"id": PRIVATE_CHAT}, "text": WAITING}}
            InboxRepository(session, app.keyring).add(77, PRIVATE_CHAT, update_)

        sqlite = app.engine.dialect.name == "sqlite"
        assert_absent(raw_sqlite(app.engine) if sqlite else pg_dump(url))
    finally:
        app.engine.dispose()


def assert_absent(dump: bytes) -> None:
    # The team name is stored as it is: the dump holds the table data.
    assert b"wijkteam" in dump, "no table data dumped"
    secrets = (str(USER), str(PRIVATE_CHAT), str(GROUP_CHAT), HOUSEHOLD, *ANSWERS, IDEA, WAITING)
    for secret in secrets:
        for encoding in ("utf-8", "utf-16-le"):
            assert secret.encode(encoding) not in dump, secret


def raw_sqlite(engine: Engine) -> bytes:
    """The database file and its WAL after a checkpoint: what a copy of the files holds."""
    with engine.connect() as connection:
        cursor = connection.connection.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    path = Path(str(engine.url.database))
    files = [path, path.with_name(path.name + "-wal")]
    return b"".join(f.read_bytes() for f in files if f.exists())


def pg_dump(url: str) -> bytes:
    """pg_dump of the test's schema (data and definitions)."""
    binary = shutil.which("pg_dump") or "/usr/lib/postgresql/15/bin/pg_dump"
    if not Path(binary).exists():
        pytest.skip("pg_dump is not installed: the PostgreSQL dump cannot be checked")
    parsed = make_url(url)
    options = str(parsed.query.get("options", ""))
    schema = options.removeprefix("-csearch_path=")
    env = {**os.environ, "PGPASSWORD": parsed.password or ""}
    result = subprocess.run(
        [
            binary,
            *("--host", parsed.host or "127.0.0.1", "--port", str(parsed.port or 5432)),
            *("--username", parsed.username or "postgres", "--schema", schema),
            parsed.database or "postgres",
        ],
        capture_output=True,
        env=env,
        timeout=60,
        check=True,
    )
    assert schema.startswith("test_") and b"COPY " in result.stdout
    return result.stdout
