"""Finished and archived plans: never replaced without a word; a choice to look at, change or
renew; archived plans listed and opened read-only by whoever had access."""

from __future__ import annotations

import re

import pytest

from bot.access import AccessDenied
from bot.service import PlanFinished
from dialogs.status import PlanStatus
from storage import PlanRepository
from tests.support.botapi import Call
from tests.support.harness import FACILITATOR, MEMBER_A, Harness, finish_plan, texts

CHOICE = "Het plan van huishouden 3012 is af. Wat wil je doen?"
LOOK = "Bekijken (overzicht en documenten)"
CHANGE, RENEW = "Een stap wijzigen", "Een nieuw plan beginnen"
EVALUATE = "Evalueren (wat is er gerealiseerd?)"


def current(bot: Harness, household: str = "3012") -> tuple[int, str, int]:
    found = bot.app.service.current(household)
    assert found is not None
    return found[0].id, found[0].status, found[0].revision


def files(calls: list[Call]) -> list[str]:
    return [
        c.filenames.get("document") or c.filenames.get("photo", "")
        for c in calls
        if c.method in ("sendDocument", "sendPhoto") and not c.failed
    ]


@pytest.mark.parametrize("command", ["/nieuw 3012", "/start 3012"])
async def test_a_finished_plan_is_offered_not_replaced(bot: Harness, command: str) -> None:
    plan_id = finish_plan(bot)
    before = current(bot)
    calls = await bot.say(command)
    assert texts(calls) == [CHOICE]
    assert [label for label, _ in bot.buttons(calls[-1])] == [LOOK, CHANGE, EVALUATE, RENEW]
    assert current(bot) == before == (plan_id, PlanStatus.FINISHED, before[2])
    assert bot.app.service.chat(1001) is None  # nothing opened in the chat either


async def test_look_at_a_finished_plan(bot: Harness) -> None:
    plan_id = finish_plan(bot)
    before = current(bot)
    calls = await bot.say("/nieuw 3012")
    calls = await bot.press(dict(bot.buttons(calls[-1]))[LOOK])
    said = texts(calls)
    assert said[0].startswith(
        "Het doorbraakplan van huishouden 3012 (af), om in te zien; wijzigen kan hier niet.\n\n"
        "Overzicht van het plan:"
    )
    assert files(calls) == ["doorbraakplan-3012.pdf"]
    assert not [c for c in calls if c.method == "editMessageReplyMarkup"]  # no clear offer
    # The Word file and the chart on request, of the plan looked at.
    [pdf] = [c for c in calls if c.method == "sendDocument"]
    [[word, chart]] = pdf.params["reply_markup"]["inline_keyboard"]
    calls = await bot.press(word["callback_data"])
    assert files(calls) == ["doorbraakplan-3012.docx"]
    calls = await bot.press(chart["callback_data"])
    assert files(calls) == ["doorbraakplan-3012-kosten.png"]
    assert current(bot) == before
    assert before[0] == plan_id


async def test_change_a_finished_plan(bot: Harness) -> None:
    plan_id = finish_plan(bot)
    calls = await bot.say("/nieuw 3012")
    calls = await bot.press(dict(bot.buttons(calls[-1]))[CHANGE])
    assert texts(calls)[-1].startswith(
        "Verder met het doorbraakplan voor huishouden 3012.\n\n"
        "Het plan is af. Iets wijzigen? Typ het nummer van de stap: 1 (Situatieschets), "
    )
    await bot.say("2")  # the step's number, as the message says
    assert "Stap 2 van 6" in bot.last_question().params["text"]
    assert current(bot)[0] == plan_id


async def test_a_new_plan_only_after_a_confirmation(bot: Harness) -> None:
    old = finish_plan(bot)
    calls = await bot.say("/nieuw 3012")
    ask = dict(bot.buttons(calls[-1]))[RENEW]
    calls = await bot.press(ask)
    assert texts(calls)[0].startswith("Weet je het zeker?")
    yes, no = (data for _, data in bot.buttons(calls[-1]))
    calls = await bot.press(no)
    assert texts(calls) == ["Het plan blijft zoals het is."]
    assert current(bot)[:2] == (old, PlanStatus.FINISHED)
    calls = await bot.press(yes)
    assert texts(calls)[0].startswith("Nieuw doorbraakplan voor huishouden 3012.")
    assert bot.current_field() == "plan.titel"
    new, status, _ = current(bot)
    assert new != old and status == PlanStatus.OPEN
    # Pressed again: the plan it was about is archived; no third plan.
    calls = await bot.press(yes)
    assert texts(calls) == [bot.spec.message("knop_verlopen")]
    assert current(bot)[0] == new


async def test_archived_plans_are_listed_and_opened_read_only(bot: Harness) -> None:
    old = finish_plan(bot)
    # A colleague it was shared with, while it was current.
    owner = bot.app.access.professional(1001)
    assert owner is not None
    code = bot.app.access.share(owner, old)
    await bot.say(code, user_id=FACILITATOR)
    calls = await bot.say("/nieuw 3012")
    calls = await bot.press(dict(bot.buttons(calls[-1]))[RENEW])
    await bot.press(dict(bot.buttons(calls[-1]))["Ja, begin een nieuw plan"])
    for user_id in (1001, FACILITATOR):
        calls = await bot.say("/archief 3012", user_id=user_id)
        assert texts(calls) == [
            "Gearchiveerde plannen van huishouden 3012. Welk plan wil je inzien?"
        ]
        [(label, data)] = bot.buttons(calls[-1])
        assert re.fullmatch(r"Bijgewerkt \d\d-\d\d-\d{4} · \d+/\d+ vragen", label), label
        calls = await bot.press(data, user_id=user_id)
        assert texts(calls)[0].startswith(
            "Het doorbraakplan van huishouden 3012 (gearchiveerd), om in te zien"
        )
        assert files(calls)[0] == "doorbraakplan-3012.pdf"
        assert {c.params["chat_id"] for c in calls if c.method == "sendDocument"} == {user_id}
    # Read-only: it stays archived and the chat is not bound to it.
    with bot.app.sessions() as session:
        record = PlanRepository(session, bot.app.keyring).get(old)
    assert record is not None and record.status == PlanStatus.ARCHIVED
    binding = bot.app.service.chat(1001)
    assert binding is not None and binding.plan_id != old


async def test_archived_plans_of_others_are_not_listed_nor_opened(bot: Harness) -> None:
    old = finish_plan(bot)
    bot.app.service.open("3012", actor="prof:1", new=True)  # archives it
    calls = await bot.say("/archief 3012", user_id=MEMBER_A)
    assert texts(calls) == ["Huishouden 3012 heeft geen gearchiveerde plannen die je mag inzien."]
    calls = await bot.press(f"b|{old}|0|0", user_id=MEMBER_A)  # a forged button
    assert texts(calls) == ["Dit plan bestaat niet meer."]
    assert files(calls) == []
    calls = await bot.say("/archief", user_id=MEMBER_A)
    assert texts(calls) == [
        "Typ het huishoudnummer achter de opdracht, bijvoorbeeld /archief 3012."
    ]


async def test_a_finished_plan_of_someone_else_is_refused(bot: Harness) -> None:
    finish_plan(bot)
    calls = await bot.say("/nieuw 3012", user_id=MEMBER_A)
    assert texts(calls) == [bot.spec.message("toegang_geen")]


# --- the service, front-end neutral ---------------------------------------------------------


async def test_service_open_raises_plan_finished_and_changes_nothing(bot: Harness) -> None:
    plan_id = finish_plan(bot)
    before = current(bot)
    who = bot.app.access.professional(1001)
    service = bot.app.service
    with pytest.raises(PlanFinished) as raised:
        service.open("3012", actor="prof:1", ask_if_finished=True, professional=who)
    assert (raised.value.plan_id, raised.value.household) == (plan_id, "3012")
    assert current(bot) == before
    other = bot.app.access.professional(MEMBER_A)
    with pytest.raises(AccessDenied):  # access is checked before anything is said about it
        service.open("3012", actor="prof:x", ask_if_finished=True, professional=other)
    # without asking, a finished plan is resumed as before (the terminal today)
    assert service.open("3012", actor="prof:1").plan_id == plan_id


async def test_service_renew_view_and_archive(bot: Harness) -> None:
    service = bot.app.service
    plan_id = finish_plan(bot)
    _, _, revision = current(bot)
    assert service.renew(plan_id, actor="prof:1", revision=revision - 1) is None  # changed since
    assert service.view(plan_id, actor="prof:1") is not None
    turn = service.renew(plan_id, actor="prof:1", revision=revision)
    assert turn is not None and turn.plan_id != plan_id
    assert service.view(turn.plan_id, actor="prof:1") is None  # an open plan is opened instead
    assert service.renew(plan_id, actor="prof:1") is None  # archived now
    seen = service.view(plan_id, actor="prof:1")
    assert seen is not None and seen.outcome.status == PlanStatus.ARCHIVED and not seen.saved
    assert [r.id for r in service.archived_plans("3012")] == [plan_id]
    assert service.archived_plans("4021") == []
    member = bot.app.access.professional(MEMBER_A)
    assert member is not None
    assert service.archived_plans("3012", professional=member) == []
    assert service.view(plan_id, actor=member.actor, professional=member) is None
