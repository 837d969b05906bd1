"""The Telegram front end: updates in, dialog events out, replies back as messages and files."""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import os
import re
import traceback
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, TypeVar

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    CallbackQuery,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.access import EXPORTED, AccessDenied, NotOwner
from bot.bootstrap import App
from bot.render_pool import DocumentPool
from bot.service import ChatMoved, ChatTarget, PlanFinished, Turn, snapshot_of
from bot.telegram_view import (
    CHANGE,
    CHOOSE,
    DELETE,
    FORGET,
    RENEW,
    RENEW_ASK,
    RENEW_NO,
    RENEW_YES,
    RESUME,
    SKIP,
    SUBMIT,
    VIEW,
    Button,
    esc,
    keyboard,
    question_html,
    split_html,
)
from bot.unavailable import StorageUnavailable
from bot.webhook import poll
from bot.webhook import serve as serve_webhook
from dialogs import Choose, Command, Document, Done, Error, Event, Question, Submit, Text
from dialogs import Message as DialogMessage
from dialogs.household import normalise_household
from storage import ChatRecord
from storage.access import OWNER, ProfessionalRecord
from storage.cache import LRU
from storage.crypto import TamperedData, WrongKey
from storage.inbox import AlreadyApplied

log = logging.getLogger(__name__)

# Opt in to python-telegram-bot's timedelta durations (e.g. RetryAfter.retry_after), the
# behaviour of its next major version; without it PTB warns on every such value.
os.environ.setdefault("PTB_TIMEDELTA", "true")

T = TypeVar("T")
Context = ContextTypes.DEFAULT_TYPE

PRIVATE, GROUP = "private", "group"
# Commands that go straight to the plan's dialog.
PLAN_COMMANDS = ("overzicht", "terug", "overslaan", "wijzig", "plan", "stop")
PRIVATE_COMMANDS = (
    "start", "nieuw", "hervat", *PLAN_COMMANDS, "archief", "deel", "verwijder", "help"
)  # fmt: skip
GROUP_COMMANDS = ("sessie", "idee", *PLAN_COMMANDS, "help")
SEND_ATTEMPTS = 4
# Buttons that act on one person's plans: they work only in a private chat.
PRIVATE_BUTTONS = (RESUME, DELETE, FORGET, VIEW, CHANGE, RENEW)
# At most this many messages are deleted for one press of "remove the messages": the most
# recent ones. A whole plan made in a chat takes a few hundred.
MAX_FORGET = 500
# Archived plans listed by /archief: the most recent ones.
MAX_ARCHIVED = 20


INVITE_PREFIX, SHARE_PREFIX = "UIT", "DEEL"


def looks_like_code(text: str, prefix: str) -> bool:
    """`UIT-ABCD-EFGH` / `DEEL-...` as typed or pasted, in any case and spacing."""
    compact = "".join(text.upper().split())
    return re.fullmatch(rf"{prefix}-[A-Z0-9]{{4}}-[A-Z0-9]{{4}}", compact) is not None


class Told(Exception):
    """The update ends here, and the user was told why: a storage call failed.

    Raised by `TelegramFrontEnd._call` after its one message, so a failed call can never be
    taken for a successful one that returned nothing; `on_error` lets it pass quietly.
    """


RegisteredHandler = Callable[
    ["TelegramFrontEnd", Update, Context, Message, ProfessionalRecord], Awaitable[None]
]
Handler = Callable[["TelegramFrontEnd", Update, Context], Coroutine[Any, Any, None]]
# Seconds without a document after which the document worker process stops.
DOCUMENT_WORKER_IDLE = 300.0
# What to do to refuse an update: tell the user why, or nothing.
Refusal = Callable[[], Awaitable[None]]


def registered(handler: RegisteredHandler) -> Handler:
    """A handler for registered professionals: the chat's updates one at a time, and anyone
    else gets the refusal (or registers with an invite code) instead."""

    @functools.wraps(handler)
    async def wrapper(self: TelegramFrontEnd, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        async with self.lock(message.chat_id):
            who = await self._who(context, update)
            if who is not None:
                await handler(self, update, context, message, who)

    return wrapper


class Press:
    """A button press, answered exactly once: with a short toast, or blank."""

    def __init__(self, query: CallbackQuery) -> None:
        self.query = query
        self.answered = False

    async def answer(self, text: str | None = None) -> None:
        if not self.answered:
            self.answered = True
            await self.query.answer(text)


@dataclass(frozen=True)
class Pressed:
    """A press of a well-formed button by a registered professional, in `chat_id`, on the
    bot's message `message_id`: what the button handlers work with."""

    press: Press
    button: Button
    who: ProfessionalRecord
    chat_id: int
    message_id: int


class TelegramFrontEnd:
    """Handlers that adapt Telegram to the shared PlanService; no interview wording here."""

    def __init__(self, app: App) -> None:
        self.app = app
        # A registration never changes or goes away: a known professional is remembered.
        self._professionals: LRU[int, ProfessionalRecord] = LRU(10_000)
        # The plan each chat works on, as last read here. A turn passes it to the service,
        # which checks it in the turn's own transaction (ChatMoved if another worker or
        # command rebound the chat), so it spares a read transaction per turn.
        self._bindings: LRU[int, ChatRecord] = LRU(10_000)
        # A facilitator's first name per (group, facilitator), as the group knows them: from
        # the update that started the session or their latest message there. Not stored in
        # the database; after a restart the refusals say "de gespreksleider" until then.
        self._facilitator_names: LRU[tuple[int, str], str] = LRU(10_000)
        # Unregistered members told, once per session, that only professionals add ideas:
        # (group, plan of the session or 0, Telegram user).
        self._outsiders_told: LRU[tuple[int, int, int], bool] = LRU(10_000)
        self.spec = app.dialog.spec
        self.service = app.service
        # Typst and python-docx hold the GIL: documents are made in a worker process, which
        # stops again when no document was asked for a while.
        self.documents = DocumentPool(app.settings.prompts_dir, idle_after=DOCUMENT_WORKER_IDLE)
        # One lock per chat: with concurrent updates, a chat's updates still run one at a
        # time and in the order Telegram sent them (asyncio locks wake waiters in order).
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    # --- wiring ----------------------------------------------------------------------------

    def build(
        self,
        token: str,
        *,
        base_url: str,
        request: BaseRequest | None = None,
        updates_request: BaseRequest | None = None,
        rate_limiter: bool = True,
    ) -> Application[Any, Any, Any, Any, Any, Any]:
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
            # Keeps within Telegram's limits (20 messages a minute in a group) and retries
            # a RetryAfter answer after the time Telegram asks for.
            limiter: AIORateLimiter = AIORateLimiter(max_retries=3)
            builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]
        if request is not None:
            builder = builder.request(request)
        if updates_request is not None:
            builder = builder.get_updates_request(updates_request)
        application = builder.build()
        self.register(application)
        return application

    def register(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        private, group = filters.ChatType.PRIVATE, filters.ChatType.GROUPS
        add = application.add_handler
        add(MessageHandler(filters.UpdateType.EDITED, self.on_edited))
        add(MessageHandler(filters.StatusUpdate.MIGRATE, self.on_migrate))
        add(CommandHandler("start", self.on_start, filters=private))
        add(CommandHandler("nieuw", self.on_new, filters=private))
        add(CommandHandler("hervat", self.on_resume, filters=private))
        add(CommandHandler("archief", self.on_archive, filters=private))
        add(CommandHandler("help", self.on_help))
        add(CommandHandler("sessie", self.on_session))
        add(CommandHandler("idee", self.on_idea, filters=group))
        add(CommandHandler("deel", self.on_share))
        add(CommandHandler("verwijder", self.on_delete, filters=private))
        add(CommandHandler(list(PLAN_COMMANDS), self.on_plan_command))
        add(CallbackQueryHandler(self.on_button))
        add(MessageHandler(filters.COMMAND, self.on_unknown_command))
        add(MessageHandler(filters.TEXT & (private | group), self.on_text))
        add(MessageHandler(filters.ALL & (private | group), self.on_unsupported))
        application.add_error_handler(self.on_error)

    async def post_init(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        bot = application.bot

        def commands(names: tuple[str, ...]) -> list[BotCommand]:
            return [BotCommand(name, self.spec.message(f"opdracht_{name}")) for name in names]

        await bot.set_my_commands(
            commands(PRIVATE_COMMANDS), scope=BotCommandScopeAllPrivateChats()
        )
        await bot.set_my_commands(commands(GROUP_COMMANDS), scope=BotCommandScopeAllGroupChats())

    async def post_shutdown(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        # Waits for a document being rendered; off the loop, as it blocks.
        await asyncio.to_thread(self.documents.close)

    def lock(self, chat_id: int) -> asyncio.Lock:
        lock = self._locks.get(chat_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[chat_id] = lock
        return lock

    # --- handlers --------------------------------------------------------------------------

    @registered
    async def on_start(
        self, update: Update, context: Context, message: Message, who: ProfessionalRecord
    ) -> None:
        if context.args:
            await self._open(context, message, who, context.args[0])
        else:
            await self.say(context, message.chat_id, self.spec.message("telegram_welkom"))

    @registered
    async def on_new(
        self, update: Update, context: Context, message: Message, who: ProfessionalRecord
    ) -> None:
        if not context.args:
            await self.say(context, message.chat_id, self.spec.message("telegram_nieuw_gebruik"))
            return
        await self._open(context, message, who, context.args[0], new=True)

    async def _open(
        self,
        context: Context,
        message: Message,
        who: ProfessionalRecord,
        number: str,
        *,
        new: bool = False,
    ) -> None:
        """/nieuw or /start <huishoudnummer>: the household's plan in this chat; if it is
        finished, the choice of what to do with it."""
        household = normalise_household(number)
        if household is None:
            await self.say(context, message.chat_id, self.spec.message("huishoudnummer_ongeldig"))
            return
        target = ChatTarget(message.chat_id, PRIVATE, first_message_id=message.message_id)
        try:
            turn = await self._call(
                context,
                message.chat_id,
                lambda: self.service.open(
                    household,
                    actor=who.actor,
                    chat=target,
                    ask_if_finished=True,
                    professional=who,
                ),
            )
        except PlanFinished as finished:
            await self._offer_finished(context, message.chat_id, finished)
            return
        finally:
            self._rebound(message.chat_id)
        intro = "nieuw_plan" if not turn.answers else "hervat_plan"
        if new and turn.answers:
            intro = "telegram_al_een_plan"
        await self.deliver(
            context,
            message.chat_id,
            turn,
            before=[self.spec.message(intro, huishouden=household)],
            actor=who.actor,
        )

    async def _offer_finished(
        self, context: Context, chat_id: int, finished: PlanFinished
    ) -> None:
        """The household's plan is finished: look at it, change it, or start a new one."""
        rows = [
            [InlineKeyboardButton(self.spec.message(label), callback_data=data)]
            for label, data in (
                ("plan_af_bekijken", Button(VIEW, finished.plan_id).encode()),
                ("plan_af_wijzigen", Button(CHANGE, finished.plan_id).encode()),
                (
                    "plan_af_nieuw",
                    Button(RENEW, finished.plan_id, finished.revision, RENEW_ASK).encode(),
                ),
            )
        ]
        text = self.spec.message("plan_af", huishouden=finished.household)
        await self.say(context, chat_id, text, markup=InlineKeyboardMarkup(rows))

    @registered
    async def on_archive(
        self, update: Update, context: Context, message: Message, who: ProfessionalRecord
    ) -> None:
        """/archief <huishoudnummer>: the household's archived plans this professional had
        access to, each to look at (read-only)."""
        household = normalise_household(context.args[0]) if context.args else None
        if household is None:
            key = "huishoudnummer_ongeldig" if context.args else "telegram_archief_gebruik"
            await self.say(context, message.chat_id, self.spec.message(key))
            return
        plans = await self._call(
            context,
            message.chat_id,
            lambda: self.service.archived_plans(household, professional=who),
        )
        if not plans:
            text = self.spec.message("telegram_archief_geen", huishouden=household)
            await self.say(context, message.chat_id, text)
            return
        rows = []
        for record in plans[:MAX_ARCHIVED]:
            answered, total, _ = self.app.dialog.progress(snapshot_of(record))
            label = self.spec.message(
                "telegram_archief_knop",
                datum=record.updated_at.strftime("%d-%m-%Y"),
                ingevuld=answered,
                totaal=total,
            )
            data = Button(VIEW, record.id).encode()
            rows.append([InlineKeyboardButton(label, callback_data=data)])
        text = self.spec.message("telegram_archief_kies", huishouden=household)
        await self.say(context, message.chat_id, text, markup=InlineKeyboardMarkup(rows))

    @registered
    async def on_resume(
        self, update: Update, context: Context, message: Message, who: ProfessionalRecord
    ) -> None:
        plans = await self._call(
            context, message.chat_id, lambda: self.service.accessible_plans(who)
        )
        if not plans:
            await self.say(context, message.chat_id, self.spec.message("telegram_hervat_geen"))
            return
        rows = []
        for record in plans:
            answered, total, step = self.app.dialog.progress(snapshot_of(record))
            label = self.spec.message(
                "telegram_hervat_knop",
                huishouden=record.household,
                stap=step.number if step else len(self.spec.steps),
                stappen=len(self.spec.steps),
                ingevuld=answered,
                totaal=total,
            )
            data = Button(RESUME, record.id).encode()
            rows.append([InlineKeyboardButton(label, callback_data=data)])
        await self.say(
            context,
            message.chat_id,
            self.spec.message("telegram_hervat_kies"),
            markup=InlineKeyboardMarkup(rows),
        )

    async def on_help(self, update: Update, context: Context) -> None:
        if update.effective_chat is not None:
            await self.say(context, update.effective_chat.id, self.spec.message("telegram_help"))

    @registered
    async def on_session(
        self, update: Update, context: Context, message: Message, who: ProfessionalRecord
    ) -> None:
        if message.chat.type == "private":
            await self.say(context, message.chat_id, self.spec.message("telegram_alleen_groep"))
            return
        arg = context.args[0] if context.args else ""
        if arg.lower() == "stop":
            await self._stop_session(context, message.chat_id, who)
            return
        household = normalise_household(arg) if arg else None
        if household is None:
            key = "huishoudnummer_ongeldig" if arg else "telegram_sessie_gebruik"
            await self.say(context, message.chat_id, self.spec.message(key))
            return
        target = ChatTarget(message.chat_id, GROUP, facilitator=who.actor)
        try:
            turn = await self._call(
                context,
                message.chat_id,
                lambda: self.service.open(
                    household, actor=who.actor, chat=target, professional=who
                ),
            )
        finally:
            self._rebound(message.chat_id)
        name = update.effective_user.first_name if update.effective_user else ""
        # The group knows its facilitator by name; the bot keeps it for its refusals.
        self._facilitator_names.put((message.chat_id, who.actor), name)
        started = self.spec.message("telegram_sessie_gestart", huishouden=household, naam=name)
        binding = ChatRecord(message.chat_id, turn.plan_id, GROUP, who.actor)
        await self.deliver(
            context,
            message.chat_id,
            turn,
            before=[started],
            group=binding,
            reply_to=message,
            actor=who.actor,
        )

    async def _stop_session(self, context: Context, chat_id: int, who: ProfessionalRecord) -> None:
        """/sessie stop: by the facilitator or the plan's owner; the others hear who can."""
        binding = await self._binding(context, chat_id)
        if binding is None or binding.kind != GROUP:
            await self.say(context, chat_id, self.spec.message("telegram_sessie_geen"))
            return
        if binding.facilitator != who.actor:
            role = await self._call(
                context, chat_id, lambda: self.app.access.role(who, binding.plan_id)
            )
            if role != OWNER:
                text = self.spec.message(
                    "telegram_sessie_stop_alleen_gespreksleider",
                    gespreksleider=self._facilitator(binding),
                )
                await self.say(context, chat_id, text)
                return
        try:
            await self._call(context, chat_id, lambda: self.service.leave_chat(chat_id))
        finally:
            self._rebound(chat_id)
        await self.say(context, chat_id, self.spec.message("telegram_sessie_gestopt"))

    @registered
    async def on_idea(
        self, update: Update, context: Context, message: Message, who: ProfessionalRecord
    ) -> None:
        """/idee <tekst>: a suggestion in a session, kept at the plan's current step (only
        registered members' suggestions are stored: see `registered`)."""
        binding = await self._binding(context, message.chat_id)
        if binding is None:
            await self.say(context, message.chat_id, self.spec.message("telegram_geen_sessie"))
            return
        idea = " ".join(context.args or []).strip()
        if not idea:
            await self.say(context, message.chat_id, self.spec.message("telegram_idee_gebruik"))
            return
        stored = await self._call(
            context,
            message.chat_id,
            lambda: self.service.suggest(binding.plan_id, author=who.actor, text=idea[:2000]),
        )
        if stored is None:  # the plan was deleted meanwhile
            await self.say(context, message.chat_id, self.spec.message("telegram_geen_sessie"))
            return
        step = self.spec.steps[stored.step - 1]
        text = self.spec.message(
            "telegram_idee_opgeslagen",
            naam=update.effective_user.first_name if update.effective_user else "",
            stap=step.number,
            stapnaam=step.name,
            idee=stored.text,
        )
        await self.say(context, message.chat_id, text)

    async def on_plan_command(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None or not message.text:
            return
        name = message.text.split()[0].lstrip("/").split("@")[0].lower()
        await self._to_plan(context, update, Command(name, " ".join(context.args or [])))

    async def on_text(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None or message.text is None:
            return
        if message.chat.type == "private" and looks_like_code(message.text, SHARE_PREFIX):
            await self._join(context, update, message.text)
            return
        await self._to_plan(context, update, Text(message.text))

    async def _to_plan(self, context: Context, update: Update, event: Text | Command) -> None:
        message = update.effective_message
        assert message is not None
        async with self.lock(message.chat_id):
            # In a group, plain text from others is not addressed to the bot: no refusal.
            quiet = message.chat.type != "private" and isinstance(event, Text)
            who = await self._who(context, update, quiet=quiet)
            if who is None:
                return
            author = who.actor

            async def say(text: str) -> None:
                await self.say(context, message.chat_id, text)

            async def nothing() -> None:
                return None

            def admit(binding: ChatRecord | None) -> Refusal | None:
                if binding is None:
                    if message.chat.type == "private":
                        return lambda: say(self.spec.message("telegram_geen_plan"))
                    if isinstance(event, Command):
                        return lambda: say(self.spec.message("telegram_geen_sessie"))
                    return nothing
                if binding.kind == GROUP and binding.facilitator != author:
                    # In a session only the facilitator's answers count; others use /idee.
                    if isinstance(event, Command) or message.reply_to_message is not None:
                        return lambda: say(self._facilitator_only(binding))
                    return nothing
                if binding.kind == GROUP and update.effective_user is not None:
                    name = update.effective_user.first_name
                    self._facilitator_names.put((message.chat_id, author), name)
                return None

            def moved() -> Awaitable[None]:
                return say(self.spec.message("telegram_plan_gewisseld"))

            bound = await self._bound_turn(
                context,
                message.chat_id,
                admit,
                moved,
                lambda binding: self._apply(binding, event, who),
            )
            if bound is None:
                return
            binding, turn = bound
            await self.deliver(
                context,
                message.chat_id,
                turn,
                group=binding,
                reply_to=message,
                actor=author,
                privately_to=update.effective_user.id if update.effective_user else None,
            )
            if turn.outcome.stopped and binding.kind == PRIVATE:
                await self._call(
                    context, message.chat_id, lambda: self.service.leave_chat(message.chat_id)
                )
                self._rebound(message.chat_id)

    async def on_button(self, update: Update, context: Context) -> None:
        query, user = update.callback_query, update.effective_user
        if query is None or user is None:
            return
        press = Press(query)
        try:
            await self._on_press(update, context, press, user.id)
        finally:
            # Every press is answered once, whatever ended the handler: no client is left
            # with a spinning button.
            await press.answer()

    async def _on_press(
        self, update: Update, context: Context, press: Press, user_id: int
    ) -> None:
        query = press.query
        button = Button.decode(query.data)
        message = query.message
        if button is None or message is None:
            await press.answer(self.spec.message("knop_verlopen"))
            return
        chat = message.chat
        if button.action in PRIVATE_BUTTONS and chat.type != PRIVATE:
            # A button for one person's plans pressed in a group (a forged one): nothing of
            # theirs is opened, shown or bound to the group.
            await press.answer(self.spec.message("telegram_knop_alleen_prive"))
            return
        who = await self._professional(context, user_id, chat.id)
        if who is None:
            key = "toegang_onbekend" if chat.type == PRIVATE else "telegram_alleen_professionals"
            await press.answer(self.spec.message(key))
            return
        pressed = Pressed(press, button, who, chat.id, message.message_id)
        async with self.lock(chat.id):
            if button.action in PRIVATE_BUTTONS:
                await self._on_private_button(context, pressed)
            else:
                await self._on_answer_button(update, context, pressed)

    async def _on_answer_button(self, update: Update, context: Context, pressed: Pressed) -> None:
        """A choice, Klaar or Overslaan under a question: an answer to the plan."""
        press, button, who, chat_id = pressed.press, pressed.button, pressed.who, pressed.chat_id
        author = who.actor
        event: Choose | Submit | Command
        if button.action == CHOOSE:
            event = Choose(button.index)
        elif button.action == SUBMIT:
            event = Submit()
        else:
            assert button.action == SKIP
            event = Command("overslaan")

        def admit(binding: ChatRecord | None) -> Refusal | None:
            if binding is None or binding.plan_id != button.plan_id:
                return lambda: press.answer(self.spec.message("knop_verlopen"))
            if binding.kind == GROUP and binding.facilitator != author:
                return lambda: press.answer(self.spec.message("telegram_knop_gespreksleider"))
            return None

        def moved() -> Awaitable[None]:
            return press.answer(self.spec.message("knop_verlopen"))

        bound = await self._bound_turn(
            context,
            chat_id,
            admit,
            moved,
            lambda binding: self._apply(binding, event, who, revision=button.revision),
        )
        if bound is None:
            return
        binding, turn = bound
        if turn.stale:
            await press.answer(self.spec.message("knop_verlopen"))
            return
        await press.answer()
        if await self._retick(press.query.message, turn):
            return
        user = update.effective_user
        await self.deliver(
            context,
            chat_id,
            turn,
            group=binding,
            actor=author,
            privately_to=user.id if user is not None else None,
        )

    async def _on_private_button(self, context: Context, pressed: Pressed) -> None:
        """Buttons on one's own plans, in a private chat: resume, delete, forget, and the
        choices for a finished or archived plan."""
        press, button, who, chat_id = pressed.press, pressed.button, pressed.who, pressed.chat_id
        author = who.actor
        target = ChatTarget(chat_id, PRIVATE, first_message_id=pressed.message_id)
        if button.action == FORGET:
            await self._forget(context, pressed)
        elif button.action == DELETE:
            await self._on_delete_button(context, pressed)
        elif button.action == VIEW:
            await press.answer()
            seen = await self._call(
                context,
                chat_id,
                lambda: self.service.view(button.plan_id, actor=author, professional=who),
            )
            if seen is None:
                await self.say(context, chat_id, self.spec.message("telegram_plan_weg"))
                return
            head = self.spec.message(
                "telegram_bekijken_kop",
                huishouden=seen.household,
                status=self.spec.message(f"telegram_status_{seen.outcome.status}"),
            )
            await self.deliver(context, chat_id, seen, before=[head], actor=author, view=True)
        elif button.action == RENEW and button.index in (RENEW_ASK, RENEW_NO):
            await press.answer()
            if button.index == RENEW_NO:
                await self.say(context, chat_id, self.spec.message("nieuw_plan_niet"))
                return
            rows = [
                [InlineKeyboardButton(self.spec.message(label), callback_data=data)]
                for label, data in (
                    ("nieuw_plan_ja", replace(button, index=RENEW_YES).encode()),
                    ("nieuw_plan_nee", replace(button, index=RENEW_NO).encode()),
                )
            ]
            await self.say(
                context,
                chat_id,
                self.spec.message("telegram_nieuw_plan_vraag"),
                markup=InlineKeyboardMarkup(rows),
            )
        elif (button.action, button.index) in ((RESUME, 0), (CHANGE, 0), (RENEW, RENEW_YES)):
            if button.action == RENEW:
                open_it: Callable[[], Turn | None] = lambda: self.service.renew(  # noqa: E731
                    button.plan_id,
                    actor=author,
                    revision=button.revision,
                    chat=target,
                    professional=who,
                )
            else:
                open_it = lambda: self.service.open_plan(  # noqa: E731
                    button.plan_id, actor=author, chat=target, professional=who
                )
            try:
                turn = await self._call(context, chat_id, open_it)
            finally:
                self._rebound(chat_id)
            if turn is None and button.action == RENEW:
                await press.answer(self.spec.message("knop_verlopen"))  # confirmed already
                return
            await press.answer()
            if turn is None:
                await self.say(context, chat_id, self.spec.message("telegram_plan_weg"))
                return
            intro = "nieuw_plan" if button.action == RENEW else "hervat_plan"
            before = [self.spec.message(intro, huishouden=turn.household)]
            await self.deliver(context, chat_id, turn, before=before, actor=author)
        else:
            await press.answer(self.spec.message("knop_verlopen"))

    async def _retick(self, message: Any, turn: Turn) -> bool:
        """A tick on a multiple choice: update the buttons in place instead of a new message."""
        replies = turn.outcome.replies
        if len(replies) != 1 or turn.outcome.answers or not isinstance(message, Message):
            return False
        question = replies[0]
        if not isinstance(question, Question) or question.kind != "multichoice" or question.part:
            return False
        markup = keyboard(question, self.spec, turn.plan_id)
        await self._send(lambda: message.edit_reply_markup(reply_markup=markup))
        return True

    async def on_unsupported(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None or not await self._may_address(context, update):
            return
        await self.say(context, message.chat_id, self.spec.message("telegram_alleen_tekst"))

    async def on_edited(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None or not await self._may_address(context, update):
            return
        await self.say(context, message.chat_id, self.spec.message("telegram_bewerkt"))

    async def on_unknown_command(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None or not await self._may_address(context, update):
            return
        await self.say(context, message.chat_id, self.spec.message("telegram_onbekende_opdracht"))

    @registered
    async def on_share(
        self, update: Update, context: Context, message: Message, who: ProfessionalRecord
    ) -> None:
        """/deel: a one-time code for a colleague; /deel <code>: use one; /deel intrekken."""
        if message.chat.type != PRIVATE:
            # A share code is as good as access to the plan: never in a group.
            await self.say(context, message.chat_id, self.spec.message("telegram_deel_prive"))
            return
        arg = " ".join(context.args or []).strip()
        if arg and looks_like_code(arg, SHARE_PREFIX):
            await self._join_locked(context, message.chat_id, who, arg)
            return
        binding = await self._binding(context, message.chat_id)
        if binding is None:
            await self.say(context, message.chat_id, self.spec.message("telegram_geen_plan"))
            return
        if arg.lower() == "intrekken":
            await self._call(
                context, message.chat_id, lambda: self.app.access.revoke(who, binding.plan_id)
            )
            await self.say(context, message.chat_id, self.spec.message("deel_ingetrokken"))
            return
        code = await self._call(
            context, message.chat_id, lambda: self.app.access.share(who, binding.plan_id)
        )
        await self.say(context, message.chat_id, self.spec.message("deel_code", code=code))

    async def _join(self, context: Context, update: Update, code: str) -> None:
        message = update.effective_message
        assert message is not None
        async with self.lock(message.chat_id):
            who = await self._who(context, update)
            if who is not None:
                await self._join_locked(context, message.chat_id, who, code)

    async def _join_locked(
        self, context: Context, chat_id: int, who: ProfessionalRecord, code: str
    ) -> None:
        plan_id = await self._call(context, chat_id, lambda: self.app.access.join(who, code))
        key = "deel_ongeldig" if plan_id is None else "deel_gelukt"
        await self.say(context, chat_id, self.spec.message(key))

    @registered
    async def on_delete(
        self, update: Update, context: Context, message: Message, who: ProfessionalRecord
    ) -> None:
        """/verwijder: delete the plan at once, after a confirmation."""
        binding = await self._binding(context, message.chat_id)
        if binding is None:
            await self.say(context, message.chat_id, self.spec.message("telegram_geen_plan"))
            return
        rows = [
            [InlineKeyboardButton(self.spec.message(label), callback_data=data)]
            for label, data in (
                ("verwijder_ja", Button(DELETE, binding.plan_id, 0, 1).encode()),
                ("verwijder_nee", Button(DELETE, binding.plan_id, 0, 0).encode()),
            )
        ]
        await self.say(
            context,
            message.chat_id,
            self.spec.message("verwijder_vraag"),
            markup=InlineKeyboardMarkup(rows),
        )

    async def _on_delete_button(self, context: Context, pressed: Pressed) -> None:
        """/verwijder's confirmation: index 1 deletes, 0 keeps the plan."""
        press, button, who, chat_id = pressed.press, pressed.button, pressed.who, pressed.chat_id
        access = self.app.access
        if button.index not in (0, 1):
            await press.answer(self.spec.message("knop_verlopen"))
            return
        await press.answer()
        if button.index == 0:
            await self.say(context, chat_id, self.spec.message("niet_verwijderd"))
            return
        role = await self._call(context, chat_id, lambda: access.role(who, button.plan_id))
        if role != OWNER:
            await self.say(context, chat_id, self.spec.message("alleen_eigenaar"))
            return
        try:
            deleted = await self._call(
                context, chat_id, lambda: access.delete(who.actor, button.plan_id)
            )
        finally:
            self._rebound(chat_id)
        self.service.cache.forget(button.plan_id)  # its decrypted answers go from memory too
        key = "verwijderd" if deleted else "telegram_plan_weg"
        await self.say(context, chat_id, self.spec.message(key))

    async def _forget(self, context: Context, pressed: Pressed) -> None:
        """Delete this private chat's messages about the plan: both sides, since it was opened.

        In a private chat message ids count up one by one, and while a plan is open here
        every message is about it; so the range from the message that opened it to the offer
        covers them all. The offer carries the button, so its id must be the one in the
        button; and at most the MAX_FORGET most recent ids are deleted.
        """
        press, button, chat_id = pressed.press, pressed.button, pressed.chat_id
        binding = await self._binding(context, chat_id)
        last = button.index
        fits = (
            binding is not None
            and binding.plan_id == button.plan_id
            and binding.kind == PRIVATE
            and last == pressed.message_id
            and (binding.first_message_id or last) <= last
        )
        if not fits:
            await press.answer(self.spec.message("knop_verlopen"))
            return
        assert binding is not None
        await press.answer()
        first = max(binding.first_message_id or last, last - MAX_FORGET + 1)
        removed = 0
        for start in range(first, last + 1, 100):  # deleteMessages takes 100 ids at a time
            batch = list(range(start, min(start + 100, last + 1)))
            try:
                await self._send(functools.partial(context.bot.delete_messages, chat_id, batch))
                removed += len(batch)
            except TelegramError:
                log.info("some messages could not be deleted (older than 48 hours)")
        await self.say(context, chat_id, self.spec.message("berichten_gewist", aantal=removed))

    async def on_migrate(self, update: Update, context: Context) -> None:
        """A group became a supergroup: its chat id changes, the session goes with it."""
        message = update.effective_message
        if message is None:
            return
        old, new = message.chat_id, message.migrate_to_chat_id
        if new is None and message.migrate_from_chat_id is not None:
            old, new = message.migrate_from_chat_id, message.chat_id
        if new is None:
            return
        try:
            await self._call(context, new, lambda: self.service.move_chat(old, new))
        finally:
            self._rebound(old)
            self._rebound(new)
        log.info("chat migrated to a supergroup")

    async def on_error(self, update: object, context: Context) -> None:
        error = context.error
        if isinstance(error, Told):
            return  # a handler that ended after telling the user why: no error of ours
        # Where it happened, not what it says: an exception's message may quote an answer.
        where = "".join(traceback.format_tb(error.__traceback__)) if error is not None else ""
        log.error("update failed: %s\n%s", type(error).__name__, where)

    # --- helpers ---------------------------------------------------------------------------

    async def _may_address(self, context: Context, update: Update) -> bool:
        """In a private chat always; in a group only the facilitator, to keep it quiet."""
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None:
            return False
        if chat.type == "private":
            return True
        who = await self._professional(context, user.id, chat.id)
        binding = await self._binding(context, chat.id)
        return who is not None and binding is not None and binding.facilitator == who.actor

    async def _professional(
        self, context: Context, user_id: int, chat_id: int
    ) -> ProfessionalRecord | None:
        # An unknown user is looked up every time: they may have registered meanwhile.
        known = self._professionals.get(user_id)
        if known is not None:
            return known
        found = await self._call(context, chat_id, lambda: self.app.access.professional(user_id))
        if found is not None:
            self._professionals.put(user_id, found)
        return found

    async def _who(
        self, context: Context, update: Update, *, quiet: bool = False
    ) -> ProfessionalRecord | None:
        """The registered professional behind an update, or None after saying why.

        An unknown user may register by sending an invite code in a private chat; anything
        else gets one polite refusal, and nothing of theirs is stored.
        """
        chat, user, message = (
            update.effective_chat,
            update.effective_user,
            update.effective_message,
        )
        if chat is None or user is None:
            return None
        who = await self._professional(context, user.id, chat.id)
        if who is not None:
            return who
        text = message.text if message is not None and message.text else ""
        if chat.type != PRIVATE:
            # Nothing about invite codes in a group: one short line per session, at most.
            if not quiet:
                binding = await self._binding(context, chat.id)
                told = (chat.id, binding.plan_id if binding else 0, user.id)
                if self._outsiders_told.get(told) is None:
                    self._outsiders_told.put(told, True)
                    text = self.spec.message("telegram_alleen_professionals")
                    await self.say(context, chat.id, text)
        elif looks_like_code(text, INVITE_PREFIX):
            registered = await self._call(
                context, chat.id, lambda: self.app.access.register(text, user.id)
            )
            key = "toegang_welkom" if registered is not None else "toegang_code_ongeldig"
            await self.say(context, chat.id, self.spec.message(key))
        elif not quiet:
            await self.say(context, chat.id, self.spec.message("toegang_onbekend"))
        return None

    def _facilitator(self, binding: ChatRecord) -> str:
        """The session's facilitator as the group knows them, never by an internal id."""
        name = self._facilitator_names.get((binding.chat_id, binding.facilitator or ""))
        if name:
            return self.spec.message("gespreksleider_naam", naam=name)
        return self.spec.message("gespreksleider_zonder_naam")

    def _facilitator_only(self, binding: ChatRecord) -> str:
        return self.spec.message(
            "telegram_alleen_gespreksleider", gespreksleider=self._facilitator(binding)
        )

    async def _binding(self, context: Context, chat_id: int) -> ChatRecord | None:
        """The plan this chat works on, read afresh (and remembered for _bound_turn)."""
        binding = await self._call(context, chat_id, lambda: self.service.chat(chat_id))
        if binding is None:
            self._bindings.pop(chat_id)
        else:
            self._bindings.put(chat_id, binding)
        return binding

    async def _bound_turn(
        self,
        context: Context,
        chat_id: int,
        admit: Callable[[ChatRecord | None], Refusal | None],
        moved: Refusal,
        work: Callable[[ChatRecord], Turn],
    ) -> tuple[ChatRecord, Turn] | None:
        """A turn on the plan this chat works on; None if it did not happen.

        The binding this process remembers is tried first: the service checks it in the
        turn's transaction. If the chat was rebound meanwhile (ChatMoved, say by another
        worker), or if `admit` refuses the update on the remembered binding, the binding is
        read afresh and tried once more. `admit` returns None to let the update through, or
        what to do to refuse it (tell the user why, or nothing); `moved` is for a chat
        rebound twice while this update was applied.
        """
        remembered = self._bindings.get(chat_id)
        for from_memory in (True, False):
            if from_memory and remembered is None:
                continue
            binding = remembered if from_memory else await self._binding(context, chat_id)
            refuse = admit(binding)
            if refuse is not None:
                if from_memory:
                    continue  # perhaps out of date: ask the database before refusing
                await refuse()
                return None
            assert binding is not None
            try:
                turn = await self._call(context, chat_id, functools.partial(work, binding))
            except ChatMoved:
                self._rebound(chat_id)
                continue
            return binding, turn
        await moved()
        return None

    def _apply(
        self,
        binding: ChatRecord,
        event: Event,
        who: ProfessionalRecord,
        *,
        revision: int | None = None,
    ) -> Turn:
        """One event on the plan of `binding`, which the service checks again in the turn."""
        return self.service.handle(
            binding.plan_id,
            event,
            author=who.actor,
            revision=revision,
            professional=who,
            chat=binding,
        )

    def _rebound(self, chat_id: int) -> None:
        """This chat's plan changed (opened, left, moved): read it afresh next time."""
        self._bindings.pop(chat_id)

    async def _call(self, context: Context, chat_id: int, work: Callable[[], T]) -> T:
        """Run a storage call and return what it returned. If it cannot be done, say why in
        one message and raise Told: the handler ends there, and never mistakes a failure for
        a call that succeeded (with None, say)."""
        try:
            return work()
        except AlreadyApplied:
            # Applied before a worker died or the bot restarted: do nothing, say nothing. PTB
            # ends the update quietly on this exception, so no handler goes on to reply.
            log.info("update applied already; skipped")
            raise ApplicationHandlerStop from None
        except StorageUnavailable:
            key = "telegram_database_niet_beschikbaar"
        except NotOwner:
            key = "alleen_eigenaar"
        except AccessDenied:
            key = "toegang_geen"
        except (WrongKey, TamperedData):
            log.error("stored data could not be decrypted")
            key = "gegevens_beschadigd"
        await self.say(context, chat_id, self.spec.message(key))
        raise Told

    async def say(
        self,
        context: Context,
        chat_id: int,
        text: str,
        *,
        markup: InlineKeyboardMarkup | ForceReply | None = None,
        reply_to: int | None = None,
        escape: bool = True,
    ) -> list[int]:
        """Send a message (split if long); the ids of the messages sent."""
        html = esc(text) if escape else text
        parts = split_html(html)
        sent: list[int] = []
        for number, part in enumerate(parts, 1):
            reply = None
            if number == 1 and reply_to is not None:
                reply = ReplyParameters(reply_to, allow_sending_without_reply=True)
            send = functools.partial(
                context.bot.send_message,
                chat_id,
                part,
                parse_mode=ParseMode.HTML,
                reply_markup=markup if number == len(parts) else None,
                reply_parameters=reply,
            )
            message = await self._send(send)
            sent.append(message.message_id)
        return sent

    async def _send(self, call: Callable[[], Awaitable[T]]) -> T:
        """Retry a Bot API call on network errors and RetryAfter, with backoff."""
        delay = 0.5
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                return await call()
            except RetryAfter as exc:
                if attempt == SEND_ATTEMPTS:
                    raise
                wait = exc.retry_after
                seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
                await asyncio.sleep(seconds)
            except NetworkError:
                if attempt == SEND_ATTEMPTS:
                    raise
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    async def deliver(
        self,
        context: Context,
        chat_id: int,
        turn: Turn,
        *,
        before: list[str] | None = None,
        group: ChatRecord | None = None,
        reply_to: Message | None = None,
        actor: str | None = None,
        privately_to: int | None = None,
        view: bool = False,
    ) -> None:
        """Send a turn's replies, combining texts with the question that follows them.

        In a group session the plan's files go to the private chat of `privately_to` (the
        facilitator), never into the group. With `view` (a plan only looked at) no offer to
        clear the chat follows the files: the chat is not about that plan.
        """
        pending = [esc(text) for text in before or []]
        in_group = group is not None and group.kind == GROUP
        for reply in turn.outcome.replies:
            if isinstance(reply, Error):
                pending.append(f"⚠️ {esc(reply.text)}")
            elif isinstance(reply, DialogMessage):
                pending.append(esc(reply.text))
            elif isinstance(reply, Document) and reply.format == "text":
                pending.append(esc(self.app.renderer.message(reply.part, turn.answers)))
            elif isinstance(reply, Document) and in_group:
                assert group is not None
                pending.append(
                    esc(await self._send_privately(context, turn, group, privately_to, actor))
                )
            elif isinstance(reply, Document):
                await self._flush(context, chat_id, pending)
                pending = []
                await self._send_document(
                    context, chat_id, turn, actor=actor or "onbekend", offer_forget=not view
                )
            elif isinstance(reply, Question):
                await self._ask(context, chat_id, turn, reply, pending, group, reply_to)
                pending = []
            elif isinstance(reply, Done):
                continue
        await self._flush(context, chat_id, pending)

    async def _send_privately(
        self,
        context: Context,
        turn: Turn,
        group: ChatRecord,
        user_id: int | None,
        actor: str | None,
    ) -> str:
        """The plan's files to the facilitator's private chat; the line that tells the group.

        The bot can only write to someone who started a private chat with it (Telegram
        answers Forbidden otherwise): then the group hears how to fix that, and gets no file.
        """
        name = self._facilitator(group)
        if user_id is None:
            return self.spec.message("telegram_plan_prive_kan_niet", gespreksleider=name)
        try:
            await self._send_document(
                context, user_id, turn, actor=actor or "onbekend", offer_forget=False
            )
        except Forbidden:
            return self.spec.message("telegram_plan_prive_kan_niet", gespreksleider=name)
        return self.spec.message("telegram_plan_prive", gespreksleider=name)

    async def _flush(self, context: Context, chat_id: int, pending: list[str]) -> None:
        if pending:
            await self.say(context, chat_id, "\n\n".join(pending), escape=False)

    async def _ask(
        self,
        context: Context,
        chat_id: int,
        turn: Turn,
        question: Question,
        pending: list[str],
        group: ChatRecord | None,
        reply_to: Message | None,
    ) -> None:
        ideas: list[str] = []
        if group is not None and group.kind == GROUP and question.intro:
            try:
                found = self.service.suggestions(turn.plan_id, step=question.step)
            except StorageUnavailable:
                # The turn itself is stored already: ask its question, without the ideas,
                # rather than say that nothing was stored.
                found = []
            ideas = [s.text for s in found]
        text = "\n\n".join([*pending, question_html(question, self.spec, ideas)])
        markup: InlineKeyboardMarkup | ForceReply | None = keyboard(
            question, self.spec, turn.plan_id
        )
        reply_id = None
        if group is not None and group.kind == GROUP and not question.choices:
            # With privacy mode on, the bot only hears replies to its own messages: ask the
            # facilitator for a reply, and only the facilitator (selective).
            markup = ForceReply(selective=True)
            reply_id = reply_to.message_id if reply_to is not None else None
        await self.say(context, chat_id, text, markup=markup, reply_to=reply_id, escape=False)

    async def _send_document(
        self, context: Context, chat_id: int, turn: Turn, *, actor: str, offer_forget: bool
    ) -> None:
        """The plan as PDF and Word file, and the cost chart as a picture; to a private chat
        only (deliver sees to that)."""
        # First: Forbidden here if the bot may not write to this chat, before anything else.
        await self._send(lambda: context.bot.send_chat_action(chat_id, ChatAction.UPLOAD_DOCUMENT))
        # Recorded before the files go out: no export the audit log does not know of.
        await self._call(
            context,
            chat_id,
            lambda: self.app.access.record(actor, EXPORTED, turn.plan_id, "pdf docx png"),
        )
        render, today = self.documents.render, date.today()
        name = f"doorbraakplan-{turn.household}"
        pdf = await render("pdf", turn.household, turn.answers, today)
        await self._send(
            lambda: context.bot.send_document(chat_id, document=pdf, filename=f"{name}.pdf")
        )
        await self._send(lambda: context.bot.send_chat_action(chat_id, ChatAction.UPLOAD_DOCUMENT))
        docx = await render("docx", turn.household, turn.answers, today)
        await self._send(
            lambda: context.bot.send_document(chat_id, document=docx, filename=f"{name}.docx")
        )
        chart = await render("png", turn.household, turn.answers, today)
        caption = self.spec.message("document_grafiek_titel")
        await self._send(
            lambda: context.bot.send_photo(
                chat_id, photo=chart, filename=f"{name}-kosten.png", caption=caption
            )
        )
        if offer_forget:
            # The plan is safe in the files now: offer to clear the chat of it.
            offer = await self.say(context, chat_id, self.spec.message("berichten_wissen_vraag"))
            last = offer[-1] if offer else 0
            data = Button(FORGET, turn.plan_id, 0, last).encode()
            label = self.spec.message("berichten_wissen_knop")
            markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])
            await self._send(
                lambda: context.bot.edit_message_reply_markup(chat_id, last, reply_markup=markup)
            )


def run(app: App) -> int:
    """`doorbraakbot run`: long polling, or a webhook worker (any number of them on one
    PostgreSQL database) when DOORBRAAK_WEBHOOK_URL is set; both through the inbox
    (bot.webhook)."""
    settings = app.settings
    spec = app.dialog.spec
    if not settings.telegram_bot_token:
        print(spec.message("telegram_geen_token"))
        return 2
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # At INFO, transitions logs every callback of every turn.
    logging.getLogger("transitions").setLevel(logging.WARNING)
    front = TelegramFrontEnd(app)
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
