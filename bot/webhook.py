"""Updates through the inbox: webhook workers (one or several) and long polling alike store an
update before Telegram may forget it, then apply it from the inbox one chat at a time, in
`update_id` order.

Any number of `doorbraakbot run` processes can serve one webhook URL on one PostgreSQL
database. A worker answers Telegram 200 only once the update is committed to the inbox, so an
acknowledged update survives the worker. Whichever worker holds a chat's lock (a PostgreSQL
advisory lock) applies that chat's updates, lowest id first, and only when no lower id is still
on its way to another worker. Every transaction that changes something for an update claims it
first (`storage.inbox`), so no update is applied twice. Each worker sweeps the inbox for
updates left waiting, by a worker that died for instance, and applies them.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import tornado.web
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from telegram import Update
from telegram.error import NetworkError, RetryAfter
from telegram.ext import Application
from tornado.httpserver import HTTPServer

from bot.bootstrap import App
from bot.config import Settings
from storage import READ_ONLY
from storage.crypto import Keyring
from storage.inbox import InboxRepository, applying, chat_lock
from storage.models import utcnow

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram's updates are a few kilobytes.
MAX_BODY = 1024 * 1024
# How often a worker looks again while an update id below the next one has not arrived.
GAP_POLL = 0.005
SWEEP_EVERY = 0.5
# An update waiting this long has no worker on it: its worker died, or is far behind.
ORPHANED_AFTER = timedelta(seconds=1)
# How long the id of a done update is kept, to recognise a delivery Telegram repeats.
KEEP_DONE = timedelta(days=1)
PURGE_EVERY = 120  # sweeps: once a minute
# Chats applied at once by one worker; each holds a database connection for its lock, and the
# pool must keep some for the turns themselves (SQLAlchemy's default pool has 5 + 10).
MAX_CHATS = 8
# How often an update whose processing raised is tried, and the pause after each failure.
MAX_ATTEMPTS = 3
RETRY_AFTER = 0.2
# Long polling: how long one getUpdates waits for an update, and the pauses after a failure.
POLL_TIMEOUT = 10
POLL_RETRY, POLL_RETRY_MAX = 1.0, 30.0
# On SIGTERM: how long the chats being applied get to finish.
STOP_GRACE = 10.0

Process = Callable[[dict[str, Any]], Awaitable[None]]
AnyApplication = Application[Any, Any, Any, Any, Any, Any]


def chat_of(update: dict[str, Any]) -> int:
    """The chat an update belongs to (its user's, if it has no chat; 0 if neither)."""
    parsed = Update.de_json(update, None)
    if parsed.effective_chat is not None:
        return parsed.effective_chat.id
    if parsed.effective_user is not None:
        return parsed.effective_user.id
    return 0


class InboxWorker:
    """Takes updates into the inbox and applies them with `process`, in order per chat."""

    def __init__(
        self,
        engine: Engine,
        sessions: sessionmaker[Session],
        keyring: Keyring,
        process: Process,
        *,
        gap_timeout: float = 2.0,
        orphaned_after: timedelta = ORPHANED_AFTER,
        sweep_every: float = SWEEP_EVERY,
        max_chats: int = MAX_CHATS,
    ) -> None:
        self.engine = engine
        self.sessions = sessions
        self.keyring = keyring
        self.process = process
        self.gap_timeout = gap_timeout
        self.orphaned_after = orphaned_after
        self.sweep_every = sweep_every
        self._slots = asyncio.Semaphore(max_chats)
        # The chats this worker is applying (or about to): one task per chat at most.
        self._tasks: dict[str, asyncio.Task[None]] = {}

    @contextmanager
    def _reading(self) -> Iterator[InboxRepository]:
        with self.sessions() as session:
            session.connection(execution_options=READ_ONLY)
            yield InboxRepository(session, self.keyring)

    @contextmanager
    def _snapshot(self) -> Iterator[InboxRepository]:
        """A read-only transaction whose queries all see the database at one moment."""
        with self.sessions() as session:
            options: dict[str, Any] = dict(READ_ONLY)
            if self.engine.dialect.name == "postgresql":
                # SQLite's read transactions see one snapshot already.
                options["isolation_level"] = "REPEATABLE READ"
            session.connection(execution_options=options)
            yield InboxRepository(session, self.keyring)

    @contextmanager
    def _writing(self) -> Iterator[InboxRepository]:
        with self.sessions.begin() as session:
            yield InboxRepository(session, self.keyring)

    # --- taking updates in -------------------------------------------------------------------

    def receive(self, update: dict[str, Any], chat_id: int | None = None) -> bool:
        """Store an update and commit; False if it was here already. Then apply its chat.

        Raises SQLAlchemyError when it cannot be stored: then it must not be acknowledged.
        """
        update_id = int(update["update_id"])
        chat = chat_of(update) if chat_id is None else chat_id
        with self._writing() as repo:
            key = repo.chat_key(chat)
            added = repo.add(update_id, chat, update)
        if not added:
            log.info("update %d came again; ignored", update_id)
        self.kick(key)
        return added

    def kick(self, chat_key: str) -> None:
        """Apply the chat's waiting updates, unless this worker is at it already."""
        if chat_key not in self._tasks:
            task = asyncio.get_running_loop().create_task(self._drain(chat_key))
            self._tasks[chat_key] = task
            task.add_done_callback(_report)

    # --- applying them -----------------------------------------------------------------------

    async def _drain(self, chat_key: str) -> None:
        try:
            async with self._slots:
                while True:
                    with self._reading() as repo:
                        if not repo.has_pending(chat_key):
                            return
                    with chat_lock(self.engine, chat_key) as mine:
                        if not mine:
                            # Another worker applies this chat. It looks for more after it
                            # lets go of the lock, and the update was committed before we
                            # tried: it sees it, so it need not be waited for here.
                            return
                        await self._work(chat_key)
                    # Updates committed after the last look, while the lock was held: their
                    # workers could not take it, so look again now it is free.
        finally:
            # Without an await since the last look: a kick from now on starts a new task.
            del self._tasks[chat_key]

    async def _work(self, chat_key: str) -> None:
        """Apply the chat's waiting updates in order; the caller holds the chat's lock."""
        blocked: tuple[int, float] | None = None  # the update waiting for a gap, and since when
        failures = 0  # of the update at hand
        while True:
            with self._snapshot() as repo:
                item, missing = repo.next_in_order(chat_key)
            if item is None:
                return
            if missing is not None:
                now = time.monotonic()
                if blocked is None or blocked[0] != item.update_id:
                    blocked = (item.update_id, now)
                if now - blocked[1] < self.gap_timeout:
                    await asyncio.sleep(GAP_POLL)
                    continue
                # Telegram's ids jump after a week of silence, and an update can be lost on
                # its way: do not wait for ever.
                log.warning("update %d has not come; going on without it", missing)
                with self._writing() as repo:
                    repo.give_up(missing)
                continue
            blocked = None
            if item.payload is None:
                log.error("update %d cannot be decrypted; dropped", item.update_id)
            else:
                try:
                    with applying(item.update_id):
                        await self.process(item.payload)
                except Exception as exc:
                    # Trying again is safe: whatever the update changed was committed with its
                    # claim, and is not applied twice. Only a broken update must not hold up
                    # the chat for ever.
                    failures += 1
                    if failures < MAX_ATTEMPTS:
                        log.warning("update %d failed: %s", item.update_id, type(exc).__name__)
                        await asyncio.sleep(RETRY_AFTER * failures)
                        continue
                    log.error("update %d failed: %s; dropped", item.update_id, type(exc).__name__)
            failures = 0
            # An update that changed nothing was not claimed: it is marked done here.
            with self._writing() as repo:
                repo.mark_done(item.update_id)

    # --- the sweeper -------------------------------------------------------------------------

    def sweep(self) -> None:
        """Apply the chats whose updates have waited too long (their worker died)."""
        with self._reading() as repo:
            waiting = repo.waiting_chats(utcnow() - self.orphaned_after)
        for chat_key in waiting:
            self.kick(chat_key)

    def purge(self) -> int:
        with self._writing() as repo:
            return repo.purge(utcnow() - KEEP_DONE)

    async def sweep_forever(self) -> None:
        sweeps = 0
        while True:
            await asyncio.sleep(self.sweep_every)
            try:
                self.sweep()
                sweeps += 1
                if sweeps % PURGE_EVERY == 0:
                    self.purge()
            except SQLAlchemyError as exc:
                log.warning("inbox sweep failed: %s", type(exc).__name__)

    async def idle(self) -> None:
        """Wait until this worker applies no chat."""
        while self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Let the chats being applied finish, for at most `grace` seconds; the rest stays in
        the inbox for another worker, or the next start."""
        try:
            await asyncio.wait_for(self.idle(), grace)
        except TimeoutError:
            for task in list(self._tasks.values()):
                task.cancel()
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)


def _report(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        # The updates stay in the inbox; the sweeper tries again.
        log.warning("applying a chat's updates stopped: %s", type(exc).__name__)


class _Receiver(tornado.web.RequestHandler):
    """POST <path>: one update from Telegram, acknowledged once it is stored."""

    def initialize(self, worker: InboxWorker, secret: str) -> None:
        self.worker = worker
        self.secret = secret

    def post(self) -> None:
        token = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(token.encode(), self.secret.encode()):
            self.send_error(403)
            return
        try:
            update = json.loads(self.request.body)
            if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
                raise ValueError("not an update")
            chat = chat_of(update)
        except Exception:
            self.send_error(400)
            return
        try:
            self.worker.receive(update, chat)
        except SQLAlchemyError as exc:
            # Not stored, so not acknowledged: Telegram delivers it again.
            log.warning("update not stored: %s", type(exc).__name__)
            self.send_error(503)
            return
        self.set_status(200)


def _log_request(handler: tornado.web.RequestHandler) -> None:
    # Only failures, and never a body: it holds an answer.
    if handler.get_status() >= 400:
        request = handler.request
        log.warning("%d %s %s", handler.get_status(), request.method, request.path)


def web_app(worker: InboxWorker, secret: str, path: str) -> tornado.web.Application:
    routes = [(path, _Receiver, {"worker": worker, "secret": secret})]
    return tornado.web.Application(routes, log_function=_log_request)


def webhook_secret(app: App) -> str:
    """DOORBRAAK_WEBHOOK_SECRET, or one derived from the key that every worker shares."""
    return app.settings.webhook_secret or app.keyring.hash("webhook", purpose="telegram webhook")


def processor(application: AnyApplication) -> Process:
    async def process(payload: dict[str, Any]) -> None:
        await application.process_update(Update.de_json(payload, application.bot))

    return process


async def serve(app: App, application: AnyApplication) -> None:
    """Run a webhook worker until SIGTERM or SIGINT."""
    settings = app.settings
    secret = webhook_secret(app)
    worker = InboxWorker(
        app.engine,
        app.sessions,
        app.keyring,
        processor(application),
        gap_timeout=settings.webhook_gap_timeout,
    )
    await _running(application, lambda stop: _listen(application, worker, secret, settings, stop))


async def poll(app: App, application: AnyApplication) -> None:
    """Long polling until SIGTERM or SIGINT, through the inbox as well.

    Telegram forgets an update only when a later getUpdates asks for a higher offset, and a
    bot can die after applying an update and before that: Telegram then hands it out again.
    So each update is stored before the offset moves past it and applied from the inbox with
    its claim, as in webhook mode: one handed out again is recognised, one stored but not
    applied yet is applied once, and none is dropped.
    """
    # One process takes every update, in order: a lower id missing now will not come.
    worker = InboxWorker(
        app.engine, app.sessions, app.keyring, processor(application), gap_timeout=0.0
    )
    await _running(application, lambda stop: _poll(application, worker, stop))


async def _running(
    application: AnyApplication, body: Callable[[asyncio.Event], Awaitable[None]]
) -> None:
    """Start the application, run `body` until SIGTERM or SIGINT sets its event, then stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
        try:
            await body(stop)
        finally:
            await application.stop()
    finally:
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


async def _listen(
    application: AnyApplication,
    worker: InboxWorker,
    secret: str,
    settings: Settings,
    stop: asyncio.Event,
) -> None:
    server = HTTPServer(web_app(worker, secret, settings.webhook_path), max_body_size=MAX_BODY)
    server.listen(settings.webhook_port, settings.webhook_listen)
    sweeper = asyncio.create_task(worker.sweep_forever())
    try:
        # Only now that updates can be taken in may Telegram send them. Every worker sets the
        # same webhook; none deletes it when it stops, since the others go on.
        await application.bot.set_webhook(
            url=settings.webhook_url,
            allowed_updates=Update.ALL_TYPES,
            secret_token=secret,
            drop_pending_updates=False,
        )
        log.info("webhook worker listening on port %d", settings.webhook_port)
        await stop.wait()
        log.info("stopping")
    finally:
        server.stop()
        sweeper.cancel()
        await worker.stop()
        await server.close_all_connections()


async def _poll(application: AnyApplication, worker: InboxWorker, stop: asyncio.Event) -> None:
    bot = application.bot
    sweeper = asyncio.create_task(worker.sweep_forever())
    stopping = asyncio.create_task(stop.wait())
    try:
        # Answers typed while the bot was down must still arrive: never drop them.
        await bot.delete_webhook(drop_pending_updates=False)
        offset, delay = 0, POLL_RETRY
        while not stop.is_set():
            fetch = asyncio.create_task(
                bot.get_updates(
                    offset=offset, timeout=POLL_TIMEOUT, allowed_updates=Update.ALL_TYPES
                )
            )
            await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not fetch.done():
                fetch.cancel()
                await asyncio.gather(fetch, return_exceptions=True)
                break
            try:
                updates = fetch.result()
            except RetryAfter as exc:
                wait = exc.retry_after
                await asyncio.sleep(wait.total_seconds() if isinstance(wait, timedelta) else wait)
                continue
            except NetworkError as exc:  # TimedOut too
                log.warning("getUpdates failed: %s", type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, POLL_RETRY_MAX)
                continue
            delay = POLL_RETRY
            for update in updates:
                try:
                    worker.receive(update.to_dict())
                except SQLAlchemyError as exc:
                    # Not stored, so the offset stays: Telegram hands it out again.
                    log.warning("update not stored: %s", type(exc).__name__)
                    await asyncio.sleep(POLL_RETRY)
                    break
                offset = update.update_id + 1
        log.info("stopping")
    finally:
        stopping.cancel()
        sweeper.cancel()
        await worker.stop()
