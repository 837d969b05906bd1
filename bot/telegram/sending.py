"""Messages out: HTML split to Telegram's size, Bot API calls retried, the rate limit."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from telegram import Bot, ForceReply, InlineKeyboardMarkup, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import NetworkError, RetryAfter
from telegram.ext import AIORateLimiter

from bot.telegram_view import esc, split_html

T = TypeVar("T")
SEND_ATTEMPTS = 4
Markup = InlineKeyboardMarkup | ForceReply


def rate_limiter() -> AIORateLimiter:
    """Keeps within Telegram's limits (20 messages a minute in a group) and retries a
    RetryAfter answer after the time Telegram asks for."""
    return AIORateLimiter(max_retries=3)


async def retried(call: Callable[[], Awaitable[T]]) -> T:
    """Retry a Bot API call on network errors and RetryAfter, with backoff."""
    delay = 0.5
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            return await call()
        except RetryAfter as exc:
            if attempt == SEND_ATTEMPTS:
                raise
            wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            await asyncio.sleep(seconds)
        except NetworkError:
            if attempt == SEND_ATTEMPTS:
                raise
            await asyncio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover


async def say(
    bot: Bot,
    chat_id: int,
    text: str,
    *,
    markup: Markup | None = None,
    reply_to: int | None = None,
    escape: bool = True,
    quiet: bool = False,
) -> list[int]:
    """Send a message (split if long); the ids of the messages sent. `quiet`: without a
    notification sound (the second of several reminders at once, say).

    It takes the Bot rather than an update's context, so that a message the bot sends on its
    own (a reminder) goes the same way as a reply.
    """
    html = esc(text) if escape else text
    parts = split_html(html)
    sent: list[int] = []
    for number, part in enumerate(parts, 1):
        reply = None
        if number == 1 and reply_to is not None:
            reply = ReplyParameters(reply_to, allow_sending_without_reply=True)
        send = functools.partial(
            bot.send_message,
            chat_id,
            part,
            parse_mode=ParseMode.HTML,
            reply_markup=markup if number == len(parts) else None,
            reply_parameters=reply,
            disable_notification=True if quiet else None,
        )
        message = await retried(send)
        sent.append(message.message_id)
    return sent


async def flush(bot: Bot, chat_id: int, pending: list[str]) -> None:
    """Send texts gathered as HTML, as one message, if there are any."""
    if pending:
        await say(bot, chat_id, "\n\n".join(pending), escape=False)
