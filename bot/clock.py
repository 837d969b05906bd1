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


def _easter(year: int) -> date:
    """Easter Sunday (the Gregorian computus, Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return date(year, month, day + 1)


def holidays(year: int) -> frozenset[date]:
    """The Dutch public holidays most teams are off on: Nieuwjaarsdag, Pasen, Koningsdag,
    Bevrijdingsdag (once every five years, as most collective agreements give it),
    Hemelvaart, Pinksteren and Kerst."""
    easter = _easter(year)
    king = date(year, 4, 27)
    if king.weekday() == 6:  # on a Sunday it is held the Saturday before
        king = date(year, 4, 26)
    days = {
        date(year, 1, 1),
        easter,
        easter + timedelta(days=1),
        king,
        easter + timedelta(days=39),
        easter + timedelta(days=49),
        easter + timedelta(days=50),
        date(year, 12, 25),
        date(year, 12, 26),
    }
    if year % 5 == 0:
        days.add(date(year, 5, 5))
    return frozenset(days)


def day_off(day: date) -> bool:
    """A weekend day or a Dutch public holiday."""
    return day.weekday() >= 5 or day in holidays(day.year)
