"""Every Telegram handler that changes state, failing at a locked database: the user reads one
clear Dutch message and no success line, and nothing changed."""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from dialogs.status import PlanStatus
from tests.support.harness import FACILITATOR, MEMBER_A, Harness, finish_plan, texts

DB_DOWN = (
    "Dat is niet gelukt: de database is nu niet beschikbaar. Er is niets gewijzigd; "
    "probeer het zo opnieuw."
)
GROUP = {"chat_type": "group", "chat_id": -4101}


@pytest.fixture
def harness_settings() -> dict[str, Any]:
    # A write waits this long for the lock before it fails.
    return {"sqlite_busy_timeout_ms": 100}


@pytest.fixture(autouse=True)
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """A failure the user was told about is no error of the bot's."""
    with caplog.at_level(logging.ERROR):
        yield
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@contextmanager
def locked(bot: Harness) -> Iterator[None]:
    """Another process holds the write lock (reads go on, as in WAL mode they do)."""
    connection = sqlite3.connect(bot.app.settings.data_dir / "plans.db", isolation_level=None)
    connection.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        connection.execute("ROLLBACK")
        connection.close()


def plan_id_of(bot: Harness, household: str = "3012") -> int | None:
    found = bot.app.service.current(household)
    return None if found is None else found[0].id


async def test_new_plan(bot: Harness) -> None:
    with locked(bot):
        calls = await bot.say("/nieuw 3012")
    assert texts(calls) == [DB_DOWN]
    assert plan_id_of(bot) is None
    assert bot.app.service.chat(1001) is None


async def test_session_start_and_stop(bot: Harness) -> None:
    with locked(bot):
        calls = await bot.say("/sessie 3012", user_id=FACILITATOR, **GROUP)
    assert texts(calls) == [DB_DOWN]
    assert bot.app.service.chat(-4101) is None

    await bot.say("/sessie 3012", user_id=FACILITATOR, **GROUP)
    with locked(bot):
        calls = await bot.say("/sessie stop", user_id=FACILITATOR, **GROUP)
    assert texts(calls) == [DB_DOWN]
    assert bot.app.service.chat(-4101) is not None
    calls = await bot.say("/sessie stop", user_id=FACILITATOR, **GROUP)
    assert "De sessie is gestopt" in texts(calls)[-1]


async def test_idea(bot: Harness) -> None:
    await bot.say("/sessie 3012", user_id=FACILITATOR, **GROUP)
    with locked(bot):
        calls = await bot.say("/idee bel de corporatie", user_id=MEMBER_A, **GROUP)
    assert texts(calls) == [DB_DOWN]
    plan_id = plan_id_of(bot)
    assert plan_id is not None and bot.app.service.suggestions(plan_id) == []


async def test_share_revoke_and_join(bot: Harness) -> None:
    await bot.say("/nieuw 3012")
    with locked(bot):
        made = await bot.say("/deel")
        revoked = await bot.say("/deel intrekken")
    assert texts(made) == [DB_DOWN]
    assert texts(revoked) == [DB_DOWN]
    calls = await bot.say("/deel")
    code = re.search(r"DEEL-[A-Z0-9]{4}-[A-Z0-9]{4}", texts(calls)[-1])
    assert code is not None
    with locked(bot):
        joined = await bot.say(code.group(0), user_id=FACILITATOR)
    assert texts(joined) == [DB_DOWN]
    # The code was not used up by the failed attempt.
    joined = await bot.say(code.group(0), user_id=FACILITATOR)
    assert texts(joined) == ["Je hebt nu toegang tot dit plan. Ga verder met /hervat."]
    with locked(bot):
        revoked = await bot.say("/deel intrekken")
    assert texts(revoked) == [DB_DOWN]
    facilitator = bot.app.access.professional(FACILITATOR)
    plan_id = plan_id_of(bot)
    assert facilitator is not None and plan_id is not None
    assert bot.app.access.role(facilitator, plan_id) is not None  # still shared


async def test_delete_confirmation(bot: Harness) -> None:
    await bot.say("/nieuw 3012")
    calls = await bot.say("/verwijder")
    yes = dict(bot.buttons(calls[-1]))["Ja, verwijder het plan"]
    with locked(bot):
        calls = await bot.press(yes)
    assert texts(calls) == [DB_DOWN]
    assert plan_id_of(bot) is not None
    assert [c.method for c in calls].count("answerCallbackQuery") == 1


async def test_registration_with_an_invite_code(bot: Harness) -> None:
    code = bot.app.access.invite("Zuid")
    with locked(bot):
        calls = await bot.say(code, user_id=3003, chat_id=3003)
    assert texts(calls) == [DB_DOWN]
    assert bot.app.access.professional(3003) is None
    calls = await bot.say(code, user_id=3003, chat_id=3003)
    assert "Je bent aangemeld" in texts(calls)[-1]


async def test_resume_button(bot: Harness) -> None:
    await bot.say("/nieuw 3012")
    await bot.say("/stop")
    calls = await bot.say("/hervat")
    ((_, data),) = bot.buttons(calls[-1])
    with locked(bot):
        calls = await bot.press(data)
    assert texts(calls) == [DB_DOWN]
    assert bot.app.service.chat(1001) is None
    assert [c.method for c in calls].count("answerCallbackQuery") == 1


async def test_answer(bot: Harness) -> None:
    await bot.say("/nieuw 3012")
    with locked(bot):
        calls = await bot.say("Een titel")
    [reply] = texts(calls)
    assert reply.startswith("⚠️ Je antwoord is niet opgeslagen")
    assert bot.current_field() == "plan.titel"  # asked again, in the same message
    assert bot.last_question().params["text"] == reply
    found = bot.app.service.current("3012")
    assert found is not None and found[0].answers == {}


async def test_new_plan_after_a_finished_one(bot: Harness) -> None:
    old = finish_plan(bot)
    calls = await bot.say("/nieuw 3012")
    ask = dict(bot.buttons(calls[-1]))["Een nieuw plan beginnen"]
    calls = await bot.press(ask)
    yes = dict(bot.buttons(calls[-1]))["Ja, begin een nieuw plan"]
    with locked(bot):
        calls = await bot.press(yes)
    assert texts(calls) == [DB_DOWN]
    found = bot.app.service.current("3012")
    assert found is not None and (found[0].id, found[0].status) == (old, PlanStatus.FINISHED)
