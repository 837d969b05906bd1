"""The webhook inbox on SQLite and PostgreSQL: order per chat, repeats, gaps, exactly once."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from tornado.httpserver import HTTPServer

from bot.access import AccessService
from bot.bootstrap import bootstrap
from bot.config import Settings
from bot.inbox_worker import InboxWorker
from bot.service import PlanService
from bot.webhook import SECRET_HEADER, web_app, webhook_secret
from dialogs import Dialog, Interview, Text
from storage import PlanRepository, Units, create_engine_for, make_session_factory, migrate
from storage.access import ShareCode
from storage.crypto import is_token
from storage.db import ensure_encrypted
from storage.inbox import AlreadyApplied, InboxEntry, InboxRepository, applying, chat_lock
from storage.models import utcnow
from tests.conftest import TEST_SECRET, keyring_for_tests, sample_answer
from tests.support.botapi import BotApiStandIn

KEYRING = keyring_for_tests()
ANNA, BERT = 1001, 1002
# Builds updates only; its server is never started.
UPDATES = BotApiStandIn()


def update(update_id: int, chat: int = ANNA, text: str = "hallo") -> dict[str, Any]:
    return {"update_id": update_id, **UPDATES.text_update(text, user_id=chat)}


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'inbox.db'}"
    return str(request.getfixturevalue("postgres_url"))


def open_engine(url: str) -> Engine:
    engine = create_engine_for(url)
    migrate(engine)
    ensure_encrypted(engine, KEYRING)
    return engine


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    engine = open_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


class Recorder:
    """A `process` that notes which updates it was given, per chat, in order."""

    def __init__(self, delay: float = 0.0) -> None:
        self.seen: list[int] = []
        self.by_chat: dict[int, list[int]] = {}
        self.delay = delay

    async def __call__(self, payload: dict[str, Any]) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)
        self.seen.append(payload["update_id"])
        chat = payload["message"]["chat"]["id"]
        self.by_chat.setdefault(chat, []).append(payload["update_id"])


def worker_for(engine: Engine, recorder: Recorder, **options: Any) -> InboxWorker:
    return InboxWorker(engine, make_session_factory(engine), KEYRING, recorder, **options)


def rows(sessions: sessionmaker[Session]) -> list[InboxEntry]:
    with sessions() as session:
        return list(session.scalars(select(InboxEntry).order_by(InboxEntry.update_id)))


# --- order -------------------------------------------------------------------------------------


async def test_a_chat_waits_for_a_lower_update_that_arrives_late(engine: Engine) -> None:
    recorder = Recorder()
    worker = worker_for(engine, recorder, gap_timeout=30)
    assert worker.receive(update(10))
    await worker.idle()
    assert recorder.seen == [10]

    # 11 is on its way to another worker: 12 (the same chat) and 13 (another) must wait.
    worker.receive(update(12, text="tweede"))
    worker.receive(update(13, chat=BERT))
    await asyncio.sleep(0.3)
    assert recorder.seen == [10]

    worker.receive(update(11, text="eerste"))
    await worker.idle()
    assert recorder.by_chat == {ANNA: [10, 11, 12], BERT: [13]}


async def test_the_first_update_ever_does_not_wait(engine: Engine) -> None:
    recorder = Recorder()
    worker = worker_for(engine, recorder, gap_timeout=30)
    worker.receive(update(5000))
    await asyncio.wait_for(worker.idle(), 5)
    assert recorder.seen == [5000]


async def test_a_missing_update_is_given_up_after_the_gap_timeout_and_taken_late(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    recorder = Recorder()
    worker = worker_for(engine, recorder, gap_timeout=0.2)
    worker.receive(update(1))
    await worker.idle()
    started = asyncio.get_running_loop().time()
    worker.receive(update(3))
    await worker.idle()
    assert recorder.seen == [1, 3]
    assert asyncio.get_running_loop().time() - started >= 0.2
    marker = [row for row in rows(sessions) if row.update_id == 2]
    assert [(m.chat_key, m.payload, m.done_at is not None) for m in marker] == [(None, None, True)]

    # It came after all (a slow worker acknowledged it): late, but not lost.
    assert worker.receive(update(2))
    await worker.idle()
    assert recorder.seen == [1, 3, 2]

    # After a week of silence Telegram's ids jump: one wait, one marker, not millions.
    worker.receive(update(9_000_000))
    await worker.idle()
    assert recorder.seen[-1] == 9_000_000
    assert [row.update_id for row in rows(sessions)] == [1, 2, 3, 8_999_999, 9_000_000]


# --- repeats and privacy -----------------------------------------------------------------------


async def test_a_repeated_delivery_is_applied_once(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    recorder = Recorder()
    worker = worker_for(engine, recorder)
    assert worker.receive(update(1, text="geheim antwoord"))
    assert not worker.receive(update(1, text="geheim antwoord"))
    await worker.idle()
    assert not worker.receive(update(1, text="geheim antwoord"))
    await worker.idle()
    assert recorder.seen == [1]


def test_a_waiting_update_is_encrypted_and_dropped_once_done(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        repo = InboxRepository(session, KEYRING)
        repo.add(1, ANNA, update(1, text="geheim antwoord"))
    [row] = rows(sessions)
    assert row.payload is not None and is_token(row.payload)
    assert row.chat_key is not None and str(ANNA) not in row.chat_key
    with sessions.begin() as session:
        assert InboxRepository(session, KEYRING).mark_done(1)
    [row] = rows(sessions)
    assert row.payload is None and row.done_at is not None

    # A day later the id is forgotten too; what waits is kept.
    with sessions.begin() as session:
        repo = InboxRepository(session, KEYRING)
        repo.add(2, ANNA, update(2))
        assert repo.purge(utcnow()) == 1
    assert [row.update_id for row in rows(sessions)] == [2]


# --- exactly once ------------------------------------------------------------------------------


async def test_an_update_applied_by_a_turn_is_applied_once(
    engine: Engine, sessions: sessionmaker[Session], spec: Interview, dialog: Dialog
) -> None:
    service = PlanService(dialog, Units(engine, KEYRING))
    plan_id = service.open("3012", actor="prof:1").plan_id
    answer = sample_answer(spec.fields[0])
    with sessions.begin() as session:
        repo = InboxRepository(session, KEYRING)
        repo.add(7, ANNA, update(7, text=answer))

    # The turn claims the update in its own transaction; the worker that applied it dies
    # before it can mark it done itself. No worker applies it again.
    with applying(7):
        turn = service.handle(plan_id, Text(answer), author="prof:1")
    assert turn.saved
    recorder = Recorder()
    worker = worker_for(engine, recorder, orphaned_after=utcnow() - utcnow())
    worker.sweep()
    await worker.idle()
    assert recorder.seen == []

    # Applying it again anyway (a second worker that got hold of it) does nothing.
    with applying(7), pytest.raises(AlreadyApplied):
        service.handle(plan_id, Text(answer), author="prof:1")

    # Two workers at the very same moment: one applies it.
    second = sample_answer(spec.fields[1])
    with sessions.begin() as session:
        repo = InboxRepository(session, KEYRING)
        repo.add(8, ANNA, update(8, text=second))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def apply() -> None:
        barrier.wait()
        with applying(8):
            try:
                outcomes.append(
                    "saved"
                    if service.handle(plan_id, Text(second), author="prof:1").saved
                    else "?"
                )
            except AlreadyApplied:
                outcomes.append("already")

    threads = [threading.Thread(target=apply) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already", "saved"]
    with sessions() as session:
        history = PlanRepository(session, KEYRING).history(plan_id)
    assert [(a.field, a.value) for a in history] == [
        (spec.fields[0].key, answer),
        (spec.fields[1].key, second),
    ]
    # Outside an update (the terminal, the CLI) nothing is claimed.
    assert service.handle(plan_id, Text("overzicht"), author="prof:1").outcome.replies


def test_a_second_claim_in_another_transaction_is_refused(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        repo = InboxRepository(session, KEYRING)
        repo.add(3, repo.chat_key(ANNA), update(3))
    with sessions.begin() as session:
        InboxRepository(session, KEYRING).claim(3)
    with sessions.begin() as session, pytest.raises(AlreadyApplied):
        InboxRepository(session, KEYRING).claim(3)

    # A claim rolled back counts for nothing.
    with sessions.begin() as session:
        repo = InboxRepository(session, KEYRING)
        repo.add(4, repo.chat_key(ANNA), update(4))
    with pytest.raises(RuntimeError), sessions.begin() as session:
        InboxRepository(session, KEYRING).claim(4)
        raise RuntimeError("the turn failed")
    with sessions.begin() as session:
        InboxRepository(session, KEYRING).claim(4)


def test_an_update_is_claimed_once_however_many_transactions_it_writes(
    sessions: sessionmaker[Session], dialog: Dialog
) -> None:
    """A non-answer change (an idea, a share code) repeated with the same update applies once;
    within one update, the transactions after the claiming one go on."""
    units = Units(sessions.kw["bind"], KEYRING)
    service, access = PlanService(dialog, units), AccessService(units)
    code = access.invite("Noord")
    anna = access.register(code, ANNA)
    assert anna is not None
    plan_id = service.open("3012", actor=anna.actor, professional=anna).plan_id
    access.record(anna.actor, "geopend", plan_id)
    with sessions.begin() as session:
        repo = InboxRepository(session, KEYRING)
        for update_id in (20, 21):
            repo.add(update_id, repo.chat_key(ANNA), update(update_id))

    with applying(20):
        service.suggest(plan_id, author=anna.actor, text="Samen naar de schuldhulp")
        # A second write of the same update (an audit entry after the idea) goes on.
        access.record(anna.actor, "gewijzigd", plan_id)
    with applying(20), pytest.raises(AlreadyApplied):
        service.suggest(plan_id, author=anna.actor, text="Samen naar de schuldhulp")
    assert len(service.suggestions(plan_id)) == 1

    with applying(21):
        shared = access.share(anna, plan_id)
    with applying(21), pytest.raises(AlreadyApplied):
        access.share(anna, plan_id)
    with sessions() as session:
        codes = session.scalar(select(func.count()).select_from(ShareCode))
    assert shared and codes == 1


# --- a worker that died ------------------------------------------------------------------------


async def test_the_sweeper_applies_what_a_dead_worker_left(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    # Acknowledged by a worker that died before it applied them.
    with sessions.begin() as session:
        repo = InboxRepository(session, KEYRING)
        for update_id, chat in ((1, ANNA), (2, BERT), (3, ANNA)):
            repo.add(update_id, chat, update(update_id, chat=chat))
    recorder = Recorder()
    worker = worker_for(engine, recorder, orphaned_after=utcnow() - utcnow(), sweep_every=0.02)
    sweeper = asyncio.create_task(worker.sweep_forever())
    try:
        async with asyncio.timeout(10):
            while len(recorder.seen) < 3:
                await asyncio.sleep(0.01)
    finally:
        sweeper.cancel()
    await worker.idle()
    assert recorder.by_chat == {ANNA: [1, 3], BERT: [2]}
    with sessions() as session:
        assert session.scalar(select(func.count()).where(InboxEntry.done_at.is_(None))) == 0


# --- several workers (PostgreSQL) --------------------------------------------------------------


# SQLite serves one process; several workers need PostgreSQL.


def test_a_chat_lock_holds_across_connections(postgres_url: str) -> None:
    first, second = open_engine(postgres_url), create_engine_for(postgres_url)
    try:
        key = "ab" * 32
        with chat_lock(first, key) as mine:
            assert mine
            with chat_lock(second, key) as theirs:
                assert not theirs
            with chat_lock(second, "cd" * 32) as other_chat:
                assert other_chat
        with chat_lock(second, key) as now_mine:
            assert now_mine
    finally:
        first.dispose()
        second.dispose()


async def test_two_workers_apply_each_chat_in_order_and_each_update_once(
    postgres_url: str,
) -> None:
    engines = [open_engine(postgres_url), create_engine_for(postgres_url)]
    recorder = Recorder(delay=0.002)
    workers = [worker_for(engine, recorder, gap_timeout=10) for engine in engines]
    chats = [ANNA, BERT, 1003, 1004, 1005]
    try:
        # The first update ever has no predecessor to wait for: it goes first, alone.
        workers[0].receive(update(99, ANNA))
        await workers[0].idle()
        sent: dict[int, list[int]] = {chat: [] for chat in chats}
        sent[ANNA].append(99)
        update_id = 100
        for round_ in range(12):
            # A pair of one chat's updates at once, the later one first, at the other worker.
            chat = chats[round_ % len(chats)]
            later, earlier = update(update_id + 1, chat), update(update_id, chat)
            workers[round_ % 2].receive(later)
            await asyncio.sleep(0.003)
            workers[(round_ + 1) % 2].receive(earlier)
            sent[chat] += [update_id, update_id + 1]
            update_id += 2
            for chat in chats:
                workers[update_id % 2].receive(update(update_id, chat))
                sent[chat].append(update_id)
                update_id += 1
            await asyncio.sleep(0)
        async with asyncio.timeout(30):
            while len(recorder.seen) < update_id - 99:
                await asyncio.sleep(0.01)
            for worker in workers:
                await worker.idle()
        assert sorted(recorder.seen) == list(range(99, update_id))
        assert recorder.by_chat == sent
    finally:
        for engine in engines:
            engine.dispose()


# --- over HTTP ---------------------------------------------------------------------------------


@pytest.fixture
async def http(engine: Engine) -> AsyncIterator[tuple[str, Recorder]]:
    recorder = Recorder()
    worker = worker_for(engine, recorder)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = HTTPServer(web_app(worker, "s3cret", "/telegram"))
    server.listen(port, "127.0.0.1")
    yield f"http://127.0.0.1:{port}/telegram", recorder
    server.stop()
    await server.close_all_connections()
    await worker.idle()


async def test_the_webhook_acknowledges_an_update_once_it_is_stored(
    http: tuple[str, Recorder], sessions: sessionmaker[Session]
) -> None:
    address, recorder = http
    secret = {SECRET_HEADER: "s3cret"}
    async with httpx.AsyncClient() as client:
        refused = await client.post(address, json=update(1), headers={SECRET_HEADER: "nee"})
        assert refused.status_code == 403
        assert (await client.post(address, json=update(1))).status_code == 403
        bad = await client.post(address, content=b"{not json", headers=secret)
        assert bad.status_code == 400
        assert (await client.post(address, json={"hallo": 1}, headers=secret)).status_code == 400
        assert rows(sessions) == []

        for _ in range(2):  # Telegram repeats a delivery it did not see acknowledged
            accepted = await client.post(address, json=update(1), headers=secret)
            assert accepted.status_code == 200
    with sessions() as session:
        stored = session.scalar(select(func.count()).select_from(InboxEntry))
    assert stored == 1
    async with asyncio.timeout(5):
        while not recorder.seen:
            await asyncio.sleep(0.01)
    assert recorder.seen == [1]


def test_without_a_configured_secret_every_worker_derives_the_same(tmp_path: Path) -> None:
    apps = [
        bootstrap(Settings(data_dir=tmp_path / name, secret_key=TEST_SECRET, **extra))
        for name, extra in (("a", {}), ("b", {}), ("c", {"webhook_secret": "eigen-geheim"}))
    ]
    try:
        first, second, configured = (webhook_secret(app) for app in apps)
        # Telegram allows 1-256 of A-Z, a-z, 0-9, _ and -.
        assert first == second and re.fullmatch(r"[0-9a-f]{64}", first)
        assert configured == "eigen-geheim"
    finally:
        for app in apps:
            app.engine.dispose()
