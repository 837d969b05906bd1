"""Shared fixtures: the shipped interview, a dialog, valid answers per field, a JSONL driver."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url

import prompts
from bot.formatting import DutchFormatter
from dialogs import Dialog, Field, Interview, Kind
from storage.crypto import Keyring

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL_ENV = "DOORBRAAK_TEST_POSTGRES_URL"
# The key every test process gets (DOORBRAAK_SECRET_KEY), so a test can read what it stored.
# A constant made once with `doorbraakbot genkey`; it protects nothing.
TEST_SECRET = "nINFYpumznpHuJG-qPeh2AQVFW6gA3i3ohvn5GXPOPk="


def keyring_for_tests() -> Keyring:
    """The keyring of TEST_SECRET."""
    return Keyring.from_secret(TEST_SECRET)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL whose connections use a fresh, empty schema that is dropped afterwards."""
    base_url = os.environ.get(POSTGRES_URL_ENV)
    if not base_url:
        pytest.skip(f"set {POSTGRES_URL_ENV} to run the storage contract tests on PostgreSQL")
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base_url)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def spec() -> Interview:
    return prompts.load_interview()


@pytest.fixture(scope="session")
def dialog(spec: Interview) -> Dialog:
    return Dialog(spec, DutchFormatter())


def sample_answer(field: Field) -> str:
    """A valid answer for any field, unique per field so a summary can be searched for it."""
    slug = field.key.replace(".", " ")
    match field.kind:
        case Kind.COSTS:
            return "Klaar"
        case Kind.GROUP:
            return "Nee"  # no (more) items: the group's own tests fill one
        case Kind.CHOICE:
            return field.choices[1]
        case Kind.MULTICHOICE:
            return ";".join(field.choices[: min(2, field.max or 2)])
        case Kind.MONEY:
            return "1.052,32"
        case Kind.NUMBER:
            return "3"
        case Kind.DATE:
            return "15-03-2037"
        case Kind.LIST if field.columns:
            return f"Wijkteam - {slug} regelen - binnen een week\nHuishouden - {slug} zelf - maart"
        case Kind.LIST:
            return f"eerste {slug}; tweede {slug}"
        case _:
            return f"Antwoord over {slug} ✓ café"


def env_for(data_dir: Path, **extra: str) -> dict[str, str]:
    # Nothing of the developer's own configuration (a token, a database, a .env) may leak in.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOORBRAAK_", "TELEGRAM_"))}
    env.update(
        DOORBRAAK_DATA_DIR=str(data_dir),
        DOORBRAAK_ENV_FILE="",
        DOORBRAAK_SECRET_KEY=TEST_SECRET,
        PYTHONUNBUFFERED="1",
    )
    # After the defaults, so a test can replace the key (or, with "", unset it).
    env.update(extra)
    return env


class JsonlProcess:
    """`doorbraakbot chat --jsonl` as a real subprocess, driven one input line at a time."""

    def __init__(self, household: str, data_dir: Path, *args: str, **env: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "chat", "--household", household, "--jsonl", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=env_for(data_dir, **env),
            cwd=ROOT,
        )
        self.opening = self.read_turn()

    def read_turn(self) -> list[dict[str, Any]]:
        """Output lines up to and including the next question or `done` (or the end)."""
        assert self.proc.stdout is not None
        lines: list[dict[str, Any]] = []
        while True:
            raw = self.proc.stdout.readline()
            if not raw:
                return lines
            item = json.loads(raw)
            lines.append(item)
            if item["type"] in ("question", "done"):
                return lines

    def send(self, text: str) -> list[dict[str, Any]]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
        self.proc.stdin.flush()
        return self.read_turn()

    def close(self) -> int:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            # The process may have gone already (after `stop` or a kill).
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.close()
        code = self.proc.wait(timeout=30)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        return code


@pytest.fixture
def jsonl(tmp_path: Path) -> Iterator[Any]:
    """A factory for JSONL processes sharing one data directory; all are closed afterwards."""
    started: list[JsonlProcess] = []

    def start(household: str = "3012", *args: str, **env: str) -> JsonlProcess:
        process = JsonlProcess(household, tmp_path, *args, **env)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.proc.poll() is None:
            process.proc.kill()
        process.close()


def last_question(turn: list[dict[str, Any]]) -> dict[str, Any]:
    questions = [item for item in turn if item["type"] == "question"]
    assert questions, f"no question in {turn}"
    return questions[-1]
