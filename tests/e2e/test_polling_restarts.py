"""`doorbraakbot run` in long polling mode, killed right after it stored an answer.

Telegram forgets an update only once the bot asks for a higher offset, and the bot asks for
that with its next getUpdates. The stand-in holds that call back until the test has seen the
answer committed in the database and killed the bot (SIGKILL), so Telegram hands the same
update out again after every restart. Ten times: each answer is stored once, none is lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.bootstrap import App, bootstrap
from bot.config import Settings
from dialogs import Dialog, Interview
from storage import PlanRepository
from storage.inbox import InboxEntry
from tests.conftest import TEST_SECRET
from tests.e2e.test_telegram_run import CHAT, BotProcess, check_startup, is_question
from tests.e2e.test_workers import plain, replay, script
from tests.support.botapi import BotApiStandIn

HOUSEHOLD = "3012"
KILLS = 10
WAIT = 15.0


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    """The test's view of the bot's own database (the same data directory and key)."""
    app = bootstrap(Settings(data_dir=tmp_path, secret_key=TEST_SECRET))
    yield app
    app.engine.dispose()


def revision(app: App) -> int:
    with app.sessions() as session:
        plan = PlanRepository(session, app.keyring).current_plan(HOUSEHOLD)
        return -1 if plan is None else plan.revision


def wait_until(condition: Callable[[], bool], what: str, bot: BotProcess) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert bot.proc is not None and bot.proc.poll() is None, f"bot died\n{bot.log()}"
        assert time.monotonic() < deadline, f"waiting for {what}\n{bot.log()}"
        time.sleep(0.002)


def test_an_answer_handed_out_again_after_a_kill_is_stored_once(
    stand_in: BotApiStandIn, bot: BotProcess, app: App, spec: Interview, dialog: Dialog
) -> None:
    started = time.monotonic()
    check_startup(bot, bot.start())
    code = app.access.invite("Noord")
    texts = script(dialog, spec, 0)[:KILLS]
    update_id = 1
    for text in (code, f"/nieuw {HOUSEHOLD}"):
        first = len(stand_in.calls)
        stand_in.push_update({"update_id": update_id, **stand_in.text_update(text, user_id=CHAT)})
        update_id += 1
        bot.wait(lambda calls: any(c.method == "sendMessage" for c in calls[first:]), text)  # noqa: B023
    bot.wait(lambda calls: any(is_question(c) for c in calls), "the first question")

    for number, text in enumerate(texts, 1):
        before, first = revision(app), len(stand_in.calls)
        # The bot takes the answer; its next getUpdates, which would confirm it, is held.
        stand_in.hold_confirmation(update_id)
        stand_in.push_update({"update_id": update_id, **stand_in.text_update(text, user_id=CHAT)})

        def stored_or_answered() -> bool:
            replies = stand_in.calls[first:]  # noqa: B023
            return revision(app) > before or any(c.method == "sendMessage" for c in replies)  # noqa: B023

        wait_until(stored_or_answered, "the answer's commit", bot)
        # Not stored, but answered: it did not fit the question the plan is at, so an
        # earlier answer was applied twice.
        assert revision(app) > before, f"answer {number} refused: {stand_in.sent_texts()[-1:]}"
        bot.kill()
        stand_in.release()
        assert [u["update_id"] for u in stand_in.pending_updates()] == [update_id]

        # Telegram hands the answer out again: the restarted bot takes it, and confirms it.
        check_startup(bot, bot.start())
        wait_until(lambda: not stand_in.pending_updates(), "the update confirmed", bot)
        update_id += 1

    # Whatever the restarted bot did with the repeated answers has been done by now: the last
    # one was confirmed after it was stored, and stopping waits for what is being applied.
    assert bot.proc is not None
    bot.proc.terminate()
    assert bot.proc.wait(timeout=30) == 0, bot.log()

    expected = replay(dialog, texts)
    with app.sessions() as session:
        repo = PlanRepository(session, app.keyring)
        plan = repo.current_plan(HOUSEHOLD)
        assert plan is not None
        stored = [(a.field, a.value) for a in repo.history(plan.id)]
        assert stored == [(key, plain(value)) for key, value in expected.history]
        assert plan.revision == expected.snapshot.revision
        waiting = session.scalars(select(InboxEntry.update_id).where(InboxEntry.done_at.is_(None)))
        assert list(waiting) == []
    assert " ERROR " not in bot.log()
    print(f"\n{KILLS} kills in {time.monotonic() - started:.1f} s")
