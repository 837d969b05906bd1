"""The plan as files in a private chat: the PDF at once; the Word file, and the cost chart as
a picture where it shows something, on request; each export audited."""

from __future__ import annotations

import asyncio
import logging
from datetime import date

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ChatAction
from telegram.error import BadRequest

from bot.access import EXPORTED
from bot.bootstrap import App
from bot.documents import AfterPlan
from bot.render_pool import DocumentPool
from bot.service import Turn
from bot.telegram.failures import Caller
from bot.telegram.sending import retried, say
from bot.telegram_view import FORGET, ON_REQUEST, WORD, Button
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
        # The plan's course, escalations and evaluations, for its documents.
        self.after = app.after
        # Typst and python-docx hold the GIL: documents are made in worker processes (by default
        # one per core but one), which stop again when no document was asked for a while.
        self.documents = DocumentPool(
            app.settings.prompts_dir,
            idle_after=DOCUMENT_WORKER_IDLE,
            workers=app.settings.render_workers,
        )

    async def close(self) -> None:
        # Waits for a document being rendered; off the loop, as it blocks.
        await asyncio.to_thread(self.documents.close)

    def chart_helps(self, turn: Turn) -> bool:
        """Whether the cost chart is offered as a picture: only when the three scenarios are
        all entered. A picture opens inside the chat on a phone, where a PDF needs a viewer;
        the chart of a plan without its costs would show nothing (the PDF holds it anyway)."""
        return rendement_view(self.spec, turn.answers, self.renderer.fmt).complete

    async def send(
        self, bot: Bot, chat_id: int, turn: Turn, *, actor: str, offer_forget: bool
    ) -> None:
        """The plan as PDF, with buttons for the Word file and, when it helps
        (chart_helps), the cost chart as a picture; to a private chat only (Replies.deliver
        sees to that). Only the PDF is rendered now: with a hundred plans finishing at once,
        every other file would make each of them wait longer for its PDF."""
        # First: Forbidden here if the bot may not write to this chat, before anything else.
        await retried(lambda: bot.send_chat_action(chat_id, ChatAction.UPLOAD_DOCUMENT))
        # Recorded before the file goes out: no export the audit log does not know of.
        await self.call(
            bot, chat_id, lambda: self.access.record(actor, EXPORTED, turn.plan_id, "pdf")
        )
        after = await self._after(bot, chat_id, turn)
        pdf = await self.documents.render(
            "pdf",
            turn.household,
            turn.answers,
            date.today(),
            noted_open(turn.outcome.data),
            after,
        )
        offered = ON_REQUEST if self.chart_helps(turn) else ON_REQUEST[:1]
        buttons = [
            InlineKeyboardButton(
                self.spec.message(f"telegram_knop_{fmt}"),
                callback_data=Button(WORD, turn.plan_id, turn.revision, index).encode(),
            )
            for index, fmt in enumerate(offered)
        ]
        name = f"doorbraakplan-{turn.household}"
        markup = InlineKeyboardMarkup([buttons])
        await retried(
            lambda: bot.send_document(
                chat_id, document=pdf, filename=f"{name}.pdf", reply_markup=markup
            )
        )
        if offer_forget:
            await self._offer_forget(bot, chat_id, turn.plan_id)

    async def send_on_request(
        self,
        bot: Bot,
        chat_id: int,
        turn: Turn,
        fmt: str,
        *,
        under: int,
        keep: InlineKeyboardMarkup | None,
    ) -> None:
        """The file a button under the PDF asked for: the Word file, or the chart as a
        picture (its export audited already, see PlanService.document); then the PDF's
        message `under` keeps only the buttons in `keep`."""
        await retried(lambda: bot.send_chat_action(chat_id, ChatAction.UPLOAD_DOCUMENT))
        after = await self._after(bot, chat_id, turn)
        content = await self.documents.render(
            fmt,
            turn.household,
            turn.answers,
            date.today(),
            noted_open(turn.outcome.data),
            after,
        )
        name = f"doorbraakplan-{turn.household}"
        if fmt == "png":
            caption = self.spec.message("document_grafiek_titel")
            await retried(
                lambda: bot.send_photo(
                    chat_id, photo=content, filename=f"{name}-kosten.png", caption=caption
                )
            )
        else:
            await retried(
                lambda: bot.send_document(chat_id, document=content, filename=f"{name}.{fmt}")
            )
        try:
            await retried(lambda: bot.edit_message_reply_markup(chat_id, under, reply_markup=keep))
        except BadRequest as exc:
            # A courtesy: a second tap is refused anyway (PlanService.document).
            log.info("the pressed button was not removed (%s)", type(exc).__name__)

    async def _after(self, bot: Bot, chat_id: int, turn: Turn) -> AfterPlan:
        """What the documents show of the plan after the interview (App.after)."""
        return await self.call(bot, chat_id, lambda: self.after(turn.plan_id, turn.outcome.data))

    async def _offer_forget(self, bot: Bot, chat_id: int, plan_id: int) -> None:
        """The plan is safe in the files now: offer to clear the chat of it. The button
        carries the id of its own message (see buttons.forget)."""
        offer = await say(bot, chat_id, self.spec.message("berichten_wissen_vraag"))
        last = offer[-1] if offer else 0
        data = Button(FORGET, plan_id, 0, last).encode()
        label = self.spec.message("berichten_wissen_knop")
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])
        await retried(lambda: bot.edit_message_reply_markup(chat_id, last, reply_markup=markup))
