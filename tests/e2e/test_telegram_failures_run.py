"""A state change that fails at the database is never reported as done: the real
`doorbraakbot run` against the stand-in Bot API, with a table of its SQLite database taken away
by the test while the update itself still reaches the inbox."""

from __future__ import annotations

import html
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dialogs import Interview
from tests.e2e import test_telegram_run as run
from tests.e2e.protocol import repository
from tests.e2e.test_telegram_run import BotProcess, Chat, buttons, check_startup
from tests.support.botapi import BotApiStandIn

FAILED = "Dat is niet gelukt: de database is nu niet beschikbaar. Er is niets gewijzigd"
DELETED = "Het plan is verwijderd."


@contextmanager
def without_table(data_dir: Path, table: str) -> Iterator[None]:
    """The table is gone while the block runs, as on a database that fails mid-way: the
    handler's statements on it fail, the inbox that takes the update in still works."""
    connection = sqlite3.connect(data_dir / "plans.db", isolation_level=None)
    try:
        connection.execute(f'ALTER TABLE "{table}" RENAME TO "{table}_weg"')
        yield
        connection.execute(f'ALTER TABLE "{table}_weg" RENAME TO "{table}"')
    finally:
        connection.close()


def texts_since(stand_in: BotApiStandIn, first: int) -> list[str]:
    return [
        html.unescape(str(call.params.get("text", "")))
        for call in stand_in.calls[first:]
        if call.method == "sendMessage" and not call.failed
    ]


def test_a_delete_that_fails_at_the_database_says_so_and_deletes_nothing(
    stand_in: BotApiStandIn, bot: BotProcess, spec: Interview, tmp_path: Path
) -> None:
    check_startup(bot, bot.start())
    chat = Chat(stand_in, bot, spec)
    chat.register()
    chat.type("/nieuw 3012")
    offer = chat.message("/verwijder", "Weet je zeker dat je dit plan nu wilt verwijderen?")
    yes = buttons(offer.params.get("reply_markup"))["Ja, verwijder het plan"]

    # Deleting writes an audit row in the same transaction: without that table it fails.
    with without_table(tmp_path, "audit_log"):
        first = len(stand_in.calls)
        chat.after_press(yes, FAILED)
        said = texts_since(stand_in, first)
        assert len(said) == 1 and said[0].startswith(FAILED), said
    with repository(tmp_path) as repo:
        assert repo.current_plan("3012") is not None  # nothing was deleted

    # Pressed again once the database is free: now it is done, and said so once.
    first = len(stand_in.calls)
    chat.after_press(yes, DELETED)
    assert texts_since(stand_in, first) == [DELETED]
    with repository(tmp_path) as repo:
        assert repo.current_plan("3012") is None
    assert " ERROR " not in bot.log()


def test_a_session_stop_that_fails_does_not_say_it_stopped(
    stand_in: BotApiStandIn, bot: BotProcess, spec: Interview, tmp_path: Path
) -> None:
    check_startup(bot, bot.start())
    fatima, group = run.FATIMA, run.GROUP_CHAT
    run.send(stand_in, bot, fatima, run.invite_code(bot), fatima, reply=True)
    run.send(stand_in, bot, fatima, "/sessie 3012", group, reply=True)

    with without_table(tmp_path, "chats"):
        first = len(stand_in.calls)
        run.send(stand_in, bot, fatima, "/sessie stop", group, reply=True)
        said = texts_since(stand_in, first)
        assert len(said) == 1 and said[0].startswith(FAILED), said
    first = len(stand_in.calls)
    run.send(stand_in, bot, fatima, "/sessie stop", group, reply=True)
    [stopped] = texts_since(stand_in, first)
    assert stopped.startswith("De sessie is gestopt.")
