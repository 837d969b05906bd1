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
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import tornado.web
from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.error import NetworkError, RetryAfter
from telegram.ext import Application
from tornado.httpserver import HTTPServer

from bot.bootstrap import App
from bot.config import Settings
from bot.inbox_worker import InboxWorker, Process, chat_of

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram's updates are a few kilobytes.
MAX_BODY = 1024 * 1024
# Long polling: how long one getUpdates waits for an update, and the pauses after a failure.
POLL_TIMEOUT = 10
POLL_RETRY, POLL_RETRY_MAX = 1.0, 30.0

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


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
