"""Which plan a chat works on: remembered per chat, checked by the service in each turn."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from telegram import Bot

from bot.service import ChatMoved, PlanService, Turn
from bot.telegram.failures import Caller
from dialogs import Event
from storage import ChatRecord
from storage.access import ProfessionalRecord
from storage.cache import LRU

# The two kinds of chat a plan is bound to: one person's, or a group's session.
PRIVATE, GROUP = "private", "group"
# How an update is declined: tell the user why (a message, a toast), or do nothing.
Decline = Callable[[], Awaitable[None]]
# Whether an update may act on a chat's binding: None to let it through, else how to decline.
Admit = Callable[[ChatRecord | None], Decline | None]


class Bindings:
    """The chat bindings this process has seen, and turns on the plan a chat works on."""

    def __init__(self, service: PlanService, call: Caller) -> None:
        self.service = service
        self.call = call
        # The plan each chat works on, as last read here. A turn passes it to the service,
        # which checks it in the turn's own transaction (ChatMoved if another worker or
        # command rebound the chat), so it spares a read transaction per turn.
        self._cache: LRU[int, ChatRecord] = LRU(10_000)

    async def read(self, bot: Bot, chat_id: int) -> ChatRecord | None:
        """The plan this chat works on, read afresh (and remembered for `turn`)."""
        binding = await self.call(bot, chat_id, lambda: self.service.chat(chat_id))
        if binding is None:
            self._cache.pop(chat_id)
        else:
            self._cache.put(chat_id, binding)
        return binding

    def forget(self, chat_id: int) -> None:
        """This chat's plan changed (opened, left, moved): read it afresh next time."""
        self._cache.pop(chat_id)

    async def turn(
        self,
        bot: Bot,
        chat_id: int,
        admit: Admit,
        moved: Decline,
        work: Callable[[ChatRecord], Turn],
    ) -> tuple[ChatRecord, Turn] | None:
        """A turn on the plan this chat works on; None if it did not happen.

        The binding this process remembers is tried first: the service checks it in the
        turn's transaction. If the chat was rebound meanwhile (ChatMoved, say by another
        worker), or if `admit` declines the update on the remembered binding, the binding is
        read afresh and tried once more. `moved` is for a chat rebound twice while this
        update was applied.
        """
        remembered = self._cache.get(chat_id)
        for from_memory in (True, False):
            if from_memory and remembered is None:
                continue
            binding = remembered if from_memory else await self.read(bot, chat_id)
            decline = admit(binding)
            if decline is not None:
                if from_memory:
                    continue  # perhaps out of date: ask the database before declining
                await decline()
                return None
            assert binding is not None
            try:
                turn = await self.call(bot, chat_id, functools.partial(work, binding))
            except ChatMoved:
                self.forget(chat_id)
                continue
            return binding, turn
        await moved()
        return None

    def apply(
        self,
        binding: ChatRecord,
        event: Event,
        who: ProfessionalRecord,
        *,
        revision: int | None = None,
    ) -> Turn:
        """One event on the plan of `binding`, which the service checks again in the turn."""
        return self.service.handle(
            binding.plan_id,
            event,
            author=who.actor,
            revision=revision,
            professional=who,
            chat=binding,
        )
