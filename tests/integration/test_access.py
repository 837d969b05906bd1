"""Only registered professionals, each seeing only their own and shared plans; deleting and
purging leave nothing of a plan but its audit entries."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select, text, update

from storage import Base, PlanRepository
from storage.models import Plan, utcnow
from tests.support.botapi import Call
from tests.support.harness import Harness, answer_current
from tests.support.stored import audit_log

A, B, STRANGER = 1001, 2002, 9999  # the harness registers 1001 and 2002; 9999 is unknown


def row_counts(bot: Harness) -> dict[str, int]:
    with bot.app.sessions() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def texts(calls: list[Call]) -> list[str]:
    return [str(c.params.get("text", "")) for c in calls if c.method == "sendMessage"]


async def test_an_unknown_user_gets_one_refusal_and_leaves_no_row(bot: Harness) -> None:
    before = row_counts(bot)
    for message in ("/start", "/nieuw 3012", "hallo", "UIT-AAAA-BBBB"):
        calls = await bot.say(message, user_id=STRANGER)
        assert len(texts(calls)) == 1, message
    assert "alleen voor professionals" in texts(calls)[0] or "niet geldig" in texts(calls)[0]
    calls = await bot.press("h|1|0|0", user_id=STRANGER)
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert row_counts(bot) == before


async def test_an_invite_code_works_once(bot: Harness) -> None:
    code = bot.app.access.invite("Zuid")
    calls = await bot.say(code.lower().replace("-", " - "), user_id=3003)
    assert "Je bent aangemeld" in texts(calls)[0]
    calls = await bot.say(code, user_id=3004)
    assert "niet geldig" in texts(calls)[0]
    assert bot.app.access.professional(3004) is None


async def test_b_cannot_open_list_export_or_guess_as_plan(bot: Harness) -> None:
    await bot.say("/nieuw 3012", user_id=A)
    await bot.say("Een titel", user_id=A)
    with bot.app.sessions() as session:
        plan = PlanRepository(session, bot.app.keyring).current_plan("3012")
        assert plan is not None
    for attempt in ("/nieuw 3012", "/start 3012"):
        calls = await bot.say(attempt, user_id=B)
        assert "geen toegang" in texts(calls)[-1], attempt
    calls = await bot.say("/hervat", user_id=B)
    assert "geen plannen" in texts(calls)[-1]
    # a forged resume button with A's plan id
    calls = await bot.press(f"h|{plan.id}|0|0", user_id=B)
    assert "bestaat niet meer" in texts(calls)[-1]
    # forged answer buttons: B's chat is bound to no plan
    calls = await bot.press(f"c|{plan.id}|{plan.revision}|0", user_id=B)
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    for command in ("/plan", "/overzicht", "Sanne"):
        calls = await bot.say(command, user_id=B)
        assert "geen plan open" in texts(calls)[-1], command
    calls = await bot.say("DEEL-AAAA-BBBB", user_id=B)
    assert "niet geldig" in texts(calls)[-1]
    # nothing of A's plan reached B: not its title, not its household
    b_texts = [t for c in bot.stand_in.calls if c.params.get("chat_id") == B for t in texts([c])]
    assert not [t for t in b_texts if "Een titel" in t]

    # A shares; B joins with the code and can work on the plan
    calls = await bot.say("/deel", user_id=A)
    match = re.search(r"DEEL-[A-Z0-9]{4}-[A-Z0-9]{4}", texts(calls)[-1])
    assert match is not None
    calls = await bot.say(match.group(0), user_id=B)
    assert "toegang tot dit plan" in texts(calls)[-1]
    calls = await bot.say("/hervat", user_id=B)
    ((label, data),) = bot.buttons(next(c for c in reversed(calls) if c.method == "sendMessage"))
    assert label.startswith("3012")
    await bot.press(data, user_id=B)
    assert bot.current_field() == "plan.professional"
    # the code works only once
    calls = await bot.say(match.group(0), user_id=3005)
    assert "alleen voor professionals" in texts(calls)[-1]
    # B may not share or delete; A withdraws the sharing and B's next answer is refused
    calls = await bot.say("/deel", user_id=B)
    assert "Alleen de eigenaar" in texts(calls)[-1]
    await bot.say("/deel intrekken", user_id=A)
    calls = await bot.say("Collega B", user_id=B)
    assert "geen toegang" in texts(calls)[-1]
    with bot.app.sessions() as session:
        plan_now = PlanRepository(session, bot.app.keyring).current_plan("3012")
        assert plan_now is not None and "plan.professional" not in plan_now.answers


def plan_rows(bot: Harness, plan_id: int) -> dict[str, int]:
    """Rows that belong to the plan, per table (the audit log does not count)."""
    counts = {}
    with bot.app.sessions() as session:
        for table in Base.metadata.sorted_tables:
            if "plan_id" in table.c and table.name != "audit_log":
                counts[table.name] = (
                    session.scalar(
                        select(func.count()).select_from(table).where(table.c.plan_id == plan_id)
                    )
                    or 0
                )
        counts["plans"] = (
            session.scalar(select(func.count()).select_from(Plan).where(Plan.id == plan_id)) or 0
        )
    return counts


async def fill_a_plan_with_everything(bot: Harness) -> int:
    """A plan with answers, cost lines, a group suggestion and a share code."""
    await bot.say("/nieuw 3012", user_id=A)
    for _ in range(60):
        if bot.current_field() == "rendement.huidig":
            break
        await answer_current(bot, user_id=A)
    for step in ("Inzet WIJ", "2", "65", "uur", "2", "per week"):
        await bot.say(step, user_id=A)
    await bot.say("/deel", user_id=A)
    group = {"chat_type": "group", "chat_id": -5001}
    await bot.say("/sessie 3012", user_id=A, **group)
    await bot.say("/idee een idee", user_id=A, **group)
    await bot.say("/sessie stop", user_id=A, **group)
    with bot.app.sessions() as session:
        plan = PlanRepository(session, bot.app.keyring).current_plan("3012")
        assert plan is not None
    counts = plan_rows(bot, plan.id)
    assert counts["answers"] > 10 and counts["suggestions"] == 1
    assert counts["plan_access"] == 1 and counts["share_codes"] == 1
    return plan.id


def assert_gone_but_audited(bot: Harness, plan_id: int, action: str) -> None:
    assert set(plan_rows(bot, plan_id).values()) == {0}
    with bot.app.sessions() as session:
        households = session.scalar(text("SELECT count(*) FROM households"))
        assert households == 0
    entries = audit_log(bot.app, plan_id)
    actions = [e.action for e in entries]
    assert actions[0] == "geopend" and "gewijzigd" in actions and actions[-1] == action
    # who, what and when; never content
    for entry in entries:
        assert len(entry.detail) <= 64
        assert "Inzet" not in entry.detail and "idee" not in entry.detail


async def test_verwijder_deletes_every_row_of_the_plan(bot: Harness) -> None:
    plan_id = await fill_a_plan_with_everything(bot)
    calls = await bot.say("/verwijder", user_id=A)
    buttons = bot.buttons(next(c for c in reversed(calls) if c.method == "sendMessage"))
    no = next(data for label, data in buttons if label.startswith("Nee"))
    yes = next(data for label, data in buttons if label.startswith("Ja"))
    calls = await bot.press(no, user_id=A)
    assert "niet verwijderd" in texts(calls)[-1]
    assert plan_rows(bot, plan_id)["plans"] == 1
    calls = await bot.press(yes, user_id=A)
    assert "is verwijderd" in texts(calls)[-1]
    assert_gone_but_audited(bot, plan_id, "verwijderd")


async def test_purge_deletes_inactive_plans_only(bot: Harness) -> None:
    plan_id = await fill_a_plan_with_everything(bot)
    assert bot.app.access.purge(365) == 0
    with bot.app.sessions.begin() as session:
        session.execute(update(Plan).values(updated_at=utcnow() - timedelta(days=366)))
    assert bot.app.access.purge(365) == 1
    assert_gone_but_audited(bot, plan_id, "opgeschoond")
