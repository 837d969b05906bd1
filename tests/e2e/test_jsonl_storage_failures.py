"""A database that cannot be written: read-only, or locked by another process."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import ROOT, env_for
from tests.e2e.protocol import Driver, assert_refused, kinds, question_of, stored_history

NOT_SAVED = (
    "Je antwoord is niet opgeslagen: de database is nu niet beschikbaar (vergrendeld of"
    " alleen-lezen). Er is niets verloren gegaan; probeer het zo opnieuw."
)
UNAVAILABLE = (
    "De database is niet beschikbaar (vergrendeld, alleen-lezen of onbereikbaar). Er is niets"
    " opgeslagen of verloren gegaan. Probeer het later opnieuw of controleer"
    " DOORBRAAK_DATABASE_URL."
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_only_url(path: Path) -> str:
    return f"sqlite:///file:{path}?mode=ro&uri=true"


def assert_unavailable(tmp_path: Path, db: Path, answer: str) -> None:
    """With the database opened read-only: one clear error line, exit 1, no traceback."""
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--household", "3012", "--jsonl"],
        input=json.dumps({"text": answer}) + "\n",
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env_for(tmp_path, DOORBRAAK_DATABASE_URL=read_only_url(db)),
        cwd=ROOT,
        timeout=30,
    )
    assert result.returncode == 1
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"type": "error", "text": UNAVAILABLE}
    ]
    assert "Traceback" not in result.stderr


def test_read_only_database_gives_a_clear_error_and_stays_unchanged(
    jsonl: Any, tmp_path: Path
) -> None:
    # a first process creates and migrates the database and stores one answer
    first = Driver(jsonl("3012"))
    assert question_of(first.send("Plan in een alleen-lezen database"))["field"] == (
        "plan.professional"
    )
    assert first.stop() == 0
    db = tmp_path / "plans.db"
    before = sha256(db)

    # Opening a plan is recorded in the audit log; where that cannot be written, the plan is
    # not shown: every access is on record. A clear error, no traceback, nothing changed.
    assert_unavailable(tmp_path, db, "Professional F")
    assert sha256(db) == before
    assert [a.field for a in stored_history(tmp_path)] == ["plan.titel"]


def test_read_only_database_that_does_not_exist_gives_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "nergens.db"
    assert_unavailable(tmp_path, db, "Titel")
    assert not db.exists()


def lock(db: Path) -> sqlite3.Connection:
    """Another process's write transaction: BEGIN EXCLUSIVE (in WAL mode it blocks writers)."""
    connection = sqlite3.connect(db, isolation_level=None)
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    connection.execute("BEGIN EXCLUSIVE")
    return connection


def test_locked_database_refuses_the_answer_and_stores_it_once_released(
    jsonl: Any, tmp_path: Path
) -> None:
    driver = Driver(jsonl("3012", DOORBRAAK_SQLITE_BUSY_TIMEOUT_MS="200"))
    driver.send("Plan naast een vergrendeling")
    holder = lock(tmp_path / "plans.db")
    try:
        locked_turn = driver.send("Professional G")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert locked_turn, "no reply while the database is locked"
    assert locked_turn[0] == {"type": "error", "text": NOT_SAVED}
    assert [a.field for a in stored_history(tmp_path)] == ["plan.titel"]

    # released: the same answer is stored and the dialog moves on
    turn = driver.send("Professional G")
    assert kinds(turn) == ["question"]
    assert turn[0]["field"] == "plan.werkgebied"
    assert [(a.field, a.value) for a in stored_history(tmp_path)] == [
        ("plan.titel", "Plan naast een vergrendeling"),
        ("plan.professional", "Professional G"),
    ]
    assert driver.stop() == 0
    assert "Traceback" not in driver.stderr()

    # the refusal, like any error, was followed by the same question
    assert_refused(locked_turn, NOT_SAVED, "plan.professional")
