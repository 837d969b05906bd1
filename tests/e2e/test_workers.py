"""Two `doorbraakbot run` webhook workers on one PostgreSQL database, under load.

The test plays Telegram's side of the webhook: it numbers updates one by one and POSTs them to
the two workers' ports, alternately, re-sending to the other worker whatever was not
acknowledged. The Bot API stand-in only takes the workers' own calls (setWebhook, the replies).
Afterwards every plan in the database must equal a sequential replay of the same texts in
`update_id` order through the dialog alone: every answer stored exactly once, nothing lost,
nothing applied out of order. One worker is also killed (SIGKILL) in the middle of the load,
and one runs on SQLite alone.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from sqlalchemy import create_engine, func, make_url, select

from bot.access import DELETED, JOINED, OPENED, SHARE_CODE_MADE
from bot.bootstrap import App, bootstrap
from bot.config import Settings
from bot.telegram_view import DELETE_YES, Button
from bot.webhook import webhook_secret
from dialogs import Dialog, Interview, Kind, Outcome, Question, Snapshot, Text
from storage import PlanRepository
from storage.access import PlanAccess, Professional, ShareCode
from storage.chats import ChatRepository
from storage.inbox import InboxEntry
from storage.models import Suggestion
from tests.conftest import POSTGRES_URL_ENV, ROOT, TEST_SECRET, env_for, sample_answer
from tests.support import stored as stored_rows
from tests.support.botapi import BotApiStandIn, Call

BASE_URL = os.environ.get(POSTGRES_URL_ENV, "")
needs_postgres = pytest.mark.skipif(
    not BASE_URL,
    reason=f"several workers need PostgreSQL: set {POSTGRES_URL_ENV} (CI does)",
)

SECRET = "workers-test-secret"
ANSWERS = 40
# A professional sends the next message while at most this many have no reply yet.
IN_FLIGHT = 2
FIRST_USER = 7001
TIMEOUT = 120.0


# --- what the professionals type, and what the plans must become -----------------------------


def typed(field: Any, variant: int) -> str:
    """An answer typed as a professional might: choices by label, in any case.

    Not by number: Telegram's buttons are not numbered, so a typed `2` is refused there
    (issue 13); the text is all the process gets, and the replay reads it the same way.
    """
    match field.kind:
        case Kind.CHOICE:
            label = sample_answer(field)
            return label if variant % 2 else label.lower()
        case Kind.MULTICHOICE:
            return ";".join(field.choices[:2]).lower()
        case Kind.TEXT:
            return f"{sample_answer(field)} nr {variant}"
        case _:
            return sample_answer(field)


def after(snapshot: Snapshot, outcome: Outcome) -> Snapshot:
    if not outcome.persist:
        return snapshot
    answers = dict(snapshot.answers)
    for key, value in outcome.answers:
        if value is None:
            answers.pop(key, None)
        else:
            answers[key] = value
    return Snapshot(outcome.state, outcome.status, answers, outcome.data, snapshot.revision + 1)


@dataclass
class Replay:
    snapshot: Snapshot
    history: list[tuple[str, Any]] = field(default_factory=list)
    outcome: Outcome | None = None


def replay(dialog: Dialog, texts: list[str]) -> Replay:
    """A plan opened and answered with `texts`, through the dialog alone (no database)."""
    start = Snapshot(dialog.initial_state())
    outcome = dialog.start(start)
    done = Replay(after(start, outcome), list(outcome.answers), outcome)
    for text in texts:
        outcome = dialog.handle(done.snapshot, Text(text, numbered=False))
        done.snapshot = after(done.snapshot, outcome)
        done.history += outcome.answers
        done.outcome = outcome
    return done


def script(dialog: Dialog, spec: Interview, variant: int) -> list[str]:
    """The answers to the first ANSWERS questions, each one accepted."""
    texts: list[str] = []
    current = replay(dialog, texts)
    for _ in range(ANSWERS):
        assert current.outcome is not None
        question = [r for r in current.outcome.replies if isinstance(r, Question)][-1]
        texts.append(typed(spec.field(question.field), variant))
        answered = len(current.history)
        current = replay(dialog, texts)
        assert len(current.history) > answered, f"{texts[-1]!r} was not accepted"
    return texts


def plain(value: Any) -> Any:
    """As stored: through JSON (a tuple comes back as a list)."""
    return json.loads(json.dumps(value))


# --- the processes -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Worker:
    """One `python -m bot.cli run` in webhook mode."""

    def __init__(
        self,
        number: int,
        stand_in: BotApiStandIn,
        database: str,
        data: Path,
        secret: str | None = SECRET,
        env: dict[str, str] | None = None,
    ) -> None:
        self.number = number
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/telegram"
        data.mkdir(parents=True, exist_ok=True)
        self.log_path = data / "worker.log"
        self._log: IO[bytes] = self.log_path.open("wb")
        env = env_for(
            data,
            DOORBRAAK_DATABASE_URL=database,
            DOORBRAAK_WEBHOOK_URL="https://example.invalid/telegram",
            DOORBRAAK_WEBHOOK_LISTEN="127.0.0.1",
            DOORBRAAK_WEBHOOK_PORT=str(self.port),
            TELEGRAM_BOT_TOKEN=stand_in.token,
            TELEGRAM_API_BASE_URL=stand_in.base_url,
            PTB_TIMEDELTA="true",
            **(env or {}),
        )
        if secret is not None:
            env["DOORBRAAK_WEBHOOK_SECRET"] = secret
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            env=env,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> int:
        """SIGTERM: a graceful stop; the exit code."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        finally:
            self._log.close()


@pytest.fixture
def database() -> Iterator[str]:
    """A database of its own: advisory locks are per database, and so is the whole schema."""
    name = f"doorbraak_workers_{uuid.uuid4().hex[:12]}"
    admin = create_engine(BASE_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield make_url(BASE_URL).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


@pytest.fixture
def app(database: str, tmp_path: Path) -> Iterator[App]:
    """The test's own view of the database, under the workers' key; it migrates it first."""
    app = bootstrap(
        Settings(database_url=database, data_dir=tmp_path / "test", secret_key=TEST_SECRET)
    )
    yield app
    app.engine.dispose()


def wait_for_webhooks(stand_in: BotApiStandIn, started: list[Worker], secret: str) -> None:
    """Each worker listens, then sets the webhook (with the secret, keeping what is pending)."""
    calls = stand_in.wait_for(
        lambda calls: (
            sum(c.method == "setWebhook" for c in calls) >= len(started)
            or not all(w.alive() for w in started)
        ),
        timeout=60,
    )
    assert all(w.alive() for w in started), "\n".join(w.log() for w in started)
    for call in [c for c in calls if c.method == "setWebhook"]:
        assert call.params["url"] == "https://example.invalid/telegram"
        assert call.params["secret_token"] == secret
        assert call.params.get("drop_pending_updates") is not True
    assert not [c for c in calls if c.method == "deleteWebhook"]


@pytest.fixture
def workers(stand_in: BotApiStandIn, database: str, app: App, tmp_path: Path) -> Iterator[
    list[Worker]
]:  # fmt: skip
    started = [Worker(n, stand_in, database, tmp_path / f"worker-{n}") for n in (1, 2)]
    try:
        wait_for_webhooks(stand_in, started, SECRET)
        yield started
    finally:
        for worker in started:
            if worker.alive():
                worker.proc.kill()
            worker.stop()


# --- Telegram's side ---------------------------------------------------------------------------


class Telegram:
    """Numbers updates one by one and delivers each until a worker acknowledges it."""

    def __init__(
        self, stand_in: BotApiStandIn, workers: list[Worker], client: Any, secret: str
    ) -> None:
        self.stand_in = stand_in
        self.secret = secret
        self.workers = workers
        self.client = client
        self.next_id = 1
        # update_id -> (chat, text), and which worker acknowledged it.
        self.sent: dict[int, tuple[int, str]] = {}
        self.acknowledged: dict[int, int] = {}
        self.not_acknowledged = 0

    def number(self, chat: int, text: str, **options: Any) -> dict[str, Any]:
        """A message of user `chat` (in their private chat, or as `options` say)."""
        body = self.stand_in.text_update(text, user_id=chat, **options)
        return self.number_update(body, chat, text)

    def number_update(self, body: dict[str, Any], chat: int, text: str) -> dict[str, Any]:
        update = {"update_id": self.next_id, **body}
        self.sent[self.next_id] = (chat, text)
        self.next_id += 1
        return update

    async def deliver(self, update: dict[str, Any], first: int) -> None:
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.secret}
        order = [self.workers[first], self.workers[1 - first]]
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            for worker in order:
                try:
                    response = await self.client.post(worker.url, json=update, headers=headers)
                except httpx.TransportError:
                    self.not_acknowledged += 1  # a dead worker: try the other one
                    continue
                assert response.status_code == 200, response.text
                self.acknowledged[update["update_id"]] = worker.number
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"update {update['update_id']} was never acknowledged")


class Replies:
    """The bots' messages per chat, as the stand-in received them."""

    def __init__(self, stand_in: BotApiStandIn) -> None:
        self.stand_in = stand_in
        self.read = 0
        self.count: Counter[int] = Counter()
        self.texts: list[str] = []

    def refresh(self) -> None:
        with self.stand_in._cond:
            new = self.stand_in.calls[self.read :]
        self.read += len(new)
        for call in new:
            if call.method == "sendMessage" and not call.failed:
                self.count[call.params["chat_id"]] += 1
                self.texts.append(str(call.params.get("text", "")))

    async def wait(self, chat: int, at_least: int, timeout: float = 10.0) -> None:
        """Pace a professional; after `timeout` go on anyway (a reply may die with a worker)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.refresh()
            if self.count[chat] >= at_least:
                return
            await asyncio.sleep(0.01)


async def professional(
    telegram: Telegram, replies: Replies, chat: int, texts: list[str], pair_at: int | None
) -> None:
    """Type `texts` one after another, like a person who does not always wait for the reply;
    at `pair_at`, two answers go out at the very same moment, one to each worker."""
    k = 0
    while k < len(texts):
        await replies.wait(chat, k - IN_FLIGHT + 1)
        if k == pair_at:
            first = telegram.number(chat, texts[k])
            second = telegram.number(chat, texts[k + 1])
            side = chat % 2
            await asyncio.gather(telegram.deliver(first, side), telegram.deliver(second, 1 - side))
            k += 2
        else:
            update = telegram.number(chat, texts[k])
            await telegram.deliver(update, update["update_id"] % 2)
            k += 1


def stops_cleanly(worker: Worker) -> None:
    """SIGTERM: the worker ends with 0 and logged no error."""
    assert worker.stop() == 0, worker.log()[-3000:]
    assert " ERROR " not in worker.log(), worker.log()[-3000:]


def pending(app: App) -> list[int]:
    with app.sessions() as session:
        return list(
            session.scalars(select(InboxEntry.update_id).where(InboxEntry.done_at.is_(None)))
        )


async def inbox_empty(app: App, workers: list[Worker]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while pending(app):
        logs = "\n".join(w.log()[-3000:] for w in workers)
        assert time.monotonic() < deadline, f"the inbox kept {len(pending(app))} updates\n{logs}"
        await asyncio.sleep(0.1)


def check_plans(app: App, telegram: Telegram, households: dict[int, str]) -> None:
    """Every plan equals the replay of its chat's answers in update_id order."""
    dialog, today = app.dialog, date.today()
    by_chat: dict[int, list[str]] = {chat: [] for chat in households}
    for update_id in sorted(telegram.sent):
        chat, text = telegram.sent[update_id]
        by_chat[chat].append(text)
    with app.sessions() as session:
        repo = PlanRepository(session, app.keyring)
        for chat, household in households.items():
            _code, opening, *answers = by_chat[chat]
            assert opening == f"/nieuw {household}"
            expected = replay(dialog, answers)
            plan = repo.current_plan(household)
            assert plan is not None, household
            stored = [(a.field, a.value) for a in repo.history(plan.id)]
            assert stored == [(key, plain(value)) for key, value in expected.history], household
            snapshot = expected.snapshot
            assert (plan.state, plan.status, plan.revision) == (
                snapshot.state,
                snapshot.status,
                snapshot.revision,
            )
            assert plan.answers == plain(dict(snapshot.answers)), household
            assert plan.data == plain(dict(snapshot.data)), household
            assert app.renderer.markdown(household, plan.answers, today) == (
                app.renderer.markdown(household, snapshot.answers, today)
            )
    with app.sessions() as session:
        # Done updates keep no payload: it held the answer.
        payloads = session.scalars(
            select(InboxEntry.payload).where(InboxEntry.payload.is_not(None))
        )
        assert list(payloads) == []


async def run_load(
    app: App,
    stand_in: BotApiStandIn,
    workers: list[Worker],
    professionals: int,
    pairs: int,
    kill_at: float | None = None,
    secret: str = SECRET,
) -> tuple[Telegram, Replies, dict[int, str], dict[str, Any]]:
    spec, dialog = app.dialog.spec, app.dialog
    codes = [app.access.invite("Noord") for _ in range(professionals)]
    households = {FIRST_USER + i: f"{3001 + i}" for i in range(professionals)}
    scripts = {
        chat: [codes[i], f"/nieuw {household}", *script(dialog, spec, i)]
        for i, (chat, household) in enumerate(households.items())
    }
    # Pairs among the answers (index 2 is the first answer), at most one per professional.
    rng = random.Random(7)
    paired = rng.sample(sorted(households), pairs)
    pair_at = {chat: rng.randrange(2, len(scripts[chat]) - 1) for chat in paired}
    replies = Replies(stand_in)
    facts: dict[str, Any] = {}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        telegram = Telegram(stand_in, workers, client, secret)
        total = sum(len(texts) for texts in scripts.values())

        async def killer() -> None:
            assert kill_at is not None
            while len(telegram.acknowledged) < total * kill_at:
                await asyncio.sleep(0.005)
            ours = {u for u, w in telegram.acknowledged.items() if w == 1}
            workers[0].kill()
            # Acknowledged by the dead worker and not applied: the survivor must take them.
            facts["orphans"] = len(ours & set(pending(app)))
            facts["numbered_at_kill"] = telegram.next_id

        tasks = [
            professional(telegram, replies, chat, texts, pair_at.get(chat))
            for chat, texts in scripts.items()
        ]
        if kill_at is not None:
            tasks.append(killer())
        async with asyncio.timeout(TIMEOUT * 2):
            await asyncio.gather(*tasks)
            await inbox_empty(app, workers)
    assert len(telegram.acknowledged) == total == len(telegram.sent)
    return telegram, replies, households, facts


@needs_postgres
async def test_two_workers_store_every_answer_once_and_in_order(
    app: App, stand_in: BotApiStandIn, workers: list[Worker]
) -> None:
    started = time.monotonic()
    telegram, replies, households, _ = await run_load(
        app, stand_in, workers, professionals=50, pairs=20
    )
    # Both workers took updates and applied them.
    assert set(telegram.acknowledged.values()) == {1, 2}
    assert telegram.not_acknowledged == 0
    check_plans(app, telegram, households)
    # Every message got its reply (the welcome, the first question, the next questions),
    # and none of them said an answer was refused or not stored.
    async with asyncio.timeout(30):
        while True:
            replies.refresh()
            counts = {chat: replies.count[chat] for chat in households}
            if min(counts.values()) >= ANSWERS + 2:
                break
            await asyncio.sleep(0.1)
    assert not [text for text in replies.texts if "⚠️" in text]
    for worker in workers:
        stops_cleanly(worker)
    print(f"\n{len(telegram.sent)} updates in {time.monotonic() - started:.1f} s")


@needs_postgres
async def test_a_killed_worker_loses_nothing_acknowledged(
    app: App, stand_in: BotApiStandIn, workers: list[Worker]
) -> None:
    started = time.monotonic()
    telegram, _, households, facts = await run_load(
        app, stand_in, workers, professionals=20, pairs=5, kill_at=0.4
    )
    assert not workers[0].alive()
    assert workers[1].alive(), workers[1].log()[-3000:]
    # Updates sent to the dead worker failed, and went to the other one as Telegram would.
    assert telegram.not_acknowledged > 0
    after_kill = [u for u in telegram.acknowledged if u >= facts["numbered_at_kill"]]
    assert after_kill and {telegram.acknowledged[u] for u in after_kill} == {2}
    # Some updates were acknowledged by the worker that died before it applied them.
    assert facts["orphans"] > 0, facts
    check_plans(app, telegram, households)
    with app.sessions() as session:
        waiting = select(func.count()).where(InboxEntry.done_at.is_(None))
        assert session.scalar(waiting) == 0
    stops_cleanly(workers[1])
    print(
        f"\n{len(telegram.sent)} updates in {time.monotonic() - started:.1f} s;"
        f" {facts['orphans']} taken over from the killed worker,"
        f" {telegram.not_acknowledged} deliveries re-sent"
    )


async def test_one_worker_on_sqlite_with_a_secret_of_its_own(
    stand_in: BotApiStandIn, tmp_path: Path
) -> None:
    """Webhook mode without PostgreSQL (one worker) and without a configured secret."""
    data = tmp_path / "worker-1"
    database = f"sqlite:///{data / 'plans.db'}"
    settings = Settings(database_url=database, data_dir=tmp_path / "test", secret_key=TEST_SECRET)
    app = bootstrap(settings)
    worker = Worker(1, stand_in, database, data, secret=None)
    try:
        secret = webhook_secret(app)
        wait_for_webhooks(stand_in, [worker], secret)
        telegram, _, households, _ = await run_load(
            app, stand_in, [worker, worker], professionals=3, pairs=2, secret=secret
        )
        check_plans(app, telegram, households)
        assert worker.stop() == 0, worker.log()[-3000:]
        assert " ERROR " not in worker.log(), worker.log()[-3000:]
    finally:
        if worker.alive():
            worker.proc.kill()
        worker.stop()
        app.engine.dispose()


# --- every kind of update, and pairs out of order ------------------------------------------


class Person:
    """A professional who types into a chat and waits for the bot's reply there."""

    def __init__(self, telegram: Telegram, chat: int) -> None:
        self.telegram = telegram
        self.stand_in = telegram.stand_in
        self.chat = chat

    def replies(self, chat: int, since: int) -> list[Call]:
        with self.stand_in._cond:
            calls = self.stand_in.calls[since:]
        return [
            c
            for c in calls
            if c.method == "sendMessage" and not c.failed and c.params.get("chat_id") == chat
        ]

    async def send(
        self, text: str, *, group: int | None = None, expect: str = "", timeout: float = 8.0
    ) -> Call | None:
        """Type `text`; the bot's reply that contains `expect`, or None if none came in time
        (a reply may die with a worker: the person goes on, as one would)."""
        options: dict[str, Any] = {}
        if group is not None:
            options = {"chat_id": group, "chat_type": "group"}
        update = self.telegram.number(self.chat, text, **options)
        return await self._deliver(update, group or self.chat, expect, timeout)

    async def press(self, data: str, message_id: int) -> Call | None:
        body = self.stand_in.callback_update(data, user_id=self.chat, message_id=message_id)
        update = self.telegram.number_update(body, self.chat, data)
        return await self._deliver(update, self.chat, "", 8.0)

    async def _deliver(
        self, update: dict[str, Any], chat: int, expect: str, timeout: float
    ) -> Call | None:
        with self.stand_in._cond:
            since = len(self.stand_in.calls)
        await self.telegram.deliver(update, update["update_id"] % 2)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [c for c in self.replies(chat, since) if expect in c.params["text"]]
            if found:
                return found[-1]
            await asyncio.sleep(0.01)
        return None


def message_id_with(stand_in: BotApiStandIn, chat: int, data: str) -> int:
    """The id the stand-in gave the bot's message in `chat` with this button."""
    with stand_in._cond:
        ids = [
            message_id
            for (where, message_id), message in stand_in._messages.items()
            if where == chat and data in str(message.get("reply_markup"))
        ]
    return max(ids, default=1)


def audit_count(app: App, plan_id: int, action: str) -> int:
    return sum(entry.action == action for entry in stored_rows.audit_log(app, plan_id))


KINDS = 8  # professionals
KIND_ANSWERS = 6


@needs_postgres
async def test_every_kind_of_update_is_applied_once_when_a_worker_dies(
    app: App, stand_in: BotApiStandIn, workers: list[Worker]
) -> None:
    """Registration, /nieuw, answers, /deel and joining with its code, /sessie start and stop,
    /idee and /verwijder, each delivered to both workers in turn, one of them killed midway:
    the database holds each change once."""
    started = time.monotonic()
    dialog, spec = app.dialog, app.dialog.spec
    chats = [FIRST_USER + 100 + i for i in range(KINDS)]
    codes = {chat: app.access.invite("Noord") for chat in chats}
    household = {chat: f"{4001 + i}" for i, chat in enumerate(chats)}
    doomed = {chat: f"{5001 + i}" for i, chat in enumerate(chats)}
    group = {chat: -(9001 + i) for i, chat in enumerate(chats)}
    answers = {chat: script(dialog, spec, i)[:KIND_ANSWERS] for i, chat in enumerate(chats)}
    registered = {chat: asyncio.Event() for chat in chats}
    shares: dict[int, int] = {chat: 0 for chat in chats}
    facts: dict[str, Any] = {}
    async with httpx.AsyncClient(timeout=30) as client:
        telegram = Telegram(stand_in, workers, client, SECRET)
        total_guess = KINDS * (KIND_ANSWERS + 12)

        async def person(index: int, chat: int) -> None:
            me = Person(telegram, chat)
            await me.send(codes[chat])
            registered[chat].set()
            await me.send(f"/nieuw {household[chat]}")
            for text in answers[chat]:
                await me.send(text)
            reply = None
            while reply is None:  # no code seen: ask again, as the professional would
                shares[chat] += 1
                reply = await me.send("/deel", expect="Deelcode: ")
            code = reply.params["text"].split("Deelcode: ")[1].split()[0]
            colleague = chats[(index + 1) % len(chats)]
            await registered[colleague].wait()
            await Person(telegram, colleague).send(code)
            await me.send(f"/sessie {household[chat]}", group=group[chat])
            await me.send("/idee Samen naar de schuldhulp", group=group[chat])
            await me.send("/sessie stop", group=group[chat])
            await me.send(f"/nieuw {doomed[chat]}")
            question = None
            while question is None:
                question = await me.send("/verwijder", expect="verwijderen")
            data = next(
                button["callback_data"]
                for row in question.params["reply_markup"]["inline_keyboard"]
                for button in row
                if Button.decode(button["callback_data"]).answer == DELETE_YES  # type: ignore[union-attr]
            )
            await me.press(data, message_id_with(stand_in, chat, data))

        async def killer() -> None:
            while len(telegram.acknowledged) < total_guess * 0.4:
                await asyncio.sleep(0.005)
            workers[0].kill()
            facts["killed_at"] = telegram.next_id

        async with asyncio.timeout(TIMEOUT * 2):
            await asyncio.gather(killer(), *(person(i, c) for i, c in enumerate(chats)))
            await inbox_empty(app, workers)

    assert not workers[0].alive() and telegram.not_acknowledged > 0
    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Professional)) == KINDS
        repo = PlanRepository(session, app.keyring)
        every_plan = stored_rows.every_plan(session, app.keyring)
        for chat in chats:
            # One plan per /nieuw: the deleted one is gone.
            [plan_id] = [p.id for p in every_plan if p.household == household[chat]]
            assert [p for p in every_plan if p.household == doomed[chat]] == []
            # The answers exactly once each, in order.
            expected = replay(dialog, answers[chat]).history
            stored = [(a.field, a.value) for a in repo.history(plan_id)]
            assert stored == [(key, plain(value)) for key, value in expected], chat
            # Opened by /nieuw and by /sessie; one code per /deel; joined once; one idea.
            assert audit_count(app, plan_id, OPENED) == 2, chat
            assert audit_count(app, plan_id, SHARE_CODE_MADE) == shares[chat], chat
            codes_made = session.scalar(
                select(func.count()).select_from(ShareCode).where(ShareCode.plan_id == plan_id)
            )
            assert codes_made == shares[chat]
            assert audit_count(app, plan_id, JOINED) == 1, chat
            access = session.scalar(
                select(func.count()).select_from(PlanAccess).where(PlanAccess.plan_id == plan_id)
            )
            assert access == 2, chat  # the owner and the colleague
            ideas = session.scalar(
                select(func.count()).select_from(Suggestion).where(Suggestion.plan_id == plan_id)
            )
            assert ideas == 1, chat
            # The session was stopped; the plan that was deleted is gone, deleted once.
            assert ChatRepository(session, app.keyring).chat(group[chat]) is None
        deletions = [e for e in stored_rows.audit_log(app) if e.action == DELETED]
        assert len(deletions) == KINDS
    stops_cleanly(workers[1])
    print(
        f"\n{len(telegram.sent)} updates in {time.monotonic() - started:.1f} s;"
        f" worker 1 killed at update {facts['killed_at']}"
    )


PAIRS_PER_PERSON = 10
PAIR_PEOPLE = 6


@needs_postgres
async def test_a_later_update_delivered_first_to_the_other_worker_waits(
    app: App, stand_in: BotApiStandIn, workers: list[Worker]
) -> None:
    """60 pairs: update k+1 to one worker, then after 0-30 ms update k to the other."""
    started = time.monotonic()
    dialog, spec = app.dialog, app.dialog.spec
    chats = [FIRST_USER + 200 + i for i in range(PAIR_PEOPLE)]
    household = {chat: f"{6001 + i}" for i, chat in enumerate(chats)}
    texts = {chat: script(dialog, spec, i)[: 2 * PAIRS_PER_PERSON] for i, chat in enumerate(chats)}
    rng = random.Random(11)
    async with httpx.AsyncClient(timeout=30) as client:
        telegram = Telegram(stand_in, workers, client, SECRET)

        async def person(chat: int) -> None:
            me = Person(telegram, chat)
            await me.send(app.access.invite("Noord"))
            await me.send(f"/nieuw {household[chat]}")
            for pair in range(PAIRS_PER_PERSON):
                earlier = telegram.number(chat, texts[chat][2 * pair])
                later = telegram.number(chat, texts[chat][2 * pair + 1])
                with stand_in._cond:
                    since = len(stand_in.calls)
                side = rng.randrange(2)
                await telegram.deliver(later, side)
                await asyncio.sleep(rng.uniform(0, 0.030))
                await telegram.deliver(earlier, 1 - side)
                deadline = time.monotonic() + 10
                while len(me.replies(chat, since)) < 2 and time.monotonic() < deadline:
                    await asyncio.sleep(0.01)

        async with asyncio.timeout(TIMEOUT):
            await asyncio.gather(*(person(chat) for chat in chats))
            await inbox_empty(app, workers)

    out_of_order = 0
    with app.sessions() as session:
        repo = PlanRepository(session, app.keyring)
        for chat in chats:
            plan = repo.current_plan(household[chat])
            assert plan is not None
            stored = [(a.field, a.value) for a in repo.history(plan.id)]
            expected = [(k, plain(v)) for k, v in replay(dialog, texts[chat]).history]
            out_of_order += sum(a != b for a, b in zip(stored, expected, strict=False))
            assert stored == expected, chat
    assert out_of_order == 0
    for worker in workers:
        stops_cleanly(worker)
    pairs = PAIR_PEOPLE * PAIRS_PER_PERSON
    print(f"\n{pairs} pairs in {time.monotonic() - started:.1f} s; {out_of_order} out of order")
