"""Encryption at rest on SQLite and PostgreSQL: stored bytes, keys, tampering, rotation."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text
from sqlalchemy.orm import Session, sessionmaker

import prompts
from storage import PlanRecord, PlanRepository, create_engine_for, make_session_factory, migrate
from storage.crypto import InvalidSecret, Keyring, TamperedData, WrongKey, is_token
from storage.db import alembic_config, ensure_encrypted, has_key_check, rotate_key, scrub
from tests.conftest import TEST_SECRET, keyring_for_tests
from tests.e2e.protocol import doorbraakbot
from tests.integration.conftest import KEYRING

MARKER = "MARKER-Zoë-8431"
HOUSEHOLD = "HH-Q7Z9-5521"
OTHER = Keyring.from_secret(Keyring.generate_secret())
TABLES = ("households", "plans", "answers", "suggestions", "meta")


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


def assert_not_in_dump(engine: Engine) -> None:
    dump = raw_dump(engine)
    assert dump, "nothing dumped"
    for secret in (MARKER, "8431", HOUSEHOLD, "Q7Z9"):
        assert secret.encode() not in dump
        assert secret.encode("utf-16-le") not in dump


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


def test_rotate_key_re_encrypts_everything(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    store_marked_plan(sessions)
    has_professionals = inspect(engine).has_table("professionals")
    if has_professionals:  # migration 0004: a Telegram id stored hashed and encrypted
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO professionals (user_key, user_enc, team, created_at)"
                    " VALUES (:k, :e, 'wijkteam', CURRENT_TIMESTAMP)"
                ),
                {
                    "k": KEYRING.hash("4242", purpose="telegram"),
                    "e": KEYRING.encrypt("4242", context="professionals.user"),
                },
            )

    assert rotate_key(engine, KEYRING, OTHER) >= 5
    scrub(engine)

    with pytest.raises(WrongKey):
        ensure_encrypted(engine, KEYRING)
    with pytest.raises(WrongKey):
        rotate_key(engine, KEYRING, OTHER)
    ensure_encrypted(engine, OTHER)
    assert_marked(sessions, OTHER)
    checkpoint(engine)
    assert_not_in_dump(engine)
    assert KEYRING.key_id.encode() not in raw_dump(engine)
    if has_professionals:
        with engine.connect() as connection:
            key = connection.execute(text("SELECT user_key FROM professionals")).scalar_one()
        assert key == OTHER.hash("4242", purpose="telegram")


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
