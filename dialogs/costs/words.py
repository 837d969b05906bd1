"""Cost lines in the canvas's words: a line read back, the list so far, labels and options."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from dialogs.costs.state import Draft
from dialogs.display import period_text, scenario_name
from dialogs.kinds import Formatter
from dialogs.rendement import (
    ONCE,
    PERIOD_FIELD,
    WHOLE_PERIOD,
    CostLine,
    CostModel,
    PriceEntry,
    lines_of,
    period_months,
    scenario_total,
)
from dialogs.spec import Interview


class CostWords:
    """Built once per dialog from the wording, the formatter and the cost model."""

    def __init__(self, spec: Interview, fmt: Formatter) -> None:
        self.spec = spec
        self.fmt = fmt
        self.model: CostModel = spec.costs

    def scenario_name(self, scenario: str) -> str:
        return scenario_name(self.spec, scenario)

    def period_text(self, months: Decimal) -> str:
        return period_text(self.spec, self.fmt, months)

    def describe(self, line: CostLine, months: Decimal) -> str:
        """A line in the canvas's words: `2 uur per week × € 65,00 per uur = € 130,00 ...`."""
        fmt, model = self.fmt, self.model
        params = {
            "aantal": fmt.number(line.aantal),
            "eenheden": model.plural(line.eenheid, line.aantal),
            "prijs": fmt.money(line.prijs, exact=True),
            "eenheid": line.eenheid,
            "per_keer": fmt.money(model.per_occurrence(line), exact=True),
            "totaal": fmt.money(model.total(line, months), exact=True),
            "periode": self.period_text(months),
            "omschrijving": line.omschrijving,
        }
        if line.frequentie == ONCE:
            return self.spec.message("kosten_regel_eenmalig", **params)
        if line.frequentie == WHOLE_PERIOD:
            count = model.per_period(line, months)
            assert count is not None
            shown = Decimal(count.numerator) / Decimal(count.denominator)
            params["keer"] = fmt.number(shown.quantize(Decimal("0.01")).normalize())
            params["eenheden_periode"] = model.plural(line.eenheid, Decimal(2))
            return self.spec.message("kosten_regel_periode", **params)
        params["per"] = model.frequency(line.frequentie).per
        if params["per"] == params["periode"]:
            # `per jaar` over a year: `€ 140,00 per jaar → € 140,00 per jaar` says it twice.
            return self.spec.message("kosten_regel_herhaald_kort", **params)
        return self.spec.message("kosten_regel_herhaald", **params)

    def summary_lines(self, answers: Mapping[str, Any], key: str) -> str:
        months = period_months(answers.get(PERIOD_FIELD))
        lines = lines_of(answers.get(key))
        if not lines:
            return self.spec.message("kosten_nog_geen_regels")
        rows = [
            f"{n}. {line.omschrijving}: {self.fmt.money(self.model.total(line, months))}"
            for n, line in enumerate(lines, 1)
        ]
        total = self.fmt.money(scenario_total(self.model, lines, months))
        period = self.period_text(months)
        rows.append(self.spec.message("kosten_totaal", totaal=total, periode=period))
        return "\n".join(rows)

    def line_labels(self, lines: Sequence[Mapping[str, Any]], months: Decimal) -> list[str]:
        # No number of our own: every front end numbers the choices it shows (`1. 1. ...`).
        labels = []
        for stored in lines:
            line = CostLine.from_stored(stored)
            total = self.fmt.money(self.model.total(line, months))
            labels.append(f"{line.omschrijving} ({total})")
        return labels

    def price_label(self, entry: PriceEntry) -> str:
        return self.spec.message(
            "kosten_prijslabel",
            prijs=self.fmt.money(entry.prijs, exact=True),
            eenheid=entry.eenheid,
            omschrijving=entry.omschrijving,
        )

    def price_sources(self, entries: Sequence[PriceEntry]) -> str:
        return "; ".join(
            f"{e.omschrijving}: {e.bron}" + (f", {e.jaar}" if e.jaar else "") for e in entries
        )

    def frequencies(self, draft: Draft, months: Decimal) -> dict[str, str]:
        """key -> label; `de hele periode` only for a unit whose length in the period is known."""
        options = {f.key: f.label for f in self.model.frequencies if f.key != WHOLE_PERIOD}
        eenheden = None if draft.eenheden is None else Decimal(draft.eenheden)
        probe = CostLine("", Decimal(0), draft.eenheid or "", Decimal(0), ONCE, eenheden)
        if self.model.per_period(probe, months) is not None:
            whole = self.model.frequency(WHOLE_PERIOD)
            options[whole.key] = whole.label
        return options

    def menu_choice(self, answer: str, has_lines: bool) -> str | None:
        """`klaar`, `wijzigen` or `verwijderen` when the text picks one of the list's options."""
        word = " ".join(answer.lower().split())
        menu = {"klaar": self.spec.message("kosten_klaar")}
        if has_lines:
            menu["wijzigen"] = self.spec.message("kosten_wijzigen")
            menu["verwijderen"] = self.spec.message("kosten_verwijderen")
        for key, label in menu.items():
            if word in (label.lower(), key):
                return key
        return None

    def menu(self, has_lines: bool) -> tuple[str, ...]:
        choices: tuple[str, ...] = (self.spec.message("kosten_klaar"),)
        if has_lines:
            choices += (
                self.spec.message("kosten_wijzigen"),
                self.spec.message("kosten_verwijderen"),
            )
        return choices
