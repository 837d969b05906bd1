"""The rules named in legitimiteit, and the law each belongs to as far as the plan's
structure tells it: the report counts rules per law, the appendix shows their texts."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from typing import Any, Final

from dialogs.spec import Interview

# The first rule (free text) and the other rules (a group whose first part is the rule).
RULE_FIELD: Final = "legitimiteit.regel"
MORE_RULES: Final = "legitimiteit.andere_regels"
# The laws the doorbraak falls under: the laws the rules belong to.
RULE_LAWS: Final = "legitimiteit.wetten"
RULE_FIELDS: Final = (RULE_FIELD, MORE_RULES, RULE_LAWS)
# The law of a rule that the plan does not tell (several laws, the rule names none or more).
UNKNOWN: Final = None


def rule_texts(answers: Mapping[str, Any]) -> list[str]:
    """Every rule named, in the order given: the first one, then the group's rules (a plan
    from before the group kept the others as one text)."""
    found: list[str] = []
    first = answers.get(RULE_FIELD)
    if isinstance(first, str) and first.strip():
        found.append(first.strip())
    more = answers.get(MORE_RULES)
    if isinstance(more, str) and more.strip():
        found.append(more.strip())
    elif isinstance(more, list):
        for row in more:
            if isinstance(row, dict) and row:
                text = next(iter(row.values()))
                if isinstance(text, str) and text.strip():
                    found.append(text.strip())
    return found


def rules_by_law(spec: Interview, answers: Mapping[str, Any]) -> dict[str | None, int]:
    """How many rules belong to each law picked in legitimiteit (a name of the interview's
    list, never free text). One law picked: every rule is under it. Several: a rule is under
    the one law whose name or short name (`synoniemen`) it mentions, else under UNKNOWN."""
    rules = rule_texts(answers)
    if not rules:
        return {}
    laws = _picked(spec, answers.get(RULE_LAWS))
    # "Anders, namelijk" (the choice that opens a question of its own) names no law to look for.
    other = {f.when.includes for f in spec.fields if f.when and f.when.field == RULE_LAWS}
    counts: Counter[str | None] = Counter()
    for rule in rules:
        if len(laws) == 1:
            counts[laws[0]] += 1
            continue
        named = {law for law in laws if law not in other and _mentions(spec, rule, law)}
        counts[named.pop() if len(named) == 1 else UNKNOWN] += 1
    return dict(counts)


def _picked(spec: Interview, value: Any) -> list[str]:
    if not spec.has_field(RULE_LAWS) or not isinstance(value, list):
        return []
    return [choice for choice in spec.field(RULE_LAWS).choices if choice in value]


def _mentions(spec: Interview, text: str, law: str) -> bool:
    words = [law.lower()]
    words += [word for word, label in spec.field(RULE_LAWS).synonyms if label == law]
    lowered = text.lower()
    return any(re.search(rf"(?<!\w){re.escape(word)}(?!\w)", lowered) for word in words)
