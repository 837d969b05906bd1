"""Building the Question a field asks: its step, intro, current answer and wording."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from dialogs.events import Question
from dialogs.kinds import Formatter, present
from dialogs.spec import Field, Interview, Kind, Step


class Questions:
    """Built once per dialog; every flow asks through it, so questions look alike."""

    def __init__(self, spec: Interview, fmt: Formatter) -> None:
        self.spec = spec
        self.fmt = fmt

    def question(self, spec_field: Field, answers: Mapping[str, Any]) -> Question:
        step = self.spec.step_of(spec_field.key)
        current = answers.get(spec_field.key)
        first = step.fields[0].key == spec_field.key
        shown = None if current is None else present(spec_field, current, self.fmt)
        return replace(
            self.in_between(spec_field, spec_field.text, spec_field.choices),
            kind=spec_field.kind.value,
            help=spec_field.help,
            max=spec_field.max,
            required=spec_field.required,
            current=shown,
            intro=self.intro(step) if first else "",
        )

    def intro(self, step: Step) -> str:
        lines = [step.question]
        if step.intro:
            lines.append(step.intro)
        if step.help:
            lines.append(self.spec.message("helpende_vragen", vragen=" ".join(step.help)))
        return "\n".join(lines)

    def in_between(self, spec_field: Field, text: str, choices: tuple[str, ...]) -> Question:
        """A question in between (a reading to confirm) while the field is being answered."""
        step = self.spec.step_of(spec_field.key)
        return Question(
            field=spec_field.key,
            kind=Kind.CHOICE.value,
            text=text,
            help=(),
            choices=choices,
            max=None,
            required=True,
            step=step.number,
            steps=len(self.spec.steps),
            step_name=step.name,
        )
