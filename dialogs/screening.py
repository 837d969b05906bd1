"""Screening answers for personal data: what was found, the answer without it, and the offer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dialogs.answers import Accepted, Refusal, match_choice
from dialogs.kinds import parse_answer
from dialogs.pii import KINDS, find_pii, redact
from dialogs.spec import Field, Interview, Kind

# The two answers to the offer; also the message keys of their labels.
STORE_REDACTED, RETYPE = "pii_opslaan", "pii_opnieuw"


@dataclass(frozen=True)
class Redacted:
    """Personal data found in an answer: its kinds, and the answer read with it left out."""

    kinds: tuple[str, ...]
    reading: Accepted | Refusal


class Screener:
    """Built once per dialog; shared by every flow that takes free text."""

    def __init__(self, spec: Interview) -> None:
        self.spec = spec

    def redacted(self, spec_field: Field, value: Any) -> Redacted | None:
        """The answer (text or list items) with personal data left out; None if there is none."""
        items = value if isinstance(value, list) else [value]
        cleaned = [self.redact_text(item) for item in items]
        found = {kind for kinds, _ in cleaned for kind in kinds}
        if not found:
            return None
        kinds = tuple(k for k in KINDS if k in found)
        # Read again: the placeholders may make an answer longer than the field allows.
        reading = parse_answer(spec_field, "\n".join(text for _, text in cleaned))
        return Redacted(kinds, reading)

    def redact_text(self, text: str) -> tuple[tuple[str, ...], str]:
        """The kinds of personal data found in one text, and the text with them left out."""
        findings = find_pii(text)
        kinds = tuple(k for k in KINDS if any(f.kind == k for f in findings))
        placeholders = {k: self.spec.message(f"pii_weggelaten_{k}") for k in kinds}
        return kinds, redact(text, findings, placeholders)

    def warning(self, kinds: Iterable[str]) -> str:
        """`Je antwoord lijkt een BSN en een e-mailadres te bevatten. Een plan blijft anoniem.`"""
        names = [self.spec.message(f"pii_{kind}") for kind in kinds]
        listed = names[-1]
        if len(names) > 1:
            listed = f"{', '.join(names[:-1])} {self.spec.message('pii_en')} {listed}"
        return self.spec.message("pii_gevonden", gegevens=listed)

    def choices(self) -> tuple[str, str]:
        """`Opslaan zonder die gegevens` / `Opnieuw typen`."""
        return self.spec.message(STORE_REDACTED), self.spec.message(RETYPE)

    def choice(self, text: str) -> str | None:
        """STORE_REDACTED or RETYPE when the text picks one (label or number), else None."""
        choices = self.choices()
        options = Field(key="_", kind=Kind.CHOICE, text="", choices=choices)
        label = match_choice(options, text)
        if label is None:
            return None
        return STORE_REDACTED if label == choices[0] else RETYPE
