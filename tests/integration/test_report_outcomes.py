"""What came true, in the report over all plans, on SQLite and PostgreSQL: a generated set of
evaluated plans gives exactly the expected projected and realised sums and medians, actions
done on time and answers; small cells are suppressed; an evaluation completed in a turn keeps
its outcome in the plan's facts, and plans evaluated before get theirs; `rapport --vergelijk`
puts two real report files side by side and refuses a file that is not one."""

from __future__ import annotations

import io
import json
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pypdf
import pytest
from sqlalchemy import select, update

from bot.bootstrap import App
from bot.cli import main
from bot.clock import FixedClock
from bot.report import HIDDEN, SMALL, Scope
from bot.report_render import to_csv
from storage import Units
from storage.actions import CREATED, STATUS, EventRecord
from storage.facts import PlanFactsRow
from storage.models import ACTION_DONE, ACTION_OPEN, Meta
from storage.outcomes import OUTCOME_MONEY, OutcomeRepository, OutcomeValues
from tests.integration.test_evaluation import AFTER_3, AFTER_12, FIRST, SECOND, jsonl
from tests.integration.test_report import SCHEMA, SPEC, Generated, agrees, median, service, store
from tests.support.evaluation import finish_with_costs
from tests.support.opvolging import app as app
from tests.support.opvolging import clock as clock

ANSWERS = {
    "doorbraak": ("Ja", "Deels", "Nee"),
    "meer": ("Ja", "Nee", "Weet niet"),
    "sneller": ("Ja", "Nee", "Weet niet"),
    "zinvoller": ("Ja", "Nee", "Weet niet"),
}


@dataclass(frozen=True)
class Evaluated:
    realised_on: date
    figures: dict[str, int | None]
    answers: dict[str, str]
    # (due, done on: None while open)
    actions: tuple[tuple[date, date | None], ...]


def _evaluated(rng: random.Random, finished: date) -> Evaluated:
    projected = {k: rng.randrange(-40_000, 60_000) for k in ("directe", "reele")}
    realised = rng.random() < 0.8
    figures: dict[str, int | None] = {
        "projected_directe": projected["directe"],
        "projected_reele": projected["reele"],
        "realised_directe": projected["directe"] + rng.randrange(-5000, 5000)
        if realised
        else None,
        "realised_reele": projected["reele"] + rng.randrange(-5000, 5000) if realised else None,
    }
    actions = []
    for _ in range(rng.randrange(0, 4)):
        due = finished + timedelta(days=rng.randrange(5, 60))
        done = due + timedelta(days=rng.randrange(-10, 10)) if rng.random() < 0.7 else None
        actions.append((due, done))
    return Evaluated(
        finished + timedelta(days=rng.randrange(100, 160)),
        figures,
        {q: rng.choice(choices) for q, choices in ANSWERS.items()},
        tuple(actions),
    )


def keep(units: Units, plans: Sequence[Generated], outcomes: Sequence[Evaluated | None]) -> None:
    """The plans' facts (test_report.store), then their actions with their history and
    their last evaluation, through the repositories the turns use."""
    store(units, list(plans))
    with units(claim=False) as uow:
        ids = sorted(uow.tx.scalars(select(PlanFactsRow.plan_id)))
        repository = OutcomeRepository(uow.tx)
        for plan_id, outcome in zip(ids, outcomes, strict=True):
            if outcome is None:
                continue
            for position, (due, done) in enumerate(outcome.actions):
                made = datetime.combine(due - timedelta(days=30), datetime.min.time(), UTC)
                events = [EventRecord(made, "test", CREATED, ACTION_OPEN, due)]
                if done is not None:
                    at = datetime.combine(done, datetime.min.time(), UTC) + timedelta(hours=10)
                    events.append(EventRecord(at, "test", STATUS, ACTION_DONE, due))
                uow.actions.restore(
                    plan_id,
                    "actieplan.voor_doorbraak",
                    position,
                    f"Wijkteam | stap {position} | {due.isoformat()}",
                    due=due,
                    status=ACTION_DONE if done else ACTION_OPEN,
                    removed_at=None,
                    created_at=made,
                    updated_at=events[-1].at,
                    events=events,
                )
            repository.count_actions(plan_id)
            answers: dict[str, str | None] = dict(outcome.answers)
            repository.set_outcome(
                plan_id, OutcomeValues(outcome.realised_on, outcome.figures, answers)
            )


def label(day: date) -> str:
    return f"{day.year}-K{(day.month - 1) // 3 + 1}"


def test_generated_evaluated_plans_give_exact_sums_medians_on_time_and_answers(
    units: Units,
) -> None:
    rng = random.Random(160)
    plans: list[Generated] = []
    outcomes: list[Evaluated | None] = []
    for _ in range(120):
        started = date(2026, 1, 5) + timedelta(days=rng.randrange(0, 60))
        finished = started + timedelta(days=rng.randrange(3, 40))
        plans.append(Generated("Noord", started, finished, ("Wonen",), (), (), {}))
        outcomes.append(_evaluated(rng, finished) if rng.random() < 0.85 else None)
    keep(units, plans, outcomes)

    document = service(units).build(Scope(("Noord",)), actor="terminal:test", fmt="json")

    jsonschema.validate(document, SCHEMA)
    assert document["version"] == 2
    rows = {q["quarter"]: q["rows"][0] for q in document["quarters"]}
    evaluated = [o for o in outcomes if o is not None]
    checked = 0
    for quarter in {label(o.realised_on) for o in evaluated}:
        found = rows[quarter]["outcomes"]
        here = [o for o in evaluated if label(o.realised_on) == quarter]
        with_figures = [o for o in here if o.figures["realised_directe"] is not None]
        assert agrees(found["plans"], len(here))
        assert agrees(found["with_figures"], len(with_figures))
        for question, answers in found["answers"].items():
            counted = Counter(o.answers[question] for o in here)
            for answer, value in answers.items():
                assert agrees(value, counted[answer]), (quarter, question, answer)
        if not isinstance(found["with_figures"], int) or not with_figures:
            assert found["sum"] is None and found["median"] is None
            continue
        checked += 1
        for key in OUTCOME_MONEY:
            values = [int(o.figures[key]) for o in with_figures]  # type: ignore[arg-type]
            assert found["sum"][key] == str(sum(values))
            assert found["median"][key] == median(values)
    assert checked >= 2
    # The actions count in the quarter each plan was finished.
    for quarter in {label(p.finished) for p in plans if p.finished}:
        actions = rows[quarter]["actions"]
        here = [
            o
            for p, o in zip(plans, outcomes, strict=True)
            if o is not None and o.actions and p.finished and label(p.finished) == quarter
        ]
        dated = sum(len(o.actions) for o in here)
        on_time = sum(1 for o in here for due, done in o.actions if done and done <= due)
        assert agrees(actions["plans"], len(here))
        if isinstance(actions["plans"], int) and here:
            share = (Decimal(on_time) / dated).quantize(Decimal("0.001"), ROUND_HALF_UP)
            assert (actions["dated"], actions["on_time"]) == (dated, on_time)
            assert actions["share"] == str(share)
        else:
            assert actions["dated"] is None and actions["share"] is None
    whole = document["period"]["rows"][0]["outcomes"]
    assert whole["plans"] == len(evaluated)
    complete = [o for o in evaluated if o.figures["realised_reele"] is not None]
    for key in OUTCOME_MONEY:
        assert Decimal(whole["sum"][key]) == sum(Decimal(o.figures[key] or 0) for o in complete)
    counted = Counter(o.answers["doorbraak"] for o in evaluated)
    assert whole["answers"]["doorbraak"] == {a: counted[a] for a in ("Ja", "Deels", "Nee")}
    assert list(whole["answers"]["meer"]) == [
        a for a in ("Ja", "Nee", "Weet niet") if any(o.answers["meer"] == a for o in evaluated)
    ]


def test_small_cells_and_an_answer_they_would_give_away_are_suppressed(units: Units) -> None:
    # Seven plans evaluated in 2026-K3, three with realised costs; six answered Ja, one Nee.
    finished = date(2026, 2, 2)
    plans = [Generated("Noord", date(2026, 1, 12), finished, (), (), (), {})] * 7
    outcomes: list[Evaluated | None] = []
    for n in range(7):
        realised = n < 3
        figures: dict[str, int | None] = {
            "projected_directe": 1000,
            "projected_reele": 5000,
            "realised_directe": 1200 if realised else None,
            "realised_reele": 4800 if realised else None,
        }
        answers = {"doorbraak": "Ja", "meer": "Nee" if n == 0 else "Ja"}
        answers |= {"sneller": "Ja", "zinvoller": "Ja"}
        outcomes.append(Evaluated(date(2026, 8, 3), figures, answers, ()))
    keep(units, plans, outcomes)

    document = service(units).build(Scope(("Noord",)), actor="terminal:test", fmt="json")

    jsonschema.validate(document, SCHEMA)
    row = next(q["rows"][0] for q in document["quarters"] if q["quarter"] == "2026-K3")
    found = row["outcomes"]
    assert (found["plans"], found["with_figures"]) == (7, SMALL)
    assert found["sum"] is None and found["median"] is None
    # Nee is 1: small; Ja (6) would give it away beside the 7 evaluated plans, so it is hidden.
    assert found["answers"]["meer"] == {"Ja": HIDDEN, "Nee": SMALL}
    assert found["answers"]["doorbraak"] == {"Ja": 7}
    # No plan had actions: nothing to protect.
    assert row["actions"] == {"plans": 0, "dated": None, "on_time": None, "share": None}


def test_actions_count_as_on_time_by_the_dutch_day_they_were_done(units: Units) -> None:
    store(units, [Generated("Noord", date(2026, 1, 5), date(2026, 1, 10), (), (), (), {})])
    due = date(2026, 1, 15)
    late_evening = datetime(2026, 1, 15, 22, 30, tzinfo=UTC)  # 23:30 in Amsterdam
    after_midnight = datetime(2026, 1, 15, 23, 30, tzinfo=UTC)  # 00:30 on the 16th
    made = datetime(2026, 1, 10, 9, tzinfo=UTC)
    with units(claim=False) as uow:
        plan_id = uow.tx.scalar(select(PlanFactsRow.plan_id))

        def action(position: int, day: date | None, done: datetime | None, **kw: Any) -> int:
            events = [EventRecord(made, "test", CREATED, ACTION_OPEN, day)]
            if done is not None:
                events.append(EventRecord(done, "test", STATUS, ACTION_DONE, day))
            return uow.actions.restore(
                plan_id,
                "actieplan.voor_doorbraak",
                position,
                f"Wijkteam | stap {position} | later",
                due=day,
                status=ACTION_DONE if done else ACTION_OPEN,
                removed_at=kw.get("removed_at"),
                created_at=made,
                updated_at=done or made,
                events=events,
            )

        action(0, due, late_evening)  # on time
        action(1, due, after_midnight)  # a day late
        action(2, due, None)  # still open
        action(3, None, late_evening)  # no date: not counted
        action(4, due, late_evening, removed_at=late_evening)  # out of the plan: not counted
        reopened = action(5, due, late_evening)
        OutcomeRepository(uow.tx).count_actions(plan_id)
        assert _actions(uow, plan_id) == (4, 2)
        # Set open again in a turn: the count follows in the same transaction.
        moment = datetime(2026, 1, 20, 9, tzinfo=UTC)
        assert uow.actions.set_status(reopened, ACTION_OPEN, author="test", now=moment)
        assert _actions(uow, plan_id) == (4, 1)
        # Done again, but after the date.
        assert uow.actions.set_status(reopened, ACTION_DONE, author="test", now=moment)
        assert _actions(uow, plan_id) == (4, 1)
        # A later date makes it on time.
        assert uow.actions.move(reopened, date(2026, 1, 31), author="test", now=moment)
        assert _actions(uow, plan_id) == (4, 2)


def _actions(uow: Any, plan_id: int) -> tuple[int, int]:
    row = uow.tx.execute(
        select(PlanFactsRow.actions_dated, PlanFactsRow.actions_on_time).where(
            PlanFactsRow.plan_id == plan_id
        )
    ).one()
    return int(row[0]), int(row[1])


OUTCOME_COLUMNS = (
    "realised_on",
    "projected_directe",
    "realised_directe",
    "projected_reele",
    "realised_reele",
    "exp_doorbraak",
    "exp_meer",
    "exp_sneller",
    "exp_zinvoller",
)


def _outcome(app: App, plan_id: int) -> tuple[Any, ...]:
    table = PlanFactsRow.__table__.c
    with app.units(read_only=True) as uow:
        return tuple(
            uow.tx.execute(
                select(*[table[c] for c in OUTCOME_COLUMNS]).where(PlanFactsRow.plan_id == plan_id)
            ).one()
        )


def test_an_evaluation_completed_in_a_turn_keeps_its_outcome_and_older_ones_are_filled_in(
    app: App, clock: FixedClock
) -> None:
    plan_id = finish_with_costs(app)
    assert _outcome(app, plan_id) == (None,) * len(OUTCOME_COLUMNS)
    with app.units(read_only=True) as uow:
        # The actieplan's four points, each with a date, kept by the turns that stored them.
        assert _actions(uow, plan_id) == (4, 0)

    clock.set(AFTER_3)
    jsonl(app, FIRST)
    # tests.support.evaluation: € 1.810 → € 2.655 directe kosten, € 6.410 → € 5.565 reële baten.
    after_3 = (date(2027, 6, 1), 1810, 2655, 6410, 5565, "Deels", "Ja", "Weet niet", "Nee")
    assert _outcome(app, plan_id) == after_3
    clock.set(AFTER_12)
    jsonl(app, SECOND)
    after_12 = (date(2028, 3, 1), 4540, 4540, 28340, 28340, "Ja", "Ja", "Ja", "Ja")
    assert _outcome(app, plan_id) == after_12

    # As a database from before these facts: empty, and the plans marked to be filled in.
    with app.units() as uow:
        uow.tx.execute(
            update(PlanFactsRow).values(
                **dict.fromkeys(OUTCOME_COLUMNS), actions_dated=0, actions_on_time=0
            )
        )
        uow.tx.execute(
            update(Meta).where(Meta.key == "report_outcomes_before").values(value=str(plan_id))
        )
    document = app.report.build(Scope(), actor="terminal:test", fmt="json")

    assert _outcome(app, plan_id) == after_12
    with app.units(read_only=True) as uow:
        # Four actions with a date (8 March 2027 and 1 March 2028); two done, in June 2027.
        assert _actions(uow, plan_id) == (4, 0)
        assert uow.tx.scalar(select(Meta.value).where(Meta.key == "report_outcomes_before")) == "0"
    (whole,) = document["period"]["rows"]
    assert whole["outcomes"]["plans"] == SMALL
    assert whole["actions"]["plans"] == SMALL


def _reports(units: Units, tmp_path: Path) -> tuple[Path, Path, dict[str, Any], dict[str, Any]]:
    """Two real report files: Noord's and Zuid's."""
    rng = random.Random(7)
    plans, outcomes = [], []
    for team, count in (("Noord", 12), ("Zuid", 8)):
        for _ in range(count):
            finished = date(2026, 2, 1) + timedelta(days=rng.randrange(0, 20))
            figures = {"huidig": 1000, "dreigend": 9000, "doorbraak": 3000}
            totals = {**figures, "directe": 2000, "reele": 6000}
            plans.append(Generated(team, date(2026, 1, 12), finished, ("Wonen",), (), (), totals))
            outcomes.append(_evaluated(rng, finished))
    keep(units, plans, outcomes)
    paths = []
    documents = []
    for team in ("Noord", "Zuid"):
        document = service(units).build(Scope((team,)), actor="terminal:test", fmt="json")
        path = tmp_path / f"{team.lower()}.json"
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        paths.append(path)
        documents.append(document)
    return paths[0], paths[1], documents[0], documents[1]


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Settings for the CLI; --vergelijk opens no database."""
    monkeypatch.setenv("DOORBRAAK_ENV_FILE", "")
    monkeypatch.setenv("DOORBRAAK_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.delenv("DOORBRAAK_DATABASE_URL", raising=False)
    return tmp_path / "cli"


def test_vergelijk_puts_two_real_reports_side_by_side_in_every_format(
    units: Units, tmp_path: Path, cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    noord, zuid, a, b = _reports(units, tmp_path)

    assert main(["rapport", "--vergelijk", str(noord), str(zuid)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "maat,onderdeel,a,b,verschil"
    found = {tuple(line.split(",")[:2]): line.split(",")[2:] for line in lines[1:]}
    whole_a, whole_b = a["period"]["rows"][0], b["period"]["rows"][0]
    assert found[("started", "")] == ["12", "8", "-4"]
    assert found[("finished", "")] == ["12", "8", "-4"]
    assert found[("rendement_sum", "reele")] == ["72000", "48000", "-24000"]
    sum_a, sum_b = whole_a["outcomes"]["sum"], whole_b["outcomes"]["sum"]
    assert found[("outcome_sum", "realised_reele")] == [
        sum_a["realised_reele"],
        sum_b["realised_reele"],
        str(int(sum_b["realised_reele"]) - int(sum_a["realised_reele"])),
    ]
    # A suppressed value stays as it is, and has no difference.
    small = [k for k, v in found.items() if SMALL in v[:2]]
    assert small and all(found[k][2] == "" for k in small)

    # Every format, to a file with -o.
    for fmt in ("json", "csv", "html", "pdf"):
        out = tmp_path / f"vergelijk.{fmt}"
        args = ["rapport", "--vergelijk", str(noord), str(zuid), "--format", fmt, "-o", str(out)]
        assert main(args) == 0, fmt
        assert out.is_file()
    comparison = json.loads((tmp_path / "vergelijk.json").read_text(encoding="utf-8"))
    assert comparison["a"]["file"] == "noord.json" and comparison["b"]["scope"]["teams"] == [
        "Zuid"
    ]
    started = next(m for m in comparison["measures"] if m["measure"] == "started")
    assert (started["a"], started["b"], started["difference"]) == (12, 8, "-4")
    html = (tmp_path / "vergelijk.html").read_text(encoding="utf-8")
    assert "Twee rapporten naast elkaar" in html and "Verschil (B − A)" in html
    pdf = pypdf.PdfReader(io.BytesIO((tmp_path / "vergelijk.pdf").read_bytes()))
    text = " ".join(page.extract_text() for page in pdf.pages)
    assert "Twee rapporten naast elkaar" in text and "noord.json" in text
    assert "Gestart" in text and "Op tijd gedaan" in text

    # A version-1 document (as an earlier version wrote it) still validates and compares.
    old = json.loads(noord.read_text(encoding="utf-8"))
    old["version"] = 1
    for row in [r for q in old["quarters"] for r in q["rows"]] + old["period"]["rows"]:
        del row["outcomes"], row["actions"]
    jsonschema.validate(old, SCHEMA)
    first = tmp_path / "oud.json"
    first.write_text(json.dumps(old), encoding="utf-8")
    capsys.readouterr()
    assert main(["rapport", "--vergelijk", str(first), str(zuid), "--format", "csv"]) == 0
    found = {tuple(x.split(",")[:2]): x.split(",")[2:] for x in capsys.readouterr().out.split()}
    assert found[("outcome_plans", "")] == ["", "8", ""]


def test_vergelijk_refuses_a_file_that_is_not_a_report(
    units: Units, tmp_path: Path, cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    noord, _, a, _ = _reports(units, tmp_path)
    broken = json.loads(json.dumps(a))
    broken["period"]["rows"][0]["started"] = 3  # a small count shown: not a valid report
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(broken), encoding="utf-8")
    not_json = tmp_path / "plan.json"
    not_json.write_text("{niet af", encoding="utf-8")
    out = tmp_path / "never.csv"

    capsys.readouterr()
    assert main(["rapport", "--vergelijk", str(noord), str(bad), "-o", str(out)]) == 2
    error = capsys.readouterr().err
    assert "bad.json is geen rapport van doorbraakbot" in error
    assert "period/rows/0/started" in error
    assert main(["rapport", "--vergelijk", str(not_json), str(noord)]) == 2
    assert "plan.json is geen JSON (fout op regel 1)" in capsys.readouterr().err
    assert main(["rapport", "--vergelijk", str(tmp_path / "weg.json"), str(noord)]) == 2
    assert "weg.json is niet te lezen" in capsys.readouterr().err
    assert not out.exists()


def test_the_report_renders_what_came_true_in_pdf_html_and_csv(units: Units) -> None:
    rng = random.Random(3)
    plans, outcomes = [], []
    for _ in range(12):
        finished = date(2026, 2, 1) + timedelta(days=rng.randrange(0, 20))
        plans.append(Generated("Noord", date(2026, 1, 12), finished, (), (), (), {}))
        outcomes.append(_evaluated(rng, finished))
    keep(units, plans, outcomes)
    document = service(units).build(Scope(), actor="terminal:test", fmt="pdf")
    from bot.documents import Renderer
    from bot.formatting import DutchFormatter
    from bot.report_render import render
    from prompts import template_dirs

    renderer = Renderer(SPEC, DutchFormatter(), template_dirs(None))
    pdf = render("pdf", document, SPEC, renderer.html_env, renderer.template_dirs)
    html = render("html", document, SPEC, renderer.html_env, renderer.template_dirs).decode()
    csv_text = to_csv(document, SPEC)

    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    whole = document["period"]["rows"][0]
    assert "Wat is er terechtgekomen" in text and "Aandeel op tijd" in text
    assert "Meer voor elkaar" in text and "Zinvoller bezig" in text
    assert (
        "Wat is er terechtgekomen" in html
        and "Reële baten (+) of kosten (−), gerealiseerd" in html
    )
    realised = Decimal(whole["outcomes"]["sum"]["realised_reele"])
    shown = f"{abs(realised):,.0f}".replace(",", ".")
    assert shown in text and shown in html
    assert f"Hele periode,Noord,outcome_sum,realised_reele,{realised}" in csv_text
    assert f"Hele periode,Noord,actions_dated,,{whole['actions']['dated']}" in csv_text
