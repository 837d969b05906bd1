"""The stages of one cost line: description, price (from the list or typed), unit, quantity,
frequency. Each is a Unit (dialogs.costs.step); the table of edges in dialogs.costs.flow
says which follows which.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from dialogs.costs.oneline import OneLine, parse_line
from dialogs.costs.state import Draft, Pending, Stage
from dialogs.costs.step import MAX_LINE_TOTAL, Prompt, Step, Unit, choose
from dialogs.events import Error, Message, Question
from dialogs.money import AmountError, parse_money, to_cents
from dialogs.rendement import WHOLE_PERIOD, CostLine, match_prices
from dialogs.spec import Kind

MAX_DESCRIPTION = 200
MAX_UNIT = 40


def _ask_description(step: Step, base: Question) -> Prompt:
    return Prompt(step.spec.message("kosten_omschrijving"), current=step.draft.omschrijving)


def on_description(step: Step, answer: str) -> bool:
    if step.stage is Stage.DESCRIPTION and step.state.index is not None:
        done = _changed_in_one(step, answer)
        if done is not None:
            return done
    if len(answer) > MAX_DESCRIPTION:
        return step.refuse("te_lang", max=MAX_DESCRIPTION)
    if not any(ch.isalpha() for ch in answer):
        # A bare number here is nearly always an answer meant for another question.
        return step.refuse("kosten_omschrijving_zonder_letters")
    description = " ".join(answer.split())
    kinds, redacted = step.driver.screener.redact_text(description)
    if kinds:
        # Not even into the draft as typed: a plan stays anonymous.
        if len(redacted) > MAX_DESCRIPTION:
            step.turn.replies.append(Error(step.driver.screener.warning(kinds)))
            return step.refuse("te_lang", max=MAX_DESCRIPTION)
        step.state.pending = Pending(step.stage, redacted, list(kinds))
        step.goto(Stage.CONFIRM)
        return step.ask()
    return take_description(step, description)


def read_change(
    step: Step, stored: dict[str, Any], answer: str
) -> tuple[bool, dict[str, Any] | None]:
    """A change to a stored line in one message: the whole line again, or only the parts that
    change (`3`, `à € 70`, `2 uur per maand`). (False, None) when the answer is no such
    change; (True, None) when it was one but is refused (already asked again).
    """
    model = step.words.model
    own = parse_line(answer, model)
    parsed = own or parse_line(f"{stored['omschrijving']}: {answer}", model)
    if parsed is None:
        return False, None
    if parsed.problems:
        limit = {"getal_te_groot": "1.000.000"}.get(parsed.problems[0], "")
        step.refuse(parsed.problems[0], max=limit)
        return True, None
    changed = {k: v for k, v in stored.items() if k != "bron"}
    if own is not None:
        kinds, _ = step.driver.screener.redact_text(own.omschrijving)
        if kinds or len(own.omschrijving) > MAX_DESCRIPTION:
            # Not stored as typed: the step-by-step way screens and asks.
            step.turn.replies.append(
                Error(step.driver.screener.warning(kinds))
                if kinds
                else Error(step.spec.message("te_lang", max=MAX_DESCRIPTION))
            )
            step.ask()
            return True, None
        changed["omschrijving"] = own.omschrijving
    if parsed.prijs is not None:
        changed["prijs"] = to_cents(parsed.prijs.value)
    if parsed.eenheid is not None:
        changed["eenheid"], changed["frequentie"] = parsed.eenheid, parsed.frequentie
        changed.pop("per_periode", None)
        probe = CostLine.from_stored(dict(changed, aantal="0"))
        if parsed.frequentie == WHOLE_PERIOD and model.per_period(probe, step.months()) is None:
            step.refuse("kosten_hergebruik_onleesbaar")
            return True, None
    if parsed.aantal is not None:
        changed["aantal"] = str(parsed.aantal.value)
    return True, changed


def take_line(step: Step, parsed: OneLine) -> bool:
    """A line typed in one message: its parts go into the draft; what is missing is asked."""
    model = step.words.model
    draft = Draft(ineen=True, eenheid=parsed.eenheid, frequentie=parsed.frequentie)
    doubts: list[str] = []
    if parsed.aantal is not None:
        draft.aantal = str(parsed.aantal.value)
        if parsed.aantal.ambiguous:
            doubts.append(Stage.QUANTITY.value)
    if parsed.prijs is not None:
        draft.prijs = to_cents(parsed.prijs.value)
        if parsed.prijs.ambiguous:
            doubts.append(Stage.PRICE.value)
    if draft.frequentie == WHOLE_PERIOD:
        unit = model.unit(draft.eenheid or "")
        if unit is not None and unit.per_month is None:
            draft.frequentie = None  # `stuks de hele periode` has no length: asked
    draft.twijfel = doubts or None
    step.state.draft = draft
    for reason in parsed.problems:
        limit = {"getal_te_groot": "1.000.000"}.get(reason, "")
        step.turn.replies.append(Error(step.spec.message(reason, max=limit)))
    return on_description(step, parsed.omschrijving)


def _changed_in_one(step: Step, answer: str) -> bool | None:
    """Editing: a change typed in one message replaces the line; None when it is none."""
    assert step.state.index is not None
    lines = step.lines()
    handled, changed = read_change(step, lines[step.state.index], answer)
    if not handled:
        return None
    if changed is None:
        return False
    line = CostLine.from_stored(changed)
    if step.words.model.total(line, step.months()) > MAX_LINE_TOTAL:
        return step.refuse("kosten_regel_te_hoog")
    lines[step.state.index] = line.to_stored()
    step.store_lines(lines)
    step.state.index, step.state.draft = None, Draft()
    step.turn.replies.append(Message(step.words.describe(line, step.months())))
    step.goto(Stage.LINES)
    return step.ask()


def take_description(step: Step, description: str) -> bool:
    if step.stage is Stage.LINES:
        step.draft.omschrijving = description  # a new line (the list cleared the draft)
    else:
        step.draft.omschrijving = description
        step.draft.uit_prijslijst = False
    return step.go_on()


def _entries(step: Step) -> list[Any]:
    return match_prices(step.driver.prices, step.draft.omschrijving or "")


def _price_choices(step: Step, entries: list[Any]) -> tuple[str, ...]:
    choices = (
        *(step.words.price_label(e) for e in entries),
        step.spec.message("kosten_ander_bedrag"),
    )
    if step.state.index is not None and step.draft.prijs is not None:
        choices += (step.spec.message("kosten_huidige_prijs"),)  # editing a line
    return choices


def _ask_price_list(step: Step, base: Question) -> Prompt:
    choices = _price_choices(step, _entries(step))
    text = step.spec.message(
        "kosten_prijslijst",
        omschrijving=step.draft.omschrijving,
        bronnen=step.words.price_sources(_entries(step)),
    )
    return Prompt(text, Kind.CHOICE, choices)


def _on_price_list(step: Step, answer: str) -> bool:
    entries = _entries(step)
    labels = [step.words.price_label(e) for e in entries]
    other = step.spec.message("kosten_ander_bedrag")
    choices = _price_choices(step, entries)
    label = choose(choices, answer)
    if label == step.spec.message("kosten_huidige_prijs"):
        step.goto(Stage.QUANTITY)  # price and unit stay as they are
        return step.ask()
    if label is None:
        # A typed amount is taken as the price straight away.
        try:
            parse_money(answer)
        except AmountError:
            return step.refuse("geen_keuze", keuzes=", ".join(choices))
        step.draft.uit_prijslijst = False
        step.goto(Stage.PRICE)
        return _on_price(step, answer)
    if label == other:
        step.draft.uit_prijslijst = False
        step.goto(Stage.PRICE)
        return step.ask()
    entry = entries[labels.index(label)]
    draft = step.draft
    draft.prijs, draft.eenheid, draft.uit_prijslijst = to_cents(entry.prijs), entry.eenheid, True
    draft.eenheden = None
    return step.go_on()


def _ask_price(step: Step, base: Question) -> Prompt:
    text = step.spec.message("kosten_prijs", omschrijving=step.draft.omschrijving)
    current = None
    if step.draft.prijs is not None and step.state.index is not None:
        current = step.words.fmt.money(Decimal(step.draft.prijs) / 100, exact=True)
    return Prompt(text, Kind.MONEY, current=current)


def _on_price(step: Step, answer: str) -> bool:
    try:
        reading = parse_money(answer)
    except AmountError as exc:
        return step.refuse(exc.reason)
    if reading.ambiguous:
        return step.confirm(to_cents(reading.value))
    step.draft.prijs = to_cents(reading.value)
    return step.go_on()


def _ask_unit(step: Step, base: Question) -> Prompt:
    choices = tuple(u.name for u in step.words.model.units)
    current = step.draft.eenheid if step.state.index is not None else None
    return Prompt(step.spec.message("kosten_eenheid"), choices=choices, current=current)


def _on_unit(step: Step, answer: str) -> bool:
    model = step.words.model
    unit = model.unit(answer)
    name = unit.name if unit else choose(tuple(u.name for u in model.units), answer)
    if name is None:
        if len(answer) > MAX_UNIT:
            return step.refuse("te_lang", max=MAX_UNIT)
        name = " ".join(answer.split()).lower()
    step.draft.eenheid = name
    if model.unit(name) is not None:
        step.draft.eenheden = None
    return step.go_on()


def _ask_units_per_period(step: Step, base: Question) -> Prompt:
    period = step.words.period_text(step.months())
    text = step.spec.message("kosten_eenheden", eenheid=step.draft.eenheid, periode=period)
    return Prompt(text, Kind.NUMBER)


def _on_units_per_period(step: Step, answer: str) -> bool:
    value = step.quantity(answer)
    if value is None:
        return False
    if value > 100_000:
        return step.refuse("getal_te_groot", max="100.000")
    step.draft.eenheden = str(value) if value > 0 else None
    return step.go_on()


def _ask_quantity(step: Step, base: Question) -> Prompt:
    draft, words = step.draft, step.words
    assert draft.eenheid is not None and draft.prijs is not None
    text = step.spec.message(
        "kosten_aantal",
        eenheden=words.model.plural(draft.eenheid, Decimal(2)),
        prijs=words.fmt.money(Decimal(draft.prijs) / 100, exact=True),
        eenheid=draft.eenheid,
    )
    current = None
    if step.state.index is not None and draft.aantal is not None:
        current = words.fmt.number(Decimal(draft.aantal))
    return Prompt(text, Kind.NUMBER, current=current)


def _on_quantity(step: Step, answer: str) -> bool:
    value = step.quantity(answer, confirm=True)
    if value is None:
        return False
    step.draft.aantal = str(value)
    return step.go_on()


def _ask_frequency(step: Step, base: Question) -> Prompt:
    draft, words = step.draft, step.words
    assert draft.eenheid is not None and draft.aantal is not None
    choices = tuple(words.frequencies(draft, step.months()).values())
    text = step.spec.message(
        "kosten_frequentie",
        aantal=words.fmt.number(Decimal(draft.aantal)),
        eenheden=words.model.plural(draft.eenheid, Decimal(draft.aantal)),
    )
    return Prompt(text, Kind.CHOICE, choices)


def _on_frequency(step: Step, answer: str) -> bool:
    frequencies = step.words.frequencies(step.draft, step.months())
    choices = tuple(frequencies.values())
    label = choose(choices, answer)
    # The short key (`week`, `eenmalig`) is accepted as well as the full label.
    key = answer.strip().lower() if answer.strip().lower() in frequencies else None
    if label is None and key is None:
        return step.refuse("geen_keuze", keuzes=", ".join(choices))
    if key is None:
        key = next(k for k, v in frequencies.items() if v == label)
    line = step.draft_line(key)
    if step.words.model.total(line, step.months()) > MAX_LINE_TOTAL:
        step.turn.replies.append(Error(step.spec.message("kosten_regel_te_hoog")))
        step.goto(Stage.QUANTITY)
        return step.ask()
    step.draft.frequentie = key
    return step.go_on()


UNITS: Mapping[Stage, Unit] = {
    Stage.DESCRIPTION: Unit(_ask_description, on_description),
    Stage.PRICE_LIST: Unit(_ask_price_list, _on_price_list),
    Stage.PRICE: Unit(_ask_price, _on_price),
    Stage.UNIT: Unit(_ask_unit, _on_unit),
    Stage.UNITS_PER_PERIOD: Unit(_ask_units_per_period, _on_units_per_period),
    Stage.QUANTITY: Unit(_ask_quantity, _on_quantity),
    Stage.FREQUENCY: Unit(_ask_frequency, _on_frequency),
}
