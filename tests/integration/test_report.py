"""The report over all plans, on SQLite and PostgreSQL: a generated set of plans gives exactly
the expected counts, Decimal sums and medians; small cells are suppressed, and the figures
that would give them away too; each role sees only what it may; every report is audited."""

from __future__ import annotations

import io
import json
import random
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import combinations

import jsonschema
import pypdf
import pytest
from sqlalchemy import select

import prompts
from bot.documents import Renderer
from bot.facts import FactsKeeper
from bot.formatting import DutchFormatter
from bot.report import HIDDEN, SMALL, ReportDenied, ReportService, Scope, scope_for
from bot.report_render import render, to_csv
from storage import Units
from storage.access import (
    BELEIDSMEDEWERKER,
    PROFESSIONAL,
    TEAMLEIDER,
    AuditEntry,
    ProfessionalRecord,
)
from storage.facts import GRANTED, MONEY, REFUSED, FactValues, PlanFactsRow, quarter_of
from tests.conftest import ROOT

SPEC = prompts.load_interview()
SCHEMA = json.loads((ROOT / "bot" / "rapport.schema.json").read_text(encoding="utf-8"))
DOMAINS = ["Wonen", "Welzijn", "Werk", "Financieel", "Opleiding"]
LAWS = ["Participatiewet", "Wmo", "Zorgverzekeringswet", "Woningwet"]
NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


class Clock:
    def now(self) -> datetime:
        return NOW


@dataclass(frozen=True)
class Generated:
    team: str | None
    started: date
    finished: date | None
    domains: tuple[str, ...]
    schuurt: tuple[str, ...]
    laws: tuple[str, ...]
    totals: dict[str, int]


def generate(seed: int, team: str | None, count: int, first: date) -> list[Generated]:
    rng = random.Random(seed)
    plans = []
    for _ in range(count):
        started = first + timedelta(days=rng.randrange(0, 170))
        finished = started + timedelta(days=rng.randrange(3, 60)) if rng.random() < 0.8 else None
        totals: dict[str, int] = {}
        if finished is not None and rng.random() < 0.9:
            huidig, dreigend, doorbraak = (rng.randrange(0, 90_000) for _ in range(3))
            totals = {
                "huidig": huidig,
                "dreigend": dreigend,
                "doorbraak": doorbraak,
                "directe": doorbraak - huidig,
                "reele": dreigend - doorbraak,
            }
        plans.append(
            Generated(
                team,
                started,
                finished,
                tuple(sorted(rng.sample(DOMAINS, rng.randrange(1, 4)), key=DOMAINS.index)),
                tuple(sorted(rng.sample(DOMAINS, rng.randrange(0, 3)), key=DOMAINS.index)),
                tuple(sorted(rng.sample(LAWS, rng.randrange(0, 4)), key=LAWS.index)),
                totals,
            )
        )
    return plans


def store(units: Units, plans: list[Generated]) -> None:
    """The plans and their facts as a turn would have stored them."""
    with units(claim=False) as uow:
        # Names known in the interview's order, so bits follow it.
        for name in DOMAINS:
            uow.facts.bit("domein", name)
            uow.facts.bit("schuurt", name)
        for name in LAWS:
            uow.facts.bit("wet", name)
        for number, plan in enumerate(plans):
            record = uow.plans.start_plan(f"G-{number}", state="x", owner=None)
            names = {"domein": plan.domains, "schuurt": plan.schuurt, "wet": plan.laws}
            uow.facts.store(
                record.id,
                FactValues(names, plan.totals, plan.finished),
                started_on=plan.started,
                team=lambda team=plan.team: team,  # type: ignore[misc]
            )


def service(units: Units) -> ReportService:
    return ReportService(units, FactsKeeper(SPEC, units), Clock())


def label(day: date) -> str:
    quarter = quarter_of(day)
    return f"{quarter // 10}-K{quarter % 10}"


def median(values: list[int]) -> str:
    found = statistics.median([Decimal(v) for v in values])
    return str(int(found)) if found == found.to_integral_value() else str(found)


def agrees(shown: int | str, plans: int) -> bool:
    """Whether a count as shown is the true count, or hides it as it should."""
    if shown == SMALL:
        return 1 <= plans < 5
    if shown == HIDDEN:
        return plans >= 1
    return shown == plans and (plans == 0 or plans >= 5)


def test_generated_plans_give_exact_counts_sums_and_medians(units: Units) -> None:
    noord = generate(16, "Noord", 90, date(2026, 1, 5))
    zuid = generate(17, "Zuid", 30, date(2026, 1, 5))
    store(units, noord + zuid)

    document = service(units).build(Scope(("Noord",)), actor="terminal:test", fmt="json")

    jsonschema.validate(document, SCHEMA)
    assert document["names"] == {"domains": DOMAINS, "schuurt": DOMAINS, "laws": LAWS}
    rows = {q["quarter"]: q["rows"] for q in document["quarters"]}
    assert all(len(r) == 1 and r[0]["team"] == "Noord" for r in rows.values())
    # One team: no column of all teams; the whole period is its own row.
    checked = 0
    ends = {label(p.finished) for p in noord if p.finished}
    for quarter in {label(p.started) for p in noord} | ends:
        row = rows[quarter][0]
        started = [p for p in noord if label(p.started) == quarter]
        finished = [p for p in noord if p.finished and label(p.finished) == quarter]
        assert agrees(row["started"], len(started))
        assert agrees(row["finished"], len(finished))
        assert row["submitted"] == 0  # issue 15 fills these; zero until then
        days = [(p.finished - p.started).days for p in finished if p.finished]
        if isinstance(row["finished"], int) and days:
            assert row["median_days_to_finished"] == median(days)
        else:
            assert row["median_days_to_finished"] is None
        for kind in ("domains", "schuurt", "laws"):
            counted = Counter(name for p in started for name in getattr(p, kind))
            for name, value in row[kind].items():
                assert agrees(value, counted[name]), (quarter, kind, name)
        pairs = Counter(pair for p in started for pair in combinations(p.laws, 2))
        assert len(row["law_pairs"]) == len(LAWS) * (len(LAWS) - 1) // 2
        for pair in row["law_pairs"]:
            assert agrees(pair["count"], pairs[tuple(pair["laws"])])
        with_figures = [p for p in finished if p.totals]
        rendement = row["rendement"]
        assert agrees(rendement["plans"], len(with_figures))
        if not isinstance(rendement["plans"], int) or not with_figures:
            assert rendement["sum"] is None or not with_figures
            continue
        checked += 1
        for key in MONEY:
            values = [p.totals[key] for p in with_figures]
            assert Decimal(rendement["sum"][key]) == sum(Decimal(v) for v in values)
            assert rendement["median"][key] == median(values)
    assert checked >= 2
    whole = document["period"]["rows"][0]
    assert whole["started"] == len(noord)
    assert whole["finished"] == len([p for p in noord if p.finished])
    total = sum(Decimal(p.totals["reele"]) for p in noord if p.totals)
    assert Decimal(whole["rendement"]["sum"]["reele"]) == total


def test_small_cells_and_what_gives_them_away_are_suppressed(units: Units) -> None:
    # Started per quarter: Noord 7 and 8, Zuid 6 and 3. Zuid's 3 is small; with the totals
    # shown, Noord's 8 (the same quarter), then Noord's 7 and Zuid's 6 would give it away.
    plans = []
    for team, first, count in (
        ("Noord", date(2026, 1, 10), 7),
        ("Noord", date(2026, 4, 10), 8),
        ("Zuid", date(2026, 1, 10), 6),
        ("Zuid", date(2026, 4, 10), 3),
    ):
        plans += [Generated(team, first, None, ("Wonen",), (), (), {}) for _ in range(count)]
    # Three of Noord's plans finished with figures: too few for a sum or a median.
    figures = {"huidig": 100, "dreigend": 900, "doorbraak": 300, "directe": 200, "reele": 600}
    finished = date(2026, 2, 1)
    plans[:3] = [Generated("Noord", plans[0].started, finished, ("Wonen",), (), (), figures)] * 3
    store(units, plans)

    document = service(units).build(Scope(), actor="terminal:test", fmt="json")

    jsonschema.validate(document, SCHEMA)
    started = {
        (q["quarter"], row["team"]): row["started"]
        for q in document["quarters"]
        for row in q["rows"]
    }
    assert started == {
        ("2026-K1", "Noord"): HIDDEN,
        ("2026-K1", "Zuid"): HIDDEN,
        ("2026-K1", "*"): 13,
        ("2026-K2", "Noord"): HIDDEN,
        ("2026-K2", "Zuid"): SMALL,
        ("2026-K2", "*"): 11,
    }
    period = {row["team"]: row["started"] for row in document["period"]["rows"]}
    assert period == {"Noord": 15, "Zuid": 9, "*": 24}
    # No sum or median over fewer than 5 plans.
    assert document["period"]["rows"][0]["rendement"] == {
        "plans": SMALL,
        "sum": None,
        "median": None,
    }


def test_roles_see_only_what_they_may() -> None:
    leader = ProfessionalRecord(1, "Noord", TEAMLEIDER)
    policy = ProfessionalRecord(2, "Beleid", BELEIDSMEDEWERKER)
    worker = ProfessionalRecord(3, "Noord", PROFESSIONAL)
    assert scope_for(leader).teams == ("Noord",)
    assert scope_for(leader, "Noord").teams == ("Noord",)
    with pytest.raises(ReportDenied):
        scope_for(leader, "Zuid")
    assert scope_for(policy).teams is None
    assert scope_for(policy, "Zuid").teams == ("Zuid",)
    with pytest.raises(ReportDenied):
        scope_for(worker)
    assert scope_for(None).teams is None  # the administrator, in the terminal


def test_a_teamleider_report_holds_only_their_team_and_is_audited(units: Units) -> None:
    store(
        units,
        generate(1, "Noord", 12, date(2026, 1, 5)) + generate(2, "Zuid", 12, date(2026, 1, 5)),
    )
    leader = ProfessionalRecord(1, "Noord", TEAMLEIDER)

    document = service(units).build(scope_for(leader), actor=leader.actor, fmt="pdf")

    teams = {row["team"] for q in document["quarters"] for row in q["rows"]}
    assert teams == {"Noord"}
    with units(read_only=True) as uow:
        audited = uow.tx.rows(select(AuditEntry.actor, AuditEntry.action, AuditEntry.detail))
    assert ("prof:1", "rapport", "pdf Noord") in audited


def test_every_format_renders_and_hostile_team_names_stay_verbatim(units: Units) -> None:
    hostile = '<script>alert(1)</script> #set text(red) $x$ "quote'
    store(units, generate(3, hostile, 12, date(2026, 1, 5)))
    document = service(units).build(Scope(), actor="terminal:test", fmt="html")
    renderer = Renderer(SPEC, DutchFormatter(), prompts.template_dirs(None))

    html = render("html", document, SPEC, renderer.html_env, renderer.template_dirs).decode()
    pdf = render("pdf", document, SPEC, renderer.html_env, renderer.template_dirs)
    csv_text = to_csv(document, SPEC)

    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; #set text(red) $x$ &#34;quote" in html
    assert pdf.startswith(b"%PDF")
    assert hostile in _pdf_text(pdf)
    assert csv_text.splitlines()[0] == "kwartaal,team,maat,onderdeel,waarde"
    assert hostile.replace('"', '""') in csv_text


def _pdf_text(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def test_the_course_columns_issue_15_fills_are_counted(units: Units) -> None:
    # Ten plans started on 5 January 2026; issue 15's hooks will set these columns.
    store(units, [Generated("Noord", date(2026, 1, 5), None, (), (), (), {})] * 10)
    with units(claim=False) as uow:
        ids = [plan_id for (plan_id,) in uow.tx.rows(select(PlanFactsRow.plan_id))]
        for n, plan_id in enumerate(ids):
            uow.facts.set_course(
                plan_id,
                submitted_on=date(2026, 2, 2),
                decided_on=date(2026, 4, 1) + timedelta(days=n),
                decision=(GRANTED, GRANTED, GRANTED, GRANTED, GRANTED, GRANTED, REFUSED)[n % 7],
                escalated_on=date(2026, 4, 20) if n < 5 else None,
            )
        with pytest.raises(ValueError, match="not a course column"):
            uow.facts.set_course(ids[0], team="Zuid")

    document = service(units).build(Scope(("Noord",)), actor="terminal:test", fmt="json")

    rows = {q["quarter"]: q["rows"][0] for q in document["quarters"]}
    assert rows["2026-K1"]["submitted"] == 10
    k2 = rows["2026-K2"]
    # Decisions on 1-10 April: granted 9 times, refused once (small), escalated 5 times.
    assert (k2["granted"], k2["refused"], k2["partly"], k2["escalated"]) == (9, SMALL, 0, 5)
    # Days from 5 January: 86 to 95; the median of ten is the mean of the middle two.
    assert k2["median_days_to_decision"] == "90.5"
