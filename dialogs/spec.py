"""The interview as typed data: steps, fields and wording, built from the mappings in prompts/."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from fractions import Fraction
from typing import Any

from dialogs.rendement import ONCE, WHOLE_PERIOD, CostModel, Frequency, PriceEntry, Unit


class Kind(StrEnum):
    """The answer types a field can have."""

    TEXT = "text"
    CHOICE = "choice"
    MULTICHOICE = "multichoice"
    NUMBER = "number"
    MONEY = "money"
    DATE = "date"
    LIST = "list"
    COSTS = "costs"
    # Several items, each with the same parts (`columns`), asked part by part (`parts`).
    GROUP = "group"


@dataclass(frozen=True)
class Provision:
    """A provision for maatwerk or deviation in a law, as a method text names it."""

    artikel: str
    ruimte: str  # what it allows, in one line
    beslist: str  # who decides
    bron: str  # the source: file and a short locator


class SpecError(ValueError):
    """The interview data is malformed; the message names the offending place."""


@dataclass(frozen=True)
class Condition:
    """Ask a field only when another field's answer equals or includes a value."""

    field: str
    equals: str | None = None
    includes: str | None = None
    # `when: {empty: [a, b]}`: every one of these fields is unanswered or empty (`field` is
    # then the last of them, so the order check below sees the latest one).
    empty: tuple[str, ...] = ()

    def holds(self, answers: Mapping[str, Any]) -> bool:
        if self.empty:
            return all(answers.get(key) in (None, "", []) for key in self.empty)
        value = answers.get(self.field)
        if self.equals is not None:
            return value == self.equals
        if self.includes is not None:
            return isinstance(value, list) and self.includes in value
        return value not in (None, "", [])


@dataclass(frozen=True)
class Field:
    key: str
    kind: Kind
    text: str
    help: tuple[str, ...] = ()
    required: bool = False
    choices: tuple[str, ...] = ()
    max: int | None = None
    columns: tuple[str, ...] = ()
    when: Condition | None = None
    label: str = ""
    # Bounds of a number (`min` and `max_value` in the YAML); `max` above bounds the choices.
    min_value: str | None = None
    max_value: str | None = None
    max_length: int | None = None
    # For a costs field: which scenario of the rendement it holds.
    scenario: str = ""
    # Other words for a choice (`synoniemen:` in the YAML), lowercased, each to its label.
    synonyms: tuple[tuple[str, str], ...] = ()
    # The unit a number is stored in (`unit: maanden`), so `een jaar` can be read as 12.
    unit: str = ""
    # A date that may not lie in the past (`future: true`), such as an evaluation.
    future: bool = False
    # An earlier field whose answer is shown with this question, to confirm or extend rather
    # than to type twice.
    earlier: str = ""
    # A template (templates/<summary>.txt.j2) sent just before this question is asked, so
    # the answer is given with that summary on the screen.
    summary: str = ""
    # Earlier multiple-choice fields of laws: the provisions of wetten.yaml for the laws
    # picked there are offered as help with this question.
    provisions: tuple[str, ...] = ()
    # Which part of each provision the help shows: all of it (`ruimte`), or only who decides
    # (`beslist`, for the question right after the one that showed it all).
    provisions_as: str = "ruimte"
    # For a group: the questions for the second and later columns of each item (the first
    # column is the answer to `text`).
    parts: tuple[str, ...] = ()
    # A given answer (a list of texts, see Interview.given) whose items are the choices: the
    # evaluation's actions. Such a field is not asked when the list is empty.
    choices_from: str = ""

    @property
    def title(self) -> str:
        """A short name for overviews; falls back to the question itself."""
        return self.label or self.text


@dataclass(frozen=True)
class Step:
    number: int
    key: str
    name: str
    question: str
    intro: str = ""
    help: tuple[str, ...] = ()
    fields: tuple[Field, ...] = ()
    # A template sent as a message when the step is completed (e.g. `waardendriehoek`).
    summary: str = ""


@dataclass(frozen=True)
class Interview:
    steps: tuple[Step, ...]
    messages: Mapping[str, str]
    commands: Mapping[str, tuple[str, ...]]
    title: str = "Doorbraakplan"
    sections: Mapping[str, str] = field(default_factory=dict)
    costs: CostModel = field(default_factory=lambda: CostModel((), ()))
    prices: tuple[PriceEntry, ...] = ()
    # Per law (a choice of a laws question): the provisions for maatwerk the sources name.
    wetten: Mapping[str, tuple[Provision, ...]] = field(default_factory=dict)
    # Answers the caller gives with every turn rather than the interview asking them (the
    # evaluation is given the plan's actions and cost lines); fields may refer to them.
    given: tuple[str, ...] = ()
    fields: tuple[Field, ...] = field(init=False)
    _by_key: Mapping[str, Field] = field(init=False, repr=False)
    _step_of: Mapping[str, Step] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        fields = tuple(f for s in self.steps for f in s.fields)
        object.__setattr__(self, "fields", fields)
        object.__setattr__(self, "_by_key", {f.key: f for f in fields})
        object.__setattr__(self, "_step_of", {f.key: s for s in self.steps for f in s.fields})

    def field(self, key: str) -> Field:
        return self._by_key[key]

    def has_field(self, key: str) -> bool:
        return key in self._by_key

    def step_of(self, key: str) -> Step:
        return self._step_of[key]

    def message(self, key: str, **params: Any) -> str:
        try:
            template = self.messages[key]
        except KeyError as exc:
            raise SpecError(f"message '{key}' is missing from the wording") from exc
        return template.format(**params) if params else template

    def find_step(self, ref: str) -> Step | None:
        """A step by its number (`3`) or, case-insensitively, its key or name."""
        ref = ref.strip().lower()
        for step in self.steps:
            if ref in (str(step.number), step.key.lower(), step.name.lower()):
                return step
        return None

    @classmethod
    def from_data(
        cls,
        interview: Mapping[str, Any],
        messages: Mapping[str, Any],
        costs: Mapping[str, Any] | None = None,
        prices: Mapping[str, Any] | None = None,
        wetten: Mapping[str, Any] | None = None,
    ) -> Interview:
        """Build and validate an interview from parsed YAML mappings."""
        raw_steps = _require(interview, "steps", list, "interview")
        steps = tuple(_step(i + 1, raw) for i, raw in enumerate(raw_steps))
        if not steps:
            raise SpecError("interview: at least one step is needed")
        wording = _require(messages, "messages", dict, "messages")
        raw_commands = _require(messages, "commands", dict, "messages")
        commands = {
            str(name): tuple(str(w).lower() for w in _as_list(words, f"commands.{name}"))
            for name, words in raw_commands.items()
        }
        spec = cls(
            steps=steps,
            messages={str(k): str(v) for k, v in wording.items()},
            commands=commands,
            title=str(interview.get("title", "Doorbraakplan")),
            sections={str(k): str(v) for k, v in (interview.get("sections") or {}).items()},
            costs=_cost_model(costs or {}),
            prices=_price_list(prices or {}),
            wetten=_wetten(wetten or {}),
            given=_strings(interview.get("given"), "interview.given"),
        )
        _check_references(spec)
        return spec


_KEY_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_.")


def _require(data: Mapping[str, Any], key: str, typ: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(data, Mapping) or key not in data:
        raise SpecError(f"{where}: '{key}' is missing")
    value = data[key]
    if not isinstance(value, typ):
        raise SpecError(f"{where}.{key}: expected {typ}")
    return value


def _as_list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return value
    raise SpecError(f"{where}: expected a list")


def _strings(value: Any, where: str) -> tuple[str, ...]:
    return tuple(str(v) for v in _as_list(value, where))


def _step(number: int, raw: Any) -> Step:
    where = f"steps[{number - 1}]"
    if not isinstance(raw, Mapping):
        raise SpecError(f"{where}: expected a mapping")
    key = str(_require(raw, "key", str, where))
    where = f"step '{key}'"
    fields = tuple(_field(f, where) for f in _require(raw, "fields", list, where))
    if not fields:
        raise SpecError(f"{where}: a step needs at least one field")
    return Step(
        number=number,
        key=key,
        name=str(_require(raw, "name", str, where)),
        question=str(_require(raw, "question", str, where)),
        intro=str(raw.get("intro", "")).strip(),
        help=_strings(raw.get("help"), f"{where}.help"),
        fields=fields,
        summary=str(raw.get("summary", "")),
    )


def _field(raw: Any, where: str) -> Field:
    if not isinstance(raw, Mapping):
        raise SpecError(f"{where}: each field must be a mapping")
    key = str(_require(raw, "key", str, where))
    where = f"field '{key}'"
    if not key or set(key) - _KEY_CHARS:
        raise SpecError(f"{where}: keys use lowercase letters, digits, '_' and '.' only")
    try:
        kind = Kind(str(raw.get("type", "text")))
    except ValueError as exc:
        allowed = ", ".join(k.value for k in Kind)
        raise SpecError(f"{where}: unknown type '{raw.get('type')}' (use {allowed})") from exc
    choices = _strings(raw.get("choices"), f"{where}.choices")
    choices_from = str(raw.get("choices_from", ""))
    if kind in (Kind.CHOICE, Kind.MULTICHOICE) and len(choices) < 2 and not choices_from:
        raise SpecError(f"{where}: a choice field needs at least two choices")
    if len(set(c.lower() for c in choices)) != len(choices):
        raise SpecError(f"{where}: choices must differ")
    if any(";" in c for c in choices):
        raise SpecError(f"{where}: a choice may not contain ';'")
    maximum = raw.get("max")
    if maximum is not None and (not isinstance(maximum, int) or maximum < 1):
        raise SpecError(f"{where}: max must be a positive whole number")
    when = raw.get("when")
    condition = None
    if when is not None:
        condition = _condition(when, where)
    max_length = raw.get("max_length")
    if max_length is not None and (not isinstance(max_length, int) or max_length < 1):
        raise SpecError(f"{where}: max_length must be a positive whole number")
    columns = _strings(raw.get("columns"), f"{where}.columns")
    parts = _strings(raw.get("parts"), f"{where}.parts")
    if kind is Kind.GROUP and (len(columns) < 2 or len(parts) != len(columns) - 1):
        raise SpecError(f"{where}: a group names its columns and one question per later column")
    return Field(
        key=key,
        kind=kind,
        text=str(_require(raw, "text", str, where)).strip(),
        help=_strings(raw.get("help"), f"{where}.help"),
        required=bool(raw.get("required", False)),
        choices=choices,
        max=maximum,
        columns=columns,
        parts=parts,
        when=condition,
        label=str(raw.get("label", "")).strip(),
        min_value=None if raw.get("min") is None else str(raw["min"]),
        max_value=None if raw.get("max_value") is None else str(raw["max_value"]),
        max_length=max_length,
        scenario=_scenario(raw, kind, where),
        synonyms=_synonyms(raw.get("synoniemen"), choices, where),
        unit=str(raw.get("unit", "")),
        future=bool(raw.get("future", False)),
        earlier=str(raw.get("earlier", "")),
        summary=str(raw.get("summary", "")),
        provisions=_strings(raw.get("provisions"), f"{where}.provisions"),
        provisions_as=_provisions_as(raw.get("provisions_as", "ruimte"), where),
        choices_from=choices_from,
    )


def _provisions_as(value: Any, where: str) -> str:
    if value not in ("ruimte", "beslist"):
        raise SpecError(f"{where}.provisions_as: ruimte or beslist, not {value!r}")
    return str(value)


def _condition(when: Any, where: str) -> Condition:
    if isinstance(when, Mapping) and when.get("empty") is not None:
        empty = _strings(when["empty"], f"{where}.when.empty")
        if not empty:
            raise SpecError(f"{where}: 'when: empty' needs at least one field")
        return Condition(field=empty[-1], empty=empty)
    if not isinstance(when, Mapping) or "field" not in when:
        raise SpecError(f"{where}: 'when' needs a 'field' or 'empty'")
    return Condition(
        field=str(when["field"]),
        equals=None if when.get("equals") is None else str(when["equals"]),
        includes=None if when.get("includes") is None else str(when["includes"]),
    )


def _synonyms(raw: Any, choices: tuple[str, ...], where: str) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        raise SpecError(f"{where}.synoniemen: a mapping of word to choice")
    for word, label in raw.items():
        if label not in choices:
            raise SpecError(f"{where}.synoniemen: '{word}' points to '{label}', not a choice")
    return tuple((" ".join(str(w).split()).lower(), str(label)) for w, label in raw.items())


SCENARIOS = ("huidig", "dreigend", "doorbraak")


def _scenario(raw: Mapping[str, Any], kind: Kind, where: str) -> str:
    scenario = str(raw.get("scenario", ""))
    if kind is Kind.COSTS and scenario not in SCENARIOS:
        raise SpecError(f"{where}: a costs field needs scenario: {' | '.join(SCENARIOS)}")
    return scenario


def _check_references(spec: Interview) -> None:
    seen: set[str] = set(spec.given)
    for f in spec.fields:
        if f.key in seen:
            raise SpecError(f"field '{f.key}' appears twice")
        for earlier in _earlier_refs(f):
            if earlier not in seen:
                raise SpecError(
                    f"field '{f.key}': '{earlier}' must be an earlier field of the interview"
                )
        if f.earlier and spec.has_field(f.earlier) and spec.field(f.earlier).kind is not f.kind:
            raise SpecError(f"field '{f.key}': 'earlier' must be a field of the same type")
        for laws_field in f.provisions:
            if spec.field(laws_field).kind is not Kind.MULTICHOICE:
                raise SpecError(f"field '{f.key}': provisions come from a multichoice field")
        if f.when is not None and spec.has_field(f.when.field):
            source = spec.field(f.when.field)
            for value in (f.when.equals, f.when.includes):
                if value is not None and source.choices and value not in source.choices:
                    raise SpecError(
                        f"field '{f.key}': '{value}' is not a choice of '{source.key}'"
                    )
        seen.add(f.key)
    laws = {c for f in spec.fields for source in f.provisions for c in spec.field(source).choices}
    for law in spec.wetten:
        if law not in laws:
            raise SpecError(
                f"wetten '{law}': not a choice of a laws question that offers provisions"
            )
    if any(f.kind is Kind.COSTS for f in spec.fields) and not spec.costs.frequencies:
        raise SpecError("costs fields need the units and frequencies of kosten.yaml")


def _earlier_refs(f: Field) -> tuple[str, ...]:
    """The fields this one refers to, each of which must come before it."""
    when = () if f.when is None else (f.when.empty or (f.when.field,))
    given = (f.choices_from,) if f.choices_from else ()
    return (*when, *((f.earlier,) if f.earlier else ()), *f.provisions, *given)


def _fraction(value: Any, where: str) -> Fraction | None:
    if value is None:
        return None
    try:
        result = Fraction(str(value))
    except (ValueError, ZeroDivisionError) as exc:
        raise SpecError(f"{where}: '{value}' is not a number or fraction like 365/12") from exc
    if result <= 0:
        raise SpecError(f"{where}: must be positive")
    return result


def _cost_model(data: Mapping[str, Any]) -> CostModel:
    units = tuple(
        Unit(
            name=str(_require(u, "naam", str, "kosten.eenheden")),
            plural=str(u.get("meervoud") or u["naam"]),
            per_month=_fraction(u.get("per_maand"), f"kosten.eenheden.{u['naam']}"),
            words=tuple(
                str(word).lower()
                for word in _as_list(u.get("woorden"), f"kosten.eenheden.{u['naam']}.woorden")
            ),
        )
        for u in _as_list(data.get("eenheden"), "kosten.eenheden")
    )
    frequencies = tuple(
        Frequency(
            key=str(_require(f, "key", str, "kosten.frequenties")),
            label=str(_require(f, "label", str, "kosten.frequenties")),
            per=str(f.get("per", "")),
            per_month=_fraction(f.get("per_maand"), f"kosten.frequenties.{f['key']}"),
            words=tuple(
                str(word).lower()
                for word in _as_list(f.get("woorden"), f"kosten.frequenties.{f['key']}.woorden")
            ),
        )
        for f in _as_list(data.get("frequenties"), "kosten.frequenties")
    )
    keys = {f.key for f in frequencies}
    if frequencies and not {ONCE, WHOLE_PERIOD} <= keys:
        raise SpecError(f"kosten.frequenties: '{ONCE}' and '{WHOLE_PERIOD}' are required")
    return CostModel(units, frequencies)


def _price_list(data: Mapping[str, Any]) -> tuple[PriceEntry, ...]:
    entries = []
    for raw in _as_list(data.get("prijzen"), "prijslijst.prijzen"):
        where = f"prijslijst '{raw.get('omschrijving', '?')}'"
        try:
            price = Decimal(str(_require(raw, "prijs", (int, str), where)))
        except InvalidOperation as exc:
            raise SpecError(f"{where}: prijs must be a number such as 65 or '12.50'") from exc
        year = raw.get("jaar")
        entries.append(
            PriceEntry(
                omschrijving=str(_require(raw, "omschrijving", str, where)),
                prijs=price,
                eenheid=str(_require(raw, "eenheid", str, where)),
                bron=str(_require(raw, "bron", str, where)),
                jaar=None if year is None else int(year),
                trefwoorden=_strings(raw.get("trefwoorden"), f"{where}.trefwoorden"),
            )
        )
    return tuple(entries)


_PROVISION_KEYS = ("artikel", "ruimte", "beslist", "bron")


def _wetten(data: Mapping[str, Any]) -> dict[str, tuple[Provision, ...]]:
    raw_laws = data.get("wetten") or {}
    if not isinstance(raw_laws, Mapping):
        raise SpecError("wetten.wetten: expected a mapping from a law to its provisions")
    laws: dict[str, tuple[Provision, ...]] = {}
    for law, raw in raw_laws.items():
        where = f"wetten '{law}'"
        provisions = []
        for i, entry in enumerate(_as_list(raw, where)):
            here = f"{where}[{i}]"
            if not isinstance(entry, Mapping):
                raise SpecError(f"{here}: expected a mapping")
            unknown = set(entry) - set(_PROVISION_KEYS)
            if unknown:
                raise SpecError(f"{here}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
            values = {k: str(_require(entry, k, str, here)).strip() for k in _PROVISION_KEYS}
            if not all(values.values()):
                raise SpecError(f"{here}: {', '.join(_PROVISION_KEYS)} may not be empty")
            provisions.append(Provision(**values))
        laws[str(law)] = tuple(provisions)
    return laws
