"""The report's rules per law and its appendix of bundled cases, on SQLite and PostgreSQL:
a generated set of plans gives the expected groups and rule counts; over real plans, texts
appear only in a report of the plan's own team and only when its owner shares them; the
owner alone changes that (`delen nee`), and the finish message says so."""

from __future__ import annotations

import io
import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import jsonschema
import pypdf
import pytest
from sqlalchemy import select

import prompts
from bench.render import drive_plan
from bot import bundle as bundle_module
from bot.access import NotOwner
from bot.bootstrap import App, bootstrap
from bot.bundle import MIN_GROUP
from bot.config import Settings
from bot.consent import SHARING_SET, SharingNote
from bot.documents import Renderer
from bot.facts import FactsKeeper
from bot.formatting import DutchFormatter
from bot.local import LocalChat
from bot.report import SMALL, ReportService, Scope, scope_for
from bot.report_render import render, to_csv
from dialogs import Done, Message, Question
from dialogs.spec import Field, Kind
from storage import Units
from storage.access import BELEIDSMEDEWERKER, OWNER, TEAMLEIDER, AuditEntry
from storage.bundle import RULE_LAW, RULES_BEFORE, BundleRepository, PlanRuleLawRow
from storage.facts import FactValues
from storage.models import Meta
from tests.conftest import ROOT, TEST_SECRET, sample_answer

SPEC = prompts.load_interview()
SCHEMA = json.loads((ROOT / "bot" / "rapport.schema.json").read_text(encoding="utf-8"))
DOMAINS = ["Wonen", "Welzijn", "Werk"]
LAWS = ["Participatiewet", "Wmo", "Woningwet"]
NO_COSTS = ["Klaar"] * 3
HOSTILE = '<script>alert(1)</script> #set text(red) $x$ \\ "quote'


# --- a generated set of plans: groups and rules per law ----------------------------------


def test_generated_plans_give_the_expected_groups_and_rule_counts(units: Units) -> None:
    rng = random.Random(16)
    expected_groups: Counter[tuple[tuple[str, ...], tuple[str, ...]]] = Counter()
    plans_per_law: Counter[str | None] = Counter()
    rules_per_law: Counter[str | None] = Counter()
    with units(claim=False) as uow:
        for name in DOMAINS:
            uow.facts.bit("domein", name)
        for name in LAWS:
            uow.facts.bit("wet", name)
            uow.facts.bit(RULE_LAW, name)
        bundle = BundleRepository(uow.tx)
        for number in range(120):
            domains = tuple(d for d in DOMAINS if rng.random() < 0.5) or (DOMAINS[0],)
            laws = tuple(law for law in LAWS if rng.random() < 0.4)
            finished = rng.random() < 0.8
            record = uow.plans.start_plan(f"G-{number}", state="x", owner=None)
            uow.facts.store(
                record.id,
                FactValues(
                    {"domein": domains, "wet": laws},
                    {},
                    date(2026, 3, 1) if finished else None,
                ),
                started_on=date(2026, 2, 1),
                team=lambda: "Noord",
            )
            by_law: dict[str | None, int] = {
                law: rng.randrange(1, 3) for law in laws if rng.random() < 0.7
            }
            if rng.random() < 0.3:
                by_law[None] = 1
            bundle.store_rules(record.id, by_law)
            if finished:
                expected_groups[(domains, laws)] += 1
                for law, rules in by_law.items():
                    plans_per_law[law] += 1
                    rules_per_law[law] += rules
    report = ReportService(units, FactsKeeper(SPEC, units))

    document = report.build(Scope(), actor="terminal:test", fmt="json")

    jsonschema.validate(document, SCHEMA)
    shown = {
        (tuple(g["domains"]), tuple(g["laws"])): g["plans"] for g in document["appendix"]["groups"]
    }
    assert shown == {
        key: plans if plans >= 5 else SMALL
        for key, plans in expected_groups.items()
        if plans >= MIN_GROUP
    }
    assert all("cases" not in g for g in document["appendix"]["groups"])
    assert document["appendix"]["texts"] is False
    by_law = {row["law"]: (row["plans"], row["rules"]) for row in document["rules_by_law"]}
    assert by_law == {
        law: (plans, rules_per_law[law]) if plans >= 5 else (SMALL, SMALL)
        for law, plans in plans_per_law.items()
    }
    # The laws in the list's order, the law not told last.
    assert [row["law"] for row in document["rules_by_law"]][-1] is None


# --- real plans --------------------------------------------------------------------------


def answers_for(marker: str, doorbraak: str | None = None) -> Callable[[Field], str]:
    """sample_answer, with a doorbraak and two rules that carry `marker`: the first names the
    Participatiewet, the second `wpo` (Wet primair onderwijs); both laws are picked."""

    def answer(field: Field) -> str:
        if field.key == "doorbraak.doorbraak":
            return doorbraak or f"Doorbraak {marker}"
        if field.key == "legitimiteit.regel":
            return f"Artikel 18 Participatiewet {marker}"
        if field.key == "legitimiteit.andere_regels":
            return f"Leerplicht in de wpo {marker} | bedoeling | uitzondering | gemeente"
        return sample_answer(field)

    return answer


def app_on(url: str, data_dir: Path) -> App:
    return bootstrap(Settings(data_dir=data_dir, database_url=url, secret_key=TEST_SECRET))


@pytest.fixture
def app(url: str, tmp_path: Path) -> Iterator[App]:
    made = app_on(url, tmp_path / "bundle")
    yield made
    made.engine.dispose()


def finish(app: App, household: str, answer: Callable[[Field], str], author: str) -> list[object]:
    """Make a plan through the terminal's chat; the items of the turn that finished it."""
    chat = LocalChat(app, household, author=author)
    items: list[object] = list(chat.begin())
    grouped: set[str] = set()
    while not any(isinstance(i, Done) for i in items):
        question = [i for i in items if isinstance(i, Question)][-1]
        field = app.dialog.spec.field(question.field)
        text = "Nee" if field.key in grouped else answer(field)
        if field.kind is Kind.GROUP:
            grouped.add(field.key)
        items = list(chat.send(text)[0])
    return items


def plan_id_of(app: App, household: str) -> int:
    found = app.service.current(household)
    assert found is not None
    return found[0].id


def test_texts_only_in_the_own_teams_report_and_only_when_shared(app: App) -> None:
    noord = app.access.register(app.access.invite("Noord", TEAMLEIDER), 8100000001)
    zuid = app.access.register(app.access.invite("Zuid"), 8100000002)
    beleid = app.access.register(app.access.invite("Beleid", BELEIDSMEDEWERKER), 8100000003)
    assert noord is not None and zuid is not None and beleid is not None
    # The first plan through the terminal's chat: its finish says how its texts are shared.
    items = finish(app, "N-100", answers_for("noord-0", HOSTILE), noord.actor)
    # In the finish message itself: the replies keep their kinds and order.
    assert [type(i).__name__ for i in items[-3:]] == ["SharingNote", "PlanDocument", "Done"]
    assert isinstance(items[-3], SharingNote) and isinstance(items[-3], Message)
    assert items[-3].text == SPEC.message("klaar") + "\n" + SPEC.message("delen_klaar")
    for n in range(1, 5):
        drive_plan(app, f"N-10{n}", NO_COSTS, answers_for(f"noord-{n}"), author=noord.actor)
    for n in range(2):
        drive_plan(app, f"Z-20{n}", NO_COSTS, answers_for(f"zuid-{n}"), author=zuid.actor)
    # One owner says no, typed in the terminal's chat.
    chat = LocalChat(app, "N-104", author=noord.actor)
    chat.begin()
    said, _ = chat.send("delen nee")
    assert Message(SPEC.message("delen_staat_nee")) in said
    assert not app.consent.shares(plan_id_of(app, "N-104"))

    team = app.report.build(scope_for(noord), actor=noord.actor, fmt="pdf")

    jsonschema.validate(team, SCHEMA)
    assert team["appendix"]["texts"] is True
    (group,) = team["appendix"]["groups"]
    assert group["plans"] == 5
    assert group["domains"] == ["Wonen", "Welzijn"]
    assert group["laws"] == ["Participatiewet", "Wet primair onderwijs"]
    doorbraken = [case["doorbraak"] for case in group["cases"]]
    assert doorbraken == [HOSTILE, "Doorbraak noord-1", "Doorbraak noord-2", "Doorbraak noord-3"]
    assert group["cases"][1]["rules"] == [
        "Artikel 18 Participatiewet noord-1",
        "Leerplicht in de wpo noord-1",
    ]
    text = json.dumps(team)
    assert "noord-4" not in text  # its owner does not share
    assert "zuid" not in text and "N-10" not in text  # another team; no household numbers
    assert team["rules_by_law"] == [
        {"law": "Participatiewet", "plans": 5, "rules": 5},
        {"law": "Wet primair onderwijs", "plans": 5, "rules": 5},
    ]

    # Over all teams, or a beleidsmedewerker's report of a team: the groups, no texts.
    for scope in (Scope(), scope_for(beleid, "Noord"), scope_for(beleid)):
        wide = app.report.build(scope, actor="terminal:test", fmt="json")
        jsonschema.validate(wide, SCHEMA)
        assert wide["appendix"]["texts"] is False
        assert all("cases" not in g for g in wide["appendix"]["groups"])
        assert "noord-" not in json.dumps(wide) and "zuid-" not in json.dumps(wide)
    everyone = app.report.build(Scope(), actor="terminal:test", fmt="json")
    assert [g["plans"] for g in everyone["appendix"]["groups"]] == [7]
    # The administrator's `--team Noord` is the team's own report.
    administrator = app.report.build(scope_for(None, "Noord"), actor="beheer", fmt="html")
    assert administrator["appendix"] == team["appendix"]
    # The JSON exchange format, made to be sent on, never has the team's texts.
    exchange = app.report.build(scope_for(noord), actor=noord.actor, fmt="json")
    assert exchange["appendix"]["texts"] is False
    assert [g["plans"] for g in exchange["appendix"]["groups"]] == [5]
    assert "noord-" not in json.dumps(exchange)

    # Every format shows the texts verbatim; markup stays text.
    renderer = Renderer(SPEC, DutchFormatter(), prompts.template_dirs(None))
    html = render("html", team, SPEC, renderer.html_env, renderer.template_dirs).decode()
    pdf = render("pdf", team, SPEC, renderer.html_env, renderer.template_dirs)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; #set text(red) $x$ \\ &#34;quote" in html
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    pdf_text = " ".join(page.extract_text() for page in pages)
    assert HOSTILE in pdf_text
    assert SPEC.message("rapport_bijlage") in pdf_text
    assert "Leerplicht in de wpo noord-3" in pdf_text and "noord-4" not in pdf_text
    csv_text = to_csv(team, SPEC)
    assert "bundle_rule" in csv_text and "noord-4" not in csv_text


def test_only_the_owner_changes_sharing_and_it_is_audited_without_content(app: App) -> None:
    owner = app.access.register(app.access.invite("Noord"), 8100000011)
    other = app.access.register(app.access.invite("Noord"), 8100000012)
    assert owner is not None and other is not None
    drive_plan(app, "N-300", NO_COSTS, answers_for("eigen"), author=owner.actor)
    plan_id = plan_id_of(app, "N-300")
    with app.units() as uow:
        uow.access.grant(plan_id, owner.id, OWNER)
    assert app.consent.shares(plan_id)  # the default: within the team

    with pytest.raises(NotOwner):
        app.consent.set(plan_id, False, actor=other.actor, professional=other)
    refused = app.consent.word(plan_id, "delen nee", actor=other.actor, professional=other)
    assert refused == SPEC.message("delen_geen_eigenaar")
    assert app.consent.shares(plan_id)

    said = app.consent.word(plan_id, "/delen nee", actor=owner.actor, professional=owner)
    assert said == SPEC.message("delen_staat_nee")
    assert not app.consent.shares(plan_id)
    assert app.consent.word(plan_id, "delen ja", actor=owner.actor, professional=owner) == (
        SPEC.message("delen_staat_ja")
    )
    assert app.consent.shares(plan_id)
    # `delen` alone shows the choice; an answer that only starts with the word is no command.
    shown = app.consent.word(plan_id, "delen", actor=owner.actor)
    assert shown is not None and shown.startswith(SPEC.message("delen_staat_ja"))
    assert app.consent.word(plan_id, "delen met de buren", actor=owner.actor) is None
    with app.units(read_only=True) as uow:
        audited = uow.tx.rows(
            select(AuditEntry.actor, AuditEntry.detail).where(AuditEntry.action == SHARING_SET)
        )
    assert [tuple(row) for row in audited] == [(owner.actor, "nee"), (owner.actor, "team")]


def test_rules_of_plans_from_before_are_counted_once(app: App) -> None:
    for n in range(5):
        drive_plan(app, f"O-40{n}", NO_COSTS, answers_for(f"oud-{n}"), author="terminal:test")
    # As just after the upgrade that counts rules: facts, but no rules yet.
    with app.units() as uow:
        uow.tx.execute(PlanRuleLawRow.__table__.delete())
        uow.tx.execute(Meta.__table__.update().where(Meta.key == RULES_BEFORE).values(value="99"))

    document = app.report.build(Scope(), actor="terminal:test", fmt="json")

    assert document["rules_by_law"] == [
        {"law": "Participatiewet", "plans": 5, "rules": 5},
        {"law": "Wet primair onderwijs", "plans": 5, "rules": 5},
    ]
    with app.units(read_only=True) as uow:
        marker = uow.tx.scalar(select(Meta.value).where(Meta.key == RULES_BEFORE))
    assert marker == "0"


def test_a_new_answer_moves_the_rules_in_the_same_turn(app: App) -> None:
    drive_plan(app, "N-500", NO_COSTS, answers_for("een"), author="terminal:test")
    plan_id = plan_id_of(app, "N-500")
    chat = LocalChat(app, "N-500", author="terminal:test")
    chat.begin()
    chat.send("2")  # change a step
    chat.send("wijzig waardendriehoek")
    chat.send("Wmo")  # one law now: every rule is under it

    with app.units(read_only=True) as uow:
        rows = uow.tx.rows(
            select(PlanRuleLawRow.law, PlanRuleLawRow.rules).where(
                PlanRuleLawRow.plan_id == plan_id
            )
        )
        names = uow.facts.names()[RULE_LAW]
    assert {names[law]: rules for law, rules in rows} == {"Wmo": 2}


def test_the_texts_are_capped_and_the_rest_counted(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    lead = app.access.register(app.access.invite("Noord", TEAMLEIDER), 8100000021)
    assert lead is not None
    for n in range(3):
        drive_plan(app, f"N-60{n}", NO_COSTS, answers_for(f"kap-{n}"), author=lead.actor)
    monkeypatch.setattr(bundle_module, "MAX_ALL_CASES", 2)

    document = app.report.build(scope_for(lead), actor=lead.actor, fmt="pdf")

    (group,) = document["appendix"]["groups"]
    assert [case["doorbraak"] for case in group["cases"]] == ["Doorbraak kap-0", "Doorbraak kap-1"]
    assert group["more"] == 1
    jsonschema.validate(document, SCHEMA)
