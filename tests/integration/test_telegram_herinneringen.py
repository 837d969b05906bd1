"""/herinneringen and a registered colleague as an action's owner, through a real Application
and the Bot API stand-in, with an injected clock; and sent reminders through export and
import."""

from __future__ import annotations

import html
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest

from bot import exchange
from bot.bootstrap import bootstrap
from bot.clock import FixedClock, holidays
from bot.config import Settings
from bot.reminders import Reminders, may_send
from bot.telegram_view import OWN, OWN_SET, Button
from storage.access import OWNER
from tests.conftest import ROOT
from tests.integration.test_telegram_acties import (
    DUE,
    USER,
    action_messages,
    at,
    buttons,
    clock_of,
)
from tests.integration.test_telegram_acties import (
    harness_clock as harness_clock,  # the clock: Monday 1 March 2027, 09:00
)
from tests.support.botapi import Call
from tests.support.harness import MEMBER_A, Harness, finish_plan, texts

SCHEMA = json.loads((ROOT / "docs" / "plan.schema.json").read_text(encoding="utf-8"))


def reminders_in(calls: list[Call]) -> list[Call]:
    return [
        c
        for c in calls
        if c.method == "sendMessage" and str(c.params.get("text", "")).startswith("⏰")
    ]


async def send_at(bot: Harness, moment: datetime) -> list[Call]:
    """The reminders a round at `moment` sends."""
    clock_of(bot).set(moment)
    before = len(bot.stand_in.calls)
    await Reminders(bot.app, bot.front.kit).send_due(bot.application.bot)
    return reminders_in(bot.stand_in.calls[before:])


async def test_reminders_off_sends_none_and_on_again_sends_the_next(bot: Harness) -> None:
    plan_id = finish_plan(bot)
    shown = texts(await bot.say("/herinneringen"))
    assert shown == [
        "Herinneringen staan aan: op de ochtend dat een actie of evaluatie aan de beurt is, "
        "krijg je een bericht.\n"
        "Ze komen op werkdagen tussen 9 en 18 uur, niet 's nachts, niet in het weekend en "
        "niet op feestdagen.\n"
        "Uitzetten: /herinneringen uit. Weer aanzetten: /herinneringen aan."
    ]
    off = texts(await bot.say("/herinneringen uit"))
    assert off[0].startswith("Herinneringen staan uit tot je /herinneringen aan stuurt.")

    # The morning two actions are due: nothing goes out, and nothing is kept for later.
    assert await send_at(bot, at(DUE, 9, 5)) == []
    with bot.app.units(read_only=True) as uow:
        assert uow.reminders.sent() == []
        skipped = [r for r in uow.reminders.of_plan(plan_id) if r.skipped_at is not None]
    assert [r.due_on for r in skipped] == [DUE, DUE]
    shown = texts(await bot.say("/herinneringen"))
    assert shown[0].startswith("Herinneringen staan uit sinds 1 maart 2027.")

    # On again the next day: the missed ones do not flood in; the reply points to /acties.
    clock_of(bot).set(at(DUE + timedelta(days=1), 9))
    on = texts(await bot.say("/herinneringen aan"))
    assert on == [
        "Herinneringen staan weer aan.\nOpen acties over hun datum: 2. Je ziet ze met /acties."
    ]
    assert await send_at(bot, at(DUE + timedelta(days=1), 9, 5)) == []
    # The next ones due (1 March 2028, a Wednesday) come, once: the first with a sound, the
    # second quietly.
    sent = await send_at(bot, at(date(2028, 3, 1), 9))
    assert len(sent) == 2
    assert "disable_notification" not in sent[0].params
    assert sent[1].params.get("disable_notification") is True
    assert await send_at(bot, at(date(2028, 3, 1), 11)) == []

    assert texts(await bot.say("/herinneringen zo")) == [
        "Uitzetten: /herinneringen uit. Weer aanzetten: /herinneringen aan."
    ]
    group = texts(await bot.say("/herinneringen uit", chat_id=-100123, chat_type="group"))
    assert group == [
        "Je herinneringen zet je in een privégesprek met mij aan of uit, niet in een groep."
    ]


async def test_a_colleague_made_owner_gets_the_reminder_and_the_owner_does_not(
    bot: Harness,
) -> None:
    plan_id = finish_plan(bot)
    # Names come from Telegram's first_name (here when each uses /acties).
    assert texts(await bot.say("/acties", user_id=MEMBER_A, first_name="Piet")) == [
        "Er zijn geen open acties."
    ]
    listed = action_messages(await bot.say("/acties"))
    first = buttons(listed[0])
    assert list(first) == ["Gedaan", "Nieuwe datum", "Plan openen", "Eigenaar"]
    calls = await bot.press(first["Eigenaar"].encode())
    [ask] = [c for c in calls if c.method == "sendMessage"]
    assert html.unescape(ask.params["text"]) == (
        "Wie wordt eigenaar van: actieplan na_doorbraak regelen? Die ziet de actie onder "
        "/acties en krijgt de herinneringen."
    )
    choices = buttons(ask)
    assert list(choices) == [
        "Piet",
        "Sanne",
        "Collega 2 (nog zonder naam)",
        "Geen collega: Wijkteam (zoals in het plan)",
    ]

    calls = await bot.press(choices["Piet"].encode())
    edits = [c for c in calls if c.method == "editMessageText"]
    assert edits and "Eigenaar: Piet" in html.unescape(edits[0].params["text"])
    # Piet is told at once, with the action's buttons; the finished plan opens read-only.
    [told] = [c for c in calls if c.method == "sendMessage" and c.params["chat_id"] == MEMBER_A]
    assert html.unescape(told.params["text"]) == (
        "Je bent eigenaar van deze actie; ik herinner jou eraan:\n"
        "8 maart 2027 · Wijkteam: actieplan na_doorbraak regelen · huishouden 3012"
    )
    assert list(buttons(told)) == ["Gedaan", "Nieuwe datum", "Plan openen"]
    opened = await bot.press(buttons(told)["Plan openen"].encode(), user_id=MEMBER_A)
    assert any("huishouden 3012" in t and "om in te zien" in t for t in texts(opened))

    # In Piet's /acties; in Sanne's still, with its owner named.
    theirs = action_messages(await bot.say("/acties", user_id=MEMBER_A, first_name="Piet"))
    assert [html.unescape(c.params["text"]) for c in theirs] == [
        "8 maart 2027 · Wijkteam: actieplan na_doorbraak regelen · huishouden 3012 · eigenaar Piet"
    ]
    mine = action_messages(await bot.say("/acties"))
    assert html.unescape(mine[0].params["text"]).endswith(" · eigenaar Piet")
    with bot.app.units(read_only=True) as uow:
        action_id = first["Gedaan"].action_id
        assert [e.change for e in uow.actions.events(action_id)] == ["aangemaakt", "eigenaar"]

    # The morning it is due: Piet gets that one, Sanne the other; nobody gets one twice.
    sent = await send_at(bot, at(DUE, 9, 5))
    assert sorted((c.params["chat_id"], html.unescape(c.params["text"])) for c in sent) == [
        (USER, "⏰ Vandaag: actieplan voor_doorbraak regelen (Wijkteam) · huishouden 3012"),
        (MEMBER_A, "⏰ Vandaag: actieplan na_doorbraak regelen (Wijkteam) · huishouden 3012"),
    ]
    assert {c.params["chat_id"]: list(buttons(c)) for c in sent} == {
        USER: ["Gedaan", "Nieuwe datum", "Plan openen"],
        MEMBER_A: ["Gedaan", "Nieuwe datum", "Plan openen"],
    }
    # Piet may mark it done.
    [piets] = [c for c in sent if c.params["chat_id"] == MEMBER_A]
    done = await bot.press(buttons(piets)["Gedaan"].encode(), user_id=MEMBER_A)
    assert not [t for t in texts(done) if "niet meer" in t]
    with bot.app.units(read_only=True) as uow:
        stored = uow.actions.get(action_id)
    assert stored is not None and stored.status == "gedaan" and stored.plan_id == plan_id


async def test_an_owner_switched_off_is_skipped_not_replaced(bot: Harness) -> None:
    finish_plan(bot)
    await bot.say("/acties", user_id=MEMBER_A, first_name="Piet")
    listed = action_messages(await bot.say("/acties"))
    for message in listed[:2]:  # both actions due on 8 March
        calls = await bot.press(buttons(message)["Eigenaar"].encode())
        [ask] = [c for c in calls if c.method == "sendMessage"]
        await bot.press(buttons(ask)["Piet"].encode())
    await bot.say("/herinneringen uit", user_id=MEMBER_A, first_name="Piet")
    # Piet is off: neither Piet nor the plan's owner gets them.
    assert await send_at(bot, at(DUE, 9, 5)) == []

    # "Geen collega" gives the action back to the wie as typed, and its reminders to the plan.
    listed = action_messages(await bot.say("/acties"))
    calls = await bot.press(buttons(listed[0])["Eigenaar"].encode())
    [ask] = [c for c in calls if c.method == "sendMessage"]
    assert next(iter(buttons(ask))) == "✓ Piet"
    calls = await bot.press(buttons(ask)["Geen collega: Wijkteam (zoals in het plan)"].encode())
    edits = [c for c in calls if c.method == "editMessageText"]
    assert "Eigenaar: Wijkteam (zoals in het plan)" in html.unescape(edits[0].params["text"])


async def test_an_owner_from_another_team_is_refused(bot: Harness) -> None:
    finish_plan(bot)
    stranger = bot.app.access.register(bot.app.access.invite("Zuid"), 5005, "Kees")
    assert stranger is not None
    listed = action_messages(await bot.say("/acties"))
    action_id = buttons(listed[0])["Gedaan"].action_id
    forged = Button(OWN, action_id, stranger.id, OWN_SET).encode()
    calls = await bot.press(forged)
    assert "Deze actie staat niet meer in een plan van jou." in texts(calls)
    with bot.app.units(read_only=True) as uow:
        action = uow.actions.get(action_id)
    assert action is not None and action.owner_id is None
    # Nor does another team see this team's colleagues.
    assert [c.name for c in bot.app.actions.colleagues(stranger)] == ["Kees"]


async def test_export_and_import_keep_sent_reminders_sent(bot: Harness, tmp_path: Path) -> None:
    plan_id = finish_plan(bot)
    assert len(await send_at(bot, at(DUE, 9, 5))) == 2
    # A colleague owns the next action due.
    sanne, piet = (bot.app.access.professional(user) for user in (USER, MEMBER_A))
    assert sanne is not None and piet is not None
    later = [a for a in bot.app.actions.of_plan(plan_id) if a.due == date(2028, 3, 1)]
    bot.app.actions.set_owner(later[0].id, piet.id, actor=sanne.actor, professional=sanne)
    found = bot.app.service.plan(plan_id)
    assert found is not None
    document = exchange.export_plan(
        bot.spec,
        *found,
        bot.app.actions.history(plan_id),
        reminders=bot.app.actions.reminders(plan_id),
    )
    jsonschema.validate(document, SCHEMA)
    assert document["version"] == 3
    sent = [r for r in document["reminders"] if r["sent_at"] is not None]
    assert [(r["kind"], r["due"], r["sent_at"]) for r in sent] == [
        ("actie", "2027-03-08", "2027-03-08T08:05:00+00:00"),
        ("actie", "2027-03-08", "2027-03-08T08:05:00+00:00"),
    ]
    places = {r["action"] for r in sent}
    assert {document["actions"][n]["due"] for n in places} == {"2027-03-08"}
    assert [a["owner"] is not None for a in document["actions"]].count(True) == 1
    first = exchange.dumps(document)

    # Into a database of its own, with a professional to send to: none goes out again, and
    # the export is identical.
    clock = FixedClock(at(DUE, 10))
    # A backup restored: a database of its own under the same key.
    key = bot.app.settings.resolved_key_file
    other = bootstrap(Settings(data_dir=tmp_path / "other", key_file=key), clock=clock)
    try:
        # The same people: the colleague is the owner again.
        who = other.access.register(other.access.invite("Noord"), USER, "Sanne")
        assert other.access.register(other.access.invite("Noord"), MEMBER_A, "Piet")
        assert who is not None
        record = other.service.restore(exchange.parse_plan(other.dialog.spec, first))
        with other.units(claim=False) as uow:
            uow.access.grant(record.id, who.id, OWNER)
            assert uow.reminders.claim_due(today=DUE, now=clock.now()) == []
        found = other.service.plan(record.id)
        assert found is not None
        again = exchange.export_plan(
            other.dialog.spec,
            *found,
            other.actions.history(record.id),
            reminders=other.actions.reminders(record.id),
        )
        assert exchange.dumps(again) == first
        # The ones not sent yet still are due on their day.
        with other.units(claim=False) as uow:
            due = uow.reminders.claim_due(today=date(2028, 3, 1), now=clock.now())
        assert len(due) == 2
        assert {c.user_id for c in due} == {USER, MEMBER_A}
    finally:
        other.engine.dispose()

    # A reminder that names no action of the file is refused.
    broken = json.loads(first)
    broken["reminders"][0]["action"] = 99
    with pytest.raises(exchange.PlanFileError, match="reminders"):
        exchange.parse_plan(bot.spec, json.dumps(broken))


def test_no_reminders_on_public_holidays_unless_allowed() -> None:
    settings = Settings(data_dir=Path("/nonexistent"))
    kings_day = date(2027, 4, 27)  # a Tuesday
    assert kings_day in holidays(2027)
    assert not may_send(at(kings_day, 10), settings)
    assert may_send(at(date(2027, 4, 28), 10), settings)
    # Christmas 2026 on a Friday; Easter Monday 2027 is 29 March.
    assert not may_send(at(date(2026, 12, 25), 10), settings)
    assert not may_send(at(date(2027, 3, 29), 10), settings)
    weekend = Settings(data_dir=Path("/nonexistent"), reminder_weekend=True)
    assert may_send(at(kings_day, 10), weekend)
