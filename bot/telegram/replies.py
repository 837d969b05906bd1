"""A turn's replies as Telegram messages: texts joined with the question that follows."""

from __future__ import annotations

from typing import Any

from telegram import Bot, ForceReply, InlineKeyboardMarkup, Message
from telegram.error import Forbidden

from bot.bootstrap import App
from bot.service import Turn
from bot.telegram.bindings import GROUP
from bot.telegram.files import Files
from bot.telegram.permissions import Permissions
from bot.telegram.sending import flush, retried, say
from bot.telegram_view import esc, keyboard, question_html
from bot.unavailable import StorageUnavailable
from dialogs import Document, Done, Error, Question, Summary
from dialogs import Message as DialogMessage
from storage import ChatRecord


class Replies:
    """Sends what a turn says; to any chat, in reply to an update or on the bot's own."""

    def __init__(self, app: App, files: Files, permissions: Permissions) -> None:
        self.spec = app.dialog.spec
        self.renderer = app.renderer
        self.service = app.service
        self.files = files
        self.permissions = permissions

    async def deliver(
        self,
        bot: Bot,
        chat_id: int,
        turn: Turn,
        *,
        before: list[str] | None = None,
        group: ChatRecord | None = None,
        reply_to: Message | None = None,
        actor: str | None = None,
        privately_to: int | None = None,
        view: bool = False,
    ) -> None:
        """Send a turn's replies, combining texts with the question that follows them.

        In a group session the plan's files go to the private chat of `privately_to` (the
        facilitator), never into the group. With `view` (a plan only looked at) no offer to
        clear the chat follows the files: the chat is not about that plan.
        """
        pending = [esc(text) for text in before or []]
        in_group = group is not None and group.kind == GROUP
        for reply in turn.outcome.replies:
            if isinstance(reply, Error):
                pending.append(f"⚠️ {esc(reply.text)}")
            elif isinstance(reply, DialogMessage):
                pending.append(esc(reply.text))
            elif isinstance(reply, Summary):
                pending.append(esc(self.renderer.message(reply.part, turn.answers)))
            elif isinstance(reply, Document) and in_group:
                assert group is not None
                pending.append(esc(await self._privately(bot, turn, group, privately_to, actor)))
            elif isinstance(reply, Document):
                await flush(bot, chat_id, pending)
                pending = []
                await self.files.send(
                    bot, chat_id, turn, actor=actor or "onbekend", offer_forget=not view
                )
            elif isinstance(reply, Question):
                await self._ask(bot, chat_id, turn, reply, pending, group, reply_to)
                pending = []
            elif isinstance(reply, Done):
                continue
        await flush(bot, chat_id, pending)

    async def _privately(
        self,
        bot: Bot,
        turn: Turn,
        group: ChatRecord,
        user_id: int | None,
        actor: str | None,
    ) -> str:
        """The plan's files to the facilitator's private chat; the line that tells the group.

        The bot can only write to someone who started a private chat with it (Telegram
        answers Forbidden otherwise): then the group hears how to fix that, and gets no file.
        """
        name = self.permissions.facilitator(group)
        if user_id is None:
            return self.spec.message("telegram_plan_prive_kan_niet", gespreksleider=name)
        try:
            await self.files.send(
                bot, user_id, turn, actor=actor or "onbekend", offer_forget=False
            )
        except Forbidden:
            return self.spec.message("telegram_plan_prive_kan_niet", gespreksleider=name)
        return self.spec.message("telegram_plan_prive", gespreksleider=name)

    async def _ask(
        self,
        bot: Bot,
        chat_id: int,
        turn: Turn,
        question: Question,
        pending: list[str],
        group: ChatRecord | None,
        reply_to: Message | None,
    ) -> None:
        ideas: list[str] = []
        if group is not None and group.kind == GROUP and question.intro:
            try:
                found = self.service.suggestions(turn.plan_id, step=question.step)
            except StorageUnavailable:
                # The turn itself is stored already: ask its question, without the ideas,
                # rather than say that nothing was stored.
                found = []
            ideas = [s.text for s in found]
        text = "\n\n".join([*pending, question_html(question, self.spec, ideas)])
        markup: InlineKeyboardMarkup | ForceReply | None = keyboard(
            question, self.spec, turn.plan_id
        )
        reply_id = None
        if group is not None and group.kind == GROUP and not question.choices:
            # With privacy mode on, the bot only hears replies to its own messages: ask the
            # facilitator for a reply, and only the facilitator (selective).
            markup = ForceReply(selective=True)
            reply_id = reply_to.message_id if reply_to is not None else None
        await say(bot, chat_id, text, markup=markup, reply_to=reply_id, escape=False)

    async def retick(self, message: Any, turn: Turn) -> bool:
        """A tick on a multiple choice: update the buttons in place instead of a new message.

        This is where a pressed question is changed in place; showing the chosen answer in
        the question's text (and a toast for a refused tap) belongs here too.
        """
        replies = turn.outcome.replies
        if len(replies) != 1 or turn.outcome.answers or not isinstance(message, Message):
            return False
        question = replies[0]
        if not isinstance(question, Question) or not question.ticks:
            return False
        markup = keyboard(question, self.spec, turn.plan_id)
        await retried(lambda: message.edit_reply_markup(reply_markup=markup))
        return True
