"""A whole cost line typed in one message: `Inzet wijkteam: 2 uur per week à € 65`.

Pure: text and the cost model in, the parts found out. A part that is missing or unreadable
is left None (with the reason, when it was there but unreadable), so the costs flow asks
for exactly that part and no other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from dialogs.money import AmountError, Reading, parse_decimal, parse_money
from dialogs.rendement import ONCE, WHOLE_PERIOD, CostModel

MAX_QUANTITY = Decimal(1_000_000)
MAX_UNIT = 40

# `:` (not the one in `9:30`) before a quantity, an amount or a separator.
_SPLIT = re.compile(
    r"(?:(?<=\S)\s*:\s+|(?<=[^\d\s]):)(?=[-−]?\d|€|[×@à]|(?:x|tegen|a)\s)", re.IGNORECASE
)
# What stands between the quantity and the price: à, a, x, ×, @ or tegen.
_AT = re.compile(r"\s*(?:[×@à]|(?<!\S)(?:x|a|tegen)(?=\s|€|\d))\s*", re.IGNORECASE)
_QUANTITY = re.compile(r"^(\d[\d.,]*)\s*")
# Without a `:`, the last number standing alone before the separator starts the line's
# quantity (`Inzet wijkteam 3 uur p/w a 70`), if an amount follows the separator.
_LAST_NUMBER = re.compile(r"(?<!\S)\d[\d.,]*(?=\D*$)")
_AMOUNT_AFTER = re.compile(r"^(?:€|eur\b|[-−]?\d)", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]")
_PER_UNIT = re.compile(r"\s*(?:per|/)\s*([^\W\d_][\w\s-]*)$", re.IGNORECASE)
_WORDS = re.compile(r"^[^\W\d_][\w\s-]*$")
_EXTRA_FREQUENCIES = {
    "eenmalig": ONCE,
    "hele periode": WHOLE_PERIOD,
    "de hele periode": WHOLE_PERIOD,
    "in de periode": ONCE,
}


@dataclass(frozen=True)
class OneLine:
    """The parts of a line typed in one message; None where a part must still be asked."""

    omschrijving: str
    aantal: Reading | None = None
    eenheid: str | None = None
    frequentie: str | None = None
    prijs: Reading | None = None
    # Message keys of parts that were typed but could not be read (e.g. `bedrag_onleesbaar`).
    problems: tuple[str, ...] = ()


def split_line(text: str, model: CostModel | None = None) -> tuple[str, str] | None:
    """(description, rest) when the text is a line in one message, else None: split at a
    `:`, or else before the quantity of `quantity ... à amount` (with `model`, also before
    a frequency with no quantity: `Saneringskrediet eenmalig à 6000`)."""
    found = _SPLIT.search(text)
    if found is not None:
        description, rest = text[: found.start()], text[found.end() :]
    else:
        split = _split_at_quantity(text, model)
        if split is None:
            return None
        description, rest = split
    description = " ".join(description.split())
    rest = " ".join(rest.split())
    if not description or not rest:
        return None
    return description, rest


def _split_at_quantity(text: str, model: CostModel | None) -> tuple[str, str] | None:
    at = next((m for m in _AT.finditer(text) if _AMOUNT_AFTER.match(text[m.end() :])), None)
    if at is None:
        return None
    before = text[: at.start()].rstrip()
    start = None
    number = _LAST_NUMBER.search(before)
    if number is not None:
        start = number.start()
    elif model is not None:
        lowered = before.lower()
        start = next(
            (len(before) - len(p) for p, _ in _frequencies(model) if _ends_with(lowered, p)), None
        )
    if start is None or not _LETTER.search(text[:start]):
        return None
    return text[:start].rstrip().rstrip(":"), text[start:]


def _price_per(model: CostModel, amount_text: str) -> tuple[str, str | None]:
    """`3000 p/m` as (`3000`, `maand`): a frequency's word after the price names its unit."""
    lowered = amount_text.lower()
    for phrase, key in _frequencies(model):
        if model.unit(key) is None:
            continue
        if _ends_with(lowered, phrase):
            return amount_text[: len(amount_text) - len(phrase)].strip(), key
    return amount_text, None


def _ends_with(text: str, phrase: str) -> bool:
    """`text` ends with the words `phrase`; one starting with `/` may be glued on (`uur/week`)."""
    return text.endswith(" " + phrase) or (phrase.startswith("/") and text.endswith(phrase))


def _frequencies(model: CostModel) -> list[tuple[str, str]]:
    """(phrase, key), longest phrase first, so `eenmalig in de periode` beats `eenmalig`."""
    phrases = dict(_EXTRA_FREQUENCIES)
    for frequency in model.frequencies:
        phrases[frequency.label.lower()] = frequency.key
        if frequency.per:
            phrases[frequency.per.lower()] = frequency.key
        for word in frequency.words:
            phrases[word] = frequency.key
    return sorted(phrases.items(), key=lambda item: -len(item[0]))


def _singulars(word: str) -> list[str]:
    """Guesses at the singular of a Dutch plural: `uren` -> uur, `weken` -> week, `stuks`."""
    found = [word]
    if word.endswith("s"):
        found.append(word[:-1])
    if word.endswith("en") and len(word) > 3:
        stem = word[:-2]
        found.append(stem)
        if stem[-2] in "aeou" and stem[-1] not in "aeiou":
            found.append(stem[:-1] + stem[-2] + stem[-1])  # a long vowel written once: ur -> uur
    return found


# `2x à 100`, `2 keer à 100`: the quantity counts times.
_TIMES = frozenset({"x", "×", "keer", "maal"})
TIMES_UNIT = "keer"


def _unit(model: CostModel, text: str) -> str | None:
    if text.lower() in _TIMES:
        return TIMES_UNIT
    for guess in _singulars(text.lower()):
        unit = model.unit(guess)
        if unit is not None:
            return unit.name
    if len(text) > MAX_UNIT or not _WORDS.match(text):
        return None
    return text.lower()


def _quantity(text: str) -> Reading:
    try:
        reading = parse_decimal(text, max_places=4)
    except AmountError as exc:
        reason = "getal_negatief" if exc.reason == "bedrag_negatief" else "geen_getal"
        raise AmountError(reason) from None
    if reading.value > MAX_QUANTITY:
        raise AmountError("getal_te_groot")
    return reading


def parse_line(text: str, model: CostModel) -> OneLine | None:
    """The parts of `text` read as one cost line, or None when it is a plain description."""
    split = split_line(text, model)
    if split is None:
        return None
    description, rest = split
    problems: list[str] = []
    amount_text = None
    pieces = _AT.split(rest, maxsplit=1)
    if len(pieces) == 2:
        rest, amount_text = pieces[0].strip(), pieces[1].strip()
    aantal = eenheid = frequentie = None
    prijs = None
    price_unit = None
    if amount_text:
        amount_text, price_unit = _price_per(model, amount_text)
        per = None if price_unit else _PER_UNIT.search(amount_text)
        if per is not None:
            price_unit, amount_text = per.group(1).strip(), amount_text[: per.start()]
        try:
            prijs = parse_money(amount_text)
        except AmountError as exc:
            problems.append(exc.reason)
    negative = rest.startswith(("-", "−"))
    quantity = _QUANTITY.match(rest.lstrip("-− "))
    if quantity is not None:
        rest = rest.lstrip("-− ")[quantity.end() :]
    if negative:
        problems.append("getal_negatief")  # the quantity is asked again
    elif quantity is not None:
        try:
            aantal = _quantity(quantity.group(1).rstrip(".,"))
        except AmountError as exc:
            problems.append(exc.reason)
    lowered = rest.lower()
    for phrase, key in _frequencies(model):
        if lowered == phrase or _ends_with(lowered, phrase):
            frequentie, rest = key, rest[: len(rest) - len(phrase)].strip()
            break
    unit_text = rest.strip() or price_unit
    if unit_text:
        eenheid = _unit(model, unit_text)
        if eenheid is None:
            problems.append("kosten_eenheid_onleesbaar")
    if frequentie == ONCE and quantity is None and not unit_text and not problems:
        aantal, eenheid = Reading(Decimal(1), False), TIMES_UNIT  # `eenmalig à 6000`
    if frequentie is None and aantal is not None and eenheid is not None:
        frequentie = ONCE  # no frequency: the quantity is the total in the analysis period
    return OneLine(description, aantal, eenheid, frequentie, prijs, tuple(problems))
