"""Opvolging over SQLite and PostgreSQL: actions made from a plan's answers and kept in step
with them, reminders claimed once (also by two claimers at once), deletion, key rotation,
raw files, and the JSON export with its actions."""

from __future__ import annotations

import json
import threading
from datetime import date, timedelta
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import func, select

from bot import exchange
from bot.bootstrap import App, bootstrap
from bot.clock import FixedClock
from bot.config import Settings
from bot.local import LocalChat
from dialogs import Message, Question
from storage import Units
from storage.actions import Wanted
from storage.crypto import Keyring
from storage.db import rotate_key
from storage.models import Action, ActionEvent, Reminder
from tests.conftest import ROOT, TEST_SECRET
from tests.support.opvolging import T0
from tests.support.opvolging import app as app
from tests.support.opvolging import clock as clock
from tests.support.plans import finish

# Monday 1 March 2027, 09:00 in Amsterdam.
BEFORE, AFTER = "actieplan.voor_doorbraak", "actieplan.na_doorbraak"
SCHEMA = json.loads((ROOT / "docs" / "plan.schema.json").read_text(encoding="utf-8"))


def store(app: App, plan_id: int, field: str, points: list[str]) -> None:
    """The answer `field` stored again as the dialog would, in one unit of work."""
    with app.units(claim=False) as uow:
        app.actions.on_saved(uow, plan_id, [(field, points)], "prof:1")


def test_a_finished_plan_has_its_actions(app: App) -> None:
    plan_id = finish(app)
    actions = app.actions.of_plan(plan_id)
    assert [(a.field, a.position, a.status) for a in actions] == [
        (AFTER, 0, "open"),
        (AFTER, 1, "open"),
        (BEFORE, 0, "open"),
        (BEFORE, 1, "open"),
    ]
    first = actions[2]
    assert first.point == "Wijkteam | actieplan voor_doorbraak regelen | binnen een week"
    # `binnen een week`, read on the day the answer was stored.
    assert first.due == date(2027, 3, 8)
    assert first.household == "3012"
    # Over all plans of the professional: soonest first.
    who = app.access.professional(1001)
    assert who is not None
    assert [a.due for a in app.actions.open_for(who)] == sorted(a.due for a in actions)  # type: ignore[type-var]
    # The history: each made once, by the professional.
    [(_, events)] = [(a, e) for a, e in app.actions.history(plan_id) if a.id == first.id]
    assert [(e.change, e.status, e.due, e.author) for e in events] == [
        ("aangemaakt", "open", date(2027, 3, 8), who.actor)
    ]


def test_a_changed_answer_keeps_the_status_of_unchanged_points(
    app: App, clock: FixedClock
) -> None:
    plan_id = finish(app)
    store(
        app, plan_id, BEFORE, ["Wijkteam | bel de Wmo | morgen", "Jan | regel de huur | 1 april"]
    )
    bel, huur = app.actions.of_plan(plan_id)[2:]
    assert (bel.due, huur.due) == (date(2027, 3, 2), date(2027, 4, 1))
    assert app.actions.done(bel.id, actor="prof:1") is not None
    clock.set(T0 + timedelta(days=3))
    # The same wie and wat with another wanneer, a new point, and one taken out.
    store(app, plan_id, BEFORE, ["Jan | regel de huur | 15 april", "Piet | schuldhulp | later"])
    current = {a.point: a for a in app.actions.of_plan(plan_id) if a.field == BEFORE}
    assert set(current) == {"Jan | regel de huur | 15 april", "Piet | schuldhulp | later"}
    assert current["Jan | regel de huur | 15 april"].id == huur.id
    assert current["Jan | regel de huur | 15 april"].due == date(2027, 4, 15)
    assert current["Piet | schuldhulp | later"].due is None  # unreadable: no date
    removed = [a for a, _ in app.actions.history(plan_id) if a.removed and a.field == BEFORE]
    assert [(a.point, a.status) for a in removed if a.id == bel.id] == [
        ("Wijkteam | bel de Wmo | morgen", "gedaan")
    ]
    assert len(removed) == 3  # and the two sample points the first change took out
    # Back in the answer: the same action, still done.
    store(app, plan_id, BEFORE, ["Wijkteam | bel de Wmo | morgen"])
    [back] = [a for a in app.actions.of_plan(plan_id) if a.field == BEFORE]
    assert (back.id, back.status, back.due) == (bel.id, "gedaan", date(2027, 3, 2))
    changes = [
        e.change for a, events in app.actions.history(plan_id) if a.id == bel.id for e in events
    ]
    assert changes == ["aangemaakt", "status", "weg", "terug"]


def test_a_due_reminder_is_claimed_once_and_a_failed_one_again(app: App) -> None:
    plan_id = finish(app)
    day = date(2027, 3, 8)
    with app.units(claim=False) as uow:
        assert uow.reminders.claim_due(today=day - timedelta(days=1), now=T0) == []
    with app.units(claim=False) as uow:
        claimed = uow.reminders.claim_due(today=day, now=T0)
    assert [(c.plan_id, c.kind, c.due_on, c.user_id) for c in claimed] == [
        (plan_id, "actie", day, 1001),
        (plan_id, "actie", day, 1001),
    ]
    with app.units(claim=False) as uow:
        assert uow.reminders.claim_due(today=day, now=T0) == []
        uow.reminders.failed(claimed[0].id, claimed[0].attempts, T0)
    with app.units(claim=False) as uow:
        assert uow.reminders.claim_due(today=day, now=T0) == []  # not before the pause
    with app.units(claim=False) as uow:
        again = uow.reminders.claim_due(today=day, now=T0 + timedelta(minutes=6))
    assert [(c.id, c.attempts) for c in again] == [(claimed[0].id, 2)]
    # The evaluation date (15-03-2037) has a reminder of its own.
    with app.units(claim=False) as uow:
        later = uow.reminders.claim_due(today=date(2037, 3, 15), now=T0)
    assert [c.kind for c in later] == ["actie", "actie", "evaluatie"]


def test_a_done_action_is_not_reminded_and_storing_again_adds_none(app: App) -> None:
    plan_id = finish(app)
    first = app.actions.of_plan(plan_id)[2]
    app.actions.done(first.id, actor="prof:1")
    # The whole answer stored again, unchanged: no second reminder for the same day.
    store(app, plan_id, AFTER, [a.point for a in app.actions.of_plan(plan_id)[:2]])
    with app.units(claim=False) as uow:
        claimed = uow.reminders.claim_due(today=date(2030, 1, 1), now=T0)
    assert first.id not in {c.action_id for c in claimed}
    assert len(claimed) == 3


def test_two_claimers_never_share_a_reminder(app: App) -> None:
    plan_id = finish(app)
    day = date(2027, 6, 1)
    wanted = [Wanted(f"Wie {n} | wat {n} | 1 juni", day) for n in range(60)]
    with app.units(claim=False) as uow:
        uow.actions.sync(plan_id, BEFORE, wanted, author="prof:1", now=T0)
    got: list[list[int]] = [[], []]
    errors: list[BaseException] = []

    def claim(slot: int) -> None:
        try:
            while True:
                with app.units(claim=False) as uow:
                    batch = uow.reminders.claim_due(today=day, now=T0, limit=3)
                if not batch:
                    return
                got[slot] += [c.id for c in batch]
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=claim, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    claimed = got[0] + got[1]
    assert len(claimed) == len(set(claimed))
    with app.units(read_only=True) as uow:
        total = uow.tx.scalar(
            select(func.count()).select_from(Reminder).where(Reminder.due_on <= day)
        )
    assert len(claimed) == total == 61  # and the other list's `binnen een week`


def test_deleting_a_plan_removes_its_actions_and_reminders(app: App) -> None:
    plan_id = finish(app)
    app.actions.done(app.actions.of_plan(plan_id)[0].id, actor="prof:1")
    who = app.access.professional(1001)
    assert who is not None
    assert app.service.delete(who, plan_id)
    with app.units(read_only=True) as uow:
        for table in (Action, ActionEvent, Reminder):
            assert uow.tx.scalar(select(func.count()).select_from(table)) == 0


def test_actions_survive_a_key_rotation(app: App, tmp_path: Path) -> None:
    plan_id = finish(app)
    before = app.actions.of_plan(plan_id)
    new = Keyring.from_secret(Keyring.generate_secret())
    rotate_key(app.engine, app.keyring, new)
    with Units(app.engine, new)(read_only=True) as uow:
        assert [a.point for a in uow.actions.of_plan(plan_id)] == [a.point for a in before]


def test_the_export_holds_the_actions_and_imports_identically(
    app: App, url: str, tmp_path: Path, clock: FixedClock
) -> None:
    plan_id = finish(app)
    actions = app.actions.of_plan(plan_id)
    app.actions.done(actions[0].id, actor="prof:1")
    app.actions.move(actions[1].id, 7, actor="prof:1")
    store(app, plan_id, BEFORE, ["Wijkteam | bel de Wmo | morgen"])
    found = app.service.plan(plan_id)
    assert found is not None
    first = exchange.dumps(
        exchange.export_plan(app.dialog.spec, *found, app.actions.history(plan_id))
    )
    document = json.loads(first)
    jsonschema.validate(document, SCHEMA)
    assert document["version"] == 3
    assert [(a["point"], a["status"], a["removed"]) for a in document["actions"]][:3] == [
        ("Wijkteam | actieplan na_doorbraak regelen | binnen een week", "gedaan", False),
        ("Huishouden | actieplan na_doorbraak zelf | maart", "open", False),
        ("Wijkteam | actieplan voor_doorbraak regelen | binnen een week", "open", True),
    ]
    assert document["actions"][1]["due"] == "2027-03-08"

    # Into a database of its own, and out again: identical.
    other = bootstrap(Settings(data_dir=tmp_path / "other", secret_key=TEST_SECRET), clock=clock)
    try:
        record = other.service.restore(exchange.parse_plan(other.dialog.spec, first))
        found = other.service.plan(record.id)
        assert found is not None
        again = exchange.dumps(
            exchange.export_plan(other.dialog.spec, *found, other.actions.history(record.id))
        )
        assert again == first
        # A version 1 file (no actions) still imports; its actions come from its answers.
        old = {k: v for k, v in document.items() if k not in ("actions", "reminders")}
        old |= {"version": 1}
        jsonschema.validate(old, SCHEMA)
        record = other.service.restore(exchange.parse_plan(other.dialog.spec, json.dumps(old)))
        derived = other.actions.of_plan(record.id)
        answers = document["answers"]
        assert [a.point for a in derived] == [*answers[AFTER], *answers[BEFORE]]
        assert {a.status for a in derived} == {"open"}
    finally:
        other.engine.dispose()


def test_no_point_text_in_the_raw_database(app: App, url: str) -> None:
    if not url.startswith("sqlite"):
        pytest.skip("the raw file is SQLite's; PostgreSQL's dump is covered by test_privacy")
    plan_id = finish(app, household="WT-77123")
    secret = "Kwelderblauw-wijkteam 5519"
    store(app, plan_id, BEFORE, [f"{secret} | bel Zeppelinmos-toekan 8802 | morgen"])
    app.engine.dispose()
    path = Path(url.removeprefix("sqlite:///"))
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    assert secret.encode() not in raw
    assert b"Zeppelinmos" not in raw


def test_changing_the_actieplan_in_the_interview_updates_the_actions(app: App) -> None:
    """Through the dialog itself: `wijzig 6` in the terminal's chat, a new list of points."""
    plan_id = finish(app)
    done = app.actions.of_plan(plan_id)[3]  # Huishouden | ... voor_doorbraak zelf | maart
    app.actions.done(done.id, actor="prof:1")
    chat = LocalChat(app, "3012", author="terminal:tester")
    chat.begin()
    chat.send("Een stap wijzigen")
    items, _ = chat.send("wijzig 6")
    for _ in range(5):
        question = [i for i in items if isinstance(i, Question)][-1]
        if question.field == BEFORE:
            break
        items, _ = chat.send("overslaan")
    items, _ = chat.send(f"{done.point}\nJan: regel de huur, uiterlijk 1 april")
    current = [a for a in app.actions.of_plan(plan_id) if a.field == BEFORE]
    assert [(a.point, a.status, a.due) for a in current] == [
        (done.point, "gedaan", done.due),
        ("Jan | regel de huur | uiterlijk 1 april", "open", date(2027, 4, 1)),
    ]
    assert current[0].id == done.id
    # The command word in the same chat: the plan's actions, then the question again.
    items, _ = chat.send("acties")
    assert isinstance(items[0], Message)
    assert "1 april 2027 · Jan: regel de huur · open" in items[0].text.splitlines()
    assert isinstance(items[-1], Question)
