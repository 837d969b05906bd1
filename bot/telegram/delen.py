"""Whether a plan's doorbraak and rules go into the reflectiesessie material of the owner's
team (bot.consent) in Telegram: the button under the finish message, and /delen [ja|nee]
showing the choice with a button that changes it. Only the plan's owner may change it."""

from __future__ import annotations

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from bot.access import NotOwner
from bot.telegram.kit import Asked, Kit
from bot.telegram_view import SHARE, Button
from storage.access import ProfessionalRecord

# SHARE's value: the choice the button makes.
SHARE_NO, SHARE_YES = 0, 1


def share_markup(kit: Kit, plan_id: int, shares: bool) -> InlineKeyboardMarkup:
    """The one button that changes the choice as it stands."""
    label = kit.spec.message("delen_knop_nee" if shares else "delen_knop_ja")
    data = Button(SHARE, plan_id, 0, SHARE_NO if shares else SHARE_YES).encode()
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])


async def command(kit: Kit, asked: Asked) -> None:
    """/delen: the choice of this chat's plan, with the button that changes it; /delen ja
    and /delen nee change it (its owner only)."""
    bot, chat_id, who = asked.bot, asked.chat_id, asked.who
    binding = await kit.bindings.read(bot, chat_id)
    if binding is None:
        await kit.tell(bot, chat_id, "telegram_geen_plan")
        return
    plan_id = binding.plan_id
    arg = " ".join(asked.args).strip().lower()
    if arg:
        said = await kit.call(
            bot,
            chat_id,
            lambda: kit.app.consent.word(
                plan_id, f"delen {arg}", actor=who.actor, professional=who
            ),
        )
        if said is None:
            await kit.tell(bot, chat_id, "delen_gebruik_telegram")
            return
        if said == kit.spec.message("delen_geen_eigenaar"):
            await kit.say(bot, chat_id, said)
            return
    await _show(kit, bot, chat_id, plan_id)


async def on_press(
    kit: Kit, bot: Bot, chat_id: int, button: Button, who: ProfessionalRecord
) -> str:
    """A SHARE button: the choice it makes, if the presser owns the plan; the toast."""
    share = button.value == SHARE_YES

    def change() -> bool:
        # NotOwner caught here: the caller would answer it with the words for /deel.
        try:
            kit.app.consent.set(button.plan_id, share, actor=who.actor, professional=who)
        except NotOwner:
            return False
        return True

    if not await kit.call(bot, chat_id, change):
        return kit.spec.message("delen_geen_eigenaar")
    await _show(kit, bot, chat_id, button.plan_id)
    return kit.spec.message("delen_staat_ja" if share else "delen_staat_nee")


async def _show(kit: Kit, bot: Bot, chat_id: int, plan_id: int) -> None:
    shares = await kit.call(bot, chat_id, lambda: kit.app.consent.shares(plan_id))
    text = kit.spec.message("delen_staat_ja" if shares else "delen_staat_nee")
    await kit.say(bot, chat_id, text, markup=share_markup(kit, plan_id, shares))
