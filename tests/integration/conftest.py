"""Fixtures shared by the integration tests: the Telegram harness, and one engine fixture run
over every backend (SQLite always, PostgreSQL when DOORBRAAK_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage import Units, create_engine_for, make_session_factory, migrate
from storage.db import ensure_encrypted
from tests.conftest import keyring_for_tests
from tests.support.harness import (  # noqa: F401 - the Telegram harness
    bot,
    harness_clock,
    harness_settings,
)

KEYRING = keyring_for_tests()


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    # A directory that does not exist yet: create_engine_for must make it.
    return tmp_path / "data" / "nested" / "doorbraak.db"


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, sqlite_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{sqlite_path}"
    # A fresh schema per test, dropped afterwards (tests/conftest.py).
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    engine = create_engine_for(url)
    migrate(engine)
    ensure_encrypted(engine, KEYRING)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def units(engine: Engine) -> Units:
    """The unit-of-work factory the services take, on the test database."""
    return Units(engine, KEYRING)
