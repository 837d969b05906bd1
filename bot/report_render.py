"""The report's JSON document as CSV, HTML and PDF: the same Dutch view for every format,
typeset by the templates in prompts/templates (rapport.html.j2, rapport.typ)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from bot.bundle import bundle_csv, bundle_view
from bot.formatting import DutchFormatter
from bot.lessons import lessons_csv, lessons_view
from bot.pdf import render_report_pdf
from bot.report import COUNTS, NAME_KINDS
from dialogs import Interview
from dialogs.display import signed
from storage.facts import MONEY
from storage.outcomes import OUTCOME_MONEY

REPORT_FORMATS = ("json", "csv", "html", "pdf")
_MEDIANS = ("median_days_to_finished", "median_days_to_decision")
_FORMAT = DutchFormatter()
_SIGNED = ("directe", "reele")


def dumps(document: Mapping[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def render(
    fmt: str, document: Mapping[str, Any], spec: Interview, env: Any, template_dirs: Any
) -> bytes:
    """The report in `fmt`; `env` is the Jinja2 environment (autoescaping) for HTML."""
    match fmt:
        case "json":
            return dumps(document).encode("utf-8")
        case "csv":
            return to_csv(document, spec).encode("utf-8")
        case "html":
            html = env.get_template("rapport.html.j2").render(**view(document, spec))
            return str(html).encode("utf-8")
        case "pdf":
            return render_report_pdf(view(document, spec), template_dirs)
    raise ValueError(f"unknown report format {fmt!r}")


def _team_name(spec: Interview, team: str | None) -> str:
    if team == "*":
        return spec.message("rapport_alle_teams")
    return spec.message("rapport_zonder_team") if team is None else team


def _shown(value: Any) -> str:
    """A count or a figure as the report shows it: `< 5`, `x`, `12`, `12,5`, `—`."""
    if value is None:
        return "—"
    if isinstance(value, int):
        return _FORMAT.number(Decimal(value))
    if isinstance(value, str) and value[:1] in "-0123456789":
        return _FORMAT.number(Decimal(value))
    return str(value)


def _money(value: str | None, key: str = "") -> str:
    if value is None:
        return "—"
    # The comparisons as the plan shows them: `+ € 3.600`, `− € 54.050`.
    if key in _SIGNED:
        return signed(_FORMAT, Decimal(value))
    return _FORMAT.money(Decimal(value))


def to_csv(document: Mapping[str, Any], spec: Interview) -> str:
    """One line per figure: kwartaal, team, maat, onderdeel, waarde (as the JSON has it)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(spec.message("rapport_csv_kop").split(","))
    blocks = [(q["quarter"], q["rows"]) for q in document["quarters"]]
    blocks.append((spec.message("rapport_hele_periode"), document["period"]["rows"]))
    for quarter, rows in blocks:
        for row in rows:
            team = _team_name(spec, row["team"])
            for measure in (*COUNTS, *_MEDIANS):
                writer.writerow([quarter, team, measure, "", _csv(row[measure])])
            for kind in NAME_KINDS:
                for name, value in row[kind].items():
                    writer.writerow([quarter, team, kind, name, _csv(value)])
            for pair in row["law_pairs"]:
                writer.writerow(
                    [quarter, team, "law_pairs", " + ".join(pair["laws"]), _csv(pair["count"])]
                )
            writer.writerows([quarter, team, *line] for line in outcome_lines(row))
            rendement = row["rendement"]
            writer.writerow([quarter, team, "rendement_plans", "", _csv(rendement["plans"])])
            for part in ("sum", "median"):
                for key in MONEY:
                    figures = rendement[part]
                    value = None if figures is None else figures[key]
                    writer.writerow([quarter, team, f"rendement_{part}", key, _csv(value)])
    lessons_csv(writer, document.get("lessen"), spec)
    bundle_csv(document, spec, writer)
    return out.getvalue()


def _csv(value: Any) -> str:
    return "" if value is None else str(value)


def view(document: Mapping[str, Any], spec: Interview) -> dict[str, Any]:
    """The document with every word and figure as the reader sees it, for the templates."""
    m = spec.message
    scope = document["scope"]
    teams = scope["teams"]
    teams_text = (
        m("rapport_alle_teams")
        if teams is None
        else ", ".join(_team_name(spec, team) for team in teams)
    )
    if scope["from"] is None and scope["to"] is None:
        period = m("rapport_hele_tijd")
    else:
        period = m("rapport_van_tot", van=scope["from"] or "…", tot=scope["to"] or "…")
    quarters = document["quarters"]
    period_rows = document["period"]["rows"]
    # The bars and the matrix are drawn for all teams in scope (the last row when several).
    summary = [q["rows"][-1] for q in quarters]
    whole = period_rows[-1] if period_rows else None
    return {
        "title": m("rapport_titel"),
        "subtitle": m("rapport_ondertitel"),
        "scope": m(
            "rapport_bereik", teams=teams_text, periode=period, datum=document["generated_on"]
        ),
        "legend": m("rapport_uitleg"),
        "labels": {
            key: m(f"rapport_{key}")
            for key in (
                *COUNTS,
                *_MEDIANS,
                *NAME_KINDS,
                *MONEY,
                "law_pairs",
                "rendement",
                "plans",
                "sum",
                "median",
                "team",
                "kwartaal",
                "kwartalen",
                "grafiek",
                "hele_periode",
            )
        },
        "counts": [*COUNTS, *_MEDIANS],
        "money": list(MONEY),
        "quarters": [
            {"label": q["quarter"], "rows": [_row(spec, row) for row in q["rows"]]}
            for q in quarters
        ],
        "period": [_row(spec, row) for row in period_rows],
        "bars": [
            {
                "label": q["quarter"],
                "started": _bar(row["started"]),
                "finished": _bar(row["finished"]),
                "started_text": _shown(row["started"]),
                "finished_text": _shown(row["finished"]),
            }
            for q, row in zip(quarters, summary, strict=True)
        ],
        "names": {kind: document["names"][kind] for kind in NAME_KINDS},
        "matrix": _matrix(document["names"]["laws"], whole),
        # Lessons with an owner (issue 16): bot.lessons.
        "lessen": lessons_view(document.get("lessen"), spec),
        **bundle_view(document, spec),
        "outcomes": outcomes_view(spec, period_rows),
    }


def _bar(value: Any) -> int:
    # A suppressed count is drawn as no bar; its label says `< 5` or `x`.
    return value if isinstance(value, int) else 0


def _row(spec: Interview, row: Mapping[str, Any]) -> dict[str, Any]:
    rendement = row["rendement"]
    return {
        "team": _team_name(spec, row["team"]),
        "cells": {key: _shown(row[key]) for key in (*COUNTS, *_MEDIANS)},
        **{kind: {name: _shown(v) for name, v in row[kind].items()} for kind in NAME_KINDS},
        "plans": _shown(rendement["plans"]),
        "sum": {
            k: _money(None if rendement["sum"] is None else rendement["sum"][k], k) for k in MONEY
        },
        "median": {
            k: _money(None if rendement["median"] is None else rendement["median"][k], k)
            for k in MONEY
        },
    }


def _matrix(laws: Sequence[str], row: Mapping[str, Any] | None) -> list[list[str]]:
    """The law × law matrix: on the diagonal how many plans name the law, beside it how
    many name both."""
    if row is None:
        return [["—" for _ in laws] for _ in laws]
    pairs = {tuple(p["laws"]): p["count"] for p in row["law_pairs"]}
    grid = []
    for a in laws:
        line = []
        for b in laws:
            value = row["laws"][a] if a == b else pairs.get((a, b), pairs.get((b, a)))
            line.append(_shown(value))
        grid.append(line)
    return grid


# --- what came true (version 2: bot.report_outcomes) --------------------------------------


def outcome_lines(row: Mapping[str, Any]) -> list[list[str]]:
    """The CSV lines (maat, onderdeel, waarde) of a row's outcomes and actions; none for a
    version-1 row."""
    if "outcomes" not in row:
        return []
    outcomes, actions = row["outcomes"], row["actions"]
    lines = [
        ["outcome_plans", "", _csv(outcomes["plans"])],
        ["outcome_with_figures", "", _csv(outcomes["with_figures"])],
    ]
    for part in ("sum", "median"):
        for key in OUTCOME_MONEY:
            figures = outcomes[part]
            lines.append([f"outcome_{part}", key, _csv(None if figures is None else figures[key])])
    for question, answers in outcomes["answers"].items():
        for answer, value in answers.items():
            lines.append([f"answer_{question}", answer, _csv(value)])
    lines += [[f"actions_{key}", "", _csv(actions[key])] for key in ACTION_PARTS]
    return lines


ACTION_PARTS = ("plans", "dated", "on_time", "share")
_TENTH = Decimal("0.1")


def outcomes_view(spec: Interview, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The period's outcomes per team for the templates (None for a version-1 document)."""
    if not rows or "outcomes" not in rows[0]:
        return None
    m = spec.message
    questions = list(rows[0]["outcomes"]["answers"])
    return {
        "title": m("rapport_uitkomsten"),
        "legend": m("rapport_uitkomsten_uitleg"),
        "money": list(OUTCOME_MONEY),
        "labels": {
            key: m(f"rapport_{key}")
            for key in (
                *OUTCOME_MONEY,
                "outcome_plans",
                "outcome_with_figures",
                "acties",
                "antwoorden",
                "geen_antwoorden",
                *(f"actions_{part}" for part in ACTION_PARTS),
                *(f"vraag_{q}" for q in questions),
                "team",
                "sum",
                "median",
            )
        },
        "questions": [
            {"key": q, "answers": list(rows[0]["outcomes"]["answers"][q])} for q in questions
        ],
        "answered": any(rows[0]["outcomes"]["answers"][q] for q in questions),
        "rows": [_outcome_row(spec, row) for row in rows],
    }


def _outcome_row(spec: Interview, row: Mapping[str, Any]) -> dict[str, Any]:
    outcomes, actions = row["outcomes"], row["actions"]

    def figures(part: str) -> dict[str, str]:
        found = outcomes[part]
        return {
            k: "—" if found is None else signed(_FORMAT, Decimal(found[k])) for k in OUTCOME_MONEY
        }

    share = actions["share"]
    return {
        "team": _team_name(spec, row["team"]),
        "plans": _shown(outcomes["plans"]),
        "with_figures": _shown(outcomes["with_figures"]),
        "sum": figures("sum"),
        "median": figures("median"),
        "answers": {
            q: {a: _shown(v) for a, v in answers.items()}
            for q, answers in outcomes["answers"].items()
        },
        "actions": {
            "plans": _shown(actions["plans"]),
            "dated": _shown(actions["dated"]),
            "on_time": _shown(actions["on_time"]),
            "share": "—"
            if share is None
            else _FORMAT.number((Decimal(share) * 100).quantize(_TENTH)) + "%",
        },
    }
