"""The plan as files in a private chat: PDF, Word and the cost chart, each export audited."""

from __future__ import annotations

import asyncio
from datetime import date

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ChatAction

from bot.access import EXPORTED
from bot.bootstrap import App
from bot.render_pool import DocumentPool
from bot.service import Turn
from bot.telegram.failures import Caller
from bot.telegram.sending import retried, say
from bot.telegram_view import FORGET, Button
from dialogs import noted_open

# Seconds without a document after which the document worker process stops.
DOCUMENT_WORKER_IDLE = 300.0


class Files:
    """Makes and sends a plan's files; the worker process that renders them is its own."""

    def __init__(self, app: App, call: Caller) -> None:
        self.spec = app.dialog.spec
        self.access = app.access
        self.call = call
        # Typst and python-docx hold the GIL: documents are made in a worker process, which
        # stops again when no document was asked for a while.
        self.documents = DocumentPool(app.settings.prompts_dir, idle_after=DOCUMENT_WORKER_IDLE)

    async def close(self) -> None:
        # Waits for a document being rendered; off the loop, as it blocks.
        await asyncio.to_thread(self.documents.close)

    async def send(
        self, bot: Bot, chat_id: int, turn: Turn, *, actor: str, offer_forget: bool
    ) -> None:
        """The plan as PDF and Word file, and the cost chart as a picture; to a private chat
        only (Replies.deliver sees to that)."""
        # First: Forbidden here if the bot may not write to this chat, before anything else.
        await retried(lambda: bot.send_chat_action(chat_id, ChatAction.UPLOAD_DOCUMENT))
        # Recorded before the files go out: no export the audit log does not know of.
        await self.call(
            bot,
            chat_id,
            lambda: self.access.record(actor, EXPORTED, turn.plan_id, "pdf docx png"),
        )
        render, today = self.documents.render, date.today()
        opened = noted_open(turn.outcome.data)
        name = f"doorbraakplan-{turn.household}"
        pdf = await render("pdf", turn.household, turn.answers, today, opened)
        await retried(lambda: bot.send_document(chat_id, document=pdf, filename=f"{name}.pdf"))
        await retried(lambda: bot.send_chat_action(chat_id, ChatAction.UPLOAD_DOCUMENT))
        docx = await render("docx", turn.household, turn.answers, today, opened)
        await retried(lambda: bot.send_document(chat_id, document=docx, filename=f"{name}.docx"))
        chart = await render("png", turn.household, turn.answers, today, opened)
        caption = self.spec.message("document_grafiek_titel")
        await retried(
            lambda: bot.send_photo(
                chat_id, photo=chart, filename=f"{name}-kosten.png", caption=caption
            )
        )
        if offer_forget:
            await self._offer_forget(bot, chat_id, turn.plan_id)

    async def _offer_forget(self, bot: Bot, chat_id: int, plan_id: int) -> None:
        """The plan is safe in the files now: offer to clear the chat of it. The button
        carries the id of its own message (see buttons.forget)."""
        offer = await say(bot, chat_id, self.spec.message("berichten_wissen_vraag"))
        last = offer[-1] if offer else 0
        data = Button(FORGET, plan_id, 0, last).encode()
        label = self.spec.message("berichten_wissen_knop")
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])
        await retried(lambda: bot.edit_message_reply_markup(chat_id, last, reply_markup=markup))
