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

from bot.actions import cells, due_text, working_day
from bot.bootstrap import App
from bot.clock import AMSTERDAM, day_off
from bot.config import Settings
from bot.lessons import owner_text
from bot.telegram.acties import action_markup, follow_markup
from bot.telegram.kit import Kit
from bot.telegram.ladder import Proposals
from bot.telegram.lessen import lesson_markup
from bot.telegram_view import EVAL
from bot.unavailable import StorageUnavailable
from storage import UnitOfWork
from storage.actions import ActionRecord
from storage.lessons import LessonRecord
from storage.reminders import Claimed

log = logging.getLogger(__name__)

# Claimed at once; the rest wait for the next round.
BATCH = 50


def may_send(now: datetime, settings: Settings) -> bool:
    """Whether reminders may go out at `now`: in the configured hours, on a working day
    (not at a weekend, nor on a public holiday) unless those are allowed."""
    local = now.astimezone(AMSTERDAM)
    if day_off(local.date()) and not settings.reminder_weekend:
        return False
    return settings.reminder_hour <= local.hour < settings.reminder_until


@dataclass(frozen=True)
class Note:
    """A claimed reminder with what its message says."""

    claimed: Claimed
    household: str
    plan_status: str
    action: ActionRecord | None
    # Whether its recipient works on the plan (not only owns the action).
    on_plan: bool = True
    # A reminder about a lesson (issue 16): the lesson, and its owner as shown.
    lesson: LessonRecord | None = None
    owner: str = ""


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
                await self.round(bot)
            except StorageUnavailable as exc:
                log.warning("reminders not read: %s", type(exc.__cause__ or exc).__name__)
            except Exception as exc:  # the loop must outlive one bad round
                log.error("reminder round failed: %s", type(exc).__name__)
            await asyncio.sleep(self.app.settings.reminder_every)

    async def round(self, bot: Bot) -> int:
        """One round: the reminders due now, then the escalatieladder's proposals; the
        number of messages sent."""
        sent = await self.send_due(bot)
        if may_send(self.app.clock.now(), self.app.settings):
            sent += await self.proposals.send_due(bot)
        return sent

    async def send_due(self, bot: Bot) -> int:
        """Claim and send the reminders due now; the number sent."""
        now = self.app.clock.now()
        if not may_send(now, self.app.settings):
            return 0
        notes = self._claim(now.astimezone(AMSTERDAM).date(), now)
        sent = 0
        told: set[int | None] = set()
        for note in notes:
            # Several at once: only the first makes a sound on the professional's phone.
            user_id = note.claimed.user_id
            sent += await self._send(bot, note, quiet=user_id in told)
            told.add(user_id)
        return sent

    def _claim(self, today: date, now: datetime) -> list[Note]:
        notes = []
        # claim=False: no Telegram update is being applied; the claim is the reminders'.
        with self.app.units(claim=False) as uow:
            for claimed in uow.reminders.claim_due(today=today, now=now, limit=BATCH):
                if claimed.lesson_id is not None:
                    notes.append(self._lesson_note(uow, claimed))
                    continue
                assert claimed.plan_id is not None  # about a plan, then
                plan = uow.plans.get(claimed.plan_id)
                assert plan is not None  # claimed only for a plan that exists
                action = None if claimed.action_id is None else uow.actions.get(claimed.action_id)
                on_plan = (
                    action is None
                    or action.owner_id is None
                    or uow.access.role(plan.id, action.owner_id) is not None
                )
                notes.append(Note(claimed, plan.household, plan.status, action, on_plan))
        # Committed: now they may go out.
        return notes

    def _lesson_note(self, uow: UnitOfWork, claimed: Claimed) -> Note:
        assert claimed.lesson_id is not None
        lesson = uow.lessons.get(claimed.lesson_id)
        assert lesson is not None  # claimed only for a lesson that is open
        names = {}
        if lesson.owner_id is not None:
            found = uow.access.colleague(lesson.owner_id)
            names[lesson.owner_id] = "" if found is None else found[0].name
        owner = owner_text(self.kit.spec, lesson, names)
        return Note(claimed, "", "", None, lesson=lesson, owner=owner)

    async def _send(self, bot: Bot, note: Note, *, quiet: bool = False) -> int:
        claimed = note.claimed
        if claimed.user_id is None:  # pragma: no cover - claimed only with a professional
            return 0
        text, markup = self._message(note)
        try:
            async with self.kit.permissions.lock(claimed.user_id):
                await self.kit.say(bot, claimed.user_id, text, markup=markup, quiet=quiet)
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
        # Due at a weekend or on a holiday and sent on the first working day after it: not
        # late, nothing was missed.
        late = claimed.due_on < today and working_day(claimed.due_on) < today
        day = due_text(spec, claimed.due_on)
        if note.lesson is not None:
            key = "herinnering_les" if claimed.due_on >= today else "herinnering_les_laat"
            text = spec.message(
                key, nummer=note.lesson.id, tekst=note.lesson.text, eigenaar=note.owner, datum=day
            )
            return text, lesson_markup(self.kit, note.lesson)
        assert claimed.plan_id is not None
        if note.action is None:
            key = (
                "herinnering_evaluatie"
                if claimed.due_on == today
                else "herinnering_evaluatie_laat"
            )
            text = spec.message(key, huishouden=note.household, datum=day)
            plan = claimed.plan_id
            return text, follow_markup(self.kit, EVAL, plan, plan, note.plan_status)
        parts = cells(note.action.point)
        key = "herinnering_actie"
        if late:
            key = "herinnering_actie_laat"
        elif claimed.due_on < today:
            key = "herinnering_actie_vrije_dag"
        text = spec.message(
            key, wat=parts.what, wie=parts.who, huishouden=note.household, datum=day
        )
        return text, action_markup(self.kit, note.action, on_plan=note.on_plan)
