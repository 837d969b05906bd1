"""The escalatieladder in Telegram: proposals sent privately with a button to escalate and
one to decline, /opschalen with a reason, and the outcome recorded with a button."""

from __future__ import annotations

import logging

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TelegramError

from bot.bootstrap import App
from bot.escalations import Escalated, EscalationService, Refused
from bot.telegram.acties import Pressed
from bot.telegram.kit import Asked, Kit
from bot.telegram_view import LADDER, LADDER_NO, LADDER_OUTCOME, LADDER_UP, Button
from storage.escalations import OUTCOMES, SOLVED, ClaimedProposal, EscalationRecord

log = logging.getLogger(__name__)

# Claimed at once; the rest wait for the next round.
BATCH = 50


def proposal_markup(kit: Kit, record: EscalationRecord) -> InlineKeyboardMarkup:
    """Opschalen naar <trede> and Niet opschalen, under a proposal."""
    up = kit.spec.message("knop_opschalen", trede=record.rung_name)
    no = kit.spec.message("knop_niet_opschalen")
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    up, callback_data=Button(LADDER, record.id, 0, LADDER_UP).encode()
                )
            ],
            [
                InlineKeyboardButton(
                    no, callback_data=Button(LADDER, record.id, 0, LADDER_NO).encode()
                )
            ],
        ]
    )


def outcome_markup(kit: Kit, escalation_id: int) -> InlineKeyboardMarkup:
    """Opgelost, Deels opgelost and Niet opgelost, under an escalation."""
    ladder = kit.app.escalations
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    ladder.outcome_text(outcome),
                    callback_data=Button(LADDER, escalation_id, 0, LADDER_OUTCOME + n).encode(),
                )
            ]
            for n, outcome in enumerate(OUTCOMES)
        ]
    )


class Proposals:
    """Claims the proposals due (an action overdue by the ladder's days, a negative decision)
    and sends them, for one bot process; like bot.reminders, in the same hours."""

    def __init__(self, app: App, kit: Kit) -> None:
        self.app = app
        self.kit = kit

    @property
    def ladder(self) -> EscalationService:
        return self.app.escalations

    async def send_due(self, bot: Bot) -> int:
        """Claim and send the proposals due now; the number sent."""
        sent = 0
        for claimed in self.ladder.claim(limit=BATCH):
            sent += await self._send(bot, claimed)
        return sent

    async def _send(self, bot: Bot, claimed: ClaimedProposal) -> int:
        record = claimed.escalation
        if claimed.user_id is None:  # pragma: no cover - claimed only with a professional
            return 0
        text = self.ladder.proposal_text(record)
        try:
            async with self.kit.permissions.lock(claimed.user_id):
                markup = proposal_markup(self.kit, record)
                await self.kit.say(bot, claimed.user_id, text, markup=markup)
        except TelegramError as exc:
            log.warning("proposal %d not sent: %s", record.id, type(exc).__name__)
            self.ladder.failed(claimed)
            return 0
        log.info("proposal %d sent", record.id)
        return 1


async def escalate(kit: Kit, asked: Asked) -> None:
    """/opschalen <waarom>: the plan open in this chat to its next rung."""
    bot, chat_id, who = asked.bot, asked.chat_id, asked.who
    binding = await kit.bindings.read(bot, chat_id)
    if binding is None:
        await kit.tell(bot, chat_id, "telegram_opschalen_geen_plan")
        return
    ladder = kit.app.escalations
    if not asked.args:
        rung = await kit.call(bot, chat_id, lambda: ladder.next_rung(binding.plan_id))
        if rung is None:
            await kit.tell(bot, chat_id, "opschalen_hoogste", trede=ladder.top().name)
            return
        usage = kit.spec.message("telegram_opschalen_gebruik")
        await kit.say(bot, chat_id, f"{ladder.next_text(binding.plan_id)}\n{usage}")
        return
    reason = " ".join(asked.args)
    done = await kit.call(
        bot,
        chat_id,
        lambda: ladder.by_hand(binding.plan_id, reason, actor=who.actor, professional=who),
    )
    await _said(kit, bot, chat_id, done)


async def _said(kit: Kit, bot: Bot, chat_id: int, done: Escalated | Refused) -> None:
    if isinstance(done, Refused):
        await kit.say(bot, chat_id, done.text(kit.spec))
        return
    markup = outcome_markup(kit, done.record.id)
    await kit.say(bot, chat_id, kit.app.escalations.escalated_text(done), markup=markup)


async def on_press(kit: Kit, pressed: Pressed) -> None:
    """A button under a proposal (escalate, decline) or an escalation (its outcome)."""
    bot, chat_id, button, who = pressed.bot, pressed.chat_id, pressed.button, pressed.who
    message = pressed.press.query.message
    ladder = kit.app.escalations
    if button.value in (LADDER_UP, LADDER_NO):
        done = await kit.call(
            bot,
            chat_id,
            lambda: ladder.answer(
                button.plan_id, button.value == LADDER_UP, actor=who.actor, professional=who
            ),
        )
        if isinstance(done, Refused) and done.key != "opschalen_niet":
            await pressed.toast(kit, done.key)
            return
        await pressed.press.answer()
        shown = (
            kit.spec.message("knop_niet_opschalen")
            if isinstance(done, Refused)
            else kit.spec.message("knop_opschalen", trede=done.record.rung_name)
        )
        await kit.replies.trace(message, shown)
        await _said(kit, bot, chat_id, done)
        return
    place = button.value - LADDER_OUTCOME
    if not 0 <= place < len(OUTCOMES):
        await pressed.toast(kit, "knop_verlopen")
        return
    outcome = OUTCOMES[place]
    recorded = await kit.call(
        bot,
        chat_id,
        lambda: ladder.record_outcome(
            button.plan_id, outcome, actor=who.actor, professional=who, propose_next=True
        ),
    )
    if isinstance(recorded, Refused):
        await pressed.toast(kit, recorded.key)
        return
    await pressed.press.answer()
    await kit.replies.trace(message, ladder.outcome_text(outcome))
    _, proposal = recorded
    await kit.tell(bot, chat_id, "uitkomst_vastgelegd", uitkomst=ladder.outcome_text(outcome))
    if outcome == SOLVED:
        return
    if proposal is None:
        await kit.tell(bot, chat_id, "opschalen_hoogste", trede=ladder.top().name)
        return
    text = ladder.proposal_text(proposal)
    await kit.say(bot, chat_id, text, markup=proposal_markup(kit, proposal))
