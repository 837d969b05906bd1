"""The inbox worker: applies the stored updates of each chat one at a time, in `update_id`
order, exactly once, whichever worker received them (see bot.webhook for how they get in)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from telegram import Update

from storage import READ_ONLY
from storage.crypto import Keyring
from storage.inbox import InboxRepository, applying, chat_lock
from storage.models import utcnow

log = logging.getLogger(__name__)

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
# On SIGTERM: how long the chats being applied get to finish.
STOP_GRACE = 10.0

Process = Callable[[dict[str, Any]], Awaitable[None]]


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
