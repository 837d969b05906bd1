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
        earlier = self.earlier(spec_field, answers)
        choices = spec_field.choices
        if earlier is not None and current is None and not choices:
            choices = (self.spec.message("overnemen"),)
        helps = (*self._earlier_help(spec_field, earlier), *self.provisions(spec_field, answers))
        return replace(
            self.in_between(spec_field, spec_field.text, choices),
            kind=spec_field.kind.value,
            help=(*spec_field.help, *helps),
            max=spec_field.max,
            required=spec_field.required,
            current=shown,
            intro=self.intro(step) if first else "",
        )

    def earlier(self, spec_field: Field, answers: Mapping[str, Any]) -> Any:
        """The stored answer of the earlier field this question builds on, if any."""
        if not spec_field.earlier or not self.spec.has_field(spec_field.earlier):
            return None  # a given answer (Interview.given) is the flow's own business
        return answers.get(spec_field.earlier)

    def _earlier_help(self, spec_field: Field, earlier: Any) -> tuple[str, ...]:
        if earlier is None:
            return ()
        source = self.spec.field(spec_field.earlier)
        shown = present(source, earlier, self.fmt)
        return (self.spec.message("eerder_antwoord", vraag=source.title, antwoord=shown),)

    def provisions(self, spec_field: Field, answers: Mapping[str, Any]) -> tuple[str, ...]:
        """The provisions of wetten.yaml for the laws picked in the fields named, as help."""
        laws: list[str] = []
        for source in spec_field.provisions:
            picked = answers.get(source)
            laws += [law for law in picked or () if law not in laws]
        only_who = spec_field.provisions_as == "beslist"
        lines = [
            self.spec.message(
                "wet_beslist" if only_who else "wet_bepaling",
                wet=law,
                artikel=p.artikel,
                ruimte=p.ruimte,
                beslist=p.beslist,
                bron=p.bron,
            )
            for law in laws
            for p in self.spec.wetten.get(law, ())
        ]
        heading = self.spec.message("wet_beslissers" if only_who else "wet_bepalingen")
        return (heading, *lines) if lines else ()

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
