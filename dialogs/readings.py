"""Forgiving readings of Dutch input: choices with typos or synonyms, quantities, dates."""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from rapidfuzz import fuzz

from dialogs.money import AmountError, parse_decimal
from dialogs.spec import Field

# A typo is forgiven when the closest label scores at least this (rapidfuzz ratio, 0-100)...
TYPO_SCORE = 80.0
# ...and leads every other label by this much; closer than that is real ambiguity: ask back.
TYPO_LEAD = 8.0


def normal(text: str) -> str:
    return " ".join(text.split()).lower()


@dataclass(frozen=True)
class ChoiceMatch:
    """The label a text means, or the labels it could equally mean (then `label` is None)."""

    label: str | None = None
    candidates: tuple[str, ...] = ()


def match_choice(spec_field: Field, text: str) -> ChoiceMatch:
    """By label (any case and spacing), number in the list, synonym, or a label with a typo."""
    wanted = normal(text)
    for label in spec_field.choices:
        # Labels may hold a no-break space (`€ 100,00` from the money format): compare both
        # sides with their white space folded, so a pressed button matches its own label.
        if normal(label) == wanted:
            return ChoiceMatch(label)
    if wanted.isdigit():
        # A number always means the numbered choice shown, never a fuzzy label.
        if 1 <= int(wanted) <= len(spec_field.choices):
            return ChoiceMatch(spec_field.choices[int(wanted) - 1])
        return ChoiceMatch()
    synonyms = dict(spec_field.synonyms)
    if wanted in synonyms:
        return ChoiceMatch(synonyms[wanted])
    scored = sorted(
        ((fuzz.ratio(wanted, normal(option)), label) for option, label in _options(spec_field)),
        reverse=True,
    )
    best = scored[0][0] if scored else 0.0
    if best < TYPO_SCORE:
        return _words_of(spec_field, wanted)
    near = {label for score, label in scored if score >= TYPO_SCORE and best - score < TYPO_LEAD}
    # In the order shown, so the question asked back reads like the list.
    rivals = tuple(label for label in spec_field.choices if label in near)
    if len(rivals) > 1:
        return ChoiceMatch(candidates=rivals)
    return ChoiceMatch(rivals[0])


# A part of a label names it only with a word of at least this length.
CHOICE_WORD = 4
# Little words that may be left out of a label's part ("bij vrienden"); every other word
# typed must be in the label, so `pw woningwet` is not read as Woningwet alone.
_LITTLE = frozenset(
    {"bij", "of", "de", "het", "een", "en", "van", "in", "op", "met", "voor", "te"}
)


def _words_of(spec_field: Field, wanted: str) -> ChoiceMatch:
    """The choice whose label holds every word typed (or the start of it), as a hurried
    professional types part of a long label: `bij vrienden` for "Inwonend bij familie of
    vrienden", `opvang` for "Maatschappelijke opvang". Several such labels: ask back."""
    words = [w for w in re.findall(r"\w+", wanted) if w not in _LITTLE]
    if not any(len(w) >= CHOICE_WORD for w in words):
        return ChoiceMatch()

    def holds(label: str) -> bool:
        own = re.findall(r"\w+", normal(label))
        return all(any(word.startswith(w) for word in own) for w in words)

    found = tuple(label for label in spec_field.choices if holds(label))
    if len(found) == 1:
        return ChoiceMatch(found[0])
    return ChoiceMatch(candidates=found)


def _options(spec_field: Field) -> list[tuple[str, str]]:
    """Every word that names a choice: its label and its synonyms."""
    return [(label, label) for label in spec_field.choices] + list(spec_field.synonyms)


# Words for numbers that are typed instead of digits.
_NUMBER_WORDS = {
    "een": 1, "één": 1, "eén": 1, "twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6,
    "zeven": 7, "acht": 8, "negen": 9, "tien": 10, "elf": 11, "twaalf": 12, "dertien": 13,
    "veertien": 14, "vijftien": 15, "zestien": 16, "zeventien": 17, "achttien": 18,
    "negentien": 19, "twintig": 20, "vierentwintig": 24, "dertig": 30, "zesendertig": 36,
    "achtenveertig": 48, "zestig": 60, "honderd": 100,
}  # fmt: skip
_FRACTIONS = {"half": Decimal("0.5"), "halve": Decimal("0.5"), "anderhalf": Decimal("1.5"),
              "anderhalve": Decimal("1.5"), "kwart": Decimal("0.25")}  # fmt: skip

# Per stored unit: each word a quantity may be typed in, and how many stored units it is.
_UNITS: dict[str, dict[str, Decimal]] = {
    "maanden": {
        "maand": Decimal(1), "maanden": Decimal(1), "mnd": Decimal(1), "kwartaal": Decimal(3),
        "kwartalen": Decimal(3), "jaar": Decimal(12), "jaren": Decimal(12), "jr": Decimal(12),
    },
    "uren": {
        "uur": Decimal(1), "uren": Decimal(1), "u": Decimal(1), "kwartier": Decimal("0.25"),
        "minuut": Decimal(1) / 60, "minuten": Decimal(1) / 60, "min": Decimal(1) / 60,
    },
    "dagen": {"dag": Decimal(1), "dagen": Decimal(1), "week": Decimal(7), "weken": Decimal(7)},
    "weken": {"week": Decimal(1), "weken": Decimal(1), "wk": Decimal(1)},
}  # fmt: skip


class UnitError(ValueError):
    """A unit that the field's quantity cannot be expressed in."""


def read_quantity(text: str, unit: str, *, max_places: int = 4) -> tuple[Decimal, bool]:
    """`6 maanden`, `een jaar`, `anderhalf jaar`, `2 uur`, `twaalf`: the value in `unit`.

    Returns the value and whether the reading is ambiguous (`1.500`). Raises AmountError
    when there is no number, UnitError for a unit the field is not counted in.
    """
    # `6maanden` is `6 maanden`.
    words = re.sub(r"(\d)([a-z])", r"\1 \2", normal(text)).split()
    factor = Decimal(1)
    units = _UNITS.get(unit, {})
    if words and words[-1].rstrip(".").isalpha() and not _is_number_word(words[-1]):
        word = words.pop().rstrip(".")
        if not units:
            raise AmountError("geen_getal")  # a field without a unit takes a bare number
        if word not in units:
            raise UnitError(word)
        factor = units[word]
    if not words:
        # `jaar` alone, or `half jaar` reduced to nothing: one of the unit.
        if factor != 1:
            return factor, False
        raise AmountError("geen_getal")
    value, ambiguous = _number(words, max_places)
    return value * factor, ambiguous


def _is_number_word(word: str) -> bool:
    return word in _NUMBER_WORDS or word in _FRACTIONS


def _number(words: list[str], max_places: int) -> tuple[Decimal, bool]:
    if len(words) == 1 and words[0] in _NUMBER_WORDS:
        return Decimal(_NUMBER_WORDS[words[0]]), False
    if len(words) == 1 and words[0] in _FRACTIONS:
        return _FRACTIONS[words[0]], False
    if len(words) == 2 and words[0] in ("een", "één") and words[1] in _FRACTIONS:
        return _FRACTIONS[words[1]], False  # `een half jaar`
    if len(words) == 3 and words[1] == "en" and words[2] == "half":
        whole, _ = _number(words[:1], max_places)  # `twee en half jaar`
        return whole + Decimal("0.5"), False
    reading = parse_decimal(" ".join(words), max_places=max_places)
    return reading.value, reading.ambiguous


_PART_OF_MONTH = re.compile(
    r"^(begin|eind|einde|half|halverwege|medio|midden)\s+([a-z]+)\.?(?:\s+(\d{4}))?$"
)
_FIRST_DAY = {"begin": 1, "half": 15, "halverwege": 15, "medio": 15, "midden": 15}
_MONTHS = {
    "januari": 1, "jan": 1, "februari": 2, "feb": 2, "maart": 3, "mrt": 3, "april": 4,
    "apr": 4, "mei": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7, "augustus": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9, "oktober": 10, "okt": 10, "november": 11,
    "nov": 11, "december": 12, "dec": 12,
}  # fmt: skip
# A date reading is only tried on text with a digit, a month or a word of relative time:
# dateparser reads almost anything as some date, and `nee` must not become one.
_DATE_HINT = re.compile(
    r"\d|" + "|".join(_MONTHS) + r"|morgen|overmorgen|vandaag|week|maand|jaar|over\s",
)


_TIME_WORDS = {
    "mnd": "maanden", "mnden": "maanden", "mndn": "maanden", "wk": "weken", "wkn": "weken",
    "jr": "jaar", "dg": "dagen", "dgn": "dagen",
}  # fmt: skip
_HALF_YEAR = re.compile(r"\b(?:een |1 )?half jaar\b")


def read_date(text: str, today: date) -> date | None:
    """`1 april`, `1-4-27`, `over 3 maanden`, `eind januari`, `15 maart 2027`, or None.

    A date without a year is the next one from `today` on: an appointment lies ahead.
    """
    lowered = normal(text)
    if m := _PART_OF_MONTH.match(lowered):
        return _part_of_month(m, today)
    if lowered.isdigit() or not _DATE_HINT.search(lowered):
        return None
    # Imported here, not at the top: it costs about 40 ms and its data, and the bot, the
    # document worker and the terminal start without it until someone types a date.
    import dateparser

    # `over een jaar`, `over drie weken`: dateparser counts in digits only, and knows no
    # `mnd` or `wk`; `een half jaar` is six months.
    lowered = _HALF_YEAR.sub("6 maanden", lowered)
    counted = " ".join(
        str(_NUMBER_WORDS.get(word, _TIME_WORDS.get(word, word))) for word in lowered.split()
    )
    parsed = dateparser.parse(
        counted,
        languages=["nl"],
        settings={
            "RELATIVE_BASE": datetime(today.year, today.month, today.day),
            "PREFER_DATES_FROM": "future",
            "DATE_ORDER": "DMY",
            "RETURN_AS_TIMEZONE_AWARE": False,
        },
    )
    return None if parsed is None else parsed.date()


def _part_of_month(m: re.Match[str], today: date) -> date | None:
    month = _MONTHS.get(m[2])
    if month is None:
        return None
    year = int(m[3]) if m[3] else today.year + (1 if month < today.month else 0)
    day = _FIRST_DAY.get(m[1]) or monthrange(year, month)[1]
    return date(year, month, day)


# `weet ik het nog niet?` is `weet ik nog niet`: the words count, not the punctuation.
_PUNCTUATION = re.compile(r"[.,!?…]+")
# Close variants of the words in `commands.weet_niet` (a typo, a word more) count as well.
_NOT_KNOWN_SCORE = 88.0


def not_known(text: str, words: tuple[str, ...]) -> bool:
    """Whether an answer says that it is not known yet (`weet ik nog niet`, `nog onbekend`)."""
    said = normal(_PUNCTUATION.sub(" ", text))
    return any(said == word or fuzz.ratio(said, word) >= _NOT_KNOWN_SCORE for word in words)
