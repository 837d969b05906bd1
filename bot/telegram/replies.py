"""A turn's replies as Telegram messages: texts joined with the question that follows."""

from __future__ import annotations

import functools
import logging
import textwrap
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot, ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden

from bot.bootstrap import App
from bot.consent import SharingNote
from bot.service import Turn
from bot.telegram import poster
from bot.telegram.bindings import GROUP
from bot.telegram.files import Files
from bot.telegram.permissions import Permissions
from bot.telegram.sending import flush, retried, say
from bot.telegram_view import (
    MAX_MESSAGE,
    SHARE,
    SUBMIT_PLAN,
    Button,
    esc,
    keyboard,
    question_html,
)
from bot.unavailable import StorageUnavailable
from dialogs import Document, Done, Error, Question, Summary
from dialogs import Message as DialogMessage
from dialogs.status import PlanStatus
from storage import ChatRecord

log = logging.getLogger(__name__)
# Telegram shows at most 200 characters in the toast that answers a button press.
MAX_TOAST = 200


class Replies:
    """Sends what a turn says; to any chat, in reply to an update or on the bot's own."""

    def __init__(self, app: App, files: Files, permissions: Permissions) -> None:
        self.spec = app.dialog.spec
        self.renderer = app.renderer
        self.service = app.service
        self.files = files
        self.permissions = permissions
        self.course = app.course

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
            elif isinstance(reply, SharingNote):
                if reply.finish:
                    pending.append(esc(reply.finish))
                await flush(bot, chat_id, pending)
                pending = []
                await self.share_note(bot, chat_id, turn.plan_id)
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
                if turn.outcome.status == PlanStatus.FINISHED and not view:
                    await self.offer_submit(bot, chat_id, turn.plan_id)
            elif isinstance(reply, Question):
                await self._ask(bot, chat_id, turn, reply, pending, group, reply_to)
                pending = []
            elif isinstance(reply, Done):
                continue
        await flush(bot, chat_id, pending)

    async def share_note(self, bot: Bot, chat_id: int, plan_id: int) -> None:
        """The finish message's line about sharing the plan's texts, with its button."""
        label = self.spec.message("delen_knop_nee")
        data = Button(SHARE, plan_id, 0, 0).encode()
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])
        await say(bot, chat_id, self.spec.message("delen_klaar_telegram"), markup=markup)

    async def offer_submit(self, bot: Bot, chat_id: int, plan_id: int) -> None:
        """Under a finished plan's files: the button that submits it to the Doorbraakteam
        (bot.telegram.verloop), if opvolging.yaml names one."""
        if self.course.config.team is None:
            return
        data = Button(SUBMIT_PLAN, plan_id).encode()
        label = self.spec.message("indienen_knop")
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])
        await say(bot, chat_id, self.spec.message("indienen_vraag"), markup=markup)

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
            await poster.offer(bot, self.spec, user_id, turn.plan_id)
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
        in_group = group is not None and group.kind == GROUP
        if in_group and question.choices and question.kind not in ("choice", "multichoice"):
            # Buttons and typed text both answer it (a cost line, `Overnemen`): the keyboard
            # stays, so say how typed text reaches a bot that hears only replies.
            text += "\n\n" + esc(self.spec.message("telegram_groep_typ_als_reactie"))
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
        """A tick on a multiple choice: update the buttons in place instead of a new message."""
        replies = turn.outcome.replies
        if len(replies) != 1 or turn.outcome.answers or not isinstance(message, Message):
            return False
        question = replies[0]
        if not isinstance(question, Question) or not question.ticks:
            return False
        await self._rekey(message, question, turn.plan_id)
        return True

    @staticmethod
    def refusal(turn: Turn, revision: int) -> str | None:
        """The toast for a press the dialog refused (too many ticks, nothing ticked, a button
        of an old question), or None if the press was taken.

        The dialog answers a refused press with its error and the same question again; under
        a button the error is a toast, and the question is not sent a second time.
        """
        replies = turn.outcome.replies
        if turn.outcome.answers or len(replies) < 2:
            return None
        *errors, question = replies
        if not isinstance(question, Question) or not all(isinstance(e, Error) for e in errors):
            return None
        if question.revision != revision and not question.ticks:
            return None  # the plan moved on: another question, to be sent
        text = " ".join(e.text for e in errors if isinstance(e, Error))
        return textwrap.shorten(text, MAX_TOAST, placeholder="…")

    async def refused(self, message: Any, turn: Turn, revision: int) -> None:
        """After a refusal's toast: the question's buttons stay, renewed if the plan's
        revision moved (a cleared tick list), so that the next press is not stale."""
        question = turn.outcome.replies[-1]
        if (
            isinstance(message, Message)
            and isinstance(question, Question)
            and question.revision != revision
        ):
            await self._rekey(message, question, turn.plan_id)

    async def trace(self, message: Any, answer: str | None) -> None:
        """A question that was answered with a button: its message keeps its text, shows the
        answer under it and loses its buttons, so the chat reads as a transcript and an old
        keyboard cannot be pressed again. Without `answer` only the buttons go."""
        if not isinstance(message, Message):
            return  # too old for Telegram to show us: nothing to edit
        line = esc(self.spec.message("telegram_gekozen", antwoord=answer or ""))
        text = message.text
        edit: Callable[[], Awaitable[Any]]
        if answer and text and len(text) + 2 + len(line) <= MAX_MESSAGE:
            edit = functools.partial(
                message.edit_text, f"{message.text_html}\n\n{line}", parse_mode=ParseMode.HTML
            )
        else:
            edit = functools.partial(message.edit_reply_markup, reply_markup=None)
        try:
            await retried(edit)
        except BadRequest as exc:
            # The trace is a courtesy: the answer is stored, and the next question follows.
            log.info("a pressed question was not edited (%s)", type(exc).__name__)

    async def _rekey(self, message: Message, question: Question, plan_id: int) -> None:
        markup = keyboard(question, self.spec, plan_id)
        await retried(lambda: message.edit_reply_markup(reply_markup=markup))
