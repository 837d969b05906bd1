"""The plan as files in a private chat: the PDF at once, the Word file on request, and the
cost chart as a picture where it shows something; each export audited."""

from __future__ import annotations

import asyncio
import logging
from datetime import date

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ChatAction
from telegram.error import BadRequest

from bot.access import EXPORTED
from bot.bootstrap import App
from bot.render_pool import DocumentPool
from bot.service import Turn
from bot.telegram.failures import Caller
from bot.telegram.sending import retried, say
from bot.telegram_view import FORGET, WORD, Button
from dialogs import noted_open
from dialogs.display import rendement_view

log = logging.getLogger(__name__)

# Seconds without a document after which the document workers stop.
DOCUMENT_WORKER_IDLE = 300.0


class Files:
    """Makes and sends a plan's files; the worker processes that render them are its own."""

    def __init__(self, app: App, call: Caller) -> None:
        self.spec = app.dialog.spec
        self.renderer = app.renderer
        self.access = app.access
        self.call = call
        # Typst and python-docx hold the GIL: documents are made in worker processes (one per
        # core by default), which stop again when no document was asked for a while.
        self.documents = DocumentPool(
            app.settings.prompts_dir,
            idle_after=DOCUMENT_WORKER_IDLE,
            workers=app.settings.render_workers,
        )

    async def close(self) -> None:
        # Waits for a document being rendered; off the loop, as it blocks.
        await asyncio.to_thread(self.documents.close)

    def chart_helps(self, turn: Turn) -> bool:
        """Whether the cost chart goes along as a picture: only when the three scenarios are
        all entered. A picture opens inside the chat on a phone, where a PDF needs a viewer;
        the chart of a plan without its costs would show nothing (the PDF holds it anyway)."""
        return rendement_view(self.spec, turn.answers, self.renderer.fmt).complete

    async def send(
        self, bot: Bot, chat_id: int, turn: Turn, *, actor: str, offer_forget: bool
    ) -> None:
        """The plan as PDF, with a button for the Word file, and the cost chart as a picture
        when it helps (chart_helps); to a private chat only (Replies.deliver sees to that)."""
        # First: Forbidden here if the bot may not write to this chat, before anything else.
        await retried(lambda: bot.send_chat_action(chat_id, ChatAction.UPLOAD_DOCUMENT))
        chart = self.chart_helps(turn)
        # Recorded before the files go out: no export the audit log does not know of.
        exported = "pdf png" if chart else "pdf"
        await self.call(
            bot, chat_id, lambda: self.access.record(actor, EXPORTED, turn.plan_id, exported)
        )
        args = (turn.household, turn.answers, date.today(), noted_open(turn.outcome.data))
        # The Word file is made only when asked for: it is the slowest of the three.
        wanted = ("pdf", "png") if chart else ("pdf",)
        rendered = await self.documents.render_set(wanted, *args)
        name = f"doorbraakplan-{turn.household}"
        label = self.spec.message("telegram_word_knop")
        data = Button(WORD, turn.plan_id, turn.revision).encode()
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])
        await retried(
            lambda: bot.send_document(
                chat_id, document=rendered[0], filename=f"{name}.pdf", reply_markup=markup
            )
        )
        if chart:
            caption = self.spec.message("document_grafiek_titel")
            await retried(
                lambda: bot.send_photo(
                    chat_id, photo=rendered[1], filename=f"{name}-kosten.png", caption=caption
                )
            )
        if offer_forget:
            await self._offer_forget(bot, chat_id, turn.plan_id)

    async def send_word(self, bot: Bot, chat_id: int, turn: Turn, *, under: int) -> None:
        """The plan as a Word file (its export audited already, see PlanService.document);
        then the button that asked for it, under message `under`, goes."""
        await retried(lambda: bot.send_chat_action(chat_id, ChatAction.UPLOAD_DOCUMENT))
        docx = await self.documents.render(
            "docx", turn.household, turn.answers, date.today(), noted_open(turn.outcome.data)
        )
        name = f"doorbraakplan-{turn.household}.docx"
        await retried(lambda: bot.send_document(chat_id, document=docx, filename=name))
        try:
            await retried(lambda: bot.edit_message_reply_markup(chat_id, under, reply_markup=None))
        except BadRequest as exc:
            # A courtesy: a second tap is refused anyway (PlanService.document).
            log.info("the Word button was not removed (%s)", type(exc).__name__)

    async def _offer_forget(self, bot: Bot, chat_id: int, plan_id: int) -> None:
        """The plan is safe in the files now: offer to clear the chat of it. The button
        carries the id of its own message (see buttons.forget)."""
        offer = await say(bot, chat_id, self.spec.message("berichten_wissen_vraag"))
        last = offer[-1] if offer else 0
        data = Button(FORGET, plan_id, 0, last).encode()
        label = self.spec.message("berichten_wissen_knop")
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])
        await retried(lambda: bot.edit_message_reply_markup(chat_id, last, reply_markup=markup))
