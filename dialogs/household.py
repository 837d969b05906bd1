"""Household numbers: short pseudonymous ids, never names."""

from __future__ import annotations

import re

MAX_LENGTH = 32
_PATTERN = re.compile(r"^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$")


def normalise_household(text: str) -> str | None:
    """The household number in canonical form (upper case), or None if it is not one.

    At least one digit is required: a plain word such as a surname is refused, because a
    plan must stay anonymous.
    """
    candidate = text.strip()
    if not candidate or len(candidate) > MAX_LENGTH or not _PATTERN.match(candidate):
        return None
    if not any(ch.isdigit() for ch in candidate):
        return None
    return candidate.upper()
