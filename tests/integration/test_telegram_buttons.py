"""Forged buttons: callback data a modified client can send. Each gets a short toast, changes
nothing, and costs bounded work."""

from __future__ import annotations

import logging
import resource
from collections.abc import Iterator

import pytest

from tests.support.botapi import Call
from tests.support.harness import FACILITATOR, Harness, texts

STALE = (
    "Deze knop hoort bij een eerdere vraag en doet niets meer. "
    "Gebruik de knoppen bij de vraag hieronder."
)
PRIVATE_ONLY = "Deze knop werkt alleen in een privégesprek met mij."
GROUP = {"chat_type": "group", "chat_id": -4301}


@pytest.fixture(autouse=True)
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    with caplog.at_level(logging.ERROR):
        yield
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def own_plan(bot: Harness) -> int:
    await bot.say("/nieuw 3012")
    binding = bot.app.service.chat(1001)
    assert binding is not None
    return binding.plan_id


def only_a_toast(calls: list[Call], text: str) -> None:
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert texts(calls) == [text]


async def test_a_forged_forget_range_is_refused(bot: Harness) -> None:
    plan_id = await own_plan(bot)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    calls = await bot.press(f"x|{plan_id}|0|30000000", message_id=500)
    only_a_toast(calls, STALE)
    # first > last: the button's message before the plan was opened
    calls = await bot.press(f"x|{plan_id}|0|1", message_id=1)
    only_a_toast(calls, STALE)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown < 50_000  # kilobytes: no list of 30 million ids


async def test_a_forget_range_is_capped(bot: Harness) -> None:
    """Even a button on a real message far from the plan's first one deletes a bounded
    number of the most recent messages."""
    plan_id = await own_plan(bot)
    last = 30_000_000
    calls = await bot.press(f"x|{plan_id}|0|{last}", message_id=last)
    batches = [c.params["message_ids"] for c in calls if c.method == "deleteMessages"]
    assert len(batches) == 5 and all(len(batch) <= 100 for batch in batches)
    ids = [i for batch in batches for i in batch]
    assert ids == list(range(last - 499, last + 1))
    assert texts(calls)[-1] == "500 berichten over dit plan zijn uit deze chat verwijderd."


@pytest.mark.parametrize(
    "data",
    ["c|99999999999999999999|0|0", "h|99999999999999999999|0|0", "v|-5|0|1", "c|1|0|-1"],
)
async def test_numbers_out_of_range(bot: Harness, data: str) -> None:
    await own_plan(bot)
    calls = await bot.press(data)
    only_a_toast(calls, STALE)
    assert bot.current_field() == "plan.titel"


async def test_a_plan_id_that_does_not_exist(bot: Harness) -> None:
    await own_plan(bot)
    only_a_toast(await bot.press("n|2147483647|0|1"), STALE)
    for data in ("h|2147483647|0|0", "w|2147483647|0|0", "b|2147483647|0|0"):
        calls = await bot.press(data)
        assert texts(calls) == ["Dit plan bestaat niet meer."]
        assert [c.method for c in calls] == ["answerCallbackQuery", "sendMessage"]
    binding = bot.app.service.chat(1001)
    assert binding is not None and bot.app.service.current("3012") is not None


async def test_a_resume_button_in_a_group_does_not_rebind_it(bot: Harness) -> None:
    await bot.say("/sessie 3012", user_id=FACILITATOR, **GROUP)
    group_plan = bot.app.service.chat(-4301)
    assert group_plan is not None
    await bot.say("/nieuw 4021", user_id=FACILITATOR)
    mine = bot.app.service.chat(FACILITATOR)
    assert mine is not None and mine.plan_id != group_plan.plan_id
    for action in ("h", "v", "x", "b", "w", "n"):
        calls = await bot.press(f"{action}|{mine.plan_id}|0|1", user_id=FACILITATOR, **GROUP)
        only_a_toast(calls, PRIVATE_ONLY)
    assert bot.app.service.chat(-4301) == group_plan
    assert bot.app.service.current("4021") is not None  # not deleted


async def test_a_delete_button_with_another_index_does_nothing(bot: Harness) -> None:
    plan_id = await own_plan(bot)
    calls = await bot.press(f"v|{plan_id}|0|7")
    only_a_toast(calls, STALE)
    assert bot.app.service.current("3012") is not None
