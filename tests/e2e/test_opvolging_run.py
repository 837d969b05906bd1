"""Opvolging with real processes: `doorbraakbot acties` lists a finished plan's actions, the
JSON-lines interview knows `acties`, and `doorbraakbot run` (long polling, and two webhook
workers on PostgreSQL) sends a due reminder exactly once, across restarts.

The bot's "now" is DOORBRAAK_TEST_NOW, a test-only setting: the clock starts at that moment
and runs on at the real pace.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.bootstrap import App, bootstrap
from bot.clock import FixedClock
from bot.config import Settings
from dialogs import Question, Text
from dialogs.status import PlanStatus
from storage.actions import Wanted
from storage.models import Reminder
from tests.conftest import ROOT, TEST_SECRET, env_for, sample_answer
from tests.e2e.test_telegram_run import CHAT, BotProcess
from tests.e2e.test_workers import (
    SECRET,
    Worker,
    needs_postgres,
    wait_for_webhooks,
)
from tests.e2e.test_workers import (
    database as database,
)
from tests.support.botapi import BotApiStandIn, Call

# Monday 1 March 2027, 09:00 in Amsterdam: the plan is made then. Its `binnen een week`
# actions are due on Monday 8 March.
T0 = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
DUE = date(2027, 3, 8)
EARLY = "2027-03-08T07:30:00+01:00"  # the morning they are due, before the hour (9)
MORNING = "2027-03-08T10:00:00+01:00"
# How often the running bot looks for due reminders, in seconds.
EVERY = "0.1"
HOUSEHOLD = "3012"


def finish(app: App, user_id: int | None = CHAT) -> int:
    """A finished plan, made by a registered professional (or in the terminal: None)."""
    who = None
    actor = "terminal:tester"
    if user_id is not None:
        who = app.access.register(app.access.invite("Noord"), user_id)
        assert who is not None
        actor = who.actor
    turn = app.service.open(HOUSEHOLD, actor=actor, professional=who)
    for _ in range(300):
        if turn.outcome.status == PlanStatus.FINISHED:
            return turn.plan_id
        question = [r for r in turn.outcome.replies if isinstance(r, Question)][-1]
        answer = sample_answer(app.dialog.spec.field(question.field))
        turn = app.service.handle(turn.plan_id, Text(answer), author=actor, professional=who)
    raise AssertionError("the plan did not finish")


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    """The test's view of the bot's database (the same data directory and key)."""
    application = bootstrap(
        Settings(data_dir=tmp_path, secret_key=TEST_SECRET), clock=FixedClock(T0)
    )
    yield application
    application.engine.dispose()


def cli(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=env_for(data_dir, **env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )


def test_doorbraakbot_acties_lists_the_actions_of_a_finished_plan(
    app: App, tmp_path: Path, jsonl: Any
) -> None:
    plan_id = finish(app, user_id=None)
    app.actions.done(app.actions.of_plan(plan_id)[0].id, actor="terminal:tester")

    shown = cli(tmp_path, "acties", "--household", HOUSEHOLD)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines() == [
        "Acties van huishouden 3012:",
        "8 maart 2027 · Wijkteam: actieplan na_doorbraak regelen · gedaan",
        "1 maart 2028 · Huishouden: actieplan na_doorbraak zelf · open",
        "8 maart 2027 · Wijkteam: actieplan voor_doorbraak regelen · open",
        "1 maart 2028 · Huishouden: actieplan voor_doorbraak zelf · open",
    ]
    lines = cli(tmp_path, "acties", "--household", HOUSEHOLD, "--jsonl")
    items = [json.loads(line) for line in lines.stdout.splitlines()]
    assert items[0] == {
        "type": "action",
        "household": "3012",
        "field": "actieplan.na_doorbraak",
        "position": 0,
        "who": "Wijkteam",
        "what": "actieplan na_doorbraak regelen",
        "when": "binnen een week",
        "due": "2027-03-08",
        "status": "gedaan",
    }
    assert [item["status"] for item in items] == ["gedaan", "open", "open", "open"]
    # Over all plans: the open ones, soonest first.
    every = cli(tmp_path, "acties")
    assert every.stdout.splitlines()[:2] == [
        "Open acties, de eerste eerst:",
        "8 maart 2027 · Wijkteam: actieplan voor_doorbraak regelen · huishouden 3012",
    ]
    assert len(every.stdout.splitlines()) == 4
    missing = cli(tmp_path, "acties", "--household", "9999")
    assert missing.returncode == 1

    # The command word in the JSON-lines interview: the finished plan's menu, then `acties`.
    process = jsonl(HOUSEHOLD)
    turn = process.send("acties")
    assert turn[0]["type"] == "message"
    assert turn[0]["text"].splitlines()[1] == (
        "8 maart 2027 · Wijkteam: actieplan na_doorbraak regelen · gedaan"
    )
    assert turn[-1]["type"] == "question" and turn[-1]["field"] == "plan_af"


def started(bot: BotProcess) -> None:
    """Start the bot and wait for its first long poll (a reminder may come before it)."""
    since = bot.start()
    bot.wait(
        lambda calls: any(c.method == "getUpdates" and c.at >= since for c in calls),
        "the bot's startup",
    )


def reminders_to(stand_in: BotApiStandIn, chat: int) -> list[Call]:
    return [
        c
        for c in stand_in.calls_of("sendMessage")
        if c.params.get("chat_id") == chat and str(c.params.get("text", "")).startswith("⏰")
    ]


def test_a_due_reminder_is_sent_once_across_restarts(
    stand_in: BotApiStandIn, bot: BotProcess, app: App
) -> None:
    finish(app)
    bot.env = {"DOORBRAAK_TEST_NOW": EARLY, "DOORBRAAK_REMINDER_EVERY": EVERY}
    started(bot)
    time.sleep(1.0)  # ten rounds: before 9 nothing goes out
    assert reminders_to(stand_in, CHAT) == []
    bot.kill()

    # Restarted in the morning they are due: both `binnen een week` actions, once each.
    bot.env["DOORBRAAK_TEST_NOW"] = MORNING
    started(bot)
    bot.wait(lambda _: len(reminders_to(stand_in, CHAT)) >= 2, "the two reminders")
    bot.kill()
    # And again: none sent twice.
    started(bot)
    time.sleep(1.5)
    assert bot.proc is not None
    bot.proc.terminate()
    assert bot.proc.wait(timeout=30) == 0, bot.log()
    sent = reminders_to(stand_in, CHAT)
    texts = sorted(str(c.params["text"]) for c in sent)
    assert texts == [
        "⏰ Vandaag: actieplan na_doorbraak regelen (Wijkteam) · huishouden 3012",
        "⏰ Vandaag: actieplan voor_doorbraak regelen (Wijkteam) · huishouden 3012",
    ]
    assert " ERROR " not in bot.log()


@needs_postgres
def test_two_webhook_workers_send_each_reminder_once(
    stand_in: BotApiStandIn,
    database: str,
    tmp_path: Path,
) -> None:
    settings = Settings(database_url=database, data_dir=tmp_path / "test", secret_key=TEST_SECRET)
    app = bootstrap(settings, clock=FixedClock(T0))
    try:
        plan_id = finish(app)
        # Forty more actions due that morning, so both workers have work at once.
        wanted = [Wanted(f"Wie {n} | wat {n} | 8 maart", DUE) for n in range(40)]
        with app.units(claim=False) as uow:
            uow.actions.sync(plan_id, "extra.lijst", wanted, author="test", now=T0)
        env = {"DOORBRAAK_TEST_NOW": MORNING, "DOORBRAAK_REMINDER_EVERY": "0.05"}
        workers = [
            Worker(n, stand_in, database, tmp_path / f"worker-{n}", env=env) for n in (1, 2)
        ]
        try:
            wait_for_webhooks(stand_in, workers, SECRET)
            stand_in.wait_for(lambda _: len(reminders_to(stand_in, CHAT)) >= 42, timeout=60)
            time.sleep(1.0)  # twenty more rounds each
            for worker in workers:
                assert worker.stop() == 0, worker.log()[-3000:]
                assert " ERROR " not in worker.log(), worker.log()[-3000:]
        finally:
            for worker in workers:
                if worker.alive():
                    worker.proc.kill()
        texts = [str(c.params["text"]) for c in reminders_to(stand_in, CHAT)]
        assert len(texts) == len(set(texts)) == 42
        with app.units(read_only=True) as uow:
            unsent = uow.tx.scalars(
                Reminder.__table__.select()
                .with_only_columns(Reminder.id)
                .where(Reminder.due_on <= DUE, Reminder.sent_at.is_(None))
            ).all()
        assert unsent == []
    finally:
        app.engine.dispose()
