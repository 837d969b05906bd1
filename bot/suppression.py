"""How the report shows a count of plans so that no household can be singled out: every
count from 1 below MIN_COUNT as SMALL; a figure that would let one work such a count out
(another cell of the same row or column, beside the total) as HIDDEN, as CBS does."""

from __future__ import annotations

from typing import Final

MIN_COUNT: Final = 5
SMALL: Final = "< 5"
HIDDEN: Final = "x"

Shown = int | str


def shown_count(plans: int) -> Shown:
    """A count as the report may show it: 0 (no plan: nothing to protect), 5 or more, or
    SMALL."""
    return plans if plans == 0 or plans >= MIN_COUNT else SMALL
