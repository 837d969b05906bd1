"""The time the bot goes by: the system clock, or (in tests) one that starts at a given moment."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

# Dates the professional sees (a due day, the morning of a reminder) are Dutch dates.
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class StartedClock:
    """A clock that reads `start` when it is made and runs on from there at the real pace;
    for tests (DOORBRAAK_TEST_NOW) that need a given day and hour in a real process."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("naive datetime; pass an aware datetime")
        self._start = start
        self._at = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._at)


class FixedClock:
    """A clock that stands still until moved: what integration tests pass to bootstrap."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> None:
        self.at = at


def local_today(clock: Clock) -> date:
    """Today in the Netherlands."""
    return clock.now().astimezone(AMSTERDAM).date()
