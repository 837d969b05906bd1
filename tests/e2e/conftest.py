"""Fixtures of the end-to-end tests against the real bot: the stand-in Bot API and the bot."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_telegram_run import BotProcess
from tests.support.botapi import BotApiStandIn


@pytest.fixture
def stand_in() -> Iterator[BotApiStandIn]:
    with BotApiStandIn() as server:
        yield server


@pytest.fixture
def bot(stand_in: BotApiStandIn, tmp_path: Path) -> Iterator[BotProcess]:
    """The real `doorbraakbot run` on the test's data directory, killed afterwards."""
    process = BotProcess(stand_in, tmp_path)
    yield process
    process.kill()
