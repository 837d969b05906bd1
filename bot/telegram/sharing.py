"""Handlers for sharing a plan with a colleague: a one-time code, used or revoked."""

from __future__ import annotations

from telegram import Bot, Message, Update

from bot.telegram.kit import Asked, Context, Kit
from bot.telegram.permissions import SHARE_PREFIX, looks_like_code
from storage.access import ProfessionalRecord


async def share(kit: Kit, asked: Asked) -> None:
    """/deel: a one-time code for a colleague; /deel <code>: use one; /deel intrekken."""
    bot, chat_id, who = asked.bot, asked.chat_id, asked.who
    arg = " ".join(asked.args).strip()
    if arg and looks_like_code(arg, SHARE_PREFIX):
        await _join(kit, bot, chat_id, who, arg)
        return
    binding = await kit.bindings.read(bot, chat_id)
    if binding is None:
        await kit.tell(bot, chat_id, "telegram_geen_plan")
        return
    if arg.lower() == "intrekken":
        await kit.call(bot, chat_id, lambda: kit.access.revoke(who, binding.plan_id))
        await kit.tell(bot, chat_id, "deel_ingetrokken")
        return
    code = await kit.call(bot, chat_id, lambda: kit.access.share(who, binding.plan_id))
    await kit.tell(bot, chat_id, "deel_code", code=code)


async def join_by_text(kit: Kit, update: Update, context: Context, message: Message) -> None:
    """A share code sent as a message of its own, in a private chat."""
    async with kit.permissions.sender_of(context.bot, update) as who:
        if who is not None:
            await _join(kit, context.bot, message.chat_id, who, message.text or "")


async def _join(kit: Kit, bot: Bot, chat_id: int, who: ProfessionalRecord, code: str) -> None:
    plan_id = await kit.call(bot, chat_id, lambda: kit.access.join(who, code))
    await kit.tell(bot, chat_id, "deel_ongeldig" if plan_id is None else "deel_gelukt")
