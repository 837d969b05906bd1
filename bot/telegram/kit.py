"""What every Telegram handler works with, wired once per front end; a command as asked."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import Bot, Message, Update
from telegram.ext import ContextTypes

from bot.access import AccessService
from bot.bootstrap import App
from bot.service import PlanService
from bot.telegram.bindings import Bindings
from bot.telegram.failures import Caller
from bot.telegram.files import Files
from bot.telegram.permissions import Permissions
from bot.telegram.replies import Replies
from bot.telegram.sending import Markup, say
from dialogs import Interview
from storage.access import ProfessionalRecord

Context = ContextTypes.DEFAULT_TYPE


@dataclass(frozen=True)
class Kit:
    """The parts of one front end, for handlers written as plain functions."""

    app: App
    call: Caller
    bindings: Bindings
    permissions: Permissions
    files: Files
    replies: Replies

    @classmethod
    def wire(cls, app: App) -> Kit:
        call = Caller(app.dialog.spec)
        bindings = Bindings(app.service, call)
        permissions = Permissions(app, call, bindings)
        files = Files(app, call)
        return cls(app, call, bindings, permissions, files, Replies(app, files, permissions))

    @property
    def spec(self) -> Interview:
        return self.app.dialog.spec

    @property
    def service(self) -> PlanService:
        return self.app.service

    @property
    def access(self) -> AccessService:
        return self.app.access

    async def say(
        self,
        bot: Bot,
        chat_id: int,
        text: str,
        *,
        markup: Markup | None = None,
        quiet: bool = False,
    ) -> list[int]:
        return await say(bot, chat_id, text, markup=markup, quiet=quiet)

    async def tell(
        self, bot: Bot, chat_id: int, key: str, *, markup: Markup | None = None, **values: Any
    ) -> list[int]:
        """Say the message `key` of prompts/messages.yaml; the ids of the messages sent."""
        return await say(bot, chat_id, self.spec.message(key, **values), markup=markup)


@dataclass(frozen=True)
class Asked:
    """A command from a registered professional, with its chat's lock held."""

    update: Update
    context: Context
    message: Message
    who: ProfessionalRecord

    @property
    def bot(self) -> Bot:
        return self.context.bot

    @property
    def chat_id(self) -> int:
        return self.message.chat_id

    @property
    def args(self) -> list[str]:
        return list(self.context.args or [])

    @property
    def first_name(self) -> str:
        user = self.update.effective_user
        return user.first_name if user is not None else ""


# A command's handler in the command table (bot.telegram.commands).
CommandFn = Callable[[Kit, Asked], Awaitable[None]]
