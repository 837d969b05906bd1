"""Lessons in Telegram (issue 16): /les records one, step by step or in one message; /lessen
lists the open ones with a button to mark one done. For teamleiders and beleidsmedewerkers;
others are told who it is for.

While a lesson is asked step by step, the professional's plain texts in the private chat are
its answers (`take_text`, before the plan's dialog sees them); each is stored before the next
question is sent, and a wrong one is refused with the question kept."""

from __future__ import annotations

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot.lessons import (
    LessonDenied,
    LessonService,
    Step,
    line,
    may_record,
)
from bot.telegram.bindings import PRIVATE
from bot.telegram.kit import Asked, Context, Kit
from bot.telegram_view import LESSON, Button
from dialogs.lessons import Refused, split_line
from storage.access import ProfessionalRecord
from storage.lessons import STEP_OWNER, LessonRecord

# At most this many lessons are listed, soonest first.
SHOWN = 20


def service(kit: Kit) -> LessonService:
    return LessonService(kit.app.units, kit.app.clock)


async def _current(kit: Kit, bot: Bot, chat_id: int, user_id: int) -> ProfessionalRecord | None:
    """The professional as stored now: a role the administrator just changed counts at once,
    also for the answers that follow (`take_text` goes by the remembered role)."""
    who = await kit.call(bot, chat_id, lambda: kit.access.professional(user_id))
    if who is not None:
        kit.permissions.remember(user_id, who)
    return who


async def record(kit: Kit, asked: Asked) -> None:
    """/les [tekst | bron | eigenaar | datum]: one lesson; without the parts, step by step."""
    bot, chat_id = asked.bot, asked.chat_id
    user = asked.update.effective_user
    assert user is not None
    who = await _current(kit, bot, chat_id, user.id)
    if who is None or not may_record(who):
        await kit.tell(bot, chat_id, "les_alleen_rollen")
        return
    lessons = service(kit)
    typed = (asked.message.text or "").partition(" ")[2].strip()
    if typed:
        parts = split_line(typed)
        if parts is None:
            await kit.tell(bot, chat_id, "les_gebruik")
            return
        try:
            lesson = await kit.call(
                bot,
                chat_id,
                lambda: lessons.add(
                    team=who.team,
                    text=parts[0],
                    source=parts[1],
                    owner=parts[2],
                    due=parts[3],
                    actor=who.actor,
                ),
            )
        except Refused as exc:
            await kit.tell(bot, chat_id, exc.key)
            return
        await _recorded(kit, bot, chat_id, lesson)
        if await kit.call(bot, chat_id, lambda: lessons.set_aside(who)):
            await kit.tell(bot, chat_id, "les_wacht")  # the one being asked step by step
        return
    step = await kit.call(bot, chat_id, lambda: lessons.start(who))
    await _ask(kit, bot, chat_id, who, step)


async def take_text(kit: Kit, update: Update, context: Context, message: Message) -> bool:
    """A plain text in a private chat as the answer to a lesson's question, if its sender is
    answering one; False (nothing done) otherwise."""
    user = update.effective_user
    if user is None or message.chat.type != PRIVATE or message.text is None:
        return False
    bot, chat_id = context.bot, message.chat_id
    who = await kit.permissions.professional(bot, user.id, chat_id)
    if who is None or not may_record(who):
        return False
    lessons = service(kit)
    if not await kit.call(bot, chat_id, lambda: lessons.waiting(who)):
        return False
    text = message.text
    async with kit.permissions.lock(chat_id):
        try:
            step: Step = await kit.call(bot, chat_id, lambda: lessons.answer(who, text))
        except Refused as exc:
            await kit.tell(bot, chat_id, exc.key)
            return True
        if step.step is not None:
            await _ask(kit, bot, chat_id, who, step.step)
        elif step.lesson is None:
            await kit.tell(bot, chat_id, "les_gestopt")
        else:
            await _recorded(kit, bot, chat_id, step.lesson)
    return True


async def set_aside(kit: Kit, update: Update, context: Context) -> None:
    """Any command but /les in a private chat while a lesson is asked (/hervat, /lessen): the
    lesson waits with its answers, so the texts that follow go where that command leads."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or message.chat.type != PRIVATE:
        return
    command = (message.text or "").split(maxsplit=1)[0].lstrip("/").split("@")[0].lower()
    if command == "les":
        return
    bot, chat_id = context.bot, message.chat_id
    who = await kit.permissions.professional(bot, user.id, chat_id)
    if who is None or not may_record(who):
        return
    if await kit.call(bot, chat_id, lambda: service(kit).set_aside(who)):
        await kit.tell(bot, chat_id, "les_wacht")


async def _ask(kit: Kit, bot: Bot, chat_id: int, who: ProfessionalRecord, step: str) -> None:
    if step == STEP_OWNER:
        found = await kit.call(bot, chat_id, lambda: service(kit).colleagues(who.team))
        names = ", ".join(name for _, name in found if name)
        if names:
            await kit.tell(bot, chat_id, "les_vraag_eigenaar", namen=names)
        else:
            await kit.tell(bot, chat_id, "les_vraag_eigenaar_rollen")
        return
    await kit.tell(bot, chat_id, f"les_vraag_{step}")


async def _recorded(kit: Kit, bot: Bot, chat_id: int, lesson: LessonRecord) -> None:
    lessons = service(kit)
    names = await kit.call(bot, chat_id, lambda: lessons.names([lesson]))
    text = kit.spec.message("les_vastgelegd", regel=line(kit.spec, lesson, names))
    text += "\n" + kit.spec.message("les_herinnering_uitleg")
    await kit.say(bot, chat_id, text)


def lesson_markup(kit: Kit, lesson: LessonRecord) -> InlineKeyboardMarkup:
    label = kit.spec.message("knop_les_gedaan", nummer=lesson.id)
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=Button(LESSON, lesson.id).encode())]]
    )


async def list_open(kit: Kit, asked: Asked) -> None:
    """/lessen: the open lessons of the professional's team (a beleidsmedewerker: all)."""
    bot, chat_id = asked.bot, asked.chat_id
    user = asked.update.effective_user
    assert user is not None
    who = await _current(kit, bot, chat_id, user.id)
    lessons = service(kit)
    try:
        if who is None or not may_record(who):
            raise LessonDenied
        team = " ".join(asked.args).strip() or None
        found = await kit.call(bot, chat_id, lambda: lessons.listed(who, team))
    except LessonDenied:
        await kit.tell(bot, chat_id, "les_alleen_rollen")
        return
    if not found:
        await kit.tell(bot, chat_id, "lessen_geen")
        return
    names = await kit.call(bot, chat_id, lambda: lessons.names(found))
    await kit.tell(bot, chat_id, "lessen_kop")
    for lesson in found[:SHOWN]:
        await kit.say(
            bot, chat_id, line(kit.spec, lesson, names), markup=lesson_markup(kit, lesson)
        )


async def on_press(kit: Kit, bot: Bot, chat_id: int, user_id: int, button: Button) -> str:
    """The Gedaan button under a lesson: what the toast says."""
    who = await _current(kit, bot, chat_id, user_id)
    if who is None or not may_record(who):
        return kit.spec.message("les_alleen_rollen")
    lessons = service(kit)
    done = await kit.call(
        bot,
        chat_id,
        lambda: lessons.set_status(button.plan_id, who, who.actor),
    )
    key = "les_onbekend" if done is None else "les_gedaan"
    return kit.spec.message(key, nummer=button.plan_id)
