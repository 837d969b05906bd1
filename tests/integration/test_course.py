"""The plan's course (concept -> klaar -> ingediend -> besluit -> uitgevoerd -> geëvalueerd)
and the doorbraakbudget, through the terminal's chat with an injected clock."""

from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import jsonschema
from docx import Document
from sqlalchemy import text

from bot import exchange
from bot.bootstrap import App, bootstrap
from bot.clock import FixedClock
from bot.config import Settings
from bot.course import BudgetLine
from bot.documents import AfterPlan
from bot.local import LocalChat
from dialogs import Message
from dialogs.status import Stage
from storage.models import ACTION_DONE
from tests.conftest import TEST_SECRET
from tests.e2e.test_opvolging_run import T0, finish
from tests.e2e.test_opvolging_run import app as app
from tests.integration.test_exchange import SCHEMA
from tests.integration.test_plan_page_one import first_section, pdf_pages, plain

AUTHOR = "terminal:tester"
# In the terminal a step is recorded by the professional named in the plan (sample answer).
NAME = "Antwoord over plan professional ✓ café"


def this_year(app: App) -> list[BudgetLine]:
    return [line for line in app.course.budget() if line.start.year == 2027]


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
    plan_id = finish(app, None)
    chat = LocalChat(app, "3012", author=AUTHOR)
    chat.begin()
    assert app.course.stage(plan_id) is Stage.FINISHED
    submitted = said(chat, "indienen")[0]
    assert submitted.startswith("Ingediend bij Doorbraakteam op 1 maart 2027")
    # Nobody of the team is registered: it says nobody received the plan.
    assert "nog niemand van Doorbraakteam is aangemeld" in submitted
    assert said(chat, "besluit toegekend € 1.250,-")[0] == (
        f"Besluit vastgelegd: toegekend, 1 maart 2027, door {NAME}."
        " Uit het doorbraakbudget: €\xa01.250,00."
    )
    # Looking at the plan shows its course after the overview.
    looked = said(chat, "bekijken")
    assert looked[1].splitlines() == [
        "Verloop van het plan: toegekend",
        "  1 maart 2027: ingediend bij Doorbraakteam",
        f"  1 maart 2027: besluit: toegekend (door {NAME})",
        "  Uit het doorbraakbudget: €\xa01.250,00 (Doorbraakteam)",
    ]
    [line] = this_year(app)
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
    assert said(chat, "uitgevoerd")[0] == "Het plan staat op uitgevoerd (1 maart 2027)."
    [line] = this_year(app)
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
    assert [(c.amount, c.day) for c in claims] == [(Decimal("1250.00"), date(2027, 3, 1))]


def test_a_rejection_claims_nothing_and_is_heard(app: App) -> None:
    plan_id = finish(app, None)
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
    assert this_year(app)[0].granted == Decimal(0)


def export(app: App, plan_id: int) -> str:
    found = app.service.plan(plan_id)
    assert found is not None
    document = exchange.export_plan(
        app.dialog.spec,
        *found,
        app.actions.history(plan_id),
        course=app.course.history(plan_id),
    )
    return exchange.dumps(document)


def test_the_course_is_exported_and_imported_identically(app: App, tmp_path: Path) -> None:
    plan_id = finish(app, None)
    chat = LocalChat(app, "3012", author=AUTHOR)
    chat.begin()
    said(chat, "indienen")
    said(chat, "besluit deels toegekend 1.250,50")
    first = export(app, plan_id)
    document = json.loads(first)
    jsonschema.validate(document, SCHEMA)
    assert document["version"] == 3
    assert [(s["stage"], s["who"], s["day"]) for s in document["course"]["steps"]] == [
        ("ingediend", "Doorbraakteam", "2027-03-01"),
        ("deels", NAME, "2027-03-01"),
    ]
    assert [(c["team"], c["amount"]) for c in document["course"]["claims"]] == [
        ("Doorbraakteam", "1250.50")
    ]
    settings = Settings(data_dir=tmp_path / "other", secret_key=TEST_SECRET)
    other = bootstrap(settings, clock=FixedClock(T0))
    try:
        record = other.service.restore(exchange.parse_plan(other.dialog.spec, first))
        assert export(other, record.id) == first
        assert other.course.stage(record.id) is Stage.PARTLY
        granted = [line.granted for line in this_year(other)]
        assert granted == [Decimal("1250.50")]
        # Deleting the plan (retention, /verwijder) takes its course and claims with it.
        with other.units() as uow:
            assert uow.deletion.delete_plan(record.id)
        with other.engine.connect() as connection:
            for table in ("plan_course", "budget_claims"):
                assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0
    finally:
        other.engine.dispose()


def test_the_documents_show_the_stage_on_page_one_and_the_course_at_the_end(app: App) -> None:
    plan_id = finish(app, None)
    chat = LocalChat(app, "3012", author=AUTHOR)
    chat.begin()
    found = app.service.plan(plan_id)
    assert found is not None
    record = found[0]

    def render(fmt: str) -> bytes:
        course = app.course.shown(plan_id)
        after = AfterPlan(course=course)
        return app.renderer.render(fmt, "3012", record.answers, T0.date(), (), after)

    assert "Stand: klaar" in plain(render("md").decode())
    assert "Verloop" not in render("md").decode()
    said(chat, "indienen")
    said(chat, "besluit toegekend € 1.250,-")
    pages = pdf_pages(render("pdf"))
    assert "Stand: toegekend" in pages[0]
    assert (
        "Verloop 1 maart 2027: ingediend bij Doorbraakteam"
        f" 1 maart 2027: besluit: toegekend (door {NAME})"
        " Uit het doorbraakbudget: € 1.250,00 (Doorbraakteam)"
    ) in pages[-1]
    word = Document(io.BytesIO(render("docx")))
    assert "Stand: toegekend" in first_section(word)
    assert f"1 maart 2027: besluit: toegekend (door {NAME})" in plain(
        "\n".join(p.text for p in word.paragraphs)
    )
    html = plain(render("html").decode())
    assert "<strong>Stand</strong>: toegekend" in html and "<h2>Verloop</h2>" in html
    markdown = render("md").decode()
    assert "## Verloop\n\n- 1 maart 2027: ingediend bij Doorbraakteam\n" in markdown


def test_overzicht_shows_the_course_after_the_overview(app: App) -> None:
    finish(app, None)
    chat = LocalChat(app, "3012", author=AUTHOR)
    chat.begin()
    said(chat, "indienen")
    said(chat, "wijzigen")  # the finished plan opened to change a step
    shown = said(chat, "overzicht")
    assert shown[0].startswith("Overzicht van het plan:")
    assert shown[1].splitlines() == [
        "Verloop van het plan: ingediend",
        "  1 maart 2027: ingediend bij Doorbraakteam",
    ]
