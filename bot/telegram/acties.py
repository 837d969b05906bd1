"""Opvolging in Telegram: /acties lists one's open actions with buttons, and the buttons under
those and under a reminder mark an action done, give it a new date, or open its plan."""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from bot.actions import cells, due_text, line
from bot.service import ChatTarget
from bot.telegram.bindings import PRIVATE
from bot.telegram.kit import Asked, Kit
from bot.telegram_view import (
    ACT,
    EVAL,
    FOLLOW_ASK,
    FOLLOW_DONE,
    FOLLOW_EVALUATE,
    RESUME,
    VIEW,
    Button,
)
from dialogs.status import PlanStatus
from storage.access import ProfessionalRecord
from storage.actions import ActionRecord


class Pressed(Protocol):
    """What bot.telegram.buttons hands over for a press (its Pressed; it imports this module)."""

    @property
    def bot(self) -> Bot: ...
    @property
    def press(self) -> Any: ...
    @property
    def button(self) -> Button: ...
    @property
    def who(self) -> ProfessionalRecord: ...
    @property
    def chat_id(self) -> int: ...
    @property
    def message_id(self) -> int: ...

    async def toast(self, kit: Kit, key: str) -> None: ...


# /acties shows this many actions, each a message with its buttons; the rest are counted.
SHOWN = 10
# The new dates offered: (button value, label, days from today; a weekend day moves on to
# the Monday after).
MOVES = (
    (FOLLOW_ASK + 1, "knop_datum_morgen", 1),
    (FOLLOW_ASK + 2, "knop_datum_week", 7),
    (FOLLOW_ASK + 3, "knop_datum_twee_weken", 14),
    (FOLLOW_ASK + 4, "knop_datum_maand", 30),
)
DAYS = {value: days for value, _, days in MOVES}


def follow_markup(kit: Kit, action: str, subject: int, plan_id: int, plan_status: str) -> (
    InlineKeyboardMarkup
):  # fmt: skip
    """Gedaan, Nieuwe datum and Plan openen, for an action (ACT) or an evaluation (EVAL)."""
    spec = kit.spec
    opens = Button(VIEW if plan_status != PlanStatus.OPEN else RESUME, plan_id)
    row = [
        (spec.message("knop_actie_gedaan"), Button(action, subject, 0, FOLLOW_DONE)),
        (spec.message("knop_actie_datum"), Button(action, subject, 0, FOLLOW_ASK)),
    ]
    rows = [
        [InlineKeyboardButton(label, callback_data=b.encode()) for label, b in row],
        [InlineKeyboardButton(spec.message("knop_plan_openen"), callback_data=opens.encode())],
    ]
    if action == EVAL and plan_status == PlanStatus.FINISHED:
        start = Button(EVAL, subject, 0, FOLLOW_EVALUATE)
        label = spec.message("knop_evaluatie_starten")
        rows.insert(0, [InlineKeyboardButton(label, callback_data=start.encode())])
    return InlineKeyboardMarkup(rows)


def action_markup(kit: Kit, action: ActionRecord) -> InlineKeyboardMarkup:
    return follow_markup(kit, ACT, action.id, action.plan_id, action.plan_status)


def dates_markup(kit: Kit, action: str, subject: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    kit.spec.message(label),
                    callback_data=Button(action, subject, 0, value).encode(),
                )
            ]
            for value, label, _ in MOVES
        ]
    )


async def list_actions(kit: Kit, asked: Asked) -> None:
    """/acties: the professional's open actions over all their plans, soonest first."""
    bot, chat_id = asked.bot, asked.chat_id
    actions = await kit.call(bot, chat_id, lambda: kit.app.actions.open_for(asked.who))
    if not actions:
        await kit.tell(bot, chat_id, "acties_geen")
        return
    await kit.tell(bot, chat_id, "acties_kop")
    for action in actions[:SHOWN]:
        await kit.say(bot, chat_id, line(kit.spec, action), markup=action_markup(kit, action))
    if len(actions) > SHOWN:
        await kit.tell(bot, chat_id, "acties_meer", aantal=len(actions) - SHOWN)


async def on_follow(kit: Kit, pressed: Pressed) -> None:
    """A button under an action or a reminder: done, which new date, a new date."""
    bot, chat_id, button, who = pressed.bot, pressed.chat_id, pressed.button, pressed.who
    value, message = button.value, pressed.press.query.message
    if button.action == EVAL and value == FOLLOW_EVALUATE:
        await evaluate(kit, pressed)
        return
    if value != FOLLOW_DONE and value != FOLLOW_ASK and value not in DAYS:
        await pressed.toast(kit, "knop_verlopen")
        return
    actions = kit.app.actions
    if button.action == ACT:
        action = await kit.call(bot, chat_id, lambda: actions.get(button.action_id, who))
        if action is None:
            await pressed.toast(kit, "actie_weg")
            return
        if value == FOLLOW_ASK:
            await pressed.press.answer()
            question = kit.spec.message("actie_datum_vraag", wat=cells(action.point).what)
            await kit.say(bot, chat_id, question, markup=dates_markup(kit, ACT, action.id))
            return
        if value == FOLLOW_DONE:
            changed = await kit.call(
                bot, chat_id, lambda: actions.done(action.id, actor=who.actor, professional=who)
            )
        else:
            changed = await kit.call(
                bot,
                chat_id,
                lambda: actions.move(action.id, DAYS[value], actor=who.actor, professional=who),
            )
        if changed is None:
            await pressed.toast(kit, "actie_weg")
            return
        await pressed.press.answer()
        await kit.replies.trace(message, _done_or_moved(kit, value, changed.due))
        return
    # EVAL: the plan's evaluation reminder.
    plan_id = button.plan_id
    if value == FOLLOW_ASK:
        household = await kit.call(bot, chat_id, lambda: actions.household(plan_id, who))
        if household is None:
            await pressed.toast(kit, "telegram_plan_weg")
            return
        await pressed.press.answer()
        question = kit.spec.message("evaluatie_datum_vraag", huishouden=household)
        await kit.say(bot, chat_id, question, markup=dates_markup(kit, EVAL, plan_id))
        return
    due = None
    if value != FOLLOW_DONE:
        due = await kit.call(
            bot,
            chat_id,
            lambda: actions.move_evaluation(
                plan_id, DAYS[value], actor=who.actor, professional=who
            ),
        )
        if due is None:
            await pressed.toast(kit, "telegram_plan_weg")
            return
    await pressed.press.answer()
    await kit.replies.trace(message, _done_or_moved(kit, value, due))


async def evaluate(kit: Kit, pressed: Pressed) -> None:
    """ "Evaluatie starten" under the evaluation reminder: the plan in this chat, at the first
    question of its evaluation (or where a paused one was)."""
    bot, chat_id, who = pressed.bot, pressed.chat_id, pressed.who
    target = ChatTarget(chat_id, PRIVATE, first_message_id=pressed.message_id)
    try:
        turn = await kit.call(
            bot,
            chat_id,
            lambda: kit.service.evaluate(
                pressed.button.plan_id, actor=who.actor, chat=target, professional=who
            ),
        )
    finally:
        kit.bindings.forget(chat_id)
    if turn is None:
        await pressed.toast(kit, "telegram_plan_weg")
        return
    await pressed.press.answer()
    await kit.replies.deliver(bot, chat_id, turn, actor=who.actor)


def _done_or_moved(kit: Kit, value: int, due: date | None) -> str:
    if value == FOLLOW_DONE:
        return kit.spec.message("knop_actie_gedaan")
    return kit.spec.message("actie_verzet", datum=due_text(kit.spec, due))
