"""Plans as JSON: export, import and export again give identical JSON; the schema holds."""

from __future__ import annotations

import dataclasses
import decimal
import json
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from bench.render import EVELINE_COSTS, drive_plan
from bot import exchange
from bot.bootstrap import App, bootstrap
from bot.config import Settings
from bot.local import LocalChat
from dialogs import Field, Kind
from dialogs.kinds import UnknownKind
from tests.conftest import ROOT, sample_answer
from tests.support.stored import every_plan

SCHEMA = json.loads((ROOT / "docs" / "plan.schema.json").read_text(encoding="utf-8"))

# Every kind of cost line: recurring, once, the whole period, a free unit, a zero line.
ALL_COSTS = [
    "Inzet WIJ", "1", "2", "per week",
    "Begeleiding", "1", "3", "per maand",
    "Klaar",
    "Ja, overnemen", "4", "0",
    "Vervoer", "12,50", "rit", "0", "10", "per week",
    "Pleegzorgplaats", "1", "1", "de hele periode",
    "Klaar",
    "Nee, nieuwe posten",
    "Kwartaalkosten", "900", "kwartaal", "4", "1", "de hele periode",
    "Klaar",
]  # fmt: skip


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    application = bootstrap(Settings(data_dir=tmp_path))
    yield application
    application.engine.dispose()


def fill_plan(app: App, household: str, costs: list[str], *, every_field: bool) -> None:
    def answer(field: Field) -> str:
        if field.key == "rendement.periode":
            return "12" if every_field else "overslaan"
        if field.key in ("legitimiteit.wetten", "problemen.wetten") and every_field:
            return "Wmo; Anders, namelijk"
        if field.kind is Kind.GROUP and every_field and field.key not in given:
            given.add(field.key)  # one whole item in one message, then no more
            return " | ".join(f"{column} van een tweede regel" for column in field.columns)
        return sample_answer(field)

    given: set[str] = set()
    drive_plan(app, household, costs, answer, author="terminal:tester")


def export_json(app: App, household: str) -> str:
    found = app.service.current(household)
    assert found is not None
    record, history = found
    return exchange.dumps(exchange.export_plan(app.dialog.spec, record, history))


@pytest.mark.parametrize(
    ("costs", "every_field"), [(EVELINE_COSTS, False), (ALL_COSTS, True)], ids=["eveline", "all"]
)
def test_export_import_export_is_lossless(app: App, costs: list[str], every_field: bool) -> None:
    fill_plan(app, "3012", costs, every_field=every_field)
    # an edit, so the history holds an older text too
    chat = LocalChat(app, "3012", author="terminal:collega")
    chat.begin()
    chat.send("Een stap wijzigen")  # the plan is finished: it asks what to do first
    chat.send("wijzig 4")
    chat.send("Een andere doorbraak")
    first = export_json(app, "3012")
    document = json.loads(first)
    jsonschema.validate(document, SCHEMA)
    if every_field:
        spec = app.dialog.spec
        # every field but the reason for no rendement, asked only when there are no costs
        everything = {f.key for f in spec.fields} - {"rendement.geen_kosten"}
        assert set(document["answers"]) == everything
        assert document["answers"]["legitimiteit.wetten"] == ["Wmo", "Anders, namelijk"]
    assert [h["value"] for h in document["history"] if h["field"] == "doorbraak.doorbraak"] == [
        "Antwoord over doorbraak doorbraak ✓ café",
        "Een andere doorbraak",
    ]
    restored = app.service.restore(exchange.parse_plan(app.dialog.spec, first))
    assert restored.household == "3012"
    assert export_json(app, "3012") == first
    # the plan it replaced is archived, not overwritten
    with app.sessions() as session:
        plans = every_plan(session, app.keyring)
    assert sorted(p.status for p in plans) == ["gearchiveerd", "klaar"]


def test_the_money_path_sees_no_float(app: App) -> None:
    context = decimal.getcontext()
    context.traps[decimal.FloatOperation] = True
    try:
        fill_plan(app, "4021", ALL_COSTS, every_field=True)
        document = json.loads(export_json(app, "4021"))
        found = app.service.current("4021")
        assert found is not None
        app.renderer.markdown("4021", found[0].answers, found[0].updated_at.date())
    finally:
        context.traps[decimal.FloatOperation] = False
    figures = document["rendement"]
    assert figures["huidig"] == "10360.00"
    # 4 h a week at € 65 (13.520), a zero line, 10 rides a week at € 12,50 (6.500) and a
    # year of foster care at € 7.000 a year (7.000)
    assert figures["dreigend"] == "27020.00"
    assert figures["doorbraak"] == "3600.00"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d.update(version=4), "version"),
        (lambda d: d.update(household="Jansen"), "household"),
        (lambda d: d["answers"].update({"huishouden.inkomen": 1052.32}), "fraction"),
        (lambda d: d["history"].append({"field": "plan.titel"}), "history"),
        (lambda d: d["answers"].update({"plan.titel": "iets anders"}), "does not match"),
        (lambda d: d.update(created_at="gisteren"), "ISO 8601"),
    ],
)
def test_a_bad_file_is_refused_with_a_reason(app: App, change: object, reason: str) -> None:
    fill_plan(app, "3012", EVELINE_COSTS, every_field=False)
    document = json.loads(export_json(app, "3012"))
    change(document)  # type: ignore[operator]
    with pytest.raises(exchange.PlanFileError, match=reason):
        exchange.parse_plan(app.dialog.spec, json.dumps(document))


def test_a_kind_missing_from_the_registry_is_an_error_not_cost_lines(app: App) -> None:
    fill_plan(app, "3013", EVELINE_COSTS, every_field=False)
    document = json.loads(export_json(app, "3013"))
    spec = app.dialog.spec
    # A kind added to a field without an entry in dialogs.kinds (here a made-up one).
    step = next(s for s in spec.steps if any(f.key == "plan.titel" for f in s.fields))
    fields = tuple(
        dataclasses.replace(f, kind="locatie") if f.key == "plan.titel" else f  # type: ignore[arg-type]
        for f in step.fields
    )
    steps = tuple(dataclasses.replace(s, fields=fields) if s is step else s for s in spec.steps)
    changed = dataclasses.replace(spec, steps=steps)
    # A value in the stored form of cost lines must not slip through as cost lines.
    line = {"omschrijving": "x", "prijs": 100, "eenheid": "uur", "aantal": "1"}
    line["frequentie"] = "eenmalig"
    for item in document["history"]:
        if item["field"] == "plan.titel":
            item["value"] = [line]
    document["answers"]["plan.titel"] = [line]
    with pytest.raises(UnknownKind, match="locatie"):
        exchange.parse_plan(changed, json.dumps(document))
    # With its own kind the same value is refused as what it is not.
    with pytest.raises(exchange.PlanFileError, match=r"plan\.titel"):
        exchange.parse_plan(spec, json.dumps(document))
