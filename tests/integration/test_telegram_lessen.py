"""/les and /lessen through a real Application and the Bot API stand-in (issue 16): only for
teamleiders and beleidsmedewerkers; step by step with every answer stored before the next
question, or in one message; a wrong answer refused with nothing lost; listed with a button
to mark one done; reminded on its day, once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.clock import FixedClock
from bot.lessons import DRAFT_WAIT, LessonService
from bot.reminders import Reminders
from storage.access import BELEIDSMEDEWERKER, TEAMLEIDER
from storage.lessons import STEP_OWNER, STEP_SOURCE, LessonRecord
from tests.integration.test_telegram_acties import T0, at, clock_of
from tests.integration.test_telegram_herinneringen import reminders_in
from tests.support.harness import FACILITATOR, Harness, texts

REFUSED = (
    "Lessen vastleggen en bekijken is voor teamleiders en beleidsmedewerkers."
    " Vraag je beheerder om die rol."
)
USER = 1001


@pytest.fixture
def harness_clock() -> FixedClock:
    return FixedClock(T0)  # Monday 1 March 2027, 09:00 in Amsterdam


def promote(bot: Harness, user_id: int, role: str, name: str) -> None:
    who = bot.app.access.professional(user_id)
    assert who is not None
    bot.app.access.set_role(who.id, role, None, actor="beheer")
    bot.app.actions.rename(who, name)


def draft(bot: Harness, user_id: int = USER) -> LessonRecord | None:
    who = bot.app.access.professional(user_id)
    assert who is not None
    with bot.app.units(read_only=True) as uow:
        return uow.lessons.draft_of(who.actor)


def listed(bot: Harness) -> list[LessonRecord]:
    return LessonService(bot.app.units, bot.app.clock).listed(None)


async def test_a_professional_is_told_who_it_is_for(bot: Harness) -> None:
    assert texts(await bot.say("/les")) == [REFUSED]
    assert texts(await bot.say("/lessen")) == [REFUSED]
    # Their texts still go to the plan's dialog as before.
    assert draft(bot) is None


async def test_step_by_step_every_answer_is_kept_and_a_wrong_one_loses_nothing(
    bot: Harness,
) -> None:
    # Known to the running bot as a professional first; the role given meanwhile counts.
    assert texts(await bot.say("/les")) == [REFUSED]
    promote(bot, USER, TEAMLEIDER, "Tessa")
    promote(bot, FACILITATOR, TEAMLEIDER, "Fenna")
    [asked] = texts(await bot.say("/les"))
    assert asked.startswith("Welke les trekken jullie?")
    [refused] = texts(await bot.say("Bel mevrouw terug op 0612345678"))
    assert "persoonsgegeven" in refused
    assert texts(await bot.say("Woningcorporatie <b>eerder</b> & sneller bellen"))[0].startswith(
        "Waar komt de les vandaan?"
    )
    kept = draft(bot)
    assert kept is not None and kept.step == STEP_SOURCE
    assert kept.text == "Woningcorporatie <b>eerder</b> & sneller bellen"
    [refused] = texts(await bot.say("huishouden 3012"))
    assert "huishoudnummer" in refused
    assert draft(bot) == kept  # nothing lost, nothing changed
    # /les again while asking: the same question, no second draft.
    assert texts(await bot.say("/les"))[0].startswith("Waar komt de les vandaan?")
    [owner] = texts(await bot.say("reflectiesessie 2026-K1"))
    assert owner.startswith("Wie is eigenaar?") and "Fenna" in owner and "Tessa" in owner
    kept = draft(bot)
    assert (
        kept is not None and kept.step == STEP_OWNER and kept.source == "reflectiesessie 2026-K1"
    )
    assert "ken ik niet" in texts(await bot.say("Onbekende"))[0]
    assert texts(await bot.say("Fenna"))[0].startswith("Wanneer moet het gedaan zijn?")
    assert "al voorbij" in texts(await bot.say("1-1-2020"))[0]
    [done] = texts(await bot.say("1 april"))
    assert done.startswith("Les vastgelegd: ")
    assert "Woningcorporatie <b>eerder</b> & sneller bellen" in done
    assert "eigenaar Fenna" in done and "1 april 2027" in done
    assert draft(bot) is None
    [lesson] = listed(bot)
    assert lesson.team == "Noord" and lesson.due_on == date(2027, 4, 1)


async def test_stop_drops_the_draft(bot: Harness) -> None:
    promote(bot, USER, BELEIDSMEDEWERKER, "Bram")
    await bot.say("/les")
    await bot.say("Een les")
    assert texts(await bot.say("stop")) == ["Gestopt; de les is niet vastgelegd."]
    assert draft(bot) is None and listed(bot) == []


async def test_in_one_message_then_listed_and_done_with_a_button(bot: Harness) -> None:
    promote(bot, USER, TEAMLEIDER, "Tessa")
    [refused] = texts(await bot.say("/les alleen tekst zonder delen"))
    assert refused.startswith("Schrijf het in één bericht als")
    [refused] = texts(await bot.say("/les Les | WT-3012 | teamleider | 1 april"))
    assert "huishoudnummer" in refused
    assert listed(bot) == []
    [done] = texts(
        await bot.say("/les Budget eerder aanvragen | groep 2 | teamleider | over 3 maanden")
    )
    assert done.startswith("Les vastgelegd: ") and "1 juni 2027" in done
    calls = await bot.say("/lessen")
    assert texts(calls)[0] == "Open lessen:"
    [(label, data)] = bot.buttons(calls[-1])
    [lesson] = listed(bot)
    assert label == f"Gedaan: {lesson.id}"
    assert texts(await bot.press(data)) == [f"Les {lesson.id} staat op gedaan."]
    assert listed(bot) == []
    assert texts(await bot.say("/lessen")) == ["Er staan geen open lessen."]


async def test_in_a_group_it_says_where_it_works(bot: Harness) -> None:
    calls = await bot.say("/les", chat_id=-100123, chat_type="group")
    assert texts(calls) == ["Lessen leg je vast in een privégesprek met mij, niet in een groep."]


async def test_the_teamleiders_are_reminded_on_the_day_once(bot: Harness) -> None:
    promote(bot, USER, TEAMLEIDER, "Tessa")
    promote(bot, FACILITATOR, TEAMLEIDER, "Fenna")
    await bot.say("/les Eerder bellen | reflectiesessie 2027-K1 | teamleider | 3 maart")
    clock_of(bot).set(at(date(2027, 3, 2), 9))
    assert await Reminders(bot.app, bot.front.kit).send_due(bot.application.bot) == 0
    clock_of(bot).set(at(date(2027, 3, 3), 9))
    before = len(bot.stand_in.calls)
    # A new Reminders, as after a restart: the schedule is in the database.
    assert await Reminders(bot.app, bot.front.kit).send_due(bot.application.bot) == 2
    sent = reminders_in(bot.stand_in.calls[before:])
    assert {c.params["chat_id"] for c in sent} == {USER, FACILITATOR}
    [lesson] = listed(bot)
    assert (
        texts(sent)
        == [
            f"⏰ Vandaag: les {lesson.id}: Eerder bellen (eigenaar teamleider)",
        ]
        * 2
    )
    assert await Reminders(bot.app, bot.front.kit).send_due(bot.application.bot) == 0


async def test_a_draft_left_alone_lets_the_plan_have_the_texts_again(bot: Harness) -> None:
    promote(bot, USER, TEAMLEIDER, "Tessa")
    await bot.say("/les")
    clock_of(bot).set(T0 + DRAFT_WAIT + timedelta(minutes=1))
    # No plan open in this chat: the plan's answer, not the lesson's next question.
    [said] = texts(await bot.say("Een les"))
    assert said.startswith("Er is hier nog geen plan open.")
    kept = draft(bot)
    assert kept is not None and kept.step == "tekst"
    # /les takes it up where it was.
    assert texts(await bot.say("/les"))[0].startswith("Welke les trekken jullie?")
    assert texts(await bot.say("Een les"))[0].startswith("Waar komt de les vandaan?")


async def test_ik_as_owner_and_another_command_sets_the_lesson_aside(bot: Harness) -> None:
    await bot.say("/start")
    promote(bot, USER, TEAMLEIDER, "Tessa")
    await bot.say("/les")
    await bot.say("Corporatie eerder betrekken bij een huurachterstand")
    [asked] = texts(await bot.say("reflectiesessie 2027-K1"))
    assert asked.startswith("Wie is eigenaar? Ik,")
    # The professional goes to a plan meanwhile: the lesson waits, its answers kept.
    calls = await bot.say("/nieuw 3012")
    assert texts(calls)[0].startswith("De les die je aan het vastleggen was, wacht")
    assert "Stap 1 van 6" in texts(calls)[-1]
    kept = draft(bot)
    assert kept is not None and kept.step == STEP_OWNER
    calls = await bot.say("Een woning voor vader en zoon")  # the plan's answer
    assert "Wat is jouw naam" in texts(calls)[-1]  # the plan's next question
    assert draft(bot) == kept
    # /les takes it up where it was; `ik` names who records it.
    assert texts(await bot.say("/les"))[0].startswith("Wie is eigenaar?")
    await bot.say("ik")
    [done] = texts(await bot.say("over 3 mnd"))
    assert "eigenaar Tessa" in done
    assert draft(bot) is None
