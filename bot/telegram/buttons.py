"""Handlers for button presses: answers to a question, and the buttons on one's own plans."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from telegram import Bot, CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatAction
from telegram.error import TelegramError

from bot.access import EXPORTED
from bot.service import AlreadySent, ChatTarget, Turn
from bot.telegram import acties, delen, ladder, lessen, verloop
from bot.telegram.bindings import PRIVATE, Decline
from bot.telegram.kit import Context, Kit
from bot.telegram.plans import choice_markup
from bot.telegram.sending import retried
from bot.telegram_view import (
    ACT,
    CHANGE,
    CHOOSE,
    DECIDE,
    DELETE,
    DELETE_NO,
    DELETE_YES,
    EVAL,
    EXECUTE,
    FOLLOW_DONE,
    FORGET,
    KEEP,
    LADDER,
    LESSON,
    ON_REQUEST,
    OWN,
    POSTER,
    RENEW,
    RENEW_ASK,
    RENEW_NO,
    RENEW_YES,
    RESUME,
    SHARE,
    SKIP,
    SUBMIT,
    SUBMIT_PLAN,
    VIEW,
    WORD,
    Button,
    pressed_label,
    ticked_labels,
)
from dialogs import Choose, Command, Submit, noted_open
from storage import ChatRecord
from storage.access import ProfessionalRecord

log = logging.getLogger(__name__)

# Buttons that act on one person's plans: they work only in a private chat.
PRIVATE_BUTTONS = (
    RESUME, DELETE, FORGET, VIEW, CHANGE, RENEW, POSTER, ACT, EVAL, WORD, LADDER, OWN, LESSON,
)  # fmt: skip
# The plan's course (bot.telegram.verloop): indienen and uitgevoerd in a private chat; a
# decision also in the Doorbraakteam's group.
COURSE_BUTTONS = (SUBMIT_PLAN, DECIDE, EXECUTE)
# At most this many messages are deleted for one press of "remove the messages": the most
# recent ones. A whole plan made in a chat takes a few hundred.
MAX_FORGET = 500


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

    bot: Bot
    press: Press
    button: Button
    who: ProfessionalRecord
    chat_id: int
    message_id: int
    user_id: int

    async def toast(self, kit: Kit, key: str) -> None:
        await self.press.answer(kit.spec.message(key))


async def on_button(kit: Kit, update: Update, context: Context) -> None:
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    press = Press(query)
    try:
        await _on_press(kit, context, press, user.id)
    finally:
        # Every press is answered once, whatever ended the handler: no client is left
        # with a spinning button.
        await press.answer()


async def _on_press(kit: Kit, context: Context, press: Press, user_id: int) -> None:
    button = Button.decode(press.query.data)
    message = press.query.message
    if button is None or message is None:
        await press.answer(kit.spec.message("knop_verlopen"))
        return
    chat = message.chat
    if button.action in (*PRIVATE_BUTTONS, SUBMIT_PLAN, EXECUTE) and chat.type != PRIVATE:
        # A button for one person's plans pressed in a group (a forged one): nothing of
        # theirs is opened, shown or bound to the group.
        await press.answer(kit.spec.message("telegram_knop_alleen_prive"))
        return

    async def stranger() -> None:
        key = "toegang_onbekend" if chat.type == PRIVATE else "telegram_alleen_professionals"
        await press.answer(kit.spec.message(key))

    async with kit.permissions.identified(context.bot, chat.id, user_id, stranger=stranger) as who:
        if who is None:
            return
        pressed = Pressed(context.bot, press, button, who, chat.id, message.message_id, user_id)
        if button.action == LESSON:
            await press.answer(await lessen.on_press(kit, context.bot, chat.id, user_id, button))
        elif button.action == SHARE:
            await press.answer(await delen.on_press(kit, context.bot, chat.id, button, who))
        elif button.action in PRIVATE_BUTTONS:
            await _on_private_button(kit, pressed)
        elif button.action in COURSE_BUTTONS:
            await verloop.on_press(kit, pressed)
        else:
            await _on_answer_button(kit, pressed)


async def _on_answer_button(kit: Kit, pressed: Pressed) -> None:
    """A choice, Klaar or Overslaan under a question: an answer to the plan."""
    press, button, who, chat_id = pressed.press, pressed.button, pressed.who, pressed.chat_id
    event: Choose | Submit | Command
    if button.action == CHOOSE:
        event = Choose(button.choice)
    elif button.action == SUBMIT:
        event = Submit()
    else:
        assert button.action in (SKIP, KEEP)
        if button.action == SKIP and button.rest:
            event = Command("verder")
        else:
            event = Command("overslaan")  # on an answered question it keeps the answer

    def admit(binding: ChatRecord | None) -> Decline | None:
        if binding is None or binding.plan_id != button.plan_id:
            return lambda: pressed.toast(kit, "knop_verlopen")
        if not kit.service.may_answer(binding, who.actor):
            return lambda: pressed.toast(kit, "telegram_knop_gespreksleider")
        return None

    bound = await kit.bindings.turn(
        pressed.bot,
        chat_id,
        admit,
        lambda: pressed.toast(kit, "knop_verlopen"),
        lambda binding: kit.bindings.apply(binding, event, who, revision=button.revision),
    )
    if bound is None:
        return
    binding, turn = bound
    if turn.stale:
        await pressed.toast(kit, "knop_verlopen")
        return
    message = press.query.message
    refusal = kit.replies.refusal(turn, button.revision)
    if refusal is not None:
        await press.answer(refusal)
        await kit.replies.refused(message, turn, button.revision)
        return
    await press.answer()
    if await kit.replies.retick(message, turn):
        return
    await kit.replies.trace(message, _answer_shown(kit, pressed))
    await kit.replies.deliver(
        pressed.bot,
        chat_id,
        turn,
        group=binding,
        actor=who.actor,
        privately_to=pressed.user_id,
    )


def _answer_shown(kit: Kit, pressed: Pressed) -> str | None:
    """What a press answered, in the words of the buttons the professional saw."""
    message = pressed.press.query.message
    markup = message.reply_markup if isinstance(message, Message) else None
    action = pressed.button.action
    if action == SKIP:
        rest = pressed.button.rest
        return kit.spec.message("telegram_rest_overgeslagen" if rest else "telegram_overgeslagen")
    if action == KEEP:
        return kit.spec.message("telegram_gehouden")
    if action == SUBMIT:
        return ", ".join(ticked_labels(markup)) or None
    return pressed_label(markup, pressed.press.query.data)


async def _on_private_button(kit: Kit, pressed: Pressed) -> None:
    """Buttons on one's own plans, in a private chat: resume, delete, forget, the Word
    file, the choices for a finished or archived plan, and those of actions and reminders
    (opvolging)."""
    action, answer = pressed.button.action, pressed.button.answer
    if action in (ACT, EVAL):
        await acties.on_follow(kit, pressed)
        if action == ACT and pressed.button.value == FOLLOW_DONE:
            await verloop.after_done(kit, pressed)
    elif action == LADDER:
        await ladder.on_press(kit, pressed)
    elif action == OWN:
        await acties.on_owner(kit, pressed)
    elif action == WORD:
        await _on_request(kit, pressed)
    elif action == FORGET:
        await _forget(kit, pressed)
    elif action == DELETE:
        await _delete(kit, pressed)
    elif action == VIEW:
        await _view(kit, pressed)
    elif action == POSTER:
        await _poster(kit, pressed)
    elif action == RENEW and answer in (RENEW_ASK, RENEW_NO):
        await _confirm_renew(kit, pressed)
    elif (action, answer) in ((RESUME, 0), (CHANGE, 0), (RENEW, RENEW_YES)):
        await _open(kit, pressed)
    else:
        await pressed.toast(kit, "knop_verlopen")


async def _on_request(kit: Kit, pressed: Pressed) -> None:
    """A file of the plan whose PDF carries the button (the Word file, the chart); once per
    button. The export is recorded, and the press's update claimed, before the file is
    made: a second tap, or the same press delivered twice, sends nothing."""
    bot, chat_id, button, who = pressed.bot, pressed.chat_id, pressed.button, pressed.who
    if button.value >= len(ON_REQUEST):
        await pressed.toast(kit, "knop_verlopen")
        return
    fmt = ON_REQUEST[button.value]
    try:
        turn = await kit.call(
            bot,
            chat_id,
            lambda: kit.service.document(
                button.plan_id,
                fmt,
                actor=who.actor,
                revision=button.revision,
                # The message the button is on, as Telegram says: one file per PDF sent.
                once=str(pressed.message_id),
                professional=who,
            ),
        )
    except AlreadySent:
        await pressed.toast(kit, f"telegram_{fmt}_al_gestuurd")
        return
    if turn is None:
        await pressed.toast(kit, "telegram_bestand_verouderd")
        return
    await pressed.press.answer()
    await kit.files.send_on_request(
        bot, chat_id, turn, fmt, under=pressed.message_id, keep=_other_buttons(pressed)
    )


def _other_buttons(pressed: Pressed) -> InlineKeyboardMarkup | None:
    """The keyboard of the pressed message without the button pressed (None if empty)."""
    message = pressed.press.query.message
    markup = message.reply_markup if isinstance(message, Message) else None
    rows = [
        [b for b in row if b.callback_data != pressed.press.query.data]
        for row in (markup.inline_keyboard if markup is not None else ())
    ]
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(rows) if rows else None


async def _view(kit: Kit, pressed: Pressed) -> None:
    """A finished or archived plan to look at, with its files."""
    bot, chat_id, who = pressed.bot, pressed.chat_id, pressed.who
    await pressed.press.answer()
    seen = await kit.call(
        bot,
        chat_id,
        lambda: kit.service.view(pressed.button.plan_id, actor=who.actor, professional=who),
    )
    if seen is None:
        await kit.tell(bot, chat_id, "telegram_plan_weg")
        return
    head = kit.spec.message(
        "telegram_bekijken_kop",
        huishouden=seen.household,
        status=kit.spec.message(f"telegram_status_{seen.outcome.status}"),
    )
    await kit.replies.deliver(bot, chat_id, seen, before=[head], actor=who.actor, view=True)


async def _poster(kit: Kit, pressed: Pressed) -> None:
    """The wall poster (bot.telegram.poster) of a plan the professional owns or that is
    shared with them; the export is audited before it goes out."""
    bot, chat_id, who = pressed.bot, pressed.chat_id, pressed.who
    await pressed.press.answer()
    plan_id = pressed.button.plan_id
    record = await kit.call(bot, chat_id, lambda: kit.service.readable(plan_id, who))
    if record is None:
        await kit.tell(bot, chat_id, "telegram_plan_weg")
        return
    await retried(lambda: bot.send_chat_action(chat_id, ChatAction.UPLOAD_DOCUMENT))
    await kit.call(
        bot, chat_id, lambda: kit.access.record(who.actor, EXPORTED, record.id, "poster")
    )
    document = await kit.files.documents.render(
        "poster", record.household, record.answers, date.today(), noted_open(record.data)
    )
    name = f"doorbraakplan-{record.household}-poster.pdf"
    caption = kit.spec.message("telegram_poster_bijschrift")
    await retried(
        lambda: bot.send_document(chat_id, document=document, filename=name, caption=caption)
    )


async def _confirm_renew(kit: Kit, pressed: Pressed) -> None:
    """A new plan for a finished one's household: ask to confirm, or hear that it is not."""
    bot, chat_id, button = pressed.bot, pressed.chat_id, pressed.button
    await pressed.press.answer()
    if button.answer == RENEW_NO:
        await kit.tell(bot, chat_id, "nieuw_plan_niet")
        return
    markup = choice_markup(
        kit,
        ("nieuw_plan_ja", replace(button, value=RENEW_YES)),
        ("nieuw_plan_nee", replace(button, value=RENEW_NO)),
    )
    await kit.tell(bot, chat_id, "telegram_nieuw_plan_vraag", markup=markup)


async def _open(kit: Kit, pressed: Pressed) -> None:
    """Resume or change a plan, or start a new one after the confirmation, in this chat."""
    bot, chat_id, button, who = pressed.bot, pressed.chat_id, pressed.button, pressed.who
    target = ChatTarget(chat_id, PRIVATE, first_message_id=pressed.message_id)
    open_it: Callable[[], Turn | None]
    if button.action == RENEW:
        open_it = functools.partial(
            kit.service.renew,
            button.plan_id,
            actor=who.actor,
            revision=button.revision,
            chat=target,
            professional=who,
        )
    else:
        open_it = functools.partial(
            kit.service.open_plan, button.plan_id, actor=who.actor, chat=target, professional=who
        )
    try:
        turn = await kit.call(bot, chat_id, open_it)
    finally:
        kit.bindings.forget(chat_id)
    if turn is None and button.action == RENEW:
        await pressed.toast(kit, "knop_verlopen")  # confirmed already
        return
    await pressed.press.answer()
    if turn is None:
        await kit.tell(bot, chat_id, "telegram_plan_weg")
        return
    intro = "nieuw_plan" if button.action == RENEW else "hervat_plan"
    before = [kit.spec.message(intro, huishouden=turn.household)]
    await kit.replies.deliver(bot, chat_id, turn, before=before, actor=who.actor)


async def _delete(kit: Kit, pressed: Pressed) -> None:
    """/verwijder's confirmation: DELETE_YES deletes, DELETE_NO keeps the plan."""
    bot, chat_id, button = pressed.bot, pressed.chat_id, pressed.button
    if button.answer not in (DELETE_NO, DELETE_YES):
        await pressed.toast(kit, "knop_verlopen")
        return
    await pressed.press.answer()
    if button.answer == DELETE_NO:
        await kit.tell(bot, chat_id, "niet_verwijderd")
        return
    try:
        deleted = await kit.call(
            bot, chat_id, lambda: kit.service.delete(pressed.who, button.plan_id)
        )
    finally:
        kit.bindings.forget(chat_id)
    await kit.tell(bot, chat_id, "verwijderd" if deleted else "telegram_plan_weg")


async def _forget(kit: Kit, pressed: Pressed) -> None:
    """Delete this private chat's messages about the plan: both sides, since it was opened.

    In a private chat message ids count up one by one, and while a plan is open here
    every message is about it; so the range from the message that opened it to the offer
    covers them all. The offer carries the button, so its id must be the one in the
    button; and at most the MAX_FORGET most recent ids are deleted.
    """
    bot, chat_id, button = pressed.bot, pressed.chat_id, pressed.button
    binding = await kit.bindings.read(bot, chat_id)
    last = button.message_id
    fits = (
        binding is not None
        and binding.plan_id == button.plan_id
        and binding.kind == PRIVATE
        and last == pressed.message_id
        and (binding.first_message_id or last) <= last
    )
    if not fits:
        await pressed.toast(kit, "knop_verlopen")
        return
    assert binding is not None
    await pressed.press.answer()
    first = max(binding.first_message_id or last, last - MAX_FORGET + 1)
    removed = 0
    for start in range(first, last + 1, 100):  # deleteMessages takes 100 ids at a time
        batch = list(range(start, min(start + 100, last + 1)))
        try:
            await retried(functools.partial(bot.delete_messages, chat_id, batch))
            removed += len(batch)
        except TelegramError:
            log.info("some messages could not be deleted (older than 48 hours)")
    await kit.tell(bot, chat_id, "berichten_gewist", aantal=removed)
