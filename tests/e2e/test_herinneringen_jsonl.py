"""`herinneringen uit|aan` in the JSON-lines interview (a real `doorbraakbot chat --jsonl`):
reminders about the plan switched off are skipped, not kept for later; on again, the next
ones are due as before. The schedule is read with an injected clock."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from bot.bootstrap import App
from tests.e2e.test_opvolging_run import DUE, HOUSEHOLD, finish
from tests.e2e.test_opvolging_run import app as app  # the database, with its clock at T0

# The terminal's clock: the morning the plan was made.
NOW = "2027-03-01T10:00:00+01:00"


def due(app: App, day: date) -> int:
    """How many reminders a round on the morning of `day` claims (and so would send)."""
    moment = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)
    with app.units(claim=False) as uow:
        return len(uow.reminders.claim_due(today=day, now=moment))


def test_herinneringen_uit_and_aan_in_the_jsonl_interview(app: App, jsonl: Any) -> None:
    plan_id = finish(app)
    process = jsonl(HOUSEHOLD, DOORBRAAK_TEST_NOW=NOW)

    turn = process.send("herinneringen")
    assert turn[0]["type"] == "message"
    assert turn[0]["text"].splitlines() == [
        "Herinneringen over huishouden 3012 staan aan: wie het plan in Telegram heeft (of "
        "een actie ervan), krijgt ze.",
        "Ze komen op werkdagen tussen 9 en 18 uur, niet 's nachts, niet in het weekend en "
        "niet op feestdagen.",
        "Uitzetten: 'herinneringen uit'. Weer aanzetten: 'herinneringen aan'.",
    ]
    assert turn[-1]["type"] == "question" and turn[-1]["field"] == "plan_af"

    turn = process.send("herinneringen uit")
    assert turn[0]["text"] == (
        "Herinneringen over huishouden 3012 staan uit tot je 'herinneringen aan' typt."
    )
    # The morning two actions are due: none is claimed, and none is kept for later.
    assert due(app, DUE) == 0
    with app.units(read_only=True) as uow:
        assert [r.due_on for r in uow.reminders.of_plan(plan_id) if r.skipped_at] == [DUE, DUE]
        assert uow.reminders.sent() == []
    turn = process.send("herinneringen")
    assert turn[0]["text"].splitlines()[0] == (
        "Herinneringen over huishouden 3012 staan uit sinds 1 maart 2027. Wat intussen aan de "
        "beurt is, wordt niet gestuurd, ook later niet."
    )

    turn = process.send("herinneringen aan")
    assert turn[0]["text"] == "Herinneringen over huishouden 3012 staan weer aan."
    assert due(app, DUE) == 0  # the skipped ones stay skipped
    assert due(app, date(2028, 3, 1)) == 2  # the next ones come
    assert due(app, date(2028, 3, 1)) == 0  # once

    # An answer that only starts with the word is an answer (here: not one of the choices).
    turn = process.send("herinneringen aan oma")
    assert not turn[0].get("text", "").startswith("Herinneringen")
    assert turn[-1]["type"] == "question" and turn[-1]["field"] == "plan_af"
