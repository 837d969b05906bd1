"""Typed answers at a button question in Telegram: labels, typos and synonyms are read; a bare
number is refused, because the buttons are not numbered."""

from __future__ import annotations

from storage import PlanRepository
from tests.support.harness import Harness, answer_current, texts

HINT = "De keuzes staan hier niet genummerd. Tik op een knop of typ de keuze zelf."


async def at(bot: Harness, key: str) -> None:
    await bot.say("/nieuw 3012")
    while bot.current_field() != key:
        await answer_current(bot)


def stored(bot: Harness, key: str) -> object:
    with bot.app.sessions() as session:
        plan = PlanRepository(session, bot.app.keyring).current_plan("3012")
        assert plan is not None
        return plan.answers.get(key)


async def test_a_typed_number_is_refused_and_a_typed_synonym_is_taken(bot: Harness) -> None:
    await at(bot, "huishouden.type_inkomen")
    # The buttons carry the labels only: nothing a `2` could refer to.
    assert all(not label[:1].isdigit() for label, _ in bot.buttons())
    calls = await bot.say("2")
    assert texts(calls)[0].startswith(f"⚠️ {HINT}\n")
    assert bot.current_field() == "huishouden.type_inkomen"
    assert stored(bot, "huishouden.type_inkomen") is None

    await bot.say("bijstand")
    assert stored(bot, "huishouden.type_inkomen") == "Uitkering Participatiewet"
    assert bot.current_field() != "huishouden.type_inkomen"


async def test_a_typo_in_a_label_is_taken_at_a_multiple_choice(bot: Harness) -> None:
    await at(bot, "situatieschets.domeinen")
    calls = await bot.say("1;3")
    assert texts(calls)[0].startswith(f"⚠️ {HINT}\n")
    await bot.say("wonen; financeel")
    assert stored(bot, "situatieschets.domeinen") == ["Wonen", "Financieel"]
