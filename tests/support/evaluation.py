"""An invented finished plan with cost lines in its three scenarios, for the evaluation's
tests and the README picture: the figures they expect are worked out by hand below."""

from __future__ import annotations

from bot.bootstrap import App
from dialogs import Question, Text
from dialogs.status import PlanStatus
from storage.access import ProfessionalRecord
from tests.conftest import sample_answer

# Per scenario the lines typed, one message each. Over 3 months: huidig 4 × € 65 × 3 =
# € 780; dreigend 30 × € 100 × 3 = € 9.000; doorbraak 2 × € 65 × 52/12 × 3 = € 1.690 plus
# € 900 once = € 2.590. Over 12 months: € 3.120, € 36.000 and € 6.760 + € 900 = € 7.660.
LINES = {
    "rendement.huidig": ["Inzet wijkteam: 4 uur per maand à € 65"],
    "rendement.dreigend": ["Verblijf opvang: 30 dagen per maand à € 100"],
    "rendement.doorbraak": [
        "Inzet wijkteam: 2 uur per week à € 65",
        "Schuldhulp: 1 traject eenmalig à € 900",
    ],
}


def professional(app: App, user_id: int = 1001) -> ProfessionalRecord:
    who = app.access.professional(user_id) or app.access.register(
        app.access.invite("Noord"), user_id
    )
    assert who is not None
    return who


def finish_with_costs(app: App, household: str = "3012", user_id: int = 1001) -> int:
    """The plan of `household`, finished by a registered professional: the sample answers,
    and LINES for the costs (the lines of earlier scenarios not taken over)."""
    who = professional(app, user_id)
    turn = app.service.open(household, actor=who.actor, professional=who)
    typed: dict[str, int] = {}
    for _ in range(400):
        if turn.outcome.status == PlanStatus.FINISHED:
            return turn.plan_id
        question = [r for r in turn.outcome.replies if isinstance(r, Question)][-1]
        field = app.dialog.spec.field(question.field)
        if field.key in LINES and question.part == "hergebruik":
            answer = question.choices[1]  # Nee, nieuwe posten
        elif field.key in LINES:
            done = typed.get(field.key, 0)
            wanted = LINES[field.key]
            answer = wanted[done] if done < len(wanted) else "Klaar"
            typed[field.key] = done + 1
        else:
            answer = sample_answer(field)
        turn = app.service.handle(turn.plan_id, Text(answer), author=who.actor, professional=who)
    raise AssertionError("the plan did not finish")


# The result after 3 months (the hours per week 3 instead of 2: 3 × € 65 × 52/12 × 3 = € 2.535,
# plus € 900) and after 12 (as planned), as the chat shows it.
RESULT_3 = (
    "Evaluatie na 3 maanden (1 juni 2027). Doorbraak gerealiseerd: Deels.\n"
    "Rendement in 3 maanden, gepland → gerealiseerd:\n"
    "Doorbraakscenario: € 2.590 → € 3.435\n"
    "directe kosten € 1.810 → directe kosten € 2.655\n"
    "reële baten € 6.410 → reële baten € 5.565"
)
RESULT_12 = (
    "Evaluatie na 12 maanden (1 maart 2028). Doorbraak gerealiseerd: Ja.\n"
    "Rendement per jaar, gepland → gerealiseerd:\n"
    "Doorbraakscenario: € 7.660 → € 7.660\n"
    "directe kosten € 4.540 → directe kosten € 4.540\n"
    "reële baten € 28.340 → reële baten € 28.340"
)
# The rows of the PDF's section "Evaluatie", as pypdf reads them (spaces made single).
PDF_ROWS = (
    "3 mnd 1 juni 2027 Deels Ja / Weet niet / Nee € 2.590,00 → € 3.435,00",
    "12 mnd 1 maart 2028 Ja Ja / Ja / Ja € 7.660,00 → € 7.660,00",
)
