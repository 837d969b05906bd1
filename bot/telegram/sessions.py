"""Handlers for a group's session: start and stop it, ideas, a group that changes its id."""

from __future__ import annotations

import logging

from telegram import Update

from bot.service import ChatTarget
from bot.telegram.bindings import GROUP
from bot.telegram.kit import Asked, Context, Kit
from dialogs.household import normalise_household
from storage import ChatRecord

log = logging.getLogger(__name__)


async def session(kit: Kit, asked: Asked) -> None:
    """/sessie <huishoudnummer> starts a session on the household's plan; /sessie stop."""
    bot, chat_id, who = asked.bot, asked.chat_id, asked.who
    arg = asked.args[0] if asked.args else ""
    if arg.lower() == "stop":
        await _stop(kit, asked)
        return
    household = normalise_household(arg) if arg else None
    if household is None:
        key = "huishoudnummer_ongeldig" if arg else "telegram_sessie_gebruik"
        await kit.tell(bot, chat_id, key)
        return
    target = ChatTarget(chat_id, GROUP, facilitator=who.actor)
    try:
        turn = await kit.call(
            bot,
            chat_id,
            lambda: kit.service.open(household, actor=who.actor, chat=target, professional=who),
        )
    finally:
        kit.bindings.forget(chat_id)
    kit.permissions.remember_facilitator(chat_id, who.actor, asked.first_name)
    started = kit.spec.message(
        "telegram_sessie_gestart", huishouden=household, naam=asked.first_name
    )
    binding = ChatRecord(chat_id, turn.plan_id, GROUP, who.actor)
    await kit.replies.deliver(
        bot,
        chat_id,
        turn,
        before=[started],
        group=binding,
        reply_to=asked.message,
        actor=who.actor,
    )


async def _stop(kit: Kit, asked: Asked) -> None:
    """/sessie stop: by the facilitator or the plan's owner; the others hear who can."""
    bot, chat_id = asked.bot, asked.chat_id
    binding = await kit.bindings.read(bot, chat_id)
    if binding is None or binding.kind != GROUP:
        await kit.tell(bot, chat_id, "telegram_sessie_geen")
        return
    allowed = await kit.call(
        bot, chat_id, lambda: kit.service.may_stop_session(asked.who, binding)
    )
    if not allowed:
        name = kit.permissions.facilitator(binding)
        await kit.tell(
            bot, chat_id, "telegram_sessie_stop_alleen_gespreksleider", gespreksleider=name
        )
        return
    try:
        await kit.call(bot, chat_id, lambda: kit.service.leave_chat(chat_id))
    finally:
        kit.bindings.forget(chat_id)
    await kit.tell(bot, chat_id, "telegram_sessie_gestopt")


async def idea(kit: Kit, asked: Asked) -> None:
    """/idee <tekst>: a suggestion in a session, kept at the plan's current step (only
    registered members' suggestions are stored: the command table sees to that)."""
    bot, chat_id = asked.bot, asked.chat_id
    binding = await kit.bindings.read(bot, chat_id)
    if binding is None:
        await kit.tell(bot, chat_id, "telegram_geen_sessie")
        return
    text = " ".join(asked.args).strip()
    if not text:
        await kit.tell(bot, chat_id, "telegram_idee_gebruik")
        return
    stored = await kit.call(
        bot,
        chat_id,
        lambda: kit.service.suggest(binding.plan_id, author=asked.who.actor, text=text[:2000]),
    )
    if stored is None:  # the plan was deleted meanwhile
        await kit.tell(bot, chat_id, "telegram_geen_sessie")
        return
    step = kit.spec.steps[stored.step - 1]
    await kit.tell(
        bot,
        chat_id,
        "telegram_idee_opgeslagen",
        naam=asked.first_name,
        stap=step.number,
        stapnaam=step.name,
        idee=stored.text,
    )


async def migrate(kit: Kit, update: Update, context: Context) -> None:
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
        await kit.call(context.bot, new, lambda: kit.service.move_chat(old, new))
    finally:
        kit.bindings.forget(old)
        kit.bindings.forget(new)
    log.info("chat migrated to a supergroup")
