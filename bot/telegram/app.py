"""The Telegram front end wired: the command table and handlers registered, and `run`.

Updates that are not a reply to anyone (a reminder at 9 o'clock, say) take the same parts:
`kit.permissions.lock(chat_id)` to keep to the chat's order, and `kit.replies.deliver` or
`kit.tell` with `application.bot`, none of which needs an update.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import traceback
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.bootstrap import App
from bot.reminders import Reminders
from bot.telegram import buttons, lessen, plans, sending, sessions, sharing
from bot.telegram.bindings import GROUP, PRIVATE
from bot.telegram.commands import COMMANDS, CommandRow, menu
from bot.telegram.failures import Told
from bot.telegram.kit import Asked, Context, Kit
from bot.telegram.permissions import SHARE_PREFIX, looks_like_code
from bot.webhook import poll
from bot.webhook import serve as serve_webhook
from dialogs import Text

log = logging.getLogger(__name__)

# Opt in to python-telegram-bot's timedelta durations (e.g. RetryAfter.retry_after), the
# behaviour of its next major version; without it PTB warns on every such value.
os.environ.setdefault("PTB_TIMEDELTA", "true")

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]
SCOPE_FILTERS: dict[tuple[str, ...], filters.BaseFilter] = {
    (PRIVATE,): filters.ChatType.PRIVATE,
    (GROUP,): filters.ChatType.GROUPS,
}


class TelegramFrontEnd:
    """Handlers that adapt Telegram to the shared PlanService; no interview wording here."""

    def __init__(self, app: App, *, reminders: bool = False) -> None:
        self.app = app
        self.kit = Kit.wire(app)
        self.documents = self.kit.files.documents
        # With `reminders` (as `run` has it), due reminders are sent while the bot runs;
        # tests drive bot.reminders.Reminders themselves.
        self.reminders = Reminders(app, self.kit) if reminders else None
        self._reminding: asyncio.Task[None] | None = None

    def build(
        self,
        token: str,
        *,
        base_url: str,
        request: BaseRequest | None = None,
        updates_request: BaseRequest | None = None,
        rate_limiter: bool = True,
    ) -> AnyApplication:
        builder = (
            ApplicationBuilder()
            .token(token)
            .base_url(base_url)
            .base_file_url(base_url.removesuffix("/bot") + "/file/bot")
            .concurrent_updates(True)
            .post_init(self.post_init)
            .post_shutdown(self.post_shutdown)
        )
        if rate_limiter:
            builder = builder.rate_limiter(sending.rate_limiter())  # type: ignore[arg-type]
        if request is not None:
            builder = builder.request(request)
        if updates_request is not None:
            builder = builder.get_updates_request(updates_request)
        application = builder.build()
        self.register(application)
        return application

    def register(self, application: AnyApplication) -> None:
        add = application.add_handler
        add(MessageHandler(filters.UpdateType.EDITED, self.on_edited))
        # Before every command's own handler: a lesson being asked waits (bot.telegram.lessen).
        private_commands = filters.COMMAND & filters.ChatType.PRIVATE
        add(MessageHandler(private_commands, self._with_kit(lessen.set_aside)), group=-1)
        add(MessageHandler(filters.StatusUpdate.MIGRATE, self._with_kit(sessions.migrate)))
        for row in COMMANDS:
            if not row.dialog:
                add(CommandHandler(row.name, self._command(row), filters=_where(row)))
        dialog = [row.name for row in COMMANDS if row.dialog]
        add(CommandHandler(dialog, self.on_dialog_command))
        add(CallbackQueryHandler(self._with_kit(buttons.on_button)))
        add(MessageHandler(filters.COMMAND, self.on_unknown_command))
        chats = filters.ChatType.PRIVATE | filters.ChatType.GROUPS
        add(MessageHandler(filters.TEXT & chats, self.on_text))
        add(MessageHandler(filters.ALL & chats, self.on_unsupported))
        application.add_error_handler(self.on_error)

    async def post_init(self, application: AnyApplication) -> None:
        spec = self.app.dialog.spec

        def commands(scope: str) -> list[BotCommand]:
            return [BotCommand(row.name, spec.message(row.menu)) for row in menu(scope)]

        bot = application.bot
        await bot.set_my_commands(commands(PRIVATE), scope=BotCommandScopeAllPrivateChats())
        await bot.set_my_commands(commands(GROUP), scope=BotCommandScopeAllGroupChats())
        if self.reminders is not None:
            # The database decides what is due; this task only looks now and then.
            self._reminding = asyncio.create_task(self.reminders.run(bot))

    async def post_shutdown(self, application: AnyApplication) -> None:
        if self._reminding is not None:
            self._reminding.cancel()
            await asyncio.gather(self._reminding, return_exceptions=True)
        await self.kit.files.close()

    def _with_kit(self, handler: Callable[[Kit, Update, Context], Awaitable[None]]) -> Handler:
        async def handle(update: Update, context: Context) -> None:
            await handler(self.kit, update, context)

        return handle

    def _command(self, row: CommandRow) -> Handler:
        """A row's handler: a fixed message, or the professional identified first (the
        chat's updates one at a time) and a refusal outside the row's scope."""
        kit = self.kit

        async def handle(update: Update, context: Context) -> None:
            message = update.effective_message
            if row.says is not None:
                if update.effective_chat is not None:
                    await kit.tell(context.bot, update.effective_chat.id, row.says)
                return
            if message is None:
                return
            async with kit.permissions.sender_of(context.bot, update) as who:
                if who is None:
                    return
                kind = PRIVATE if message.chat.type == PRIVATE else GROUP
                if kind not in row.scope:
                    assert row.elsewhere is not None  # _where keeps others out
                    await kit.tell(context.bot, message.chat_id, row.elsewhere)
                    return
                assert row.handler is not None
                await row.handler(kit, Asked(update, context, message, who))

        return handle

    async def on_dialog_command(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None or not message.text:
            return
        await plans.to_plan(self.kit, context, update, plans.command_event(message, context))

    async def on_text(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None or message.text is None:
            return
        if message.chat.type == PRIVATE and looks_like_code(message.text, SHARE_PREFIX):
            await sharing.join_by_text(self.kit, update, context, message)
            return
        if await lessen.take_text(self.kit, update, context, message):
            return
        await plans.to_plan(self.kit, context, update, Text(message.text, numbered=False))

    async def on_unsupported(self, update: Update, context: Context) -> None:
        await self._tell_if_addressed(update, context, "telegram_alleen_tekst")

    async def on_edited(self, update: Update, context: Context) -> None:
        await self._tell_if_addressed(update, context, "telegram_bewerkt")

    async def on_unknown_command(self, update: Update, context: Context) -> None:
        await self._tell_if_addressed(update, context, "telegram_onbekende_opdracht")

    async def _tell_if_addressed(self, update: Update, context: Context, key: str) -> None:
        message = update.effective_message
        if message is None or not await self.kit.permissions.may_address(context.bot, update):
            return
        await self.kit.tell(context.bot, message.chat_id, key)

    async def on_error(self, update: object, context: Context) -> None:
        error = context.error
        if isinstance(error, Told):
            return  # a handler that ended after telling the user why: no error of ours
        # Where it happened, not what it says: an exception's message may quote an answer.
        where = "".join(traceback.format_tb(error.__traceback__)) if error is not None else ""
        log.error("update failed: %s\n%s", type(error).__name__, where)


def _where(row: CommandRow) -> filters.BaseFilter | None:
    """Where a row is handled at all: everywhere if it says something elsewhere."""
    if row.elsewhere is not None:
        return None
    return SCOPE_FILTERS.get(row.scope)


def run(app: App) -> int:
    """`doorbraakbot run`: long polling, or a webhook worker (any number of them on one
    PostgreSQL database) when DOORBRAAK_WEBHOOK_URL is set; both through the inbox
    (bot.webhook). Logging is set up by the caller (bot.cli)."""
    settings = app.settings
    if not settings.telegram_bot_token:
        print(app.dialog.spec.message("telegram_geen_token"))
        return 2
    front = TelegramFrontEnd(app, reminders=True)
    application = front.build(settings.telegram_bot_token, base_url=settings.telegram_api_base_url)
    # Everything loaded so far lives as long as the process: keep it out of the collector's
    # full passes, which otherwise stall a turn now and then by 50-100 ms (bench/RESULTS.md).
    gc.freeze()
    try:
        if settings.webhook_url:
            # Our own webhook server rather than PTB's: that one acknowledges an update before
            # it is stored, and several workers must share the updates through the database.
            asyncio.run(serve_webhook(app, application))
        else:
            # Not PTB's run_polling: every update goes through the inbox, as with webhooks,
            # so one Telegram hands out again after a crash is not applied twice.
            asyncio.run(poll(app, application))
    except TelegramError as exc:
        log.error("Telegram stopped the bot: %s", type(exc).__name__)
        return 1
    return 0
