"""The escalatieladder over SQLite and PostgreSQL, through the terminal's and JSON-lines'
chat with an injected clock: an overdue action gives one proposal, escalating records who,
when and why, the outcome is recorded, the next proposal names the next rung, and the top
rung has none above it. Also: the ladder as data, a negative decision, export and import."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pypdf
import pytest
from docx import Document
from sqlalchemy import select

from bot import exchange
from bot.bootstrap import App
from bot.clock import FixedClock
from bot.documents import AfterPlan
from bot.escalations import Escalated, Refused
from bot.jsonl import encode
from bot.local import LocalChat
from dialogs import SpecError
from prompts.ladder import load_ladder, parse_ladder
from storage.escalations import Escalation
from tests.conftest import ROOT
from tests.support.opvolging import app as app
from tests.support.opvolging import clock as clock
from tests.support.plans import finish
from tests.support.stored import audit_log

# The clock starts on Monday 1 March 2027 (tests.support.opvolging); the sample plan's first
# two actions are due on Monday 8 March, so fourteen days late on 22 March.
LATE = datetime(2027, 3, 22, 9, 0, tzinfo=UTC)
SCHEMA = json.loads((ROOT / "docs" / "plan.schema.json").read_text(encoding="utf-8"))


def lines(items: list[Any]) -> list[dict[str, Any]]:
    """The chat's replies as the JSON-lines protocol writes them."""
    return [json.loads(json.dumps(encode(item), ensure_ascii=False)) for item in items]


def said(items: list[Any]) -> list[str]:
    return [line["text"] for line in lines(items) if line["type"] in ("message", "error")]


def test_an_overdue_action_is_proposed_once_escalated_and_climbs_to_the_top(
    app: App, clock: FixedClock
) -> None:
    plan_id = finish(app)
    author = "terminal:tester"

    # On time, nothing is proposed.
    chat = LocalChat(app, "3012", author=author)
    assert not any("Opschalen" in t for t in said(chat.begin()))

    # Fourteen days late: one proposal, though two actions are; and only once.
    clock.set(LATE)
    chat = LocalChat(app, "3012", author=author)
    first = said(chat.begin())
    proposals = [t for t in first if t.startswith("⚠️")]
    assert proposals == [
        "⚠️ 'actieplan voor_doorbraak regelen' (Wijkteam) van huishouden 3012 staat al meer dan"
        " 14 dagen open, sinds 8 maart 2027. Opschalen naar Teamleider? Dat is de teamleider"
        " van het sociaal wijkteam; beslist over: inzet van het eigen team, voorrang en"
        " afwijken van de werkinstructie. Typ 'opschalen' om op te schalen."
    ]
    clock.set(LATE + timedelta(days=1))
    items, _ = chat.send("Bekijken")
    assert not any(t.startswith("⚠️") for t in said(items))
    again = LocalChat(app, "3012", author=author)  # a restart
    assert not any(t.startswith("⚠️") for t in said(again.begin()))

    # opschalen: which rung, and why; personal data in the reason is refused.
    items, _ = chat.send("opschalen")
    [question] = [line for line in lines(items) if line["type"] == "question"]
    assert question["field"] == "opschalen"
    assert question["text"].startswith("Opschalen naar Teamleider: de teamleider")
    items, _ = chat.send("bel haar op 0612345678")
    assert lines(items)[0]["type"] == "error"
    assert "telefoonnummer" in lines(items)[0]["text"]
    items, _ = chat.send("De aanvraag ligt al weken stil")
    assert said(items)[0] == (
        "Opgeschaald naar Teamleider (de teamleider van het sociaal wijkteam)."
        " Leg de uitkomst later vast met 'uitkomst'."
    )
    assert lines(items)[-1]["field"] == "plan_af"  # then the question it was at
    [escalation] = [e for e in app.escalations.of_plan(plan_id) if e.state == "opgeschaald"]
    assert (escalation.rung_name, escalation.author, escalation.cause) == (
        "Teamleider",
        author,
        "te_laat",
    )
    assert escalation.reason == "De aanvraag ligt al weken stil"
    assert escalation.decided_at == LATE + timedelta(days=1)

    # The outcome, then the next rung.
    items, _ = chat.send("uitkomst")
    [question] = [line for line in lines(items) if line["type"] == "question"]
    assert question["choices"] == ["Opgelost", "Deels opgelost", "Niet opgelost"]
    items, _ = chat.send("niet opgelost")
    assert said(items)[:2] == [
        "Uitkomst vastgelegd: Niet opgelost.",
        "Volgende trede: Doorbraakteam (het Doorbraakteam van de gemeente, met professionals"
        " uit alle domeinen; beslist over: overnemen van de casus, en afwijken van"
        " protocollen, procedures en processen).",
    ]
    items, _ = chat.send("uitkomst opgelost")
    assert said(items)[0] == "Er is nog niet opgeschaald, dus er is geen uitkomst vast te leggen."

    # By hand up the ladder; above the top there is nothing.
    for rung in ("Doorbraakteam", "Gemeentelijke maatwerktafel", "Landelijke escalatieroute"):
        items, _ = chat.send("opschalen het loopt nog steeds vast")
        assert said(items)[0].startswith(f"Opgeschaald naar {rung} ("), said(items)
    items, _ = chat.send("opschalen nog hoger")
    assert said(items)[0] == (
        "Het plan staat op de hoogste trede van de escalatieladder (Landelijke"
        " escalatieroute); hoger kan niet."
    )
    # Nor is anything proposed for the other late action, however late.
    clock.set(LATE + timedelta(days=60))
    assert not any(t.startswith("⚠️") for t in said(LocalChat(app, "3012", author=author).begin()))

    # Overzicht lists them; each step is audited without its text.
    items, _ = chat.send("Een stap wijzigen")
    items, _ = chat.send("overzicht")
    shown = "\n".join(said(items))
    assert "Escalatieladder:" in shown
    assert "opgeschaald naar Teamleider · De aanvraag ligt al weken stil · Niet opgelost" in shown
    audits = [e for e in audit_log(app, plan_id) if e.action == "opschalen"]
    assert [e.detail for e in audits][:2] == ["opgeschaald 0", "uitkomst niet"]
    assert all("stil" not in e.detail for e in audits)


def test_a_negative_decision_proposes_the_next_rung(app: App, clock: FixedClock) -> None:
    plan_id = finish(app)
    proposal = app.escalations.propose_after_decision(plan_id, actor="prof:1")
    assert proposal is not None
    assert (proposal.cause, proposal.rung, proposal.rung_name) == ("besluit", 0, "Teamleider")
    [claimed] = app.escalations.claim()
    assert claimed.escalation.id == proposal.id
    assert claimed.user_id == 1001
    assert app.escalations.claim() == []
    assert app.escalations.proposal_text(claimed.escalation).startswith(
        "⚠️ Het besluit over het plan van huishouden 3012 is niet (helemaal) toegekend."
        " Opschalen naar Teamleider?"
    )
    done = app.escalations.answer(proposal.id, True, actor="prof:1")
    assert isinstance(done, Escalated)
    assert done.record.reason == "Besluit niet (helemaal) toegekend"
    # A second press changes nothing.
    again = app.escalations.answer(proposal.id, True, actor="prof:1")
    assert isinstance(again, Refused) and again.key == "opschalen_beantwoord"
    # The next negative decision names the next rung.
    second = app.escalations.propose_after_decision(plan_id, actor="prof:1")
    assert second is not None and second.rung_name == "Doorbraakteam"


def test_the_ladder_is_validated(tmp_path: Path) -> None:
    ladder = load_ladder()
    assert ladder.rungs[0].name == "Teamleider"
    assert ladder.overdue_days == 14
    # Sections of others are ignored.
    rung = {"naam": "A", "wie": "a", "beslist": "b"}
    data = {"budget": {"x": 1}, "escalatieladder": {"dagen_te_laat": 3, "treden": [rung]}}
    assert parse_ladder(data).overdue_days == 3
    for broken in (
        {},
        {"escalatieladder": {"dagen_te_laat": 0, "treden": [rung]}},
        {"escalatieladder": {"dagen_te_laat": 3, "treden": []}},
        {"escalatieladder": {"dagen_te_laat": 3, "treden": [{"naam": "A", "wie": "a"}]}},
        {"escalatieladder": {"dagen_te_laat": 3, "treden": [rung, rung]}},
    ):
        with pytest.raises(SpecError):
            parse_ladder(broken)
    # A municipality's own file without the section keeps the shipped ladder.
    (tmp_path / "opvolging.yaml").write_text("doorbraakteam: {naam: Team West}\n")
    assert load_ladder(tmp_path) == ladder
    (tmp_path / "opvolging.yaml").write_text("escalatieladder: {dagen_te_laat: twee}\n")
    with pytest.raises(SpecError):
        load_ladder(tmp_path)


def test_escalations_are_exported_imported_identically_and_deleted(
    app: App, clock: FixedClock
) -> None:
    plan_id = finish(app)
    clock.set(LATE)
    [claimed] = app.escalations.claim()
    done = app.escalations.answer(claimed.escalation.id, True, actor="prof:1")
    assert isinstance(done, Escalated)
    app.escalations.record_outcome(done.record.id, "deels", actor="prof:1", propose_next=True)
    spec = app.dialog.spec

    def export(pid: int) -> dict[str, Any]:
        found = app.service.plan(pid)
        assert found is not None
        record, history = found
        return exchange.export_plan(
            spec,
            record,
            history,
            app.actions.history(pid),
            escalations=app.escalations.of_plan(pid),
        )

    document = export(plan_id)
    jsonschema.validate(document, SCHEMA)
    assert document["version"] == 3
    assert [e["state"] for e in document["escalations"]] == ["opgeschaald", "voorgesteld"]
    first = document["escalations"][0]
    assert first["rung_name"] == "Teamleider" and first["outcome"] == "deels"
    assert first["action"] is not None
    assert document["actions"][first["action"]]["due"] == "2027-03-08"

    imported = app.service.restore(exchange.parse_plan(spec, exchange.dumps(document)))
    again = export(imported.id)
    for key in ("created_at", "updated_at"):
        again.pop(key), document.pop(key)
    assert again["escalations"] == document["escalations"]

    # Deleting the plan removes its escalations; the raw column holds no reason.
    with app.units(claim=False) as uow:
        raw = list(uow.tx.scalars(select(Escalation.reason)))
        assert raw and all("datum" not in (r or "") for r in raw)
        uow.deletion.delete_plan(imported.id)
        uow.deletion.delete_plan(plan_id)
    with app.units(read_only=True) as uow:
        assert list(uow.tx.scalars(select(Escalation.id))) == []


def test_the_documents_have_a_section_of_escalations(app: App, clock: FixedClock) -> None:
    plan_id = finish(app)
    found = app.service.plan(plan_id)
    assert found is not None
    record = found[0]
    assert app.escalations.sections(plan_id) == []
    clock.set(LATE)
    app.escalations.by_hand(plan_id, "De aanvraag ligt al weken stil", actor="prof:1")
    follow_up = app.escalations.sections(plan_id)
    line = "22 maart 2027 · opgeschaald naar Teamleider · De aanvraag ligt al weken stil · nog"
    day = LATE.date()

    def render(fmt: str) -> bytes:
        after = AfterPlan(sections=tuple(follow_up))
        return app.renderer.render(fmt, "3012", record.answers, day, (), after)

    markdown = render("md").decode()
    assert markdown.endswith(f"## Escalatieladder\n\n- {line} geen uitkomst\n")
    assert (
        f"<h2>Escalatieladder</h2>\n<ul><li>{line} geen uitkomst</li></ul>"
        in render("html").decode()
    )
    words = [p.text for p in Document(io.BytesIO(render("docx"))).paragraphs]
    assert words[-2:] == ["Escalatieladder", f"{line} geen uitkomst"]
    pdf = pypdf.PdfReader(io.BytesIO(render("pdf")))
    last = " ".join(pdf.pages[-1].extract_text().split())
    assert "Escalatieladder" in last and "De aanvraag ligt al weken stil" in last


def test_in_the_interview_an_answer_may_start_with_the_word(app: App) -> None:
    chat = LocalChat(app, "5050", author="terminal:tester")
    first = [line for line in lines(chat.begin()) if line["type"] == "question"][-1]
    items, _ = chat.send("uitkomst van het eerste gesprek")
    assert "Er is nog niet opgeschaald" not in " ".join(said(items))
    assert [line for line in lines(items) if line["type"] == "question"][-1] != first
    items, _ = chat.send("/uitkomst niet opgelost")
    assert said(items)[0] == "Er is nog niet opgeschaald, dus er is geen uitkomst vast te leggen."
    items, _ = chat.send("opschalen")
    assert [line["field"] for line in lines(items)] == ["opschalen"]
    items, _ = chat.send("stop")
    assert said(items)[0] == "Niet opgeschaald."
