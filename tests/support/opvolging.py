"""The opvolging tests' common start, shared by importing its fixtures: Monday 1 March 2027,
09:00 in Amsterdam, and the bot's services on each database (the `url` fixture) with a clock
the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.bootstrap import App, bootstrap
from bot.clock import FixedClock
from bot.config import Settings
from tests.conftest import TEST_SECRET

T0 = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def app(url: str, tmp_path: Path, clock: FixedClock) -> Iterator[App]:
    settings = Settings(data_dir=tmp_path / "app", database_url=url, secret_key=TEST_SECRET)
    application = bootstrap(settings, clock=clock)
    yield application
    application.engine.dispose()
