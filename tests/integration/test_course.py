"""The plan's course (concept -> klaar -> ingediend -> besluit -> uitgevoerd -> geëvalueerd)
and the doorbraakbudget, through the terminal's chat with an injected clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bot.bootstrap import App, bootstrap
from bot.clock import FixedClock
from bot.config import Settings
from bot.local import LocalChat
from dialogs import Message, Question, Text
from dialogs.status import PlanStatus, Stage
from storage.models import ACTION_DONE
from tests.conftest import TEST_SECRET, sample_answer

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AUTHOR = "terminal:tester"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    application = bootstrap(
        Settings(data_dir=tmp_path, secret_key=TEST_SECRET), clock=FixedClock(T0)
    )
    yield application
    application.engine.dispose()


def finish(app: App, household: str = "3012") -> int:
    turn = app.service.open(household, actor=AUTHOR)
    for _ in range(300):
        if turn.outcome.status == PlanStatus.FINISHED:
            return turn.plan_id
        question = [r for r in turn.outcome.replies if isinstance(r, Question)][-1]
        answer = sample_answer(app.dialog.spec.field(question.field))
        turn = app.service.handle(turn.plan_id, Text(answer), author=AUTHOR)
    raise AssertionError("the plan did not finish")


def said(chat: LocalChat, text: str) -> list[str]:
    items, _ = chat.send(text)
    return [item.text for item in items if isinstance(item, Message)]


def test_a_concept_cannot_be_submitted(app: App) -> None:
    chat = LocalChat(app, "3012", author=AUTHOR)
    chat.begin()
    assert app.course.stage(chat.plan_id or 0) is Stage.CONCEPT
    [refused] = said(chat, "indienen")
    assert "Het plan is nu: concept" in refused
    assert app.course.history(chat.plan_id or 0) == ([], [])


def test_made_submitted_granted_with_a_claim_executed(app: App) -> None:
    plan_id = finish(app)
    chat = LocalChat(app, "3012", author=AUTHOR)
    chat.begin()
    assert app.course.stage(plan_id) is Stage.FINISHED
    assert said(chat, "indienen")[0].startswith("Ingediend bij Doorbraakteam op 2 maart 2026")
    assert said(chat, "besluit toegekend € 1.250,-")[0] == (
        "Besluit vastgelegd: toegekend, 2 maart 2026, door terminal:tester."
        " Uit het doorbraakbudget: €\xa01.250,00."
    )
    [line] = app.course.budget()[:1]
    assert (line.budget, line.granted, line.spent, line.left) == (
        Decimal("50000"),
        Decimal("1250.00"),
        Decimal("0"),
        Decimal("48750.00"),
    )
    for action in app.actions.of_plan(plan_id):
        app.actions.set_status(action.id, ACTION_DONE, actor=AUTHOR, professional=None)
    shown = said(chat, "verloop")
    assert shown[0].splitlines()[0] == "Verloop van het plan: toegekend"
    assert "Alle acties zijn gedaan" in shown[1]
    assert said(chat, "uitgevoerd")[0] == "Het plan staat op uitgevoerd (2 maart 2026)."
    line = app.course.budget()[0]
    assert (line.granted, line.spent, line.left) == (
        Decimal("1250.00"),
        Decimal("1250.00"),
        Decimal("48750.00"),
    )
    assert app.course.evaluated(plan_id, actor=AUTHOR) is not None
    steps, claims = app.course.history(plan_id)
    assert [s.stage for s in steps] == [
        Stage.SUBMITTED,
        Stage.GRANTED,
        Stage.EXECUTED,
        Stage.EVALUATED,
    ]
    assert [(c.amount, c.day) for c in claims] == [(Decimal("1250.00"), date(2026, 3, 2))]


def test_a_rejection_claims_nothing_and_is_heard(app: App) -> None:
    plan_id = finish(app)
    heard: list[int] = []
    app.course.on_rejected.append(lambda plan, step: heard.append(plan))
    chat = LocalChat(app, "3012", author=AUTHOR)
    chat.begin()
    said(chat, "indienen")
    [refused] = said(chat, "besluit afgewezen € 10")
    assert refused == "Bij een afwijzing hoort geen bedrag uit het doorbraakbudget."
    said(chat, "besluit afgewezen")
    assert heard == [plan_id]
    assert app.course.stage(plan_id) is Stage.REJECTED
    assert "Het plan is nu: afgewezen" in said(chat, "uitgevoerd")[0]
    assert app.course.budget()[0].granted == Decimal(0)
