"""Storage calls from a handler: a failure is told to the user once and ends the update."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from telegram import Bot
from telegram.ext import ApplicationHandlerStop

from bot.access import AccessDenied, NotOwner
from bot.telegram.sending import say
from bot.unavailable import StorageUnavailable
from dialogs import Interview
from storage.crypto import TamperedData, WrongKey
from storage.inbox import AlreadyApplied

log = logging.getLogger(__name__)

T = TypeVar("T")


class Told(Exception):
    """The update ends here, and the user was told why: a storage call failed.

    Raised by `Caller` after its one message, so a failed call can never be taken for a
    successful one that returned nothing; the error handler lets it pass quietly.
    """


class Caller:
    """Runs storage calls for handlers; see `__call__`."""

    def __init__(self, spec: Interview) -> None:
        self.spec = spec

    async def __call__(self, bot: Bot, chat_id: int, work: Callable[[], T]) -> T:
        """Run a storage call and return what it returned. If it cannot be done, say why in
        one message to `chat_id` and raise Told: the handler ends there, and never mistakes
        a failure for a call that succeeded (with None, say)."""
        try:
            return work()
        except AlreadyApplied:
            # Applied before a worker died or the bot restarted: do nothing, say nothing. PTB
            # ends the update quietly on this exception, so no handler goes on to reply.
            log.info("update applied already; skipped")
            raise ApplicationHandlerStop from None
        except StorageUnavailable:
            key = "telegram_database_niet_beschikbaar"
        except NotOwner:
            key = "alleen_eigenaar"
        except AccessDenied:
            key = "toegang_geen"
        except (WrongKey, TamperedData):
            log.error("stored data could not be decrypted")
            key = "gegevens_beschadigd"
        await say(bot, chat_id, self.spec.message(key))
        raise Told
