"""The escalatieladder in Telegram, through a real Application and the Bot API stand-in, with
an injected clock: an overdue action gives one proposal (also after a restart), escalating
and the outcome by button, the next proposal names the next rung, the top has none above
it; /opschalen with a reason; overzicht shows the steps."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest

from bot.clock import FixedClock
from bot.telegram.ladder import Proposals
from tests.integration.test_telegram_acties import buttons
from tests.support.botapi import Call
from tests.support.harness import Harness, finish_plan, texts

# Monday 1 March 2027, 09:00 in Amsterdam; the plan's first actions are due on 8 March, so
# fourteen days late on Monday 22 March.
T0 = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
LATE = datetime(2027, 3, 22, 9, 0, tzinfo=UTC)
USER = 1001


@pytest.fixture
def harness_clock() -> FixedClock:
    return FixedClock(T0)


def with_buttons(calls: list[Call]) -> list[Call]:
    return [c for c in calls if c.method == "sendMessage" and buttons(c)]


async def test_an_overdue_action_climbs_the_ladder_by_buttons(bot: Harness) -> None:
    plan_id = finish_plan(bot)
    clock = bot.app.clock
    assert isinstance(clock, FixedClock)
    send = bot.application.bot
    proposals = Proposals(bot.app, bot.front.kit)
    assert await proposals.send_due(send) == 0  # on time
    clock.set(LATE)
    before = len(bot.stand_in.calls)
    assert await proposals.send_due(send) == 1  # two actions late: one proposal
    assert await proposals.send_due(send) == 0
    assert await Proposals(bot.app, bot.front.kit).send_due(send) == 0  # a restart
    [proposal] = with_buttons(bot.stand_in.calls[before:])
    assert proposal.params["chat_id"] == USER
    assert html.unescape(proposal.params["text"]).startswith(
        "⚠️ 'actieplan voor_doorbraak regelen' (Wijkteam) van huishouden 3012 staat al meer"
        " dan 14 dagen open, sinds 8 maart 2027. Opschalen naar Teamleider?"
    )
    assert list(buttons(proposal)) == ["Opschalen naar Teamleider", "Niet opschalen"]

    calls = await bot.press(buttons(proposal)["Opschalen naar Teamleider"].encode())
    [escalated] = with_buttons(calls)
    assert html.unescape(escalated.params["text"]) == (
        "Opgeschaald naar Teamleider (de teamleider van het sociaal wijkteam). Leg de"
        " uitkomst vast als die er is."
    )
    assert list(buttons(escalated)) == ["Opgelost", "Deels opgelost", "Niet opgelost"]
    [record] = [e for e in bot.app.escalations.of_plan(plan_id) if e.state == "opgeschaald"]
    assert record.author == bot.professionals[USER]
    assert record.reason == "Actie over de datum sinds 8 maart 2027"
    assert record.decided_at == LATE
    # Pressed again (a second device): nothing changes.
    again = await bot.press(buttons(proposal)["Opschalen naar Teamleider"].encode())
    assert "Dit voorstel is al beantwoord." in texts(again)

    # The outcome; the next proposal names the next rung, up to the top.
    for rung, outcome in (
        ("Doorbraakteam", "Niet opgelost"),
        ("Gemeentelijke maatwerktafel", "Deels opgelost"),
        ("Landelijke escalatieroute", "Niet opgelost"),
    ):
        calls = await bot.press(buttons(escalated)[outcome].encode())
        assert f"Uitkomst vastgelegd: {outcome}." in texts(calls)
        [proposal] = with_buttons(calls)
        assert list(buttons(proposal)) == [f"Opschalen naar {rung}", "Niet opschalen"]
        calls = await bot.press(buttons(proposal)[f"Opschalen naar {rung}"].encode())
        [escalated] = with_buttons(calls)
        assert html.unescape(escalated.params["text"]).startswith(f"Opgeschaald naar {rung} (")
    calls = await bot.press(buttons(escalated)["Niet opgelost"].encode())
    assert texts(calls)[-1] == (
        "Het plan staat op de hoogste trede van de escalatieladder (Landelijke"
        " escalatieroute); hoger kan niet."
    )
    outcomes = [e.outcome for e in bot.app.escalations.of_plan(plan_id) if e.outcome]
    assert outcomes == ["niet", "deels", "niet", "niet"]
    # Nothing above the top is proposed, however late.
    clock.set(datetime(2027, 6, 1, 9, 0, tzinfo=UTC))
    assert await proposals.send_due(send) == 0


async def test_declining_a_proposal(bot: Harness) -> None:
    plan_id = finish_plan(bot)
    clock = bot.app.clock
    assert isinstance(clock, FixedClock)
    clock.set(LATE)
    before = len(bot.stand_in.calls)
    await Proposals(bot.app, bot.front.kit).send_due(bot.application.bot)
    [proposal] = with_buttons(bot.stand_in.calls[before:])
    calls = await bot.press(buttons(proposal)["Niet opschalen"].encode())
    assert "Niet opgeschaald." in texts(calls)
    [record] = bot.app.escalations.of_plan(plan_id)
    assert record.state == "afgewezen"
    # A colleague without the plan cannot press it.
    calls = await bot.press(
        buttons(proposal)["Opschalen naar Teamleider"].encode(), user_id=2002, chat_id=2002
    )
    assert "Dit plan is niet (meer) van jou." in texts(calls)


async def test_opschalen_with_a_reason_and_overzicht(bot: Harness) -> None:
    calls = await bot.say("/opschalen het ligt stil")
    assert texts(calls) == [
        "Open eerst het plan (/hervat), en typ dan /opschalen met erachter waarom."
    ]
    await bot.say("/nieuw 4040")
    calls = await bot.say("/opschalen")
    assert texts(calls) == [
        "Volgende trede: Teamleider (de teamleider van het sociaal wijkteam; beslist over:"
        " inzet van het eigen team, voorrang en afwijken van de werkinstructie).\nSchrijf"
        " erachter waarom, bijvoorbeeld: /opschalen de aanvraag ligt al zes weken stil."
    ]
    calls = await bot.say("/opschalen mail naar jan@example.org")
    assert "e-mailadres" in texts(calls)[0]
    calls = await bot.say("/opschalen de aanvraag ligt al zes weken stil")
    [escalated] = with_buttons(calls)
    assert list(buttons(escalated)) == ["Opgelost", "Deels opgelost", "Niet opgelost"]
    calls = await bot.say("/overzicht")
    shown = "\n".join(texts(calls))
    assert "Escalatieladder:" in shown
    assert (
        "opgeschaald naar Teamleider · de aanvraag ligt al zes weken stil · nog geen uitkomst"
        in shown
    )
    calls = await bot.say("/opschalen", chat_id=-100123, chat_type="group")
    assert texts(calls) == ["Opschalen doe je in een privégesprek met mij, met het plan open."]
