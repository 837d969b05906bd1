"""The cost-lines sub-dialog of a `costs` field: one line at a time, each confirmed in figures."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from transitions import EventData, Machine

from dialogs.answers import match_choice
from dialogs.display import Formatter, period_text, scenario_name
from dialogs.events import Error, Message, Question
from dialogs.models import ModelPool
from dialogs.money import AmountError, parse_decimal, parse_money, to_cents
from dialogs.rendement import (
    ONCE,
    PERIOD_FIELD,
    WHOLE_PERIOD,
    CostLine,
    CostModel,
    lines_of,
    match_prices,
    period_months,
    scenario_total,
)
from dialogs.spec import Field, Interview, Kind

if TYPE_CHECKING:
    from dialogs.engine import _Turn

STATE = "kosten"  # key of the sub-dialog's state in the plan's dialog data
MAX_LINE_TOTAL = Decimal("10000000")
MAX_DESCRIPTION = 200

# The line being entered moves through these stages; `regel` is the list of lines itself.
STAGES = [
    "regel",
    "hergebruik",
    "hergebruik_aantal",
    "omschrijving",
    "prijslijst",
    "prijs",
    "eenheid",
    "eenheden",
    "aantal",
    "frequentie",
    "kies_wijzig",
    "kies_verwijder",
    "bevestig",
]
# The stages at which `terug` leaves the field instead of going back within a line.
OUTER = ("regel", "hergebruik", "hergebruik_aantal")


class _Step:
    """The model of the sub-dialog machine for one event; `stage` is its state."""

    stage: str
    trigger: Callable[..., bool]

    # Set by start(): a pooled step is reused (dialogs.models), these are per event.
    turn: _Turn
    field: Field
    state: dict[str, Any]
    draft: dict[str, Any]

    def __init__(self, flow: CostsFlow) -> None:
        self.flow = flow

    def start(self, turn: _Turn, spec_field: Field) -> None:
        self.turn = turn
        self.field = spec_field
        self.state = dict(turn.data.get(STATE) or {})
        self.draft = dict(self.state.get("draft") or {})

    def clear(self) -> None:
        del self.turn, self.field, self.state, self.draft

    # conditions named in the transitions
    def has_matches(self, event: EventData) -> bool:
        omschrijving = self.draft.get("omschrijving", "")
        return bool(match_prices(self.flow.prices, omschrijving))

    def from_list(self, event: EventData) -> bool:
        return bool(self.draft.get("uit_prijslijst"))

    def free_unit(self, event: EventData) -> bool:
        return self.flow.model.unit(self.draft.get("eenheid", "")) is None

    def editing(self, event: EventData) -> bool:
        return self.state.get("index") is not None


class CostsFlow:
    """Built once per dialog; drives the `costs` fields of any number of plans."""

    def __init__(self, spec: Interview, fmt: Formatter, model: CostModel, prices: Any) -> None:
        self.spec = spec
        self.fmt = fmt
        self.model = model
        self.prices = prices
        forward = [
            ("regel", "prijslijst", "has_matches"),
            ("regel", "prijs", None),
            ("omschrijving", "prijslijst", "has_matches"),
            ("omschrijving", "prijs", None),
            ("prijslijst", "aantal", "from_list"),
            ("prijslijst", "prijs", None),
            ("prijs", "eenheid", None),
            ("eenheid", "eenheden", "free_unit"),
            ("eenheid", "aantal", None),
            ("eenheden", "aantal", None),
            ("aantal", "frequentie", None),
            ("frequentie", "regel", None),
        ]
        back = [
            ("prijslijst", "omschrijving", "editing"),
            ("prijslijst", "regel", None),
            ("prijs", "prijslijst", "has_matches"),
            ("prijs", "omschrijving", "editing"),
            ("prijs", "regel", None),
            ("eenheid", "prijs", None),
            ("eenheden", "eenheid", None),
            ("aantal", "eenheden", "free_unit"),
            ("aantal", "prijslijst", "from_list"),
            ("aantal", "eenheid", None),
            ("frequentie", "aantal", None),
            ("omschrijving", "regel", None),
            ("kies_wijzig", "regel", None),
            ("kies_verwijder", "regel", None),
        ]
        transitions: list[dict[str, Any]] = []
        for trigger, table in (("next_stage", forward), ("previous_stage", back)):
            for source, dest, condition in table:
                entry: dict[str, Any] = {"trigger": trigger, "source": source, "dest": dest}
                if condition:
                    entry["conditions"] = condition
                transitions.append(entry)
        self.machine = Machine(
            model=None,
            states=STAGES,
            transitions=transitions,
            initial=None,
            auto_transitions=False,
            send_event=True,
            model_attribute="stage",
        )
        self.steps = ModelPool(self.machine, lambda: _Step(self))

    # --- entry points used by the main dialog ---------------------------------------------

    def on_text(self, turn: _Turn, spec_field: Field, text: str) -> bool:
        """Handle typed text at a costs field; True when the field is finished."""
        with self._step(turn, spec_field) as step:
            return self._on_text(step, text)

    def back(self, turn: _Turn, spec_field: Field) -> bool:
        """`terug` within a line; False when the main dialog should go to the previous field."""
        with self._step(turn, spec_field) as step:
            if step.stage in OUTER:
                return False
            if step.stage == "bevestig":
                self.machine.set_state(step.state["pending"]["stage"], model=step)
            else:
                step.trigger("previous_stage")
            if step.stage == "regel":
                step.draft = {}
                step.state.pop("index", None)
            self._ask(step)
            return True

    def skip(self, turn: _Turn, spec_field: Field) -> bool:
        """`overslaan`; True when the field is finished."""
        with self._step(turn, spec_field) as step:
            if step.stage == "regel":
                return self._finish(step)
            if step.stage == "hergebruik_aantal":
                step.state["queue"] = step.state["queue"][1:]
                self._next_reuse(step)
                return False
            if step.stage == "prijslijst" and step.state.get("index") is not None:
                # Keep the price: the price question that follows can be passed over too.
                self.machine.set_state("prijs", step)
                self._ask(step)
                return False
            if step.stage == "eenheden" or self._current_value(step) is not None:
                if step.stage == "eenheden":
                    step.draft.setdefault("eenheden", None)
                return self._go_on(step)
            step.turn.replies.append(Error(self.spec.message("verplicht")))
            self._ask(step)
            return False

    def ask(self, turn: _Turn, spec_field: Field) -> None:
        with self._step(turn, spec_field) as step:
            self._ask(step)

    # --- the machinery ---------------------------------------------------------------------

    def _step(self, turn: _Turn, spec_field: Field) -> _StepContext:
        return _StepContext(self, turn, spec_field)

    def _start_stage(self, turn: _Turn, spec_field: Field) -> str:
        if spec_field.key in turn.answers:
            return "regel"
        earlier = self._earlier_lines(turn, spec_field)
        return "hergebruik" if earlier else "regel"

    def _earlier_lines(self, turn: _Turn, spec_field: Field) -> list[dict[str, Any]]:
        """Lines of earlier scenarios, one per service (description, price and unit)."""
        seen: set[tuple[str, int, str]] = set()
        found: list[dict[str, Any]] = []
        for other in self.spec.fields:
            if other.key == spec_field.key:
                break
            if other.kind is not Kind.COSTS:
                continue
            for line in turn.answers.get(other.key) or []:
                ident = (line["omschrijving"].lower(), line["prijs"], line["eenheid"])
                if ident not in seen:
                    seen.add(ident)
                    found.append(dict(line, bron=other.scenario))
        return found

    def _on_text(self, step: _Step, text: str) -> bool:
        stage = step.stage
        answer = text.strip()
        if not answer:
            return self._refuse(step, "leeg")
        if stage == "bevestig":
            return self._on_confirm(step, answer)
        handler = getattr(self, f"_on_{stage}")
        result: bool = handler(step, answer)
        return result

    def _refuse(self, step: _Step, reason: str, **params: Any) -> bool:
        step.turn.replies.append(Error(self.spec.message(reason, **params)))
        self._ask(step)
        return False

    def _go_on(self, step: _Step) -> bool:
        step.trigger("next_stage")
        if step.stage == "regel":
            return self._save_line(step)
        self._ask(step)
        return False

    def _on_regel(self, step: _Step, answer: str) -> bool:
        lines = self._lines(step)
        choice = self._menu_choice(answer, bool(lines))
        if choice == "klaar":
            return self._finish(step)
        if choice in ("wijzigen", "verwijderen"):
            stage = "kies_wijzig" if choice == "wijzigen" else "kies_verwijder"
            self.machine.set_state(stage, step)
            self._ask(step)
            return False
        return self._on_omschrijving(step, answer)

    def _on_omschrijving(self, step: _Step, answer: str) -> bool:
        if not self._valid_description(step, answer):
            return False
        description = " ".join(answer.split())
        kinds, redacted = step.turn.dialog.redact_text(description)
        if kinds:
            # Not even into the draft as typed: a plan stays anonymous.
            if len(redacted) > MAX_DESCRIPTION:
                step.turn.replies.append(Error(step.turn.dialog.pii_warning(kinds)))
                return self._refuse(step, "te_lang", max=MAX_DESCRIPTION)
            step.state["pending"] = {"stage": step.stage, "value": redacted, "pii": list(kinds)}
            self.machine.set_state("bevestig", step)
            self._ask(step)
            return False
        return self._take_description(step, description)

    def _take_description(self, step: _Step, description: str) -> bool:
        if step.stage == "regel":
            step.draft = {"omschrijving": description}  # a new line
        else:
            step.draft["omschrijving"] = description
            step.draft.pop("uit_prijslijst", None)
        return self._go_on(step)

    def _valid_description(self, step: _Step, answer: str) -> bool:
        if len(answer) > MAX_DESCRIPTION:
            self._refuse(step, "te_lang", max=MAX_DESCRIPTION)
            return False
        if not any(ch.isalpha() for ch in answer):
            # A bare number here is nearly always an answer meant for another question.
            self._refuse(step, "kosten_omschrijving_zonder_letters")
            return False
        return True

    def _on_prijslijst(self, step: _Step, answer: str) -> bool:
        entries = match_prices(self.prices, step.draft.get("omschrijving", ""))
        labels = [self._price_label(e) for e in entries]
        other = self.spec.message("kosten_ander_bedrag")
        options = Field(key="_", kind=Kind.CHOICE, text="", choices=(*labels, other))
        label = match_choice(options, answer)
        if label is None:
            # A typed amount is taken as the price straight away.
            try:
                parse_money(answer)
            except AmountError:
                return self._refuse(step, "geen_keuze", keuzes=", ".join(options.choices))
            step.draft.pop("uit_prijslijst", None)
            self.machine.set_state("prijs", step)
            return self._on_prijs(step, answer)
        if label == other:
            step.draft.pop("uit_prijslijst", None)
            self.machine.set_state("prijs", step)
            self._ask(step)
            return False
        entry = entries[labels.index(label)]
        step.draft.update(prijs=to_cents(entry.prijs), eenheid=entry.eenheid, uit_prijslijst=True)
        step.draft.pop("eenheden", None)
        return self._go_on(step)

    def _on_prijs(self, step: _Step, answer: str) -> bool:
        try:
            reading = parse_money(answer)
        except AmountError as exc:
            return self._refuse(step, exc.reason)
        if reading.ambiguous:
            return self._confirm(step, to_cents(reading.value))
        step.draft["prijs"] = to_cents(reading.value)
        return self._go_on(step)

    def _on_eenheid(self, step: _Step, answer: str) -> bool:
        names = tuple(u.name for u in self.model.units)
        options = Field(key="_", kind=Kind.CHOICE, text="", choices=names)
        unit = self.model.unit(answer)
        name = unit.name if unit else match_choice(options, answer)
        if name is None:
            if len(answer) > 40:
                return self._refuse(step, "te_lang", max=40)
            name = " ".join(answer.split()).lower()
        step.draft["eenheid"] = name
        if self.model.unit(name) is not None:
            step.draft.pop("eenheden", None)
        return self._go_on(step)

    def _on_eenheden(self, step: _Step, answer: str) -> bool:
        value = self._quantity(step, answer)
        if value is None:
            return False
        if value > 100_000:
            return self._refuse(step, "getal_te_groot", max="100.000")
        step.draft["eenheden"] = str(value) if value > 0 else None
        return self._go_on(step)

    def _on_aantal(self, step: _Step, answer: str) -> bool:
        value = self._quantity(step, answer, confirm=True)
        if value is None:
            return False
        step.draft["aantal"] = str(value)
        return self._go_on(step)

    def _on_frequentie(self, step: _Step, answer: str) -> bool:
        frequencies = self._frequencies(step)
        options = Field(key="_", kind=Kind.CHOICE, text="", choices=tuple(frequencies.values()))
        label = match_choice(options, answer)
        # The short key (`week`, `eenmalig`) is accepted as well as the full label.
        key = answer.strip().lower() if answer.strip().lower() in frequencies else None
        if label is None and key is None:
            return self._refuse(step, "geen_keuze", keuzes=", ".join(options.choices))
        if key is None:
            key = next(k for k, v in frequencies.items() if v == label)
        line = self._draft_line(step, key)
        if self.model.total(line, self._months(step)) > MAX_LINE_TOTAL:
            step.turn.replies.append(Error(self.spec.message("kosten_regel_te_hoog")))
            self.machine.set_state("aantal", step)
            self._ask(step)
            return False
        step.draft["frequentie"] = key
        return self._go_on(step)

    def _on_kies_wijzig(self, step: _Step, answer: str) -> bool:
        index = self._pick_line(step, answer)
        if index is None:
            return False
        stored = self._lines(step)[index]
        step.state["index"] = index
        step.draft = {k: v for k, v in stored.items() if k != "per_periode"}
        if "per_periode" in stored:
            step.draft["eenheden"] = stored["per_periode"]
        self.machine.set_state("omschrijving", step)
        self._ask(step)
        return False

    def _on_kies_verwijder(self, step: _Step, answer: str) -> bool:
        index = self._pick_line(step, answer)
        if index is None:
            return False
        lines = self._lines(step)
        removed = lines.pop(index)
        step.turn.record(step.field.key, lines)
        step.turn.replies.append(
            Message(self.spec.message("kosten_verwijderd", omschrijving=removed["omschrijving"]))
        )
        self.machine.set_state("regel", step)
        self._ask(step)
        return False

    def _on_hergebruik(self, step: _Step, answer: str) -> bool:
        yes, no = self.spec.message("kosten_overnemen"), self.spec.message("kosten_niet_overnemen")
        options = Field(key="_", kind=Kind.CHOICE, text="", choices=(yes, no))
        label = match_choice(options, answer)
        if label is None:
            word = answer.lower()
            if word in self.spec.commands.get("ja", ()):
                label = yes
            elif word in self.spec.commands.get("nee", ()):
                label = no
        if label is None:
            return self._refuse(step, "geen_keuze", keuzes=f"{yes}, {no}")
        if label == yes:
            step.state["queue"] = self._earlier_lines(step.turn, step.field)
            self._next_reuse(step)
        else:
            self.machine.set_state("regel", step)
            self._ask(step)
        return False

    def _on_hergebruik_aantal(self, step: _Step, answer: str) -> bool:
        value = self._quantity(step, answer, confirm=True)
        if value is None:
            return False
        return self._take_reused(step, value)

    def _take_reused(self, step: _Step, value: Decimal) -> bool:
        queue = list(step.state.get("queue") or [])
        template = {k: v for k, v in queue[0].items() if k != "bron"}
        template["aantal"] = str(value)
        lines = self._lines(step)
        lines.append(template)
        step.turn.record(step.field.key, lines)
        line = CostLine.from_stored(template)
        step.turn.replies.append(Message(self.describe(line, self._months(step))))
        step.state["queue"] = queue[1:]
        self._next_reuse(step)
        return False

    def _next_reuse(self, step: _Step) -> None:
        stage = "hergebruik_aantal" if step.state.get("queue") else "regel"
        if stage == "regel":
            step.state.pop("queue", None)
            if step.field.key not in step.turn.answers:
                step.turn.record(step.field.key, [])
        self.machine.set_state(stage, step)
        self._ask(step)

    def _on_confirm(self, step: _Step, answer: str) -> bool:
        pending = step.state.pop("pending")
        word = answer.lower()
        self.machine.set_state(pending["stage"], step)
        if "pii" in pending:
            choice = step.turn.dialog.anonymous_choice(answer)
            if choice == "pii_opslaan":
                return self._take_description(step, pending["value"])
            if choice == "pii_opnieuw":
                step.turn.replies.append(Message(self.spec.message("opnieuw_invullen")))
                self._ask(step)
                return False
            return self._on_text(step, answer)  # a new description, checked again
        if word in self.spec.commands.get("ja", ()):
            if pending["stage"] == "prijs":
                step.draft["prijs"] = pending["value"]
                return self._go_on(step)
            if pending["stage"] == "hergebruik_aantal":
                return self._take_reused(step, Decimal(pending["value"]))
            step.draft[pending["stage"]] = pending["value"]
            return self._go_on(step)
        if word in self.spec.commands.get("nee", ()):
            step.turn.replies.append(Message(self.spec.message("opnieuw_invullen")))
            self._ask(step)
            return False
        return self._on_text(step, answer)

    def _confirm(self, step: _Step, value: Any) -> bool:
        step.state["pending"] = {"stage": step.stage, "value": value}
        self.machine.set_state("bevestig", step)
        self._ask(step)
        return False

    def _quantity(self, step: _Step, answer: str, *, confirm: bool = False) -> Decimal | None:
        try:
            reading = parse_decimal(answer, max_places=4)
        except AmountError as exc:
            reason = "getal_negatief" if exc.reason == "bedrag_negatief" else "geen_getal"
            self._refuse(step, reason)
            return None
        if reading.value > 1_000_000:
            self._refuse(step, "getal_te_groot", max="1.000.000")
            return None
        if confirm and reading.ambiguous:
            self._confirm(step, str(reading.value))
            return None
        return reading.value

    def _save_line(self, step: _Step) -> bool:
        line = self._draft_line(step, step.draft["frequentie"])
        lines = self._lines(step)
        index = step.state.pop("index", None)
        if index is None:
            lines.append(line.to_stored())
        else:
            lines[index] = line.to_stored()
        step.turn.record(step.field.key, lines)
        step.draft = {}
        step.turn.replies.append(Message(self.describe(line, self._months(step))))
        self._ask(step)
        return False

    def _finish(self, step: _Step) -> bool:
        if step.field.key not in step.turn.answers:
            step.turn.record(step.field.key, [])
        step.state = {}
        step.draft = {}
        return True

    # --- reading the plan ------------------------------------------------------------------

    def _lines(self, step: _Step) -> list[dict[str, Any]]:
        return [dict(line) for line in step.turn.answers.get(step.field.key) or []]

    def _months(self, step: _Step) -> Decimal:
        return period_months(step.turn.answers.get(PERIOD_FIELD))

    def _draft_line(self, step: _Step, frequency: str) -> CostLine:
        eenheden = step.draft.get("eenheden")
        return CostLine(
            omschrijving=step.draft["omschrijving"],
            prijs=Decimal(step.draft["prijs"]) / 100,
            eenheid=step.draft["eenheid"],
            aantal=Decimal(step.draft["aantal"]),
            frequentie=frequency,
            per_periode=None if eenheden is None else Decimal(eenheden),
        )

    def _frequencies(self, step: _Step) -> dict[str, str]:
        options = {f.key: f.label for f in self.model.frequencies if f.key != WHOLE_PERIOD}
        probe = CostLine("", Decimal(0), step.draft.get("eenheid", ""), Decimal(0), ONCE)
        eenheden = step.draft.get("eenheden")
        if eenheden is not None:
            probe = CostLine("", Decimal(0), probe.eenheid, Decimal(0), ONCE, Decimal(eenheden))
        if self.model.per_period(probe, self._months(step)) is not None:
            whole = self.model.frequency(WHOLE_PERIOD)
            options[whole.key] = whole.label
        return options

    def _menu_choice(self, answer: str, has_lines: bool) -> str | None:
        word = " ".join(answer.lower().split())
        menu = {"klaar": self.spec.message("kosten_klaar")}
        if has_lines:
            menu["wijzigen"] = self.spec.message("kosten_wijzigen")
            menu["verwijderen"] = self.spec.message("kosten_verwijderen")
        for key, label in menu.items():
            if word in (label.lower(), key):
                return key
        return None

    def _pick_line(self, step: _Step, answer: str) -> int | None:
        labels = self._line_labels(step)
        options = Field(key="_", kind=Kind.CHOICE, text="", choices=tuple(labels))
        label = match_choice(options, answer)
        if label is None:
            self._refuse(step, "geen_keuze", keuzes=", ".join(labels))
            return None
        return labels.index(label)

    def _line_labels(self, step: _Step) -> list[str]:
        months = self._months(step)
        labels = []
        for number, stored in enumerate(self._lines(step), 1):
            line = CostLine.from_stored(stored)
            total = self.fmt.money(self.model.total(line, months))
            labels.append(f"{number}. {line.omschrijving} ({total})")
        return labels

    def _current_value(self, step: _Step) -> Any:
        """What `overslaan` keeps at a stage while editing a line."""
        if step.state.get("index") is None:
            return None
        return step.draft.get(step.stage)

    def _price_label(self, entry: Any) -> str:
        return self.spec.message(
            "kosten_prijslabel",
            prijs=self.fmt.money(entry.prijs, exact=True),
            eenheid=entry.eenheid,
            omschrijving=entry.omschrijving,
        )

    def _price_sources(self, entries: list[Any]) -> str:
        return "; ".join(
            f"{e.omschrijving}: {e.bron}" + (f", {e.jaar}" if e.jaar else "") for e in entries
        )

    # --- wording ---------------------------------------------------------------------------

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
        return self.spec.message("kosten_regel_herhaald", **params)

    def summary_lines(self, turn_answers: Mapping[str, Any], key: str) -> str:
        months = period_months(turn_answers.get(PERIOD_FIELD))
        lines = lines_of(turn_answers.get(key))
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

    def _ask(self, step: _Step) -> None:
        spec_field, stage = step.field, step.stage
        base = step.turn.dialog.question(spec_field, step.turn.answers)
        months = self._months(step)
        kind, text, help_ = Kind.TEXT, "", base.help
        choices: tuple[str, ...] = ()
        current: str | None = None
        scenario = self.scenario_name(spec_field.scenario)
        if stage == "regel":
            lines = self._lines(step)
            choices = (self.spec.message("kosten_klaar"),)
            if lines:
                choices += (
                    self.spec.message("kosten_wijzigen"),
                    self.spec.message("kosten_verwijderen"),
                )
            text = self.spec.message(
                "kosten_volgende" if lines else "kosten_eerste", scenario=scenario
            )
            text = f"{base.text}\n{self.summary_lines(step.turn.answers, spec_field.key)}\n{text}"
        elif stage == "hergebruik":
            kind = Kind.CHOICE
            choices = (
                self.spec.message("kosten_overnemen"),
                self.spec.message("kosten_niet_overnemen"),
            )
            text = f"{base.text}\n{self.spec.message('kosten_hergebruik', scenario=scenario)}"
        elif stage == "hergebruik_aantal":
            kind = Kind.NUMBER
            item = step.state["queue"][0]
            line = CostLine.from_stored({k: v for k, v in item.items() if k != "bron"})
            text = self.spec.message(
                "kosten_hergebruik_aantal",
                omschrijving=line.omschrijving,
                prijs=self.fmt.money(line.prijs, exact=True),
                eenheid=line.eenheid,
                eenheden=self.model.plural(line.eenheid, Decimal(2)),
                scenario=scenario,
                was=self.describe(line, months),
                bron=self.scenario_name(item["bron"]),
            )
        elif stage == "omschrijving":
            text = self.spec.message("kosten_omschrijving")
            current = step.draft.get("omschrijving")
        elif stage == "prijslijst":
            kind = Kind.CHOICE
            entries = match_prices(self.prices, step.draft.get("omschrijving", ""))
            choices = (
                *(self._price_label(e) for e in entries),
                self.spec.message("kosten_ander_bedrag"),
            )
            text = self.spec.message(
                "kosten_prijslijst",
                omschrijving=step.draft["omschrijving"],
                bronnen=self._price_sources(entries),
            )
        elif stage == "prijs":
            kind = Kind.MONEY
            text = self.spec.message("kosten_prijs", omschrijving=step.draft["omschrijving"])
            if "prijs" in step.draft and step.state.get("index") is not None:
                current = self.fmt.money(Decimal(step.draft["prijs"]) / 100, exact=True)
        elif stage == "eenheid":
            choices = tuple(u.name for u in self.model.units)
            text = self.spec.message("kosten_eenheid")
            current = step.draft.get("eenheid") if step.state.get("index") is not None else None
        elif stage == "eenheden":
            kind = Kind.NUMBER
            text = self.spec.message(
                "kosten_eenheden", eenheid=step.draft["eenheid"], periode=self.period_text(months)
            )
        elif stage == "aantal":
            kind = Kind.NUMBER
            text = self.spec.message(
                "kosten_aantal",
                eenheden=self.model.plural(step.draft["eenheid"], Decimal(2)),
                prijs=self.fmt.money(Decimal(step.draft["prijs"]) / 100, exact=True),
                eenheid=step.draft["eenheid"],
            )
            if step.state.get("index") is not None and "aantal" in step.draft:
                current = self.fmt.number(Decimal(step.draft["aantal"]))
        elif stage == "frequentie":
            kind = Kind.CHOICE
            choices = tuple(self._frequencies(step).values())
            text = self.spec.message(
                "kosten_frequentie",
                aantal=self.fmt.number(Decimal(step.draft["aantal"])),
                eenheden=self.model.plural(step.draft["eenheid"], Decimal(step.draft["aantal"])),
            )
        elif stage in ("kies_wijzig", "kies_verwijder"):
            kind = Kind.CHOICE
            choices = tuple(self._line_labels(step))
            text = self.spec.message(f"kosten_{stage}")
        elif stage == "bevestig":
            kind = Kind.CHOICE
            pending = step.state["pending"]
            if "pii" in pending:
                warning = step.turn.dialog.pii_warning(pending["pii"])
                step.turn.replies.append(Error(warning))
                choices = step.turn.dialog.anonymous_choices()
                text = self.spec.message("pii_vraag", antwoord=pending["value"])
            else:
                if pending["stage"] == "prijs":
                    shown = self.fmt.money(Decimal(pending["value"]) / 100, exact=True)
                else:
                    shown = self.fmt.number(Decimal(pending["value"]))
                choices = (self.spec.message("ja"), self.spec.message("nee"))
                text = self.spec.message("bevestig_bedrag", bedrag=shown)
        step.turn.replies.append(
            Question(
                field=spec_field.key,
                kind=kind.value,
                text=text,
                help=help_ if stage == "regel" else (),
                choices=choices,
                max=None,
                required=stage not in ("regel", "eenheden"),
                step=base.step,
                steps=base.steps,
                step_name=base.step_name,
                current=current,
                intro=base.intro if stage in ("regel", "hergebruik") else "",
                part=stage,
            )
        )


class _StepContext:
    """Attaches a `_Step` to the machine for one call and writes its state back afterwards."""

    def __init__(self, flow: CostsFlow, turn: _Turn, spec_field: Field) -> None:
        self.flow = flow
        self.turn = turn
        self.field = spec_field

    def __enter__(self) -> _Step:
        stored = self.turn.data.get(STATE) or {}
        stage = str(stored.get("stage"))
        fresh = stored.get("field") != self.field.key or stage not in STAGES
        if fresh:
            stage = self.flow._start_stage(self.turn, self.field)
        step = self.step = self.flow.steps.take(stage)
        step.start(self.turn, self.field)
        if fresh:
            step.state = {"field": self.field.key}
            step.draft = {}
        return step

    def __exit__(self, *exc: object) -> None:
        step = self.step
        try:
            if step.state or step.draft:
                step.state.update(field=step.field.key, stage=step.stage, draft=step.draft)
                step.turn.data[STATE] = step.state
            if step.state == {} or step.state.get("stage") is None:
                step.turn.data.pop(STATE, None)
        finally:
            step.clear()
            self.flow.steps.give(step)
