"""Handlers for one's own plans: open, resume, archive, delete, and turns on the dialog."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot.service import ChatTarget, PlanFinished
from bot.telegram.bindings import GROUP, PRIVATE, Decline
from bot.telegram.kit import Asked, Context, Kit
from bot.telegram_view import (
    CHANGE,
    DELETE,
    DELETE_NO,
    DELETE_YES,
    EVAL,
    FOLLOW_EVALUATE,
    RENEW,
    RENEW_ASK,
    RESUME,
    VIEW,
    Button,
)
from dialogs import Command, Text
from dialogs.household import normalise_household
from storage import ChatRecord

# Archived plans listed by /archief: the most recent ones.
MAX_ARCHIVED = 20


def choice_markup(kit: Kit, *rows: tuple[str, Button]) -> InlineKeyboardMarkup:
    """One button a row: (label key, button)."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(kit.spec.message(label), callback_data=b.encode())]
         for label, b in rows]
    )  # fmt: skip


async def start(kit: Kit, asked: Asked) -> None:
    """/start, or /start <huishoudnummer> from a link."""
    if asked.args:
        await open_household(kit, asked, asked.args[0])
    else:
        await kit.tell(asked.bot, asked.chat_id, "telegram_welkom")


async def new(kit: Kit, asked: Asked) -> None:
    """/nieuw <huishoudnummer>."""
    if not asked.args:
        await kit.tell(asked.bot, asked.chat_id, "telegram_nieuw_gebruik")
        return
    await open_household(kit, asked, asked.args[0], new=True)


async def open_household(kit: Kit, asked: Asked, number: str, *, new: bool = False) -> None:
    """The household's plan in this chat; if it is finished, the choice of what to do."""
    bot, chat_id, who = asked.bot, asked.chat_id, asked.who
    household = normalise_household(number)
    if household is None:
        await kit.tell(bot, chat_id, "huishoudnummer_ongeldig")
        return
    target = ChatTarget(chat_id, PRIVATE, first_message_id=asked.message.message_id)
    try:
        turn = await kit.call(
            bot,
            chat_id,
            lambda: kit.service.open(
                household, actor=who.actor, chat=target, ask_if_finished=True, professional=who
            ),
        )
    except PlanFinished as finished:
        markup = choice_markup(
            kit,
            ("plan_af_bekijken", Button(VIEW, finished.plan_id)),
            ("plan_af_wijzigen", Button(CHANGE, finished.plan_id)),
            # The evaluation (bot.telegram.acties.evaluate), as under its reminder.
            ("plan_af_evalueren", Button(EVAL, finished.plan_id, 0, FOLLOW_EVALUATE)),
            ("plan_af_nieuw", Button(RENEW, finished.plan_id, finished.revision, RENEW_ASK)),
        )
        await kit.tell(bot, chat_id, "plan_af", markup=markup, huishouden=finished.household)
        return
    finally:
        kit.bindings.forget(chat_id)
    intro = "nieuw_plan" if not turn.answers else "hervat_plan"
    if new and turn.answers:
        intro = "telegram_al_een_plan"
    before = [kit.spec.message(intro, huishouden=household)]
    await kit.replies.deliver(bot, chat_id, turn, before=before, actor=who.actor)


async def archive(kit: Kit, asked: Asked) -> None:
    """/archief <huishoudnummer>: the household's archived plans this professional had
    access to, each to look at (read-only)."""
    bot, chat_id = asked.bot, asked.chat_id
    household = normalise_household(asked.args[0]) if asked.args else None
    if household is None:
        key = "huishoudnummer_ongeldig" if asked.args else "telegram_archief_gebruik"
        await kit.tell(bot, chat_id, key)
        return
    plans = await kit.call(
        bot, chat_id, lambda: kit.service.archived_plans(household, professional=asked.who)
    )
    if not plans:
        await kit.tell(bot, chat_id, "telegram_archief_geen", huishouden=household)
        return
    rows = []
    for record in plans[:MAX_ARCHIVED]:
        progress = kit.service.progress(record)
        label = kit.spec.message(
            "telegram_archief_knop",
            datum=record.updated_at.strftime("%d-%m-%Y"),
            ingevuld=progress.answered,
            totaal=progress.total,
        )
        data = Button(VIEW, record.id).encode()
        rows.append([InlineKeyboardButton(label, callback_data=data)])
    markup = InlineKeyboardMarkup(rows)
    await kit.tell(bot, chat_id, "telegram_archief_kies", markup=markup, huishouden=household)


async def resume(kit: Kit, asked: Asked) -> None:
    """/hervat: the unfinished plans this professional may work on, each a button."""
    bot, chat_id = asked.bot, asked.chat_id
    plans = await kit.call(bot, chat_id, lambda: kit.service.accessible_plans(asked.who))
    if not plans:
        await kit.tell(bot, chat_id, "telegram_hervat_geen")
        return
    rows = []
    for record in plans:
        progress = kit.service.progress(record)
        label = kit.spec.message(
            "telegram_hervat_knop",
            huishouden=record.household,
            stap=progress.step,
            stappen=progress.steps,
            ingevuld=progress.answered,
            totaal=progress.total,
        )
        data = Button(RESUME, record.id).encode()
        rows.append([InlineKeyboardButton(label, callback_data=data)])
    await kit.tell(bot, chat_id, "telegram_hervat_kies", markup=InlineKeyboardMarkup(rows))


async def delete(kit: Kit, asked: Asked) -> None:
    """/verwijder: delete the plan at once, after a confirmation (buttons.delete)."""
    binding = await kit.bindings.read(asked.bot, asked.chat_id)
    if binding is None:
        await kit.tell(asked.bot, asked.chat_id, "telegram_geen_plan")
        return
    markup = choice_markup(
        kit,
        ("verwijder_ja", Button(DELETE, binding.plan_id, 0, DELETE_YES)),
        ("verwijder_nee", Button(DELETE, binding.plan_id, 0, DELETE_NO)),
    )
    await kit.tell(asked.bot, asked.chat_id, "verwijder_vraag", markup=markup)


async def to_plan(kit: Kit, context: Context, update: Update, event: Text | Command) -> None:
    """A text or a dialog command (commands.DIALOG) as an event on the chat's plan."""
    message = update.effective_message
    assert message is not None
    bot, chat_id = context.bot, message.chat_id
    # In a group, plain text from others is not addressed to the bot: no refusal.
    quiet = message.chat.type != PRIVATE and isinstance(event, Text)
    async with kit.permissions.sender_of(bot, update, quiet=quiet) as who:
        if who is None:
            return
        author = who.actor

        async def say(text: str) -> None:
            await kit.say(bot, chat_id, text)

        async def nothing() -> None:
            return None

        def admit(binding: ChatRecord | None) -> Decline | None:
            if binding is None:
                if message.chat.type == PRIVATE:
                    return lambda: say(kit.spec.message("telegram_geen_plan"))
                if isinstance(event, Command):
                    return lambda: say(kit.spec.message("telegram_geen_sessie"))
                return nothing
            if not kit.service.may_answer(binding, author):
                # Others in a session use /idee; only a command or a reply is refused aloud.
                if isinstance(event, Command) or message.reply_to_message is not None:
                    return lambda: say(kit.permissions.facilitator_only(binding))
                return nothing
            if binding.kind == GROUP and update.effective_user is not None:
                name = update.effective_user.first_name
                kit.permissions.remember_facilitator(chat_id, author, name)
            return None

        bound = await kit.bindings.turn(
            bot,
            chat_id,
            admit,
            lambda: say(kit.spec.message("telegram_plan_gewisseld")),
            lambda binding: kit.bindings.apply(binding, event, who),
        )
        if bound is None:
            return
        binding, turn = bound
        await kit.replies.deliver(
            bot,
            chat_id,
            turn,
            group=binding,
            reply_to=message,
            actor=author,
            privately_to=update.effective_user.id if update.effective_user else None,
        )
        if turn.outcome.stopped and binding.kind == PRIVATE:
            await kit.call(bot, chat_id, lambda: kit.service.leave_chat(chat_id))
            kit.bindings.forget(chat_id)


def command_event(message: Message, context: Context) -> Command:
    """`/terug@doorbraakbot extra` as the dialog's Command("terug", "extra")."""
    name = (message.text or "").split()[0].lstrip("/").split("@")[0].lower()
    return Command(name, " ".join(context.args or []))
