"""Webhook mode, for one worker or several: an update is stored before Telegram hears that it
arrived, then applied from the inbox one chat at a time, in `update_id` order.

Any number of `doorbraakbot run` processes can serve one webhook URL on one PostgreSQL
database. A worker answers Telegram 200 only once the update is committed to the inbox, so an
acknowledged update survives the worker. Whichever worker holds a chat's lock (a PostgreSQL
advisory lock) applies that chat's updates, lowest id first, and only when no lower id is still
on its way to another worker. The turn that applies an update also marks it done (see
`PlanService.handle`), so no update is applied twice. Each worker sweeps the inbox for updates
left waiting, by a worker that died for instance, and applies them.
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
from telegram.ext import Application
from tornado.httpserver import HTTPServer

from bot.bootstrap import App
from bot.config import Settings
from storage import READ_ONLY
from storage.crypto import Keyring
from storage.inbox import InboxRepository, chat_lock
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
        while True:
            with self._reading() as repo:
                item = repo.next(chat_key)
                missing = None if item is None else repo.missing_before(item.update_id)
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
                    await self.process(item.payload)
                except Exception as exc:
                    # As in long polling: a broken update must not hold up the chat for ever.
                    log.error("update %d failed: %s", item.update_id, type(exc).__name__)
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
            await _listen(application, worker, secret, settings, stop)
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
