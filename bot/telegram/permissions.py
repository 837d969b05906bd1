"""Who may act in a chat: registered professionals, a session's facilitator, strangers."""

from __future__ import annotations

import asyncio
import re
import weakref
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext

from telegram import Bot, Update

from bot.bootstrap import App
from bot.telegram.bindings import PRIVATE, Bindings, Decline
from bot.telegram.failures import Caller
from bot.telegram.sending import say
from storage import ChatRecord
from storage.access import ProfessionalRecord
from storage.cache import LRU

INVITE_PREFIX, SHARE_PREFIX = "UIT", "DEEL"


def looks_like_code(text: str, prefix: str) -> bool:
    """`UIT-ABCD-EFGH` / `DEEL-...` as typed or pasted, in any case and spacing."""
    compact = "".join(text.upper().split())
    return re.fullmatch(rf"{prefix}-[A-Z0-9]{{4}}-[A-Z0-9]{{4}}", compact) is not None


class Permissions:
    """The one preamble of every update that acts (`identified`), and the names and
    refusals that go with who may do what."""

    def __init__(self, app: App, call: Caller, bindings: Bindings) -> None:
        self.spec = app.dialog.spec
        self.access = app.access
        self.call = call
        self.bindings = bindings
        # A registration never changes or goes away: a known professional is remembered.
        self._professionals: LRU[int, ProfessionalRecord] = LRU(10_000)
        # A facilitator's first name per (group, facilitator), as the group knows them: from
        # the update that started the session or their latest message there. Not stored in
        # the database; after a restart the refusals say "de gespreksleider" until then.
        self.facilitator_names: LRU[tuple[int, str], str] = LRU(10_000)
        # Unregistered members told, once per session, that only professionals add ideas:
        # (group, plan of the session or 0, Telegram user).
        self._outsiders_told: LRU[tuple[int, int, int], bool] = LRU(10_000)
        # One lock per chat: with concurrent updates, a chat's updates still run one at a
        # time and in the order Telegram sent them (asyncio locks wake waiters in order).
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    def lock(self, chat_id: int) -> asyncio.Lock:
        lock = self._locks.get(chat_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[chat_id] = lock
        return lock

    @asynccontextmanager
    async def identified(
        self, bot: Bot, chat_id: int, user_id: int, *, stranger: Decline
    ) -> AsyncIterator[ProfessionalRecord | None]:
        """The chat's updates one at a time; within, the registered professional who sent
        this one, or None after `stranger` told an unregistered user (or not) why not."""
        async with self.lock(chat_id):
            who = await self.professional(bot, user_id, chat_id)
            if who is None:
                await stranger()
            yield who

    def sender_of(
        self, bot: Bot, update: Update, *, quiet: bool = False
    ) -> AbstractAsyncContextManager[ProfessionalRecord | None]:
        """`identified` for a message: an unknown user may register by sending an invite
        code in a private chat; anything else gets one polite refusal (none if `quiet`),
        and nothing of theirs is stored."""
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None:
            return nullcontext(None)

        async def stranger() -> None:
            await self._stranger(bot, update, quiet=quiet)

        return self.identified(bot, chat.id, user.id, stranger=stranger)

    async def professional(
        self, bot: Bot, user_id: int, chat_id: int
    ) -> ProfessionalRecord | None:
        # An unknown user is looked up every time: they may have registered meanwhile.
        known = self._professionals.get(user_id)
        if known is not None:
            return known
        found = await self.call(bot, chat_id, lambda: self.access.professional(user_id))
        if found is not None:
            self._professionals.put(user_id, found)
        return found

    def remember(self, user_id: int, who: ProfessionalRecord) -> None:
        """A professional as just read from the database (a role changed, say)."""
        self._professionals.put(user_id, who)

    async def _stranger(self, bot: Bot, update: Update, *, quiet: bool) -> None:
        chat, user, message = (
            update.effective_chat,
            update.effective_user,
            update.effective_message,
        )
        assert chat is not None and user is not None
        text = message.text if message is not None and message.text else ""
        if chat.type != PRIVATE:
            # Nothing about invite codes in a group: one short line per session, at most.
            if not quiet:
                binding = await self.bindings.read(bot, chat.id)
                told = (chat.id, binding.plan_id if binding else 0, user.id)
                if self._outsiders_told.get(told) is None:
                    self._outsiders_told.put(told, True)
                    await say(bot, chat.id, self.spec.message("telegram_alleen_professionals"))
        elif looks_like_code(text, INVITE_PREFIX):
            # Telegram's first_name is what colleagues see when they choose an action's owner.
            registered = await self.call(
                bot, chat.id, lambda: self.access.register(text, user.id, user.first_name)
            )
            key = "toegang_welkom" if registered is not None else "toegang_code_ongeldig"
            await say(bot, chat.id, self.spec.message(key))
        elif not quiet:
            await say(bot, chat.id, self.spec.message("toegang_onbekend"))

    async def may_address(self, bot: Bot, update: Update) -> bool:
        """In a private chat always; in a group only the facilitator, to keep it quiet."""
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None:
            return False
        if chat.type == PRIVATE:
            return True
        who = await self.professional(bot, user.id, chat.id)
        binding = await self.bindings.read(bot, chat.id)
        return who is not None and binding is not None and binding.facilitator == who.actor

    def remember_facilitator(self, chat_id: int, actor: str, name: str) -> None:
        """The group knows its facilitator by name; the bot keeps it for its refusals."""
        self.facilitator_names.put((chat_id, actor), name)

    def facilitator(self, binding: ChatRecord) -> str:
        """The session's facilitator as the group knows them, never by an internal id."""
        name = self.facilitator_names.get((binding.chat_id, binding.facilitator or ""))
        if name:
            return self.spec.message("gespreksleider_naam", naam=name)
        return self.spec.message("gespreksleider_zonder_naam")

    def facilitator_only(self, binding: ChatRecord) -> str:
        return self.spec.message(
            "telegram_alleen_gespreksleider", gespreksleider=self.facilitator(binding)
        )
