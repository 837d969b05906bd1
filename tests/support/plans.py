"""A finished plan made through the service, for tests of what comes after the plan."""

from __future__ import annotations

from bot.bootstrap import App
from dialogs import Question, Text
from dialogs.status import PlanStatus
from tests.conftest import sample_answer


def finish(app: App, household: str = "3012", user_id: int = 1001) -> int:
    """A finished plan of a registered professional, answered with the sample answers."""
    who = app.access.professional(user_id) or app.access.register(
        app.access.invite("Noord"), user_id
    )
    assert who is not None
    turn = app.service.open(household, actor=who.actor, professional=who)
    for _ in range(300):
        if turn.outcome.status == PlanStatus.FINISHED:
            return turn.plan_id
        question = [r for r in turn.outcome.replies if isinstance(r, Question)][-1]
        answer = sample_answer(app.dialog.spec.field(question.field))
        turn = app.service.handle(turn.plan_id, Text(answer), author=who.actor, professional=who)
    raise AssertionError("the plan did not finish")
