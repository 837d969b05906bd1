"""The shorter conversation in Telegram, through the real handlers against the stand-in Bot
API: a cost line in one message, taking over an earlier answer, passing over the optional rest
of a step with one tap, and a second rule in the way."""

from __future__ import annotations

from tests.integration.test_telegram_taps import answers, assert_traced, walk_to
from tests.support.harness import Harness, texts


async def test_a_cost_line_typed_in_one_message_is_stored_and_read_back(bot: Harness) -> None:
    await bot.say("/nieuw 3012")
    await walk_to(bot, "rendement.periode")
    await bot.press(bot.button("Overslaan"))  # a year
    assert bot.current_field() == "rendement.huidig"
    calls = await bot.say("Inzet generalist wijkteam: 2 uur per week à € 65")
    # Read back first, then the question with the list so far (amounts keep their € on a
    # line: a no-break space).
    shown = [t.replace("\xa0", " ") for t in texts(calls)]
    assert shown[0].startswith(
        "Inzet generalist wijkteam: 2 uur per week × € 65,00 per uur = € 130,00 per week"
        " → € 6.760,00 per jaar\n"
    )
    assert "1. Inzet generalist wijkteam: € 6.760" in shown[-1]
    assert [label for label, _ in bot.buttons()][:1] == ["Klaar"]
    line = answers(bot)["rendement.huidig"][0]
    assert (line["omschrijving"], line["prijs"], line["aantal"]) == (
        "Inzet generalist wijkteam",
        6500,
        "2",
    )


async def test_overnemen_takes_over_the_earlier_answer_with_a_trace(bot: Harness) -> None:
    await bot.say("/nieuw 3012")
    await walk_to(bot, "betrokkenheid.zelf_doen")
    asked = texts([bot.last_question()])[0]
    earlier = answers(bot)["overzicht.zelf"]
    assert earlier in asked  # the earlier answer is on the screen
    await assert_traced(bot, bot.button("Overnemen"), "Overnemen")
    assert answers(bot)["betrokkenheid.zelf_doen"] == earlier
    assert bot.current_field() == "waardendriehoek.weging"


async def test_one_tap_passes_over_the_optional_rest_of_a_step(bot: Harness) -> None:
    await bot.say("/nieuw 3012")
    await walk_to(bot, "plan.werkgebied")
    labels = [label for label, _ in bot.buttons()]
    assert labels == ["Overslaan", "Rest van de stap overslaan"]
    calls = await assert_traced(
        bot, bot.button("Rest van de stap overslaan"), "Overgeslagen, met de rest van de stap"
    )
    assert "De vragen van deze stap die niet verplicht zijn, sla ik over." in texts(calls)[0]
    assert bot.current_field() == "situatieschets.wat_speelt"  # the next required one
    assert "huishouden.leeftijden" not in answers(bot)
    # The last optional question of a step offers only Overslaan.
    await walk_to(bot, "actieplan.evaluatie_criteria")
    assert [label for label, _ in bot.buttons()] == ["Overslaan"]


async def test_a_second_rule_with_its_own_parts(bot: Harness) -> None:
    await bot.say("/nieuw 3012")
    await walk_to(bot, "legitimiteit.andere_regels")
    assert [label for label, _ in bot.buttons()] == ["Nee"]
    await bot.say("Schuldhulp pas na drie maanden stabiel inkomen")
    await bot.say("Voorkomen dat een traject mislukt")
    await bot.say("Hardheidsclausule in de beleidsregels")
    calls = await bot.say("Teamleider schuldhulp")
    assert "Genoteerd:\n1. Schuldhulp pas na drie maanden" in texts(calls)[0]
    calls = await bot.press(bot.button("Nee"))
    assert [c.method for c in calls][:2] == ["answerCallbackQuery", "editMessageText"]
    assert calls[1].params["text"].endswith("✓ Nee")
    assert bot.current_field() == "rendement.periode"
    assert answers(bot)["legitimiteit.andere_regels"] == [
        {
            "regel": "Schuldhulp pas na drie maanden stabiel inkomen",
            "bedoeling": "Voorkomen dat een traject mislukt",
            "uitzonderingsgronden": "Hardheidsclausule in de beleidsregels",
            "wie_beslist": "Teamleider schuldhulp",
        }
    ]
