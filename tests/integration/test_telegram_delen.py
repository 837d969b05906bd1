"""Sharing a plan's texts with the team (issue 16) in Telegram, on the Bot API stand-in: the
`Niet delen` button under the message that finishes a plan, /delen with its button, and a
colleague who is not the owner refused."""

from __future__ import annotations

from bot.telegram_view import SHARE, Button
from dialogs.status import PlanStatus
from tests.support.botapi import Call
from tests.support.harness import MEMBER_A, Harness, answer_current, texts

NOT_SHARING = "Niet delen"
SHARING = "Delen met mijn team"


def labelled(calls: list[Call], label: str) -> str:
    """The callback data of the button `label` among the messages sent."""
    for call in calls:
        markup = call.params.get("reply_markup") or {}
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if button["text"] == label:
                    return str(button["callback_data"])
    raise AssertionError(f"no button {label!r}")


async def finished_in_chat(bot: Harness, household: str = "3099") -> tuple[int, list[Call]]:
    """A plan made in the private chat, answer by answer; the calls of the finishing turn."""
    calls = await bot.say(f"/nieuw {household}")
    for _ in range(400):
        found = bot.app.service.current(household)
        assert found is not None
        if found[0].status == PlanStatus.FINISHED:
            return found[0].id, calls
        calls = await answer_current(bot)
    raise AssertionError("the plan did not finish")


def shares(bot: Harness, plan_id: int) -> bool:
    return bot.app.consent.shares(plan_id)


async def test_the_finish_offers_niet_delen_and_delen_changes_it(bot: Harness) -> None:
    plan_id, calls = await finished_in_chat(bot)
    said = texts(calls)
    assert bot.spec.message("delen_klaar_telegram") in said
    assert shares(bot, plan_id)  # the default: within the team

    pressed = await bot.press(labelled(calls, NOT_SHARING))

    assert not shares(bot, plan_id)
    assert bot.spec.message("delen_staat_nee") in texts(pressed)
    # /delen shows the choice with the button that changes it back.
    shown = await bot.say("/delen")
    assert texts(shown) == [bot.spec.message("delen_staat_nee")]
    await bot.press(labelled(shown, SHARING))
    assert shares(bot, plan_id)
    assert texts(await bot.say("/delen nee")) == [bot.spec.message("delen_staat_nee")]
    assert not shares(bot, plan_id)
    assert texts(await bot.say("/delen ja")) == [bot.spec.message("delen_staat_ja")]
    assert shares(bot, plan_id)
    assert texts(await bot.say("/delen misschien")) == [bot.spec.message("delen_gebruik_telegram")]


async def test_someone_else_cannot_change_it(bot: Harness) -> None:
    plan_id, _ = await finished_in_chat(bot)
    forged = Button(SHARE, plan_id, 0, 0).encode()

    calls = await bot.press(forged, user_id=MEMBER_A)

    assert texts(calls) == [bot.spec.message("delen_geen_eigenaar")]
    assert shares(bot, plan_id)
    # Their own chat has no plan to change.
    assert texts(await bot.say("/delen nee", user_id=MEMBER_A)) == [
        bot.spec.message("telegram_geen_plan")
    ]
    assert shares(bot, plan_id)
