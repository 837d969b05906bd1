"""The stages around the lines: the list itself, taking lines over, a reading to confirm.

Each stage is a Unit (dialogs.costs.step); UNITS is the one table of them. The stages of
one line are in dialogs.costs.line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from dialogs.costs.line import UNITS as LINE_UNITS
from dialogs.costs.line import on_description, read_change, take_description, take_line
from dialogs.costs.oneline import parse_line
from dialogs.costs.state import Draft, Stage
from dialogs.costs.step import MAX_LINE_TOTAL, Prompt, Step, Unit, choose
from dialogs.events import Error, Message, Question
from dialogs.rendement import CostLine
from dialogs.screening import RETYPE, STORE_REDACTED
from dialogs.spec import Kind

_NUMBERED = re.compile(r"^\d+\.\s+")


def handle(step: Step, text: str) -> bool:
    """Typed text at the stage the step is at; True when the costs field is done."""
    answer = text.strip()
    if not answer:
        return step.refuse("leeg")
    if step.stage in LINE_UNITS and step.words.menu_choice(answer, False) == "klaar":
        return _leave_line(step)
    if step.stage in LINE_UNITS and step.stage is not Stage.DESCRIPTION:
        whole = parse_line(answer, step.words.model)
        if whole is not None and whole.aantal is not None and whole.prijs is not None:
            # A whole new line typed while a part of the last one was asked: the last one
            # is left, as with `Klaar`, and this one taken.
            _leave_line(step, ask=False)
            step.state.draft = Draft()
            return take_line(step, whole)
    return UNITS[step.stage].on_text(step, answer)


def _leave_line(step: Step, *, ask: bool = True) -> bool:
    """`Klaar` in the middle of a line: the line (or its change) is not stored, and the list
    is asked again, where `Klaar` ends the field."""
    described = step.state.draft.omschrijving or ""
    key = "kosten_wijziging_weg" if step.state.index is not None else "kosten_regel_weg"
    step.state.draft, step.state.index = Draft(), None
    step.turn.replies.append(Message(step.spec.message(key, omschrijving=described)))
    step.goto(Stage.LINES)
    return step.ask() if ask else False


# --- the list of lines ---------------------------------------------------------------------


def _ask_lines(step: Step, base: Question) -> Prompt:
    lines = step.lines()
    scenario = step.words.scenario_name(step.field.scenario)
    key = "kosten_volgende" if lines else "kosten_eerste"
    summary = step.words.summary_lines(step.turn.answers, step.field.key)
    text = f"{base.text}\n{summary}\n{step.spec.message(key, scenario=scenario)}"
    return Prompt(text, choices=step.words.menu(bool(lines)))


def _on_lines(step: Step, answer: str) -> bool:
    choice = step.words.menu_choice(answer, bool(step.lines()))
    if choice == "klaar":
        return step.finish()
    if choice in ("wijzigen", "verwijderen"):
        step.goto(Stage.PICK_EDIT if choice == "wijzigen" else Stage.PICK_REMOVE)
        return step.ask()
    word = " ".join(answer.lower().split())
    if word in (*step.spec.commands.get("ja", ()), *step.spec.commands.get("nee", ())):
        # "klopt" or "nee" answers a question, it does not name a cost item.
        scenario = step.words.scenario_name(step.field.scenario)
        return step.refuse("kosten_geen_post", scenario=scenario)
    step.state.draft = Draft()
    parsed = parse_line(answer, step.words.model)
    if parsed is not None:
        return take_line(step, parsed)
    return on_description(step, answer)


def _ask_pick(step: Step, base: Question) -> Prompt:
    labels = tuple(step.words.line_labels(step.lines(), step.months()))
    return Prompt(step.spec.message(f"kosten_{step.stage.value}"), Kind.CHOICE, labels)


def _pick_line(step: Step, answer: str) -> int | None:
    labels = tuple(step.words.line_labels(step.lines(), step.months()))
    # A label sent as shown once numbered (`2. Begeleiding (€ 3.600)`) still picks its line.
    label = choose(labels, answer) or choose(labels, _NUMBERED.sub("", answer))
    if label is None:
        step.refuse("geen_keuze", keuzes=", ".join(labels))
        return None
    return labels.index(label)


def _on_pick_edit(step: Step, answer: str) -> bool:
    index = _pick_line(step, answer)
    if index is None:
        return False
    step.state.index = index
    step.state.draft = Draft.of_line(step.lines()[index])
    step.goto(Stage.DESCRIPTION)
    return step.ask()


def _on_pick_remove(step: Step, answer: str) -> bool:
    index = _pick_line(step, answer)
    if index is None:
        return False
    lines = step.lines()
    removed = lines.pop(index)
    step.store_lines(lines)
    message = step.spec.message("kosten_verwijderd", omschrijving=removed["omschrijving"])
    step.turn.replies.append(Message(message))
    step.goto(Stage.LINES)
    return step.ask()


# --- taking over the lines of an earlier scenario ------------------------------------------


def earlier_lines(step: Step) -> list[dict[str, Any]]:
    """Lines of earlier scenarios, one per service (description, price and unit)."""
    if step.field.earlier:
        given = step.turn.answers.get(step.field.earlier) or []
        return [dict(line, bron=step.field.scenario) for line in given]
    seen: set[tuple[str, int, str]] = set()
    found: list[dict[str, Any]] = []
    for other in step.spec.fields:
        if other.key == step.field.key:
            break
        if other.kind is not Kind.COSTS:
            continue
        for line in step.turn.answers.get(other.key) or []:
            ident = (line["omschrijving"].lower(), line["prijs"], line["eenheid"])
            if ident not in seen:
                seen.add(ident)
                found.append(dict(line, bron=other.scenario))
    return found


def _reuse_choices(step: Step) -> tuple[str, str]:
    if step.field.earlier:  # given lines: all as they are, or one by one
        return step.spec.message("kosten_klopt"), step.spec.message("kosten_nalopen")
    return step.spec.message("kosten_overnemen"), step.spec.message("kosten_niet_overnemen")


def _ask_reuse(step: Step, base: Question) -> Prompt:
    scenario = step.words.scenario_name(step.field.scenario)
    if step.field.earlier:
        summary = step.words.summary_lines(step.turn.answers, step.field.earlier)
        asked = step.spec.message("kosten_gegeven", scenario=scenario, regels=summary)
    else:
        asked = step.spec.message("kosten_hergebruik", scenario=scenario)
    return Prompt(f"{base.text}\n{asked}", Kind.CHOICE, _reuse_choices(step))


def _on_reuse(step: Step, answer: str) -> bool:
    yes, no = _reuse_choices(step)
    label = choose((yes, no), answer)
    if label is None:
        word = answer.lower()
        if word in step.spec.commands.get("ja", ()):
            label = yes
        elif word in step.spec.commands.get("nee", ()):
            label = no
    if label is None:
        return step.refuse("geen_keuze", keuzes=f"{yes}, {no}")
    if label == yes and step.field.earlier:
        # `Klopt`: every given line as it is, and the field is done.
        step.store_lines(
            [{k: v for k, v in item.items() if k != "bron"} for item in earlier_lines(step)]
        )
        return step.finish()
    if label == yes or step.field.earlier:
        step.state.queue = earlier_lines(step)
        return next_reuse(step)
    step.goto(Stage.LINES)
    return step.ask()


def _reused(item: dict[str, Any]) -> CostLine:
    return CostLine.from_stored({k: v for k, v in item.items() if k != "bron"})


def _reuse_options(step: Step) -> dict[str, str]:
    """The choices at a line taken over: keyword -> label."""
    return {
        key: step.spec.message(f"kosten_hergebruik_{key}") for key in ("zelfde", "nul", "weglaten")
    }


def _ask_reuse_quantity(step: Step, base: Question) -> Prompt:
    item = step.state.queue[0]
    line, words = _reused(item), step.words
    text = step.spec.message(
        "kosten_hergebruik_aantal",
        omschrijving=line.omschrijving,
        eenheden=words.model.plural(line.eenheid, Decimal(2)),
        scenario=words.scenario_name(step.field.scenario),
        was=words.describe(line, step.months()),
        bron=words.scenario_name(item["bron"]),
    )
    return Prompt(text, Kind.CHOICE, tuple(_reuse_options(step).values()))


def _on_reuse_quantity(step: Step, answer: str) -> bool:
    word = " ".join(answer.lower().split())
    # Labels only, not their numbers: a typed number here is always the quantity.
    picked = next((k for k, v in _reuse_options(step).items() if word == v.lower()), None)
    template = _reused(step.state.queue[0])
    if picked == "weglaten":
        step.state.queue = step.state.queue[1:]
        return next_reuse(step)
    if picked == "zelfde":
        return take_reused(step, template.aantal)
    if picked == "nul":
        return take_reused(step, Decimal(0))
    if any(ch.isalpha() or ch in "€×@à:" for ch in answer):
        # A changed part in the line's form: `à € 70`, `2 uur per maand`, or a whole line.
        handled, changed = read_change(step, template.to_stored(), answer)
        if handled:
            return False if changed is None else take_reused(step, None, changed)
    value = step.quantity(answer, confirm=True)  # a bare number: `1.500` is read back
    return False if value is None else take_reused(step, value)


def take_reused(step: Step, value: Decimal | None, changed: dict[str, Any] | None = None) -> bool:
    queue = list(step.state.queue)
    template = changed or {k: v for k, v in queue[0].items() if k != "bron"}
    if value is not None:
        template["aantal"] = str(value)
    line = CostLine.from_stored(template)
    if step.words.model.total(line, step.months()) > MAX_LINE_TOTAL:
        return step.refuse("kosten_regel_te_hoog")
    step.store_lines([*step.lines(), template])
    step.turn.replies.append(Message(step.words.describe(line, step.months())))
    step.state.queue = queue[1:]
    return next_reuse(step)


def next_reuse(step: Step) -> bool:
    if step.state.queue:
        step.goto(Stage.REUSE_QUANTITY)
        return step.ask()
    if step.field.key not in step.turn.answers:
        step.store_lines([])
    step.goto(Stage.LINES)
    return step.ask()


# --- a reading waiting to be confirmed -----------------------------------------------------


def _ask_confirm(step: Step, base: Question) -> Prompt:
    pending = step.state.pending
    assert pending is not None
    if pending.pii is not None:
        screener = step.driver.screener
        step.turn.replies.append(Error(screener.warning(pending.pii)))
        text = step.spec.message("pii_vraag", antwoord=pending.value)
        return Prompt(text, Kind.CHOICE, screener.choices())
    fmt = step.words.fmt
    if pending.stage is Stage.PRICE:
        shown = fmt.money(Decimal(pending.value) / 100, exact=True)
    else:
        shown = fmt.number(Decimal(pending.value))
    choices = (step.spec.message("ja"), step.spec.message("nee"))
    return Prompt(step.spec.message("bevestig_bedrag", bedrag=shown), Kind.CHOICE, choices)


def _on_confirm(step: Step, answer: str) -> bool:
    pending = step.state.pending
    assert pending is not None
    step.state.pending = None
    step.goto(pending.stage)
    if pending.pii is not None:
        choice = step.driver.screener.choice(answer)
        if choice == STORE_REDACTED:
            return take_description(step, pending.value)
        if choice == RETYPE:
            return step.again()
        return handle(step, answer)  # a new description, checked again
    word = answer.lower()
    if word in step.spec.commands.get("ja", ()):
        if pending.stage is Stage.REUSE_QUANTITY:
            return take_reused(step, Decimal(pending.value))
        step.draft.put(pending.stage, pending.value)
        return step.go_on()
    if word in step.spec.commands.get("nee", ()):
        return step.again()
    return handle(step, answer)


UNITS: Mapping[Stage, Unit] = {
    Stage.LINES: Unit(_ask_lines, _on_lines),
    Stage.REUSE: Unit(_ask_reuse, _on_reuse),
    Stage.REUSE_QUANTITY: Unit(_ask_reuse_quantity, _on_reuse_quantity),
    **LINE_UNITS,
    Stage.PICK_EDIT: Unit(_ask_pick, _on_pick_edit),
    Stage.PICK_REMOVE: Unit(_ask_pick, _on_pick_remove),
    Stage.CONFIRM: Unit(_ask_confirm, _on_confirm),
}
