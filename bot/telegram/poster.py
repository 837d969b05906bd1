"""The wall poster (the canvas on one A3 page) on request, in the facilitator's private chat.

After /plan in a group session the plan's files go to the facilitator privately; with them
comes a button for the poster, to print for the wall of the kraak-en-maaksessie. The poster
is made only when asked (bot.telegram.buttons): most sessions do not print one.
"""

from __future__ import annotations

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from bot.telegram.sending import say
from bot.telegram_view import POSTER, Button
from dialogs import Interview


async def offer(bot: Bot, spec: Interview, chat_id: int, plan_id: int) -> None:
    """The button for the poster, under a line that says what it is."""
    button = Button(POSTER, plan_id)
    label = spec.message("telegram_poster_knop")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=button.encode())]])
    await say(bot, chat_id, spec.message("telegram_poster_vraag"), markup=markup)
