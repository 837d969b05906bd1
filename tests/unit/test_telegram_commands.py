"""The Telegram command table: every command has its wording, and dialog commands reach it."""

from __future__ import annotations

import re

import yaml

import prompts
from bot.telegram.bindings import GROUP, PRIVATE
from bot.telegram.commands import COMMANDS, CommandRow, menu
from dialogs.commands import COMMANDS as DIALOG_COMMANDS

MESSAGES = prompts.PACKAGE_DIR / "messages.yaml"


def shipped_messages() -> dict[str, str]:
    return yaml.safe_load(MESSAGES.read_text(encoding="utf-8"))["messages"]


def missing(rows: tuple[CommandRow, ...], messages: dict[str, str]) -> list[str]:
    return [
        f"/{row.name}: {key}" for row in rows for key in row.message_keys() if key not in messages
    ]


def test_every_command_has_its_menu_text_and_usage_in_messages_yaml() -> None:
    assert missing(COMMANDS, shipped_messages()) == []


def test_a_command_without_its_wording_is_caught() -> None:
    """The check above can fail: a new row whose menu text and usage are not written yet."""
    row = CommandRow("begroting", (PRIVATE,), dialog=True, usage="telegram_begroting_gebruik")
    assert missing((row,), shipped_messages()) == [
        "/begroting: opdracht_begroting",
        "/begroting: telegram_begroting_gebruik",
    ]


def test_each_row_does_one_thing_and_names_are_telegram_commands() -> None:
    names = [row.name for row in COMMANDS]
    assert len(names) == len(set(names))
    for row in COMMANDS:
        assert re.fullmatch(r"[a-z0-9_]{1,32}", row.name)
        assert [row.handler is not None, row.dialog, row.says is not None].count(True) == 1
        assert row.scope and set(row.scope) <= {PRIVATE, GROUP}
        # A menu line is 3 to 256 characters in the Bot API.
        assert 3 <= len(shipped_messages()[row.menu]) <= 256


def test_dialog_commands_are_known_to_the_dialog() -> None:
    dialog = {row.name for row in COMMANDS if row.dialog}
    assert dialog <= set(DIALOG_COMMANDS)


def test_menus_are_as_before() -> None:
    assert [row.name for row in menu(PRIVATE)] == [
        "start", "nieuw", "hervat", "overzicht", "terug", "overslaan", "verder", "wijzig",
        "plan", "stop", "archief", "acties", "herinneringen", "indienen", "besluit",
        "uitgevoerd", "opschalen", "evaluatie", "contacten", "budget", "deel", "verwijder",
        "delen", "rapport", "les", "lessen", "help",
    ]  # fmt: skip
    assert [row.name for row in menu(GROUP)] == [
        "sessie", "idee", "overzicht", "terug", "overslaan", "verder", "wijzig", "plan", "stop",
        "contacten", "help",
    ]  # fmt: skip
