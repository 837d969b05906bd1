"""The one table of Telegram commands: where each works, who handles it, its menu text.

Adding a command is one row here plus its wording in prompts/messages.yaml
(`opdracht_<name>` for the menu, and the row's `usage` and `elsewhere` keys if it has them);
tests/unit/test_telegram_commands.py fails when one of those is missing. A row with
`dialog=True` goes to the plan's dialog as a `dialogs.Command` (the dialog must know it).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.telegram import (
    acties,
    delen,
    ladder,
    lessen,
    plans,
    rapport,
    sessions,
    sharing,
    verloop,
)
from bot.telegram.bindings import GROUP, PRIVATE
from bot.telegram.kit import CommandFn

BOTH = (PRIVATE, GROUP)


@dataclass(frozen=True)
class CommandRow:
    """One command. `scope`: the chats whose menu lists it and where it works.

    Outside its scope a command is unknown to the bot, unless `elsewhere` names the message
    that says where it works instead (said to registered professionals only). A row has
    exactly one of: `handler` (called with the professional identified and the chat
    locked), `dialog` (the event goes to the chat's plan), or `says` (a fixed message,
    for anyone).
    """

    name: str
    scope: tuple[str, ...]
    handler: CommandFn | None = None
    dialog: bool = False
    says: str | None = None
    usage: str | None = None
    elsewhere: str | None = None

    @property
    def menu(self) -> str:
        """The message key of its line in Telegram's command menu."""
        return f"opdracht_{self.name}"

    def message_keys(self) -> list[str]:
        """Every message of prompts/messages.yaml this row needs."""
        keys = [self.menu, self.says, self.usage, self.elsewhere]
        return [key for key in keys if key is not None]


def _dialog(name: str) -> CommandRow:
    return CommandRow(name, BOTH, dialog=True)


# In menu order.
COMMANDS: tuple[CommandRow, ...] = (
    CommandRow("start", (PRIVATE,), plans.start),
    CommandRow("nieuw", (PRIVATE,), plans.new, usage="telegram_nieuw_gebruik"),
    CommandRow("hervat", (PRIVATE,), plans.resume),
    CommandRow(
        "sessie",
        (GROUP,),
        sessions.session,
        usage="telegram_sessie_gebruik",
        elsewhere="telegram_alleen_groep",
    ),
    CommandRow("idee", (GROUP,), sessions.idea, usage="telegram_idee_gebruik"),
    _dialog("overzicht"),
    _dialog("terug"),
    _dialog("overslaan"),
    _dialog("verder"),
    _dialog("wijzig"),
    _dialog("plan"),
    _dialog("stop"),
    CommandRow("archief", (PRIVATE,), plans.archive, usage="telegram_archief_gebruik"),
    CommandRow("acties", (PRIVATE,), acties.list_actions, elsewhere="telegram_acties_prive"),
    CommandRow(
        "herinneringen",
        (PRIVATE,),
        acties.reminders,
        elsewhere="telegram_herinneringen_prive",
    ),
    # after the plan: its course, the escalatieladder, the evaluation (bot.evaluations,
    # through the dialog's turn), the contacts and the doorbraakbudget
    CommandRow("indienen", (PRIVATE,), verloop.submit),
    CommandRow("besluit", (PRIVATE,), verloop.decide, usage="besluit_gebruik"),
    CommandRow("uitgevoerd", (PRIVATE,), verloop.executed),
    CommandRow(
        "opschalen",
        (PRIVATE,),
        ladder.escalate,
        usage="telegram_opschalen_gebruik",
        elsewhere="telegram_opschalen_prive",
    ),
    CommandRow("evaluatie", (PRIVATE,), dialog=True),
    CommandRow("contacten", BOTH, verloop.contacts),
    CommandRow("budget", (PRIVATE,), verloop.budget),
    CommandRow("deel", (PRIVATE,), sharing.share, elsewhere="telegram_deel_prive"),
    CommandRow("verwijder", (PRIVATE,), plans.delete),
    # Whether the plan's texts go into the team's reflectiesessie material (issue 16).
    CommandRow("delen", (PRIVATE,), delen.command, elsewhere="telegram_delen_prive"),
    # The report over all plans (issue 16): teamleiders and beleidsmedewerkers.
    CommandRow("rapport", (PRIVATE,), rapport.report, elsewhere="rapport_prive"),
    # Lessons with an owner (issue 16): teamleiders and beleidsmedewerkers.
    CommandRow("les", (PRIVATE,), lessen.record, usage="les_gebruik", elsewhere="les_prive"),
    CommandRow("lessen", (PRIVATE,), lessen.list_open, elsewhere="les_prive"),
    CommandRow("help", BOTH, says="telegram_help"),
)


def menu(scope: str) -> list[CommandRow]:
    """The commands listed in the menu of a chat of this kind."""
    return [row for row in COMMANDS if scope in row.scope]
