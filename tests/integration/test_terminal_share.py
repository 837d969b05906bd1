"""A plan started in the terminal, shared with `doorbraakbot deel`, opened in Telegram."""

from __future__ import annotations

from bot.access import JOINED, SHARE_CODE_MADE
from bot.local import LocalChat
from storage.access import SHARED as SHARED_ROLE
from tests.integration.test_access import texts
from tests.support.harness import FACILITATOR, Harness
from tests.support.stored import audit_log

A = 1001  # registered by the harness
TERMINAL = "terminal:collega"


async def test_a_terminal_share_code_gives_a_registered_professional_the_plan(
    bot: Harness,
) -> None:
    chat = LocalChat(bot.app, "3012", author=TERMINAL)
    chat.begin()
    chat.send("Titel uit de terminal")
    assert chat.plan_id is not None
    plan_id = chat.plan_id
    a = bot.app.access.professional(A)
    assert a is not None
    assert bot.app.access.role(a, plan_id) is None
    calls = await bot.say("/nieuw 3012", user_id=A)
    assert "geen toegang" in texts(calls)[-1]

    code = bot.app.access.share_from_terminal(TERMINAL, plan_id)
    calls = await bot.say(code, user_id=A)
    assert texts(calls)[-1] == "Je hebt nu toegang tot dit plan. Ga verder met /hervat."
    assert bot.app.access.role(a, plan_id) == SHARED_ROLE
    await bot.say("/hervat", user_id=A)
    [(label, data)] = bot.buttons(bot.stand_in.calls_of("sendMessage")[-1])
    assert label.startswith("3012 · stap 1 van 6 · 1/")
    await bot.press(data, user_id=A)
    # the plan goes on where the terminal left it: the title is answered
    assert bot.current_field() == "plan.professional"

    # one time only
    other = bot.app.access.professional(FACILITATOR)
    assert other is not None
    assert bot.app.access.join(other, code) is None
    assert bot.app.access.role(other, plan_id) is None
    # a second code, redeemed through the service directly
    assert bot.app.access.join(other, bot.app.access.share_from_terminal(TERMINAL, plan_id)) == (
        plan_id
    )
    assert bot.app.access.role(other, plan_id) == SHARED_ROLE

    log = [(e.actor, e.action) for e in audit_log(bot.app, plan_id)]
    assert (TERMINAL, SHARE_CODE_MADE) in log
    assert (a.actor, JOINED) in log and (other.actor, JOINED) in log
