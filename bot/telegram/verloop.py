"""The plan's course in Telegram: /indienen (and its button under a finished plan) sends the
plan to the Doorbraakteam with buttons for the besluit; /besluit records one with an amount
from the doorbraakbudget; /uitgevoerd; /contacten and /budget."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TelegramError

from bot.access import EXPORTED
from bot.course import CourseRefused, Said, Submitted, decided_text, run_word
from bot.telegram.acties import Pressed
from bot.telegram.kit import Asked, Kit
from bot.telegram.sending import retried
from bot.telegram_view import DECIDE, EXECUTE, SUBMIT_PLAN, Button, pressed_label
from dialogs import noted_open
from dialogs.household import normalise_household
from dialogs.status import DECISIONS, GRANTING, Stage

log = logging.getLogger(__name__)

# The decision buttons' values: 1 + the index in DECISIONS.
_LABELS = {
    Stage.GRANTED: "knop_besluit_toegekend",
    Stage.PARTLY: "knop_besluit_deels",
    Stage.REJECTED: "knop_besluit_afgewezen",
}


def _markup(kit: Kit, *rows: tuple[str, Button]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(kit.spec.message(key), callback_data=b.encode())]
         for key, b in rows]
    )  # fmt: skip


def decision_markup(kit: Kit, plan_id: int) -> InlineKeyboardMarkup:
    return _markup(
        kit,
        *((_LABELS[stage], Button(DECIDE, plan_id, 0, n)) for n, stage in enumerate(DECISIONS, 1)),
    )


# --- commands ------------------------------------------------------------------------------


async def contacts(kit: Kit, asked: Asked) -> None:
    """/contacten: the vaste contactpersonen."""
    await _run(kit, asked, "contacten", None)


async def budget(kit: Kit, asked: Asked) -> None:
    """/budget: the doorbraakbudget per team: budget, granted, spent, left."""
    await _run(kit, asked, "budget", None)


async def submit(kit: Kit, asked: Asked) -> None:
    """/indienen [huishoudnummer]: the plan of this chat (or the household's) to the team."""
    await _run(kit, asked, "indienen", await _plan(kit, asked, asked.args[:1]))


async def executed(kit: Kit, asked: Asked) -> None:
    """/uitgevoerd [huishoudnummer]."""
    await _run(kit, asked, "uitgevoerd", await _plan(kit, asked, asked.args[:1]))


async def decide(kit: Kit, asked: Asked) -> None:
    """/besluit [huishoudnummer] toegekend|deels|afgewezen [bedrag]."""
    args = asked.args
    household = args[:1] if args and normalise_household(args[0]) is not None else []
    rest = " ".join(args[len(household) :])
    if not rest:
        await kit.tell(asked.bot, asked.chat_id, "besluit_gebruik")
        return
    await _run(kit, asked, "besluit", await _plan(kit, asked, household), rest)


async def _plan(kit: Kit, asked: Asked, household: list[str]) -> int | None:
    """The household's current plan, or the plan this chat is working on."""
    bot, chat_id = asked.bot, asked.chat_id
    if household:
        number = normalise_household(household[0]) or ""
        found = await kit.call(bot, chat_id, lambda: kit.service.current(number))
        return None if found is None else found[0].id
    binding = await kit.call(bot, chat_id, lambda: kit.service.chat(chat_id))
    return None if binding is None else binding.plan_id


async def _run(kit: Kit, asked: Asked, name: str, plan_id: int | None, arg: str = "") -> None:
    bot, chat_id, who = asked.bot, asked.chat_id, asked.who
    said: Said = await kit.call(
        bot,
        chat_id,
        lambda: run_word(
            kit.app.course,
            name,
            arg,
            plan_id,
            actor=who.actor,
            who=_name(asked.first_name, who.team),
            professional=who,
        ),
    )
    await _answer(kit, bot, chat_id, said, plan_id)


async def _answer(kit: Kit, bot: Bot, chat_id: int, said: Said, plan_id: int | None) -> None:
    if said.text:
        await kit.say(bot, chat_id, said.text)
    if said.decided and plan_id is not None:
        # Its first line: the decision, without what is asked of the team member next.
        await _tell_owner(kit, bot, chat_id, plan_id, said.text.splitlines()[0])
    if said.submitted is not None:
        await send_to_team(kit, bot, chat_id, said.submitted)
    if said.propose is Stage.EXECUTED and plan_id is not None:
        markup = _markup(kit, ("knop_uitgevoerd", Button(EXECUTE, plan_id)))
        await kit.tell(bot, chat_id, "uitgevoerd_voorstel", markup=markup)


async def _tell_owner(kit: Kit, bot: Bot, chat_id: int, plan_id: int, text: str) -> None:
    """A decision recorded by the team: the plan's owner reads it in their private chat."""
    course = kit.app.course
    owner = await kit.call(bot, chat_id, lambda: course.owner_chat(plan_id))
    if owner is None or owner == chat_id:
        return
    household = await kit.call(bot, chat_id, lambda: _household(kit, plan_id))
    try:
        await kit.tell(bot, owner, "besluit_aan_eigenaar", huishouden=household, besluit=text)
    except TelegramError:
        log.info("the owner of a decided plan could not be told")


def _name(first_name: str, team: str) -> str:
    return f"{first_name} ({team})" if first_name else team


# --- sending a submitted plan --------------------------------------------------------------


async def send_to_team(kit: Kit, bot: Bot, asked_in: int, submitted: Submitted) -> None:
    """The plan's PDF and a short summary with the decision buttons, to each member of the
    Doorbraakteam in their private chat, or to its group. A member who never started a
    chat with the bot cannot be written to: the others still get it."""
    found = await kit.call(bot, asked_in, lambda: kit.service.plan(submitted.plan_id))
    if found is None:
        return
    record = found[0]
    after = await kit.call(bot, asked_in, lambda: kit.app.after(record.id, record.data))
    pdf = await kit.files.documents.render(
        "pdf", record.household, record.answers, date.today(), noted_open(record.data), after
    )
    text = kit.spec.message(
        "indienen_bericht",
        huishouden=record.household,
        door=submitted.step.author,
    )
    title = record.answers.get("plan.titel")
    if isinstance(title, str) and title:
        text = f"{title}\n{text}"
    chats = (submitted.group,) if submitted.group is not None else submitted.user_ids
    markup = decision_markup(kit, submitted.plan_id)
    name = f"doorbraakplan-{record.household}.pdf"
    author = submitted.step.author
    for chat_id in chats:
        # Recorded before the file goes out: no export the audit log does not know of.
        await kit.call(
            bot,
            asked_in,
            lambda: kit.access.record(author, EXPORTED, submitted.plan_id, "pdf indienen"),
        )

        async def send(chat: int = chat_id) -> Any:
            return await bot.send_document(chat, document=pdf, filename=name)

        try:
            await retried(send)
            await kit.say(bot, chat_id, text, markup=markup)
        except TelegramError:
            log.info("a submitted plan could not be sent to a member of the team")


# --- buttons -------------------------------------------------------------------------------


async def on_press(kit: Kit, pressed: Pressed) -> None:
    """Indienen under a finished plan, a decision under a submitted one, Uitgevoerd."""
    bot, chat_id, button, who = pressed.bot, pressed.chat_id, pressed.button, pressed.who
    user = getattr(pressed.press.query, "from_user", None)
    name = _name(getattr(user, "first_name", "") or "", who.team)
    course = kit.app.course
    plan_id = button.plan_id
    said: Said
    if button.action == DECIDE:
        if not 1 <= button.value <= len(DECISIONS):
            await pressed.toast(kit, "knop_verlopen")
            return
        outcome = DECISIONS[button.value - 1]

        def record() -> Said:
            try:
                step = course.decide(plan_id, outcome, actor=who.actor, who=name, professional=who)
            except CourseRefused as refused:
                return Said(kit.spec.message(refused.key, **refused.params))
            text = decided_text(kit.spec, step, None)
            if outcome is not Stage.REJECTED:
                household = _household(kit, plan_id)
                ask = kit.spec.message(
                    "besluit_bedrag_vraag", uitkomst=outcome.value, huishouden=household
                )
                text = f"{text}\n{ask}"
            return Said(text, decided=True)

        said = await kit.call(bot, chat_id, record)
    else:
        name_of = "indienen" if button.action == SUBMIT_PLAN else "uitgevoerd"
        said = await kit.call(
            bot,
            chat_id,
            lambda: run_word(
                course, name_of, "", plan_id, actor=who.actor, who=name, professional=who
            ),
        )
    await pressed.press.answer()
    await kit.replies.trace(pressed.press.query.message, _pressed_label(pressed))
    await _answer(kit, bot, chat_id, said, plan_id)


async def after_done(kit: Kit, pressed: Pressed) -> None:
    """An action was marked done with its button: if that was the last one of a granted
    plan, propose uitgevoerd."""
    bot, chat_id, who = pressed.bot, pressed.chat_id, pressed.who
    course, actions = kit.app.course, kit.app.actions

    def proposal() -> int | None:
        action = actions.get(pressed.button.action_id, who)
        if action is None or course.stage(action.plan_id) not in GRANTING:
            return None
        return action.plan_id if course.all_done(action.plan_id) else None

    plan_id = await kit.call(bot, chat_id, proposal)
    if plan_id is not None:
        await _answer(kit, bot, chat_id, Said("", propose=Stage.EXECUTED), plan_id)


def _household(kit: Kit, plan_id: int) -> str:
    found = kit.service.plan(plan_id)
    return "" if found is None else found[0].household


def _pressed_label(pressed: Pressed) -> str | None:
    message: Any = pressed.press.query.message
    return pressed_label(getattr(message, "reply_markup", None), pressed.press.query.data)
