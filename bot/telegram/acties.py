"""Opvolging in Telegram: /acties lists one's open actions with buttons, and the buttons under
those and under a reminder mark an action done, give it a new date, open its plan, or make a
registered colleague its owner; /herinneringen shows or switches one's reminders."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any, Protocol

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TelegramError

from bot.actions import cells, due_text, line, reminder_state
from bot.service import ChatTarget
from bot.telegram.bindings import PRIVATE
from bot.telegram.kit import Asked, Kit
from bot.telegram_view import (
    ACT,
    EVAL,
    FOLLOW_ASK,
    FOLLOW_DONE,
    FOLLOW_EVALUATE,
    OWN,
    OWN_ASK,
    OWN_NOBODY,
    OWN_SET,
    RESUME,
    VIEW,
    Button,
)
from dialogs.status import PlanStatus
from storage.access import Colleague, ProfessionalRecord
from storage.actions import ActionRecord

log = logging.getLogger(__name__)


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


def follow_markup(
    kit: Kit,
    action: str,
    subject: int,
    plan_id: int,
    plan_status: str,
    *,
    on_plan: bool = True,
    owner: bool = False,
) -> InlineKeyboardMarkup:
    """Gedaan, Nieuwe datum and Plan openen, for an action (ACT) or an evaluation (EVAL);
    with `owner`, Eigenaar too. Not `on_plan` (a colleague who owns only the action): the
    plan opens read-only, once it is finished."""
    spec = kit.spec
    row = [
        (spec.message("knop_actie_gedaan"), Button(action, subject, 0, FOLLOW_DONE)),
        (spec.message("knop_actie_datum"), Button(action, subject, 0, FOLLOW_ASK)),
    ]
    second = []
    if on_plan or plan_status in (PlanStatus.FINISHED, PlanStatus.ARCHIVED):
        opens = Button(VIEW if plan_status != PlanStatus.OPEN else RESUME, plan_id)
        second.append((spec.message("knop_plan_openen"), opens))
    if owner:
        second.append((spec.message("knop_actie_eigenaar"), Button(OWN, subject, 0, OWN_ASK)))
    rows = [row, second] if second else [row]
    if action == EVAL and plan_status == PlanStatus.FINISHED:
        start = Button(EVAL, subject, 0, FOLLOW_EVALUATE)
        rows.insert(0, [(spec.message("knop_evaluatie_starten"), start)])
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=b.encode()) for label, b in r] for r in rows]
    )


def action_markup(
    kit: Kit, action: ActionRecord, *, on_plan: bool = True, owner: bool = False
) -> InlineKeyboardMarkup:
    return follow_markup(
        kit, ACT, action.id, action.plan_id, action.plan_status, on_plan=on_plan, owner=owner
    )


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
    """/acties: the professional's open actions over all their plans (and those a colleague
    made them owner of), soonest first."""
    bot, chat_id, who = asked.bot, asked.chat_id, asked.who
    actions = kit.app.actions
    await kit.call(bot, chat_id, lambda: actions.rename(who, asked.first_name))
    found = await kit.call(bot, chat_id, lambda: actions.open_for(who))
    if not found:
        await kit.tell(bot, chat_id, "acties_geen")
        return
    mine = set(await kit.call(bot, chat_id, lambda: actions.plan_ids(who)))
    names = {c.id: c.name for c in await kit.call(bot, chat_id, lambda: actions.colleagues(who))}
    await kit.tell(bot, chat_id, "acties_kop")
    for action in found[:SHOWN]:
        text = line(kit.spec, action)
        if action.owner_id is not None:
            owner = _name(kit, Colleague(action.owner_id, names.get(action.owner_id, "")))
            text += kit.spec.message("actie_eigenaar_achter", naam=owner)
        markup = action_markup(kit, action, on_plan=action.plan_id in mine, owner=True)
        await kit.say(bot, chat_id, text, markup=markup)
    if len(found) > SHOWN:
        await kit.tell(bot, chat_id, "acties_meer", aantal=len(found) - SHOWN)


async def reminders(kit: Kit, asked: Asked) -> None:
    """/herinneringen: the professional's reminders and when they come; `uit` and `aan`
    switch them."""
    bot, chat_id, who = asked.bot, asked.chat_id, asked.who
    actions, spec = kit.app.actions, kit.spec
    await kit.call(bot, chat_id, lambda: actions.rename(who, asked.first_name))
    arg = " ".join(asked.args).strip().lower()
    if not arg:
        off = await kit.call(bot, chat_id, lambda: actions.reminders_off_since(who))
        await kit.say(bot, chat_id, reminder_state(spec, kit.app.settings, off, slash=True))
        return
    if arg in spec.commands.get("herinneringen_uit", ()):
        on = False
    elif arg in spec.commands.get("herinneringen_aan", ()):
        on = True
    else:
        await kit.tell(bot, chat_id, "herinneringen_gebruik_telegram")
        return
    await kit.call(bot, chat_id, lambda: actions.switch_reminders(who, on=on))
    if not on:
        await kit.tell(bot, chat_id, "herinneringen_nu_uit_telegram")
        return
    late = actions.overdue(await kit.call(bot, chat_id, lambda: actions.open_for(who)))
    text = spec.message("herinneringen_nu_aan")
    if late:
        text += "\n" + spec.message("herinneringen_gemist", aantal=late)
    await kit.say(bot, chat_id, text)


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


async def on_owner(kit: Kit, pressed: Pressed) -> None:
    """Eigenaar under an action: which colleague of the team; then that one is the owner,
    sees it in their /acties and gets its reminders (and is told so at once)."""
    bot, chat_id, button, who = pressed.bot, pressed.chat_id, pressed.button, pressed.who
    actions, spec = kit.app.actions, kit.spec
    action = await kit.call(bot, chat_id, lambda: actions.get(button.action_id, who))
    if action is None:
        await pressed.toast(kit, "actie_weg")
        return
    if button.value == OWN_ASK:
        team = await kit.call(bot, chat_id, lambda: actions.colleagues(who))
        await pressed.press.answer()
        parts = cells(action.point)
        question = spec.message("actie_eigenaar_vraag", wat=parts.what)
        await kit.say(bot, chat_id, question, markup=_owners_markup(kit, action, team, parts.who))
        return
    if button.value not in (OWN_SET, OWN_NOBODY):
        await pressed.toast(kit, "knop_verlopen")
        return
    owner_id = button.revision if button.value == OWN_SET else None
    changed = await kit.call(
        bot,
        chat_id,
        lambda: actions.set_owner(action.id, owner_id, actor=who.actor, professional=who),
    )
    if changed is None:
        await pressed.toast(kit, "actie_weg")
        return
    await pressed.press.answer()
    found = await kit.call(bot, chat_id, lambda: actions.owner_of(changed))
    if found is None:
        trace = spec.message("actie_eigenaar_niemand", wie=cells(changed.point).who)
        await kit.replies.trace(pressed.press.query.message, trace)
        return
    colleague, user_id = found
    trace = spec.message("actie_eigenaar_gezet", naam=_name(kit, colleague))
    await kit.replies.trace(pressed.press.query.message, trace)
    if colleague.id != who.id:
        on_plan = await kit.call(bot, chat_id, lambda: actions.may_open(changed, colleague.id))
        told = spec.message("actie_eigenaar_bericht", regel=line(spec, changed))
        markup = action_markup(kit, changed, on_plan=on_plan)
        try:
            await kit.say(bot, user_id, told, markup=markup)
        except TelegramError as exc:
            # They blocked the bot, say: the owner is set all the same.
            log.warning("new owner not told: %s", type(exc).__name__)


def _owners_markup(
    kit: Kit, action: ActionRecord, team: list[Colleague], who: str
) -> InlineKeyboardMarkup:
    spec = kit.spec
    rows = []
    for colleague in team:
        label = _name(kit, colleague)
        if colleague.id == action.owner_id:
            label = spec.message("telegram_gekozen", antwoord=label)
        data = Button(OWN, action.id, colleague.id, OWN_SET).encode()
        rows.append([InlineKeyboardButton(label, callback_data=data)])
    nobody = spec.message("knop_eigenaar_niemand", wie=who or spec.message("actie_geen_wie"))
    rows.append(
        [
            InlineKeyboardButton(
                nobody, callback_data=Button(OWN, action.id, 0, OWN_NOBODY).encode()
            )
        ]
    )
    return InlineKeyboardMarkup(rows)


def _name(kit: Kit, colleague: Colleague) -> str:
    return colleague.name or kit.spec.message("collega_zonder_naam", nummer=colleague.id)


def _done_or_moved(kit: Kit, value: int, due: date | None) -> str:
    if value == FOLLOW_DONE:
        return kit.spec.message("knop_actie_gedaan")
    return kit.spec.message("actie_verzet", datum=due_text(kit.spec, due))
