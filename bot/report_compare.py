"""`doorbraakbot rapport --vergelijk a.json b.json`: two reports in the exchange format (of two
teams, two municipalities, two periods) side by side. Each file is checked against the JSON
Schema first; a file that is not a report is refused with a Dutch message. Per measure of the
whole period: both values, and the difference where both are numbers (`< 5` and `x` stay)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

import jsonschema

from bot.formatting import DutchFormatter
from bot.pdf import render_compare_pdf
from bot.report import COUNTS, NAME_KINDS
from dialogs import Interview
from dialogs.display import signed
from storage.facts import MONEY
from storage.outcomes import EXPERIENCE_COLUMNS, OUTCOME_MONEY

# Shipped with the package (pyproject's package-data): `--vergelijk` checks files against it
# wherever the bot is installed.
SCHEMA_FILE: Final = Path(__file__).resolve().parent / "rapport.schema.json"
FORMAT: Final = "doorbraakbot-rapport-vergelijking"
VERSION: Final = 1
_MEDIANS: Final = ("median_days_to_finished", "median_days_to_decision")
_ACTIONS: Final = ("plans", "dated", "on_time", "share")
_FORMAT = DutchFormatter()


class NotAReport(Exception):
    """A file given to --vergelijk that is not a report: `key` and `params` word it."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return loaded


def load(path: Path, checked_against: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The report in `path`, valid against the schema; NotAReport otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise NotAReport("rapport_vergelijk_onleesbaar", pad=path) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotAReport("rapport_vergelijk_geen_json", pad=path, regel=exc.lineno) from None
    validator = jsonschema.Draft202012Validator(checked_against or schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "het bestand"
        raise NotAReport("rapport_vergelijk_ongeldig", pad=path, waar=where)
    assert isinstance(document, dict)
    return document


def _whole(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """The period's row for everything in scope (all teams when several: the last row)."""
    rows = document["period"]["rows"]
    return rows[-1] if rows else {}


def _measures(a: Mapping[str, Any], b: Mapping[str, Any]) -> Iterator[tuple[str, str, Any, Any]]:
    """(measure, part, value in a, value in b) over both rows; None where a row lacks it."""
    for key in (*COUNTS, *_MEDIANS):
        yield key, "", a.get(key), b.get(key)
    for kind in NAME_KINDS:
        names = list(a.get(kind, {}))
        names += [n for n in b.get(kind, {}) if n not in names]
        for name in names:
            yield kind, name, a.get(kind, {}).get(name), b.get(kind, {}).get(name)
    yield from _part("rendement", a.get("rendement"), b.get("rendement"), MONEY)
    outcomes_a, outcomes_b = a.get("outcomes") or {}, b.get("outcomes") or {}
    yield "outcome_plans", "", outcomes_a.get("plans"), outcomes_b.get("plans")
    yield (
        "outcome_with_figures",
        "",
        outcomes_a.get("with_figures"),
        outcomes_b.get("with_figures"),
    )
    yield from _part("outcome", outcomes_a, outcomes_b, OUTCOME_MONEY)
    for question in EXPERIENCE_COLUMNS:
        found_a = (outcomes_a.get("answers") or {}).get(question, {})
        found_b = (outcomes_b.get("answers") or {}).get(question, {})
        answers = list(found_a) + [x for x in found_b if x not in found_a]
        for answer in answers:
            yield f"answer_{question}", answer, found_a.get(answer), found_b.get(answer)
    actions_a, actions_b = a.get("actions") or {}, b.get("actions") or {}
    for key in _ACTIONS:
        yield f"actions_{key}", "", actions_a.get(key), actions_b.get(key)


def _part(
    name: str, a: Mapping[str, Any] | None, b: Mapping[str, Any] | None, keys: Sequence[str]
) -> Iterator[tuple[str, str, Any, Any]]:
    a, b = a or {}, b or {}
    if name == "rendement":
        yield "rendement_plans", "", a.get("plans"), b.get("plans")
    for part in ("sum", "median"):
        for key in keys:
            yield (
                f"{name}_{part}",
                key,
                (a.get(part) or {}).get(key),
                (b.get(part) or {}).get(key),
            )


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return None  # `< 5`, `x`
    return None


def difference(a: Any, b: Any) -> str | None:
    """b minus a, exact, where both are numbers; None otherwise."""
    first, second = _number(a), _number(b)
    if first is None or second is None:
        return None
    found = second - first
    return str(int(found)) if found == found.to_integral_value() else str(found)


def compare(a: Mapping[str, Any], b: Mapping[str, Any], names: tuple[str, str]) -> dict[str, Any]:
    """The comparison as a JSON document: per measure of the whole period both values and
    the difference (b − a)."""

    def source(document: Mapping[str, Any], name: str) -> dict[str, Any]:
        return {
            "file": name,
            "version": document["version"],
            "generated_on": document["generated_on"],
            "scope": document["scope"],
        }

    return {
        "format": FORMAT,
        "version": VERSION,
        "a": source(a, names[0]),
        "b": source(b, names[1]),
        "measures": [
            {"measure": m, "part": p, "a": va, "b": vb, "difference": difference(va, vb)}
            for m, p, va, vb in _measures(_whole(a), _whole(b))
        ],
    }


def render(fmt: str, comparison: Mapping[str, Any], spec: Interview, env: Any, dirs: Any) -> bytes:
    match fmt:
        case "json":
            return (json.dumps(comparison, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
        case "csv":
            return to_csv(comparison, spec).encode("utf-8")
        case "html":
            html = env.get_template("rapport_vergelijk.html.j2").render(**view(comparison, spec))
            return str(html).encode("utf-8")
        case "pdf":
            return render_compare_pdf(view(comparison, spec), dirs)
    raise ValueError(f"unknown format {fmt!r}")


def to_csv(comparison: Mapping[str, Any], spec: Interview) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(spec.message("rapport_vergelijk_csv_kop").split(","))
    for row in comparison["measures"]:
        writer.writerow(
            [row["measure"], row["part"], *(_csv(row[k]) for k in ("a", "b", "difference"))]
        )
    return out.getvalue()


def _csv(value: Any) -> str:
    return "" if value is None else str(value)


_SIGNED: Final = {"directe", "reele", *OUTCOME_MONEY}
_MONEY_MEASURES: Final = {"rendement_sum", "rendement_median", "outcome_sum", "outcome_median"}


def view(comparison: Mapping[str, Any], spec: Interview) -> dict[str, Any]:
    """Every word and figure as the reader sees it, for the templates."""
    m = spec.message

    def about(source: Mapping[str, Any]) -> str:
        teams = source["scope"]["teams"]
        shown = m("rapport_alle_teams") if teams is None else ", ".join(str(t) for t in teams)
        return m(
            "rapport_vergelijk_bron",
            bestand=source["file"],
            teams=shown,
            datum=source["generated_on"],
        )

    rows = []
    for row in comparison["measures"]:
        money = row["measure"] in _MONEY_MEASURES
        rows.append(
            {
                "label": _label(spec, row["measure"], row["part"]),
                "a": _shown(row["a"], row["part"], money),
                "b": _shown(row["b"], row["part"], money),
                "difference": _shown(row["difference"], row["part"], money, always_signed=True),
            }
        )
    return {
        "title": m("rapport_vergelijk_titel"),
        "a": about(comparison["a"]),
        "b": about(comparison["b"]),
        "labels": {
            "maat": m("rapport_vergelijk_maat"),
            "verschil": m("rapport_vergelijk_verschil"),
        },
        "rows": rows,
    }


def _label(spec: Interview, measure: str, part: str) -> str:
    m = spec.message
    if measure in NAME_KINDS:
        return f"{m(f'rapport_{measure}')}: {part}"
    if measure.startswith("answer_"):
        return f"{m('rapport_vraag_' + measure[len('answer_') :])}: {part}"
    for prefix in ("rendement_", "outcome_"):
        for kind in ("sum", "median"):
            if measure == f"{prefix}{kind}":
                return f"{m(f'rapport_{part}')} · {m(f'rapport_{kind}')}"
    if measure == "rendement_plans":
        return f"{m('rapport_rendement')} · {m('rapport_plans')}"
    return m(f"rapport_{measure}")


def _shown(value: Any, part: str, money: bool, *, always_signed: bool = False) -> str:
    if value is None:
        return "—"
    number = _number(value)
    if number is None:
        return str(value)  # `< 5`, `x`
    if money and (part in _SIGNED or always_signed):
        return signed(_FORMAT, number)
    if money:
        return _FORMAT.money(number)
    if always_signed and number:
        return ("+ " if number > 0 else "\u2212 ") + _FORMAT.number(abs(number))
    return _FORMAT.number(number)
