"""/rapport through a real Application and the Bot API stand-in: a professional is refused in
Dutch, a teamleider gets their team's report as a PDF (a role changed counts at once), and
in a group it is said where it works."""

from __future__ import annotations

from storage.access import BELEIDSMEDEWERKER, TEAMLEIDER
from tests.support.botapi import Call
from tests.support.harness import Harness, finish_plan, texts

REFUSED = (
    "Het rapport over alle plannen is voor teamleiders (hun eigen team) en beleidsmedewerkers"
    " (alle teams). Vraag je beheerder om die rol."
)


def documents(calls: list[Call]) -> list[Call]:
    return [c for c in calls if c.method == "sendDocument" and not c.failed]


async def test_a_professional_is_refused(bot: Harness) -> None:
    finish_plan(bot)
    calls = await bot.say("/rapport")
    assert texts(calls) == [REFUSED]
    assert documents(calls) == []


async def test_a_teamleider_gets_their_team_and_not_another(bot: Harness) -> None:
    finish_plan(bot)
    who = bot.app.access.professional(1001)
    assert who is not None
    # The administrator changes the role while the bot runs: it counts at once.
    bot.app.access.set_role(who.id, TEAMLEIDER, None, actor="beheer")

    calls = await bot.say("/rapport")

    [pdf] = documents(calls)
    assert pdf.filenames.get("document", "").startswith("rapport-")
    assert pdf.params["caption"] == "Leren van alle plannen · Noord"
    assert texts(await bot.say("/rapport Zuid")) == [REFUSED]


async def test_a_beleidsmedewerker_gets_every_team(bot: Harness) -> None:
    who = bot.app.access.professional(1001)
    assert who is not None
    bot.app.access.set_role(who.id, BELEIDSMEDEWERKER, None, actor="beheer")
    [pdf] = documents(await bot.say("/rapport"))
    assert pdf.params["caption"] == "Leren van alle plannen · Alle teams"


async def test_in_a_group_it_says_where_it_works(bot: Harness) -> None:
    calls = await bot.say("/rapport", chat_id=-100123, chat_type="group")
    assert texts(calls) == [
        "Het rapport vraag je op in een privégesprek met mij, niet in een groep."
    ]
