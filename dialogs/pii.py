"""Finding personal data in an answer (BSN, IBAN, Dutch phone number, e-mail) and redacting it."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date

BSN = "bsn"
IBAN = "iban"
TELEFOON = "telefoon"
EMAIL = "email"
KINDS = (BSN, IBAN, TELEFOON, EMAIL)


@dataclass(frozen=True)
class Finding:
    """`text[start:end]` looks like personal data of this kind."""

    kind: str
    start: int
    end: int


def _position(finding: Finding) -> tuple[int, int]:
    return finding.start, finding.end


# Lengths from the SWIFT IBAN registry; a country code not listed here is no IBAN.
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip
_NL_BBAN = re.compile(r"[A-Z]{4}\d{10}")

# The start of anything IBAN-shaped: two letters and two check digits at the start of a word.
_IBAN_START = re.compile(r"(?<![^\W_])([A-Za-z]{2})(\d{2})")

# `@` and `.` of an address, also as written to get past filters: `jan[at]example(dot)nl`,
# `jan (at) example (punt) nl`; only in brackets, as `at` and `punt` are everyday words.
_AT = r"(?:@|\s*[\[({]\s*(?:at|apenstaartje)\s*[\])}]\s*)"
_DOT = r"(?:\.|\s*[\[({]\s*(?:dot|punt)\s*[\])}]\s*)"
_EMAIL = re.compile(
    r"(?<![\w.%+-])"
    r"[\w%+-]+(?:\.[\w%+-]+)*"
    rf"{_AT}(?:[^\W_](?:[\w-]*[^\W_])?{_DOT})+[^\W\d_]{{2,}}"
    r"(?![\w-])",
    re.IGNORECASE,
)
# A printed IBAN is 15 to 34 letters and digits (IBAN_LENGTHS).
_IBAN_MIN, _IBAN_MAX = 15, 34

# A national number starts with 0, an international one with +31 or 0031 (then no 0, though
# `+31 (0)6` and `+31 06` are common); `(020) 123 4567` puts the area code in brackets.
_PHONE_START = re.compile(
    r"(?<![\w+])(?<!\d[.,])"
    r"(?:(?P<intl>(?:\+|00)31(?:[ -]?\(0\)|[ -]?0(?=[1-9]))?[ -]?)"
    r"|(?P<area>\(0\d{1,3}\) ?)|(?P<zero>0))",
    re.ASCII,
)
_DATE_START = re.compile(r"\d{1,2}-\d{1,2}-\d{2,4}(?!\d)", re.ASCII)

_AMOUNT_BEFORE = re.compile(r"(?:€|\bEUR|\beuro)\s*$", re.IGNORECASE)
# 9 digits (8 when the leading zero is left out), plain or in the usual groups; a group
# separator is used the same way throughout one number.
_BSN = re.compile(
    r"(?<![\d+])(?<!\d[.,])(?P<plain>\d{8,9})(?!\d)(?![.,]\d)"
    r"|(?<![\d+])(?<!\d[ .,-])"
    r"(?P<grouped>\d{3,4}(?P<s1>[ .-])\d{2}(?P=s1)\d{3}|\d{3}(?P<s2>[ .-])\d{3}(?P=s2)\d{3})"
    r"(?![ .,-]?\d)",
    re.ASCII,
)

DIGITS = frozenset("0123456789")
_MASK = "\x00"  # stands in for found parts while looking again; like a placeholder, no digit


def passes_11_proef(digits: str) -> bool:
    """The BSN check: 9×d1 + 8×d2 + … + 2×d8 − d9 is a multiple of 11 (and not all zeros)."""
    if len(digits) != 9 or not digits.isdigit() or digits == "0" * 9:
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True))
    return (total - int(digits[8])) % 11 == 0


def valid_iban(candidate: str) -> bool:
    """Country length from the registry (and the Dutch BBAN shape) and the mod-97 check."""
    iban = candidate.replace(" ", "").upper()
    if IBAN_LENGTHS.get(iban[:2]) != len(iban) or not iban[2:4].isdigit():
        return False
    if not iban.isascii() or not iban.isalnum():
        return False
    if iban[:2] == "NL" and not _NL_BBAN.fullmatch(iban[4:]):
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def find_pii(text: str) -> list[Finding]:
    """Parts of `text` that look like personal data, in order, not overlapping.

    Matched in the NFKC form without format characters, so full-width digits (`１２３`) and
    invisible characters inside a number (a zero-width space) hide nothing; the positions are
    those in `text` itself.
    """
    normal, origin = _normalise(text)
    found: list[Finding] = []
    masked = normal
    while True:
        # Looking again with the found parts masked out: a part is then judged with the
        # same neighbours as after `redact`, so redacting leaves nothing to find.
        new = _scan(masked)
        if not new:
            return _in_original(sorted(found, key=_position), origin)
        found.extend(new)
        masked = _mask(masked, new)


def _normalise(text: str) -> tuple[str, list[int]]:
    """`text` in NFKC without format (Cf) characters, and for each of its characters the
    position in `text` it comes from.

    Character by character, so every position is known; NFKC's composing of a letter with a
    following accent is lost, which matters nothing to digits, `@` and ASCII letters.
    """
    chars: list[str] = []
    origin: list[int] = []
    for at, char in enumerate(text):
        if char.isascii():
            chars.append(char)
            origin.append(at)
        elif unicodedata.category(char) != "Cf":
            for normal in unicodedata.normalize("NFKC", char):
                chars.append(normal)
                origin.append(at)
    return "".join(chars), origin


def _in_original(findings: list[Finding], origin: list[int]) -> list[Finding]:
    """Findings in the normalised text as positions in the original, still not overlapping."""
    result: list[Finding] = []
    for finding in findings:
        start, end = origin[finding.start], origin[finding.end - 1] + 1
        if result and start < result[-1].end:
            # Both ends inside one character that NFKC made into several (`⑫` is `12`).
            result[-1] = Finding(result[-1].kind, result[-1].start, max(end, result[-1].end))
        else:
            result.append(Finding(finding.kind, start, end))
    return result


def redact(
    text: str, findings: Iterable[Finding], placeholders: Mapping[str, str] | None = None
) -> str:
    """`text` with every finding replaced by the placeholder for its kind."""
    placeholders = placeholders or {}
    parts: list[str] = []
    at = 0
    for finding in sorted(findings, key=_position):
        if finding.start < at:
            continue  # overlaps a part already replaced
        parts.append(text[at : finding.start])
        parts.append(placeholders.get(finding.kind, f"[{finding.kind}]"))
        at = finding.end
    parts.append(text[at:])
    return "".join(parts)


def _mask(text: str, findings: Iterable[Finding]) -> str:
    chars = list(text)
    for finding in findings:
        chars[finding.start : finding.end] = _MASK * (finding.end - finding.start)
    return "".join(chars)


def _scan(text: str) -> list[Finding]:
    found: list[Finding] = []
    covered = bytearray(len(text))

    def take(kind: str, start: int, end: int) -> None:
        if not any(covered[start:end]):
            covered[start:end] = b"\x01" * (end - start)
            if kind:
                found.append(Finding(kind, start, end))

    # Most specific first: an e-mail address or an IBAN may hold digits that look like more.
    for m in _EMAIL.finditer(text):
        take(EMAIL, m.start(), m.end())
    for start, end, valid in _ibans(text):
        # An IBAN with a wrong check digit still hides its digits from the other kinds.
        take(IBAN if valid else "", start, end)
    for start, end in _phones(text):
        take(TELEFOON, start, end)
    for start, end in _bsns(text):
        take(BSN, start, end)
    return found


def _ibans(text: str) -> Iterator[tuple[int, int, bool]]:
    """IBAN-shaped parts (a known country, its length in letters and digits, maybe grouped)."""
    for m in _IBAN_START.finditer(text):
        length = IBAN_LENGTHS.get(m[1].upper())
        if length is None:
            # No IBAN, but its digits are no phone number or BSN either.
            end = _iban_shaped(text, m.end())
            if end is not None:
                yield m.start(), end, False
            continue
        end = _take_alnum(text, m.end(), length - 4)
        if end is None:
            continue
        yield m.start(), end, valid_iban(text[m.start() : end])


def _take_alnum(text: str, at: int, count: int) -> int | None:
    """The end of `count` more letters and digits from `at`, single spaces allowed between."""
    taken = 0
    while taken < count:
        if at < len(text) and text[at] == " " and taken % 4 == 0:
            at += 1  # printed IBANs are grouped by four
        if at >= len(text) or not (text[at].isascii() and text[at].isalnum()):
            return None
        taken += 1
        at += 1
    if at < len(text) and text[at].isalnum():
        return None
    return at


def _iban_shaped(text: str, at: int) -> int | None:
    """The end of an IBAN's length in digits and capitals from `at` (grouped by four or not),
    for a country code not in the registry; None if there is no such run."""
    taken = 0
    while taken < _IBAN_MAX - 4:
        ahead = at + 1 if text[at : at + 1] == " " and taken % 4 == 0 else at
        char = text[ahead : ahead + 1]
        if not (char.isascii() and (char.isdigit() or char.isupper())):
            break
        at, taken = ahead + 1, taken + 1
    if taken < _IBAN_MIN - 4 or text[at : at + 1].isalnum():
        return None
    return at


def _phones(text: str) -> Iterator[tuple[int, int]]:
    for m in _PHONE_START.finditer(text):
        if m["zero"] is not None:
            if _DATE_START.match(text, m.start()):
                continue
            wanted, first = 9, m.end()
        elif m["area"] is not None:
            wanted, first = 10 - (len(m["area"].strip()) - 2), m.end()
        else:
            wanted, first = 9, m.end()
        end = _take_digits(text, first, wanted)
        if end is not None:
            yield m.start(), end


def _take_digits(text: str, at: int, count: int) -> int | None:
    """The end of `count` more digits from `at` (the first not 0), single ` `/`-` between."""
    if text[at : at + 1] in ("", "0"):
        return None
    taken = 0
    while True:
        if text[at : at + 1] not in DIGITS:
            return None
        taken += 1
        at += 1
        if taken == count:
            return None if text[at : at + 1] in DIGITS else at
        if text[at : at + 1] in (" ", "-") and text[at + 1 : at + 2] in DIGITS:
            at += 1
        elif text[at : at + 3] == " - " and text[at + 3 : at + 4] in DIGITS:
            at += 3


def _bsns(text: str) -> Iterator[tuple[int, int]]:
    for m in _BSN.finditer(text):
        if _AMOUNT_BEFORE.search(text[max(0, m.start() - 8) : m.start()]):
            continue
        digits = re.sub(r"\D", "", m[0])
        if len(digits) == 8:
            if m["plain"] is not None and _is_date(digits):
                continue
            digits = "0" + digits
        if passes_11_proef(digits):
            yield m.start(), m.end()


def _is_date(digits: str) -> bool:
    """`15032027` or `20270315`: eight digits that read as a date are no BSN."""
    readings = ((digits[:2], digits[2:4], digits[4:]), (digits[6:], digits[4:6], digits[:4]))
    for day, month, year in readings:
        if 1900 <= int(year) <= 2099:
            try:
                date(int(year), int(month), int(day))
            except ValueError:
                continue
            return True
    return False
