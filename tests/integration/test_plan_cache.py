"""PlanService's plan cache and the chat binding check, on real SQLite and PostgreSQL.

Several workers share one database: whatever one process remembers must never make a turn
use answers or a chat binding that another has changed since.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from bot.service import ChatMoved, ChatTarget, PlanService
from dialogs import Dialog, Interview, Text
from storage import ChatRecord, PlanRepository, Units
from tests.conftest import sample_answer
from tests.integration.conftest import KEYRING


def answer(service: PlanService, plan_id: int, spec: Interview, index: int) -> dict[str, object]:
    text = sample_answer(spec.fields[index])
    turn = service.handle(plan_id, Text(text), author="prof:1")
    assert turn.saved
    return turn.answers


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: object) -> None:
        seen.append(str(args[2]))  # the statement text

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_a_turn_reads_one_plan_row_and_no_answers_when_it_knows_the_plan(
    units: Units, dialog: Dialog, spec: Interview, statements: list[str]
) -> None:
    service = PlanService(dialog, units)
    plan_id = service.open("3012", actor="prof:1").plan_id
    answer(service, plan_id, spec, 0)
    statements.clear()
    answers = answer(service, plan_id, spec, 1)
    assert set(answers) == {spec.fields[0].key, spec.fields[1].key}
    assert not [s for s in statements if "FROM answers" in s]
    # A service that has not seen the plan (a fresh worker) reads the answers.
    fresh = PlanService(dialog, units)
    statements.clear()
    assert set(answer(fresh, plan_id, spec, 2)) == {f.key for f in spec.fields[:3]}
    assert [s for s in statements if "FROM answers" in s]


def test_two_workers_on_one_plan_each_see_the_others_answers(
    sessions: sessionmaker[Session], units: Units, dialog: Dialog, spec: Interview
) -> None:
    first, second = (PlanService(dialog, units) for _ in range(2))
    plan_id = first.open("3012", actor="prof:1").plan_id
    answer(first, plan_id, spec, 0)
    answer(second, plan_id, spec, 1)  # first's cached plan is now one revision behind
    assert set(answer(first, plan_id, spec, 2)) == {f.key for f in spec.fields[:3]}
    with sessions() as session:
        record = PlanRepository(session, KEYRING).get(plan_id)
    assert record is not None and set(record.answers) == {f.key for f in spec.fields[:3]}


def test_a_deleted_plan_never_lends_its_answers_to_a_new_plan_with_its_id(
    engine: Engine, units: Units, dialog: Dialog, spec: Interview
) -> None:
    service = PlanService(dialog, units)
    old = service.open("3012", actor="prof:1").plan_id
    answer(service, old, spec, 0)
    with units(claim=False) as uow:  # deleted by another process (`doorbraakbot purge`)
        assert uow.deletion.delete_plan(old)
    # Another worker starts a plan and brings it to the same revision as the deleted one.
    other = PlanService(dialog, units)
    new = other.open("3012", actor="prof:2").plan_id
    if engine.dialect.name == "sqlite":
        assert new == old  # SQLite hands out the largest rowid again
    title = spec.fields[0]
    assert other.handle(new, Text("Een ander plan"), author="prof:2").saved
    turn = service.handle(new, Text("overzicht"), author="prof:1")
    assert turn.answers == {title.key: "Een ander plan"}


def test_a_turn_for_a_chat_that_was_rebound_meanwhile_applies_nothing(
    sessions: sessionmaker[Session], units: Units, dialog: Dialog, spec: Interview
) -> None:
    service = PlanService(dialog, units)
    chat_id = 5501
    first = service.open("3012", actor="prof:1", chat=ChatTarget(chat_id, "private")).plan_id
    held = service.chat(chat_id)
    assert held == ChatRecord(chat_id, first, "private", None)
    # Another worker opens another plan in the same chat.
    PlanService(dialog, units).open("4021", actor="prof:1", chat=ChatTarget(chat_id, "private"))
    with pytest.raises(ChatMoved):
        service.handle(first, Text(sample_answer(spec.fields[0])), author="prof:1", chat=held)
    with sessions() as session:
        assert PlanRepository(session, KEYRING).history(first) == []
    # With the binding as it is now, the turn goes through.
    current = service.chat(chat_id)
    assert current is not None and current.plan_id != first
    turn = service.handle(current.plan_id, Text("overzicht"), author="prof:1", chat=current)
    assert turn.plan_id == current.plan_id
