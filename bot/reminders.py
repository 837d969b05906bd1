"""Reminders out: the database says what is due; this loop claims it and sends it.

Every `reminder_every` seconds, in the hours reminders may go out (Dutch time; not at night,
not at weekends unless configured), one unit of work claims the due reminders and marks them
sent (storage.reminders: on PostgreSQL with FOR UPDATE SKIP LOCKED, so several workers share
the schedule); only after it has committed are they sent. A send that fails is handed back
to the schedule, to be tried again after a pause. A process killed between the commit and
the send loses that one reminder; one that died before the commit loses none.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, datetime

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import TelegramError

from bot.actions import cells, due_text
from bot.bootstrap import App
from bot.clock import AMSTERDAM
from bot.config import Settings
from bot.telegram.acties import action_markup, follow_markup
from bot.telegram.kit import Kit
from bot.telegram.ladder import Proposals
from bot.telegram_view import EVAL
from bot.unavailable import StorageUnavailable
from storage.actions import ActionRecord
from storage.reminders import Claimed

log = logging.getLogger(__name__)

# Claimed at once; the rest wait for the next round.
BATCH = 50


def may_send(now: datetime, settings: Settings) -> bool:
    """Whether reminders may go out at `now`: in the configured hours, on a weekday unless
    weekends are allowed."""
    local = now.astimezone(AMSTERDAM)
    if local.weekday() >= 5 and not settings.reminder_weekend:
        return False
    return settings.reminder_hour <= local.hour < settings.reminder_until


@dataclass(frozen=True)
class Note:
    """A claimed reminder with what its message says."""

    claimed: Claimed
    household: str
    plan_status: str
    action: ActionRecord | None


class Reminders:
    """Claims due reminders and sends them, for one bot process."""

    def __init__(self, app: App, kit: Kit) -> None:
        self.app = app
        self.kit = kit
        # The escalatieladder's proposals go out in the same rounds and hours.
        self.proposals = Proposals(app, kit)

    async def run(self, bot: Bot) -> None:
        """Send what is due, every `reminder_every` seconds, until cancelled."""
        while True:
            try:
                await self.send_due(bot)
                if may_send(self.app.clock.now(), self.app.settings):
                    await self.proposals.send_due(bot)
            except StorageUnavailable as exc:
                log.warning("reminders not read: %s", type(exc.__cause__ or exc).__name__)
            except Exception as exc:  # the loop must outlive one bad round
                log.error("reminder round failed: %s", type(exc).__name__)
            await asyncio.sleep(self.app.settings.reminder_every)

    async def send_due(self, bot: Bot) -> int:
        """Claim and send the reminders due now; the number sent."""
        now = self.app.clock.now()
        if not may_send(now, self.app.settings):
            return 0
        notes = self._claim(now.astimezone(AMSTERDAM).date(), now)
        sent = 0
        for note in notes:
            sent += await self._send(bot, note)
        return sent

    def _claim(self, today: date, now: datetime) -> list[Note]:
        notes = []
        # claim=False: no Telegram update is being applied; the claim is the reminders'.
        with self.app.units(claim=False) as uow:
            for claimed in uow.reminders.claim_due(today=today, now=now, limit=BATCH):
                plan = uow.plans.get(claimed.plan_id)
                assert plan is not None  # claimed only for a plan that exists
                action = None if claimed.action_id is None else uow.actions.get(claimed.action_id)
                notes.append(Note(claimed, plan.household, plan.status, action))
        # Committed: now they may go out.
        return notes

    async def _send(self, bot: Bot, note: Note) -> int:
        claimed = note.claimed
        if claimed.user_id is None:  # pragma: no cover - claimed only with a professional
            return 0
        text, markup = self._message(note)
        try:
            async with self.kit.permissions.lock(claimed.user_id):
                await self.kit.say(bot, claimed.user_id, text, markup=markup)
        except TelegramError as exc:
            log.warning("reminder %d not sent: %s", claimed.id, type(exc).__name__)
            now = self.app.clock.now()
            with self.app.units(claim=False) as uow:
                uow.reminders.failed(claimed.id, claimed.attempts, now)
            return 0
        log.info("reminder %d sent", claimed.id)
        return 1

    def _message(self, note: Note) -> tuple[str, InlineKeyboardMarkup]:
        spec, claimed = self.kit.spec, note.claimed
        today = self.app.clock.now().astimezone(AMSTERDAM).date()
        late = claimed.due_on < today
        day = due_text(spec, claimed.due_on)
        if note.action is None:
            key = "herinnering_evaluatie_laat" if late else "herinnering_evaluatie"
            text = spec.message(key, huishouden=note.household, datum=day)
            plan = claimed.plan_id
            return text, follow_markup(self.kit, EVAL, plan, plan, note.plan_status)
        parts = cells(note.action.point)
        key = "herinnering_actie_laat" if late else "herinnering_actie"
        text = spec.message(
            key, wat=parts.what, wie=parts.who, huishouden=note.household, datum=day
        )
        return text, action_markup(self.kit, note.action)
