"""The evaluation of a finished plan over the JSON-lines protocol, on SQLite and PostgreSQL,
with an injected clock: two evaluations (after 3 and 12 months), realised against projected
rendement to the cent, the export (decimal strings) and its import, the PDF's section."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import docx
import jsonschema
from pypdf import PdfReader

from bot import exchange
from bot.bootstrap import App, bootstrap
from bot.clock import FixedClock
from bot.config import Settings
from bot.documents import AfterPlan
from bot.jsonl import run_jsonl
from bot.local import LocalChat
from storage.access import AuditEntry
from tests.conftest import ROOT, TEST_SECRET
from tests.support.evaluation import PDF_ROWS, RESULT_3, RESULT_12, finish_with_costs
from tests.support.opvolging import app as app
from tests.support.opvolging import clock as clock

# The plan is finished on Monday 1 March 2027; evaluated on 1 June 2027 and 1 March 2028.
AFTER_3 = datetime(2027, 6, 1, 8, 0, tzinfo=UTC)
AFTER_12 = datetime(2028, 3, 1, 8, 0, tzinfo=UTC)
SCHEMA = json.loads((ROOT / "docs" / "plan.schema.json").read_text(encoding="utf-8"))

# After 3 months: actions 1 and 3 done, the hours per week 3 instead of 2, Schuldhulp as
# planned: € 3 × 65 × 52/12 × 3 = € 2.535 + € 900 = € 3.435 against € 2.590 planned.
FIRST = [
    "evaluatie",
    "Deels",
    "1;3",
    "Er is meer rust in huis",
    "Ja",
    "Weet niet",
    "Nee",
    "Per regel nalopen",
    "3",
    "Zelfde",
    "Klaar",
    "stop",
]
# After 12 months: no more actions done, the costs as planned.
SECOND = ["evaluatie", "Ja", "overslaan", "Een vaste woning", "Ja", "Ja", "Ja", "Klopt", "stop"]


def jsonl(app: App, lines: list[str], household: str = "3012") -> list[dict[str, Any]]:
    """One `chat --household X --jsonl` session with these lines; everything it wrote."""
    chat = LocalChat(app, household, author=app.settings.terminal_author)
    stdin = io.BytesIO("".join(json.dumps({"text": line}) + "\n" for line in lines).encode())
    stdout = io.StringIO()
    assert run_jsonl(chat, app.dialog.spec, stdin, stdout) == 0
    return [json.loads(line) for line in stdout.getvalue().splitlines()]


def said(items: list[dict[str, Any]]) -> list[str]:
    return [i["text"] for i in items if i["type"] == "message"]


def test_two_evaluations_over_json_lines(app: App, clock: FixedClock, tmp_path: Path) -> None:
    plan_id = finish_with_costs(app)
    actions = app.actions.of_plan(plan_id)

    clock.set(AFTER_3)
    out = jsonl(app, FIRST)
    assert not [i for i in out if i["type"] == "error"], out
    fields = [i["field"] for i in out if i["type"] == "question"]
    # Every question of prompts/evaluatie.yaml once; the costs four times (offered, two
    # lines gone through, the list).
    keys = [f.key for f in app.service.evaluations.spec.fields]
    assert fields[1:] == [*keys, *[keys[-1]] * 3]
    offered = next(i for i in out if i["type"] == "question" and i["part"] == "hergebruik")
    # The doorbraakscenario's lines pro rata for the 3 months, shown before they are confirmed.
    assert (
        "1. Inzet wijkteam: € 1.690\n2. Schuldhulp: € 900\nTotaal: € 2.590 in 3 maanden"
        in (offered["text"])
    )
    assert offered["choices"] == ["Klopt", "Per regel nalopen"]
    result = said(out)
    # Opened three months on, the plan's overdue actions first propose the escalatieladder.
    assert "staat al meer dan 14 dagen open" in result[0]
    assert "Evaluatie 1 van het plan van huishouden 3012, 3 maanden na het plan." in result[1]
    assert RESULT_3 in result
    # The actions ticked are done; the others stay open.
    after = {a.id: a.status for a in app.actions.of_plan(plan_id)}
    assert [after[a.id] for a in actions] == ["gedaan", "open", "gedaan", "open"]

    clock.set(AFTER_12)
    out = jsonl(app, SECOND)
    assert not [i for i in out if i["type"] == "error"], out
    acties = next(i for i in out if i["type"] == "question" and i["field"] == "evaluatie.acties")
    assert len(acties["choices"]) == 2  # the open ones only
    assert RESULT_12 in said(out)

    # Kept per plan, dated by the clock, audited like answers.
    evaluations = app.service.evaluations_of(plan_id)
    assert [(e.months, e.status, e.finished_at) for e in evaluations] == [
        (3, "klaar", AFTER_3),
        (12, "klaar", AFTER_12),
    ]
    with app.sessions() as session:
        audited = session.query(AuditEntry).filter_by(plan_id=plan_id, detail="evaluatie")
        assert audited.count() == len(FIRST) - 1 + len(SECOND) - 1

    # The export: version 3, the realised figures as exact decimal strings.
    found = app.service.plan(plan_id)
    assert found is not None
    text = exchange.dumps(
        exchange.export_plan(
            app.dialog.spec, *found, app.actions.history(plan_id), evaluations=evaluations
        )
    )
    document = json.loads(text)
    jsonschema.validate(document, SCHEMA)
    assert document["version"] == 3
    assert [e["figures"] for e in document["evaluations"]] == [
        {
            "periode_maanden": "3",
            "gepland": {
                "huidig": "780.00",
                "dreigend": "9000.00",
                "doorbraak": "2590.00",
                "directe_kosten": "1810.00",
                "reele_baten": "6410.00",
            },
            "gerealiseerd": {
                "huidig": "780.00",
                "dreigend": "9000.00",
                "doorbraak": "3435.00",
                "directe_kosten": "2655.00",
                "reele_baten": "5565.00",
            },
        },
        {
            "periode_maanden": "12",
            "gepland": {
                "huidig": "3120.00",
                "dreigend": "36000.00",
                "doorbraak": "7660.00",
                "directe_kosten": "4540.00",
                "reele_baten": "28340.00",
            },
            "gerealiseerd": {
                "huidig": "3120.00",
                "dreigend": "36000.00",
                "doorbraak": "7660.00",
                "directe_kosten": "4540.00",
                "reele_baten": "28340.00",
            },
        },
    ]
    assert document["evaluations"][0]["answers"]["evaluatie.meer"] == "Ja"
    assert document["evaluations"][0]["answers"]["evaluatie.sneller"] == "Weet niet"

    # Into a database of its own, and out again: identical.
    other = bootstrap(Settings(data_dir=tmp_path / "other", secret_key=TEST_SECRET), clock=clock)
    try:
        record = other.service.restore(exchange.parse_plan(other.dialog.spec, text))
        again = other.service.plan(record.id)
        assert again is not None
        copied = exchange.export_plan(
            other.dialog.spec,
            *again,
            other.actions.history(record.id),
            evaluations=other.service.evaluations_of(record.id),
        )
        assert exchange.dumps(copied) == text
        # A version 2 file (no evaluations) still imports.
        old = {k: v for k, v in document.items() if k != "evaluations"} | {"version": 2}
        jsonschema.validate(old, SCHEMA)
        record = other.service.restore(exchange.parse_plan(other.dialog.spec, json.dumps(old)))
        assert other.service.evaluations_of(record.id) == []
    finally:
        other.engine.dispose()

    # The section "Evaluatie" of the PDF, the Word file and the HTML: one row per evaluation.
    rows = app.service.evaluations.rows(evaluations)

    def render(fmt: str) -> bytes:
        after = AfterPlan(evaluations=tuple(rows))
        return app.renderer.render(fmt, "3012", found[0].answers, AFTER_12.date(), (), after)

    reader = PdfReader(io.BytesIO(render("pdf")))
    last = " ".join(reader.pages[-1].extract_text().split())
    assert "Evaluatie Na Datum Doorbraak" in last
    assert all(row in last for row in PDF_ROWS)
    # An amount in the table keeps "€" on its line: it never ends a line on its own.
    lines = reader.pages[-1].extract_text().splitlines()
    assert not [line for line in lines if line.rstrip().endswith("€")]
    assert "3 mnd: Er is meer rust in huis" in last
    word = docx.Document(io.BytesIO(render("docx")))
    cells = [[c.text for c in row.cells] for table in word.tables for row in table.rows]
    assert [
        "3 mnd",
        "1 juni 2027",
        "Deels",
        "Ja / Weet niet / Nee",
        "€\xa02.590,00 → €\xa03.435,00",
    ] in [row[:5] for row in cells]
    page = render("html").decode("utf-8")
    assert "<td>12 mnd</td><td>1 maart 2028</td><td>Ja</td>" in page


def test_evaluatie_on_a_plan_not_finished_is_refused(app: App) -> None:
    out = jsonl(app, ["evaluatie", "stop"], household="4040")
    errors = [i["text"] for i in out if i["type"] == "error"]
    assert errors == ["Evalueren kan zodra het plan af is."]


def test_a_paused_evaluation_resumes_where_it_was(app: App, clock: FixedClock) -> None:
    plan_id = finish_with_costs(app)
    clock.set(AFTER_3)
    # `acties` in between asks the evaluation's question again, not the plan's.
    out = jsonl(app, ["evaluatie", "Ja", "acties", "stop"])
    assert [i["field"] for i in out if i["type"] == "question"][-2:] == ["evaluatie.acties"] * 2
    out = jsonl(app, ["evaluatie", "stop"])
    assert any("Verder met de evaluatie" in t for t in said(out))
    questions = [i["field"] for i in out if i["type"] == "question"]
    assert questions[-1] == "evaluatie.acties"
    [evaluation] = app.service.evaluations_of(plan_id)
    assert (evaluation.status, evaluation.answers) == ("open", {"evaluatie.doorbraak": "Ja"})


def test_deleting_the_plan_removes_its_evaluations(app: App, clock: FixedClock) -> None:
    plan_id = finish_with_costs(app)
    clock.set(AFTER_3)
    jsonl(app, FIRST)
    assert app.service.evaluations_of(plan_id)
    who = app.access.professional(1001)
    assert who is not None
    assert app.service.delete(who, plan_id)
    assert app.service.evaluations_of(plan_id) == []
