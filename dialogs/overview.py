"""Where a plan stands: the overview per step, and progress counts for lists of plans."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from dialogs.spec import Interview, Step

OVERVIEW_GROUPS = (
    "overzicht_ingevuld",
    "overzicht_open_punt",
    "overzicht_verplicht_open",
    "overzicht_open",
    "overzicht_overgeslagen",
)


def overview(
    spec: Interview,
    answers: Mapping[str, Any],
    skipped: Collection[str],
    open_points: Collection[str] = (),
) -> str:
    """Per step: how many questions are filled, and which are filled, open or passed over."""
    passed, noted = set(skipped), set(open_points)
    lines = [spec.message("overzicht_kop")]
    for step in spec.steps:
        fields = [f for f in step.fields if f.when is None or f.when.holds(answers)]
        filled = sum(1 for f in fields if f.key in answers)
        lines.append(
            spec.message(
                "overzicht_stap",
                nummer=step.number,
                naam=step.name,
                ingevuld=filled,
                totaal=len(fields),
            )
        )
        groups: dict[str, list[str]] = {}
        for f in fields:
            if f.key in answers:
                group = "overzicht_ingevuld"
            elif f.key in noted:
                group = "overzicht_open_punt"
            elif f.required:
                group = "overzicht_verplicht_open"
            elif f.key in passed:
                group = "overzicht_overgeslagen"
            else:
                group = "overzicht_open"
            groups.setdefault(group, []).append(f.title)
        for group in OVERVIEW_GROUPS:
            if group in groups:
                lines.append(spec.message(group, vragen="; ".join(groups[group])))
    return "\n".join(lines)


def current_step(spec: Interview, state: str) -> Step:
    """The step a plan is at; the last step once every question has been asked."""
    if spec.has_field(state):
        return spec.step_of(state)
    return spec.steps[-1]


def progress(
    spec: Interview, state: str, answers: Mapping[str, Any]
) -> tuple[int, int, Step | None]:
    """(answered, applicable) question counts and the current step (None past the end)."""
    applicable = [f for f in spec.fields if f.when is None or f.when.holds(answers)]
    answered = sum(1 for f in applicable if f.key in answers)
    step = spec.step_of(state) if spec.has_field(state) else None
    return answered, len(applicable), step
