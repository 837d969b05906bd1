"""The report's rules per law and its appendix of bundled cases (issue 16): groups of
finished plans with the same domains and chafing laws, counted by the database; in a report
of one team, and only for plans whose owner shares them, their doorbraak and rule texts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from bot.suppression import SMALL, shown_count
from dialogs import Interview
from dialogs.facts import DOMAINS, LAWS
from dialogs.rules import rule_texts
from storage import UnitOfWork
from storage.bundle import NO_LAW, RULE_LAW, BundleReader
from storage.facts import FactFilter

# The doorbraak's text: with the rules, what the reflectiesessie reads of a case.
DOORBRAAK_FIELD: Final = "doorbraak.doorbraak"
# A group of one plan is not a bundle (and would point at one household): left out.
MIN_GROUP: Final = 2
# At most this many cases with texts per group, and in the whole appendix (the largest
# groups first): the rest is counted in `more`. Each case is one plan decrypted.
MAX_CASES: Final = 25
MAX_ALL_CASES: Final = 200


def _names_in(mask: int, names: Mapping[int, str]) -> list[str]:
    return [name for bit, name in sorted(names.items()) if mask >> bit & 1]


def bundle_sections(
    uow: UnitOfWork,
    where: FactFilter,
    names: Mapping[str, Mapping[int, str]],
    texts_team: str | None,
) -> dict[str, Any]:
    """`rules_by_law` and `appendix` of the report's document. With `texts_team` (a report
    of that one team, seen from within it) the cases of its sharing plans carry texts."""
    reader = BundleReader(uow.tx)
    return {
        "rules_by_law": rules_by_law(reader, where, names.get(RULE_LAW, {})),
        "appendix": appendix(uow, reader, where, names, texts_team),
    }


def rules_by_law(
    reader: BundleReader, where: FactFilter, laws: Mapping[int, str]
) -> list[dict[str, Any]]:
    """Per law (in the list's order, the law not told last): the finished plans naming
    rules under it and how many rules; both hidden as `< 5` under 5 plans."""
    found = {law: (plans, rules) for law, plans, rules in reader.rules_per_law(where)}
    order = [
        *sorted(bit for bit in found if bit != NO_LAW),
        *([NO_LAW] if NO_LAW in found else []),
    ]
    rows = []
    for bit in order:
        plans, rules = found[bit]
        if not plans:
            continue
        shown = shown_count(plans)
        rows.append(
            {
                "law": None if bit == NO_LAW else laws.get(bit, "?"),
                "plans": shown,
                "rules": rules if isinstance(shown, int) else SMALL,
            }
        )
    return rows


def appendix(
    uow: UnitOfWork,
    reader: BundleReader,
    where: FactFilter,
    names: Mapping[str, Mapping[int, str]],
    texts_team: str | None,
) -> dict[str, Any]:
    domains, laws = names.get(DOMAINS, {}), names.get(LAWS, {})
    groups = reader.groups(where, MIN_GROUP)
    cases: dict[tuple[int, int], list[int]] = {}
    if texts_team is not None and groups:
        wanted = {(d, law) for d, law, _ in groups}
        for plan_id, d, law in reader.shared(where, texts_team):
            if (d, law) in wanted:
                cases.setdefault((d, law), []).append(plan_id)
    shown = []
    left = MAX_ALL_CASES
    for d, law, plans in groups:
        group: dict[str, Any] = {
            "domains": _names_in(d, domains),
            "laws": _names_in(law, laws),
            "plans": shown_count(plans),
        }
        if texts_team is not None:
            ids = cases.get((d, law), [])
            taken = ids[: min(MAX_CASES, left)]
            left -= len(taken)
            group["cases"] = _cases(uow, taken)
            group["more"] = len(ids) - len(taken)
        shown.append(group)
    return {"texts": texts_team is not None, "groups": shown}


def _cases(uow: UnitOfWork, plan_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The doorbraak and rule texts of these plans (their owners share them), decrypted
    for these plans alone; nothing else of the plan."""
    found = []
    for plan_id in plan_ids:
        record = uow.plans.get(plan_id)
        if record is None:
            continue
        doorbraak = record.answers.get(DOORBRAAK_FIELD)
        found.append(
            {
                "doorbraak": doorbraak if isinstance(doorbraak, str) else None,
                "rules": rule_texts(record.answers),
            }
        )
    return found


# --- as the reader sees it (bot.report_render) -------------------------------------------


def bundle_view(document: Mapping[str, Any], spec: Interview) -> dict[str, Any]:
    """The rules per law and the appendix for the templates: every word a plain string."""
    m = spec.message
    appendix_ = document.get("appendix") or {"texts": False, "groups": []}
    texts = bool(appendix_["texts"])
    groups = []
    for number, group in enumerate(appendix_["groups"], 1):
        cases = [
            {
                "title": m("rapport_casus", nummer=index),
                "doorbraak": case["doorbraak"] or "—",
                "rules": list(case["rules"]),
            }
            for index, case in enumerate(group.get("cases", []), 1)
        ]
        more = group.get("more", 0)
        groups.append(
            {
                "title": m("rapport_groep", nummer=number),
                "domains": ", ".join(group["domains"]) or "—",
                "laws": ", ".join(group["laws"]) or "—",
                "plans": str(group["plans"]),
                "cases": cases,
                "none_shared": texts and not cases,
                "more": m("rapport_meer", aantal=more) if more else "",
            }
        )
    return {
        "rules_by_law": [
            {
                "law": row["law"] or m("rapport_wet_onbekend"),
                "plans": str(row["plans"]),
                "rules": str(row["rules"]),
            }
            for row in document.get("rules_by_law", [])
        ],
        "appendix": {
            "texts": texts,
            "note": m("rapport_bijlage_teksten" if texts else "rapport_bijlage_zonder_teksten"),
            "groups": groups,
        },
        "bundle_labels": {
            key: m(f"rapport_{key}")
            for key in (
                "regels_per_wet",
                "wet",
                "regels",
                "regel",
                "regels_plannen",
                "bijlage",
                "bijlage_uitleg",
                "bijlage_geen",
                "aantal",
                "de_doorbraak",
                "geen_gedeelde",
                "domains",
                "laws",
            )
        },
    }


def bundle_csv(document: Mapping[str, Any], spec: Interview, writer: Any) -> None:
    """The rules per law and the appendix as lines of the report's CSV (whole period, the
    teams in scope): `rules_by_law` / `rules_by_law_plans` per law; per group `bundle` (its
    plans), and with texts `bundle_doorbraak` and `bundle_rule` per case."""
    period = spec.message("rapport_hele_periode")
    teams = document["scope"]["teams"]
    team = (
        spec.message("rapport_alle_teams")
        if teams is None
        else ", ".join(t or spec.message("rapport_zonder_team") for t in teams)
    )
    for row in document.get("rules_by_law", []):
        law = row["law"] or spec.message("rapport_wet_onbekend")
        writer.writerow([period, team, "rules_by_law", law, str(row["rules"])])
        writer.writerow([period, team, "rules_by_law_plans", law, str(row["plans"])])
    groups = (document.get("appendix") or {}).get("groups", [])
    for number, group in enumerate(groups, 1):
        label = f"{number}: " + " + ".join([*group["domains"], *group["laws"]])
        writer.writerow([period, team, "bundle", label, str(group["plans"])])
        for case in group.get("cases", []):
            writer.writerow([period, team, "bundle_doorbraak", label, case["doorbraak"] or ""])
            for rule in case["rules"]:
                writer.writerow([period, team, "bundle_rule", label, rule])
