"""The report over real plans, on SQLite and PostgreSQL: facts kept by the turns that store
the answers; `doorbraakbot rapport --format json` over imported JSON exports counts each plan
once, and its sums equal the plans' own figures; roles given by invite and changed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from bench.render import drive_plan
from bot import exchange
from bot.bootstrap import App, bootstrap
from bot.cli import main
from bot.config import Settings
from bot.formatting import DutchFormatter
from bot.report import Scope
from dialogs.display import rendement_view
from storage.access import PROFESSIONAL, TEAMLEIDER
from tests.conftest import TEST_SECRET, sample_answer

PLANS = 5


def costs(n: int) -> list[str]:
    """Three scenarios in whole euros, different for each plan (the period is 3 months)."""
    return [
        f"Inzet wijkteam: {n} uur per week à € 65",
        "Klaar",
        "Nee, nieuwe posten",
        f"Verblijf opvang: {10 * n} dagen à € 100",
        "Klaar",
        "Nee, nieuwe posten",
        f"Begeleiding: {n + 2} uur per maand à € 70",
        "Klaar",
    ]


def app_on(url: str, data_dir: Path) -> App:
    return bootstrap(Settings(data_dir=data_dir, database_url=url, secret_key=TEST_SECRET))


@pytest.fixture
def made(url: str, tmp_path: Path) -> Iterator[App]:
    """An app with PLANS finished plans made through the dialog."""
    app = app_on(url, tmp_path / "made")
    for n in range(1, PLANS + 1):
        drive_plan(app, f"30{n:02d}", costs(n), sample_answer, author="terminal:test")
    yield app
    app.engine.dispose()


def own_figures(app: App) -> dict[str, Decimal]:
    """The sums of the plans' directe and reële figures, signed as the report signs them."""
    sums = {"directe": Decimal(0), "reele": Decimal(0)}
    for record in app.service.plans():
        view = rendement_view(app.dialog.spec, record.answers, DutchFormatter())
        totals = {s.key: s.total for s in view.scenarios}
        sums["directe"] += totals["doorbraak"] - totals["huidig"]
        sums["reele"] += totals["dreigend"] - totals["doorbraak"]
    return sums


def test_the_turns_keep_the_facts_the_report_counts(made: App) -> None:
    document = made.report.build(Scope(), actor="terminal:test", fmt="json")

    (whole,) = document["period"]["rows"]
    assert whole["team"] is None  # made in the terminal: no team
    assert whole["started"] == PLANS
    assert whole["finished"] == PLANS
    assert whole["median_days_to_finished"] == "0"
    # sample_answer picks the first two choices of every list.
    assert whole["domains"] == {"Wonen": PLANS, "Welzijn": PLANS}
    assert whole["laws"] == {"Participatiewet": PLANS, "Wet primair onderwijs": PLANS}
    assert whole["law_pairs"] == [
        {"laws": ["Participatiewet", "Wet primair onderwijs"], "count": PLANS}
    ]
    sums = whole["rendement"]["sum"]
    assert {key: Decimal(sums[key]) for key in ("directe", "reele")} == own_figures(made)


def test_rapport_json_over_imported_exports_counts_each_plan_once(
    made: App,
    url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = []
    for record in made.service.plans():
        found = made.service.plan(record.id)
        assert found is not None
        text = exchange.dumps(exchange.export_plan(made.dialog.spec, *found))
        path = tmp_path / f"plan-{record.household}.json"
        path.write_text(text, encoding="utf-8")
        files.append(path)
    expected = own_figures(made)
    # Another database: SQLite in its own folder, or a fresh PostgreSQL schema of its own.
    other = tmp_path / "other"
    target = f"sqlite:///{other / 'plans.db'}" if url.startswith("sqlite") else url
    if not url.startswith("sqlite"):
        made.engine.dispose()
        with made.engine.begin() as connection:
            for table in ("plan_facts", "answers", "plans", "households", "audit_log"):
                connection.exec_driver_sql(f"DELETE FROM {table}")
    monkeypatch.setenv("DOORBRAAK_ENV_FILE", "")
    monkeypatch.setenv("DOORBRAAK_DATA_DIR", str(other))
    monkeypatch.setenv("DOORBRAAK_DATABASE_URL", target)
    monkeypatch.setenv("DOORBRAAK_SECRET_KEY", TEST_SECRET)
    for path in files + files:  # each file imported twice
        assert main(["import", str(path)]) == 0
    capsys.readouterr()

    assert main(["rapport", "--format", "json", "-o", "-"]) == 0

    document = json.loads(capsys.readouterr().out)
    (whole,) = document["period"]["rows"]
    assert whole["started"] == PLANS
    assert whole["finished"] == PLANS
    sums = whole["rendement"]["sum"]
    assert whole["rendement"]["plans"] == PLANS
    assert {key: Decimal(sums[key]) for key in ("directe", "reele")} == expected
    written = tmp_path / "rapport.csv"
    assert main(["rapport", "--format", "csv", "-o", str(written)]) == 0
    assert capsys.readouterr().out == f"Het rapport staat in {written}\n"
    assert written.read_text(encoding="utf-8").startswith("kwartaal,team,maat,onderdeel,waarde")


def test_an_invite_gives_its_role_and_the_administrator_changes_it(made: App) -> None:
    code = made.access.invite("Noord", TEAMLEIDER)
    who = made.access.register(code, 8123456789)
    assert who is not None and (who.team, who.role) == ("Noord", TEAMLEIDER)
    assert made.access.professional(8123456789) == who

    changed = made.access.set_role(who.id, PROFESSIONAL, "Zuid", actor="beheer")

    assert changed is not None and (changed.team, changed.role) == ("Zuid", PROFESSIONAL)
    assert made.access.professional(8123456789) == changed
    assert made.access.set_role(999, TEAMLEIDER, None, actor="beheer") is None


def test_plans_from_before_the_report_get_their_facts(made: App) -> None:
    before = made.report.build(Scope(), actor="terminal:test", fmt="json")
    # As just after the upgrade that brought the report: plans, no facts.
    with made.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM plan_facts")
        connection.exec_driver_sql(
            "UPDATE meta SET value = (SELECT CAST(max(id) AS TEXT) FROM plans)"
            " WHERE key = 'report_facts_before'"
        )

    after = made.report.build(Scope(), actor="terminal:test", fmt="json")

    assert after["period"] == before["period"]
