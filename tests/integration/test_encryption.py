"""Encryption at rest on SQLite and PostgreSQL: stored bytes, keys, tampering, rotation."""

from __future__ import annotations

import json
import os
import re
import stat
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, select, text, update
from sqlalchemy.orm import Session, sessionmaker

import prompts
from dialogs.status import Stage
from storage import PlanRecord, PlanRepository, create_engine_for, make_session_factory, migrate
from storage.access import AccessRepository
from storage.actions import ActionRepository, Wanted
from storage.chats import ChatRepository
from storage.course import CourseRepository
from storage.crypto import InvalidSecret, Keyring, TamperedData, WrongKey, is_token
from storage.db import alembic_config, ensure_encrypted, has_key_check, rotate_key, scrub
from storage.escalations import EscalationRepository
from storage.evaluations import EvaluationRepository
from storage.inbox import InboxRepository
from storage.lessons import LessonRepository
from storage.models import encrypted_columns, protected_columns, protected_tables, utcnow
from tests.conftest import TEST_SECRET, keyring_for_tests
from tests.e2e.protocol import doorbraakbot
from tests.integration.conftest import KEYRING

MARKER = "MARKER-Zoë-8431"
HOUSEHOLD = "HH-Q7Z9-5521"
OTHER = Keyring.from_secret(Keyring.generate_secret())
TABLES = ("households", "plans", "answers", "suggestions", "meta", "chats", "inbox", "actions")
# Invented Telegram ids.
PROFESSIONAL = 8123456789
PRIVATE_CHAT = 8123456790
GROUP_CHAT = -1009876543210
IDS = (PROFESSIONAL, PROFESSIONAL + 1, PRIVATE_CHAT, GROUP_CHAT)


def store_marked_plan(sessions: sessionmaker[Session], keyring: Keyring = KEYRING) -> PlanRecord:
    """A plan with the marker in an answer, a cost line, the dialog's data and a suggestion."""
    cost_line = {"omschrijving": f"Bewindvoering {MARKER}", "prijs": 12500, "eenheid": "maand"}
    with sessions.begin() as session:
        repo = PlanRepository(session, keyring)
        plan = repo.start_plan(HOUSEHOLD, state="situatieschets.start", owner="terminal:t")
        repo.save_turn(
            plan.id,
            expected_revision=0,
            state="kosten.huidig",
            data={"kosten": {"draft": {"omschrijving": MARKER}}},
            status="open",
            answers=[
                ("situatieschets.situatie", f"Het gaat om {MARKER}"),
                ("kosten", [cost_line]),
            ],
            author="terminal:t",
        )
        repo.add_suggestion(plan.id, step=1, field="x", author="telegram:1", text=MARKER)
        ActionRepository(session, keyring).sync(
            plan.id,
            "actieplan.voor_doorbraak",
            [
                Wanted(f"Wijkteam | bel {MARKER} | morgen", None),
                Wanted("Jan | tweede | later", None),
            ],
            author="terminal:t",
            now=utcnow(),
        )
        course = CourseRepository(session, keyring)
        for stage, who in ((Stage.SUBMITTED, "Doorbraakteam"), (Stage.GRANTED, MARKER)):
            course.record(
                plan.id, stage, author="terminal:t", who=who, day=date.today(), now=utcnow()
            )
        escalations = EscalationRepository(session, keyring)
        for rung, reason in enumerate((f"Vast op {MARKER}", "Tweede reden")):
            made = escalations.propose(
                plan.id, cause="hand", rung=rung, rung_name="Trede", now=utcnow()
            )
            assert made is not None
            escalations.decide(
                made, "opgeschaald", author="terminal:t", now=utcnow(), reason=reason
            )
        evaluations = EvaluationRepository(session, keyring)
        for months, changed in ((3, f"Rust bij {MARKER}"), (12, "Een vaste woning")):
            evaluations.add(
                plan.id,
                state="klaar",
                months=months,
                given={"rendement.periode": str(months)},
                answers={"evaluatie.verandering": changed},
                author="terminal:t",
                now=utcnow(),
            )
    return read_plan(sessions, keyring)


def read_plan(sessions: sessionmaker[Session], keyring: Keyring = KEYRING) -> PlanRecord:
    with sessions() as session:
        plan = PlanRepository(session, keyring).current_plan(HOUSEHOLD)
    assert plan is not None
    return plan


def assert_marked(sessions: sessionmaker[Session], keyring: Keyring = KEYRING) -> None:
    plan = read_plan(sessions, keyring)
    assert plan.household == HOUSEHOLD
    assert plan.answers["situatieschets.situatie"] == f"Het gaat om {MARKER}"
    assert plan.answers["kosten"][0]["omschrijving"] == f"Bewindvoering {MARKER}"
    assert plan.data == {"kosten": {"draft": {"omschrijving": MARKER}}}
    with sessions() as session:
        ideas = PlanRepository(session, keyring).suggestions(plan.id)
    assert [i.text for i in ideas] == [MARKER]


def raw_dump(engine: Engine) -> bytes:
    """What someone with the database files (or the table data) sees."""
    if engine.dialect.name == "sqlite":
        path = Path(str(engine.url.database))
        files = [path, path.with_name(path.name + "-wal")]
        return b"".join(f.read_bytes() for f in files if f.exists())
    with engine.connect() as connection:
        tables = [t for t in TABLES if inspect(connection).has_table(t)]
        rows = [
            row
            for table in tables
            for row in connection.exec_driver_sql(f"SELECT t::text FROM {table} t").scalars()
        ]
    return "\n".join(rows).encode()


# Random text a short secret may turn up in by chance: ciphertexts, keyed hashes (hex), and
# random row ids (uuid hex).
_RANDOM = re.compile(rb"v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]+={0,2}|[0-9a-f]{32,}")


def assert_not_in_dump(engine: Engine) -> None:
    dump = raw_dump(engine)
    assert dump, "nothing dumped"
    # A four-character secret is looked for outside the random text only: `8431` turns up in
    # a hex hash now and then, which is no leak.
    plain = _RANDOM.sub(b" ", dump)
    for secret in (MARKER, "8431", HOUSEHOLD, "Q7Z9", *map(str, IDS)):
        where = plain if len(secret) < 8 else dump
        assert secret.encode() not in where
        assert secret.encode("utf-16-le") not in where


def checkpoint(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        # On the driver connection: SQLAlchemy would wrap it in a transaction (BEGIN IMMEDIATE).
        with engine.connect() as connection:
            cursor = connection.connection.cursor()
            assert cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
            cursor.close()


# --- the keyring -------------------------------------------------------------------------------


def test_keyring_tokens_hashes_and_bad_secrets() -> None:
    token = KEYRING.encrypt(MARKER, context="answers.value")
    assert token.startswith(f"v1.{KEYRING.key_id}.") and is_token(token)
    assert KEYRING.decrypt(token, context="answers.value") == MARKER
    # a fresh nonce every time
    assert KEYRING.encrypt(MARKER, context="answers.value") != token
    digest = KEYRING.hash("3012", purpose="household")
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert digest == keyring_for_tests().hash("3012", purpose="household")
    assert digest != KEYRING.hash("3012", purpose="telegram")
    assert digest != OTHER.hash("3012", purpose="household")
    assert KEYRING.key_id != OTHER.key_id
    assert TEST_SECRET not in repr(KEYRING)
    assert Keyring.from_secret(TEST_SECRET.rstrip("=")).key_id == KEYRING.key_id
    for bad in ("", "not base64 at all!", "c2hvcnQ=", Keyring.generate_secret() + "AAAA"):
        with pytest.raises(InvalidSecret):
            Keyring.from_secret(bad)


def test_keyring_refuses_a_wrong_key_changed_data_and_another_column() -> None:
    token = KEYRING.encrypt(MARKER, context="answers.value")
    with pytest.raises(WrongKey):
        OTHER.decrypt(token, context="answers.value")
    with pytest.raises(TamperedData):
        KEYRING.decrypt(token, context="suggestions.text")
    prefix, payload = token.rsplit(".", 1)
    middle = len(payload) // 2
    flipped = payload[:middle] + ("A" if payload[middle] != "A" else "B") + payload[middle + 1 :]
    for damaged in (f"{prefix}.{flipped}", token[:-8], "Het gaat om", "v1.zz.abc"):
        with pytest.raises(TamperedData):
            KEYRING.decrypt(damaged, context="answers.value")


# --- the database ------------------------------------------------------------------------------


def test_answers_are_not_in_the_stored_bytes(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    store_marked_plan(sessions)

    # the WAL not yet checkpointed (SQLite), then after a checkpoint
    assert_not_in_dump(engine)
    checkpoint(engine)
    assert_not_in_dump(engine)
    assert_marked(sessions)
    with engine.connect() as connection:
        numbers = connection.execute(text("SELECT number, number_enc FROM households")).all()
    assert numbers == [(KEYRING.hash(HOUSEHOLD, purpose="household"), numbers[0][1])]
    assert is_token(numbers[0][1])


def test_a_wrong_key_is_refused(engine: Engine, sessions: sessionmaker[Session]) -> None:
    store_marked_plan(sessions)

    with pytest.raises(WrongKey):
        ensure_encrypted(engine, OTHER)
    with sessions() as session:
        repo = PlanRepository(session, OTHER)
        # the household's hash differs under another key: not found rather than garbage
        assert repo.current_plan(HOUSEHOLD) is None
        with pytest.raises(WrongKey):
            repo.list_plans()


def test_changed_or_moved_ciphertext_is_detected(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    plan = store_marked_plan(sessions)
    with engine.begin() as connection:
        token = connection.execute(
            text("SELECT value FROM answers WHERE field = 'situatieschets.situatie'")
        ).scalar_one()
        suggestion = connection.execute(text("SELECT text FROM suggestions")).scalar_one()
        middle = len(token) - 20
        flipped = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
        connection.execute(
            text("UPDATE answers SET value = :v WHERE field = 'situatieschets.situatie'"),
            {"v": flipped},
        )
    with sessions() as session, pytest.raises(TamperedData):
        PlanRepository(session, KEYRING).get(plan.id)

    # a valid ciphertext of another column does not decrypt here
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE answers SET value = :v WHERE field = 'situatieschets.situatie'"),
            {"v": suggestion},
        )
    with sessions() as session, pytest.raises(TamperedData):
        PlanRepository(session, KEYRING).get(plan.id)


def populate(sessions: sessionmaker[Session], keyring: Keyring = KEYRING) -> None:
    """Two rows in every table with an encrypted column: two plans (one with the marker), a
    professional each, a private and a group chat, and an update waiting in the inbox."""
    store_marked_plan(sessions, keyring)
    with sessions.begin() as session:
        repo = PlanRepository(session, keyring)
        other = repo.start_plan("HH-ANDER-1", state="situatieschets.start", owner="terminal:t")
        repo.save_turn(
            other.id,
            expected_revision=0,
            state="x",
            data={},
            status="open",
            answers=[("situatieschets.situatie", "Ander antwoord")],
            author="terminal:t",
        )
        repo.add_suggestion(other.id, step=1, field="x", author="telegram:2", text="Ander idee")
        chats = ChatRepository(session, keyring)
        chats.bind_chat(PRIVATE_CHAT, other.id, kind="private", first_message_id=7)
        chats.bind_chat(GROUP_CHAT, other.id, kind="group", facilitator="prof:1")
        access = AccessRepository(session, keyring)
        for user, name in ((PROFESSIONAL, "Sanne"), (PROFESSIONAL + 1, "Piet")):
            assert access.redeem_invite(access.create_invite("wijkteam"), user, name) is not None
        lessons = LessonRepository(session, keyring)
        for lesson, source in ((f"Les {MARKER}", "groep 2"), ("Tweede les", "2026-K1")):
            lessons.add(
                team="wijkteam",
                text=lesson,
                source=source,
                owner_id=None,
                owner_role="teamleider",
                due_on=date(2027, 4, 1),
                created_by="terminal:t",
                now=utcnow(),
            )
        inbox = InboxRepository(session, keyring)
        inbox.add(41, PRIVATE_CHAT, {"update_id": 41, "message": {"text": MARKER}})
        inbox.add(42, GROUP_CHAT, {"update_id": 42, "message": {"text": "tweede"}})


def stored_values(engine: Engine) -> dict[str, list[str]]:
    """Every declared encrypted column (table.column) with its stored values that are set."""
    values: dict[str, list[str]] = {}
    with engine.connect() as connection:
        for table in protected_tables():
            for name in encrypted_columns(table):
                column = table.c[name]
                found = connection.execute(select(column).where(column.is_not(None)))
                values[f"{table.name}.{name}"] = list(found.scalars())
    return values


def test_rotate_key_re_encrypts_everything(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    populate(sessions)
    before = stored_values(engine)
    assert all(before.values()), "a declared column has no value to rotate"

    assert rotate_key(engine, KEYRING, OTHER) >= 12
    scrub(engine)

    after = stored_values(engine)
    assert after.keys() == before.keys()
    for column, tokens in after.items():
        assert len(tokens) == len(before[column]), column
        assert all(t.startswith(f"v1.{OTHER.key_id}.") for t in tokens), column
    with pytest.raises(WrongKey):
        ensure_encrypted(engine, KEYRING)
    with pytest.raises(WrongKey):
        rotate_key(engine, KEYRING, OTHER)
    ensure_encrypted(engine, OTHER)
    assert_marked(sessions, OTHER)
    plan_id = read_plan(sessions, OTHER).id
    with sessions() as session:
        reasons = [e.reason for e in EscalationRepository(session, OTHER).of_plan(plan_id)]
        assert reasons == [f"Vast op {MARKER}", "Tweede reden"]
    with sessions() as session:
        points = [
            a.point
            for a in ActionRepository(session, OTHER).of_plan(read_plan(sessions, OTHER).id)
        ]
        assert points == [f"Wijkteam | bel {MARKER} | morgen", "Jan | tweede | later"]
        inbox = InboxRepository(session, OTHER)
        assert AccessRepository(session, OTHER).professional(PROFESSIONAL) is not None
        lessons = LessonRepository(session, OTHER).listed(["wijkteam"])
        assert [(x.text, x.source) for x in lessons] == [
            (f"Les {MARKER}", "groep 2"),
            ("Tweede les", "2026-K1"),
        ]
        names = [c.name for c in AccessRepository(session, OTHER).colleagues("wijkteam")]
        assert names == ["Piet", "Sanne"]
        private = ChatRepository(session, OTHER).chat(PRIVATE_CHAT)
        assert private is not None and private.first_message_id == 7
        group = ChatRepository(session, OTHER).chat(GROUP_CHAT)
        assert group is not None and group.facilitator == "prof:1"
        # the waiting update is still its chat's next, readable under the new key
        waiting = inbox.next(inbox.chat_key(PRIVATE_CHAT))
        assert waiting is not None and waiting.update_id == 41
        assert waiting.payload == {"update_id": 41, "message": {"text": MARKER}}
    checkpoint(engine)
    assert_not_in_dump(engine)
    assert KEYRING.key_id.encode() not in raw_dump(engine)


def test_a_ciphertext_moved_to_another_row_is_detected(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    populate(sessions)
    plan = read_plan(sessions)

    swapped = []
    with engine.begin() as connection:
        for table in protected_tables():
            (pk,) = table.primary_key.columns
            for name, spec in encrypted_columns(table).items():
                column = table.c[name]
                rows = connection.execute(
                    select(pk, column).where(column.is_not(None)).order_by(pk).limit(2)
                ).all()
                assert len(rows) == 2, f"{table.name}.{name}"
                for (row_pk, _), (_, value) in zip(rows, reversed(rows), strict=True):
                    connection.execute(update(table).where(pk == row_pk).values({name: value}))
                swapped.append((table, pk, name, spec, [row_pk for row_pk, _ in rows]))
    assert {f"{t.name}.{n}" for t, _, n, _, _ in swapped} == set(stored_values(engine))

    with engine.connect() as connection:
        for table, pk, name, spec, row_pks in swapped:
            selected = [pk, *protected_columns(table)]
            for row in connection.execute(select(*selected).where(pk.in_(row_pks))).mappings():
                with pytest.raises(TamperedData):
                    spec.open(KEYRING, row[name], row)
    # and where the application reads them
    with sessions() as session, pytest.raises(TamperedData):
        PlanRepository(session, KEYRING).get(plan.id)
    with sessions() as session:
        inbox = InboxRepository(session, KEYRING)
        waiting = inbox.next(inbox.chat_key(PRIVATE_CHAT))
    assert waiting is not None and waiting.payload is None


def test_plaintext_rows_from_before_encryption_are_converted(url: str) -> None:
    engine = create_engine_for(url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0002")
            connection.execute(
                text(
                    "INSERT INTO households (id, number, created_at)"
                    " VALUES (1, :n, CURRENT_TIMESTAMP)"
                ),
                {"n": HOUSEHOLD},
            )
            connection.execute(
                text(
                    "INSERT INTO plans (id, household_id, status, state, data, revision,"
                    " created_at, updated_at) VALUES (1, 1, 'open', 'kosten.huidig', :d, 1,"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"d": json.dumps({"kosten": {"draft": {"omschrijving": MARKER}}})},
            )
            cost_line = {"omschrijving": f"Bewindvoering {MARKER}", "prijs": 12500}
            for field, value in [
                ("situatieschets.situatie", f"Het gaat om {MARKER}"),
                ("kosten", [cost_line]),
            ]:
                connection.execute(
                    text(
                        "INSERT INTO answers (plan_id, field, value, author, created_at)"
                        " VALUES (1, :f, :v, 'terminal:t', CURRENT_TIMESTAMP)"
                    ),
                    {"f": field, "v": json.dumps(value, ensure_ascii=False)},
                )
            connection.execute(
                text(
                    "INSERT INTO suggestions (plan_id, step, field, author, text, created_at)"
                    " VALUES (1, 1, 'x', 'telegram:1', :t, CURRENT_TIMESTAMP)"
                ),
                {"t": MARKER},
            )
        assert MARKER.encode() in raw_dump(engine)

        migrate(engine)
        assert not has_key_check(engine)
        ensure_encrypted(engine, KEYRING)
        ensure_encrypted(engine, KEYRING)  # idempotent

        assert has_key_check(engine)
        sessions = make_session_factory(engine)
        plan = read_plan(sessions)
        assert plan.answers["kosten"] == [cost_line]
        assert_marked(sessions)
        assert_not_in_dump(engine)
        with pytest.raises(WrongKey):
            ensure_encrypted(engine, OTHER)
    finally:
        engine.dispose()


# --- the command ---------------------------------------------------------------------------------

cli = doorbraakbot


def test_cli_keys(tmp_path: Path) -> None:
    spec = prompts.load_interview()
    key_file = tmp_path / "secret.key"
    wal = tmp_path / "plans.db-wal"

    # the terminal without DOORBRAAK_SECRET_KEY: a local key file, and a warning on stderr only
    chat = cli(
        tmp_path,
        *("chat", "--household", "3012", "--jsonl"),
        stdin=json.dumps({"text": f"Plan van {MARKER}"}, ensure_ascii=False) + "\n",
        DOORBRAAK_SECRET_KEY="",
    )
    assert chat.returncode == 0, chat.stderr
    assert all(json.loads(line) for line in chat.stdout.splitlines())
    assert chat.stderr.strip() == spec.message("sleutel_lokaal", pad=key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert MARKER.encode() not in (tmp_path / "plans.db").read_bytes() + (
        wal.read_bytes() if wal.exists() else b""
    )

    # a wrong key: a clear error, exit 1, nothing changed
    wrong = cli(tmp_path, "plans")
    assert (wrong.returncode, wrong.stdout) == (1, "")
    assert wrong.stderr.strip() == spec.message("sleutel_onjuist", bron="DOORBRAAK_SECRET_KEY")
    assert "Traceback" not in wrong.stderr

    # the bot without a key refuses to start and names the terminal's key file
    run = cli(tmp_path, "run", DOORBRAAK_SECRET_KEY="", TELEGRAM_BOT_TOKEN="123:abc")
    assert run.returncode == 2
    assert run.stderr.strip() == spec.message("sleutel_ontbreekt_terminal", pad=key_file)
    assert f"DOORBRAAK_SECRET_KEY_FILE={key_file} doorbraakbot run" in run.stderr

    # rotate-key replaces the key file; the plan stays readable, the old key no longer works
    old_secret = key_file.read_text()
    rotated = cli(tmp_path, "rotate-key", "--generate", DOORBRAAK_SECRET_KEY="")
    assert rotated.returncode == 0, rotated.stderr
    new_secret = key_file.read_text().strip()
    assert new_secret != old_secret.strip() and new_secret in rotated.stdout
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    plans = cli(tmp_path, "plans", DOORBRAAK_SECRET_KEY="")
    assert plans.returncode == 0, plans.stderr
    assert "3012" in plans.stdout
    stale = cli(tmp_path, "plans", DOORBRAAK_SECRET_KEY=old_secret.strip())
    assert stale.returncode == 1 and "Traceback" not in stale.stderr

    # a lost key file is not silently replaced by a new key
    os.rename(key_file, tmp_path / "elders.key")
    lost = cli(tmp_path, "plans", DOORBRAAK_SECRET_KEY="")
    assert lost.returncode == 1
    assert lost.stderr.strip() == spec.message("sleutelbestand_ontbreekt", pad=key_file)
    assert not key_file.exists()

    genkey = cli(tmp_path, "genkey")
    assert genkey.returncode == 0
    Keyring.from_secret(genkey.stdout.strip())
    bad = cli(tmp_path, "plans", DOORBRAAK_SECRET_KEY="geheim")
    assert bad.returncode == 2
    assert bad.stderr.strip() == spec.message("sleutel_ongeldig", bron="DOORBRAAK_SECRET_KEY")
