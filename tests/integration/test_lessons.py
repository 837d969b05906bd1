"""Lessons with an owner (issue 16), on SQLite and PostgreSQL: stored encrypted, refused when
they name a household, seen only within a role's teams, and reminded on their day to their
owner (a person, or the team's holders of a role) once, across restarts."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import jsonschema
import pypdf
import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

import prompts
from bot.cli import main
from bot.documents import Renderer
from bot.facts import FactsKeeper
from bot.formatting import DutchFormatter
from bot.lessons import LessonDenied, LessonService, teams_of
from bot.report import ReportService, Scope, scope_for
from bot.report_render import render, to_csv
from dialogs.lessons import Refused, looks_like_household, read_source
from storage import Units
from storage.access import BELEIDSMEDEWERKER, PROFESSIONAL, TEAMLEIDER, ProfessionalRecord
from storage.lessons import LESSON_DONE, REMIND_LESSON, Lesson
from storage.models import Reminder
from tests.conftest import ROOT, TEST_SECRET
from tests.integration.conftest import KEYRING

NOW = datetime(2026, 12, 3, 9, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.moment = now

    def now(self) -> datetime:
        return self.moment


def register(units: Units, team: str, role: str, user_id: int, name: str) -> ProfessionalRecord:
    with units(claim=False) as uow:
        code = uow.access.create_invite(team, role)
        found = uow.access.redeem_invite(code, user_id, name)
    assert found is not None
    return found


@pytest.fixture
def people(units: Units) -> dict[str, ProfessionalRecord]:
    return {
        "tl": register(units, "Noord", TEAMLEIDER, 9001, "Tessa"),
        "tl2": register(units, "Noord", TEAMLEIDER, 9002, "Tim"),
        "tl_zuid": register(units, "Zuid", TEAMLEIDER, 9003, "Zara"),
        "bm": register(units, "Beleid", BELEIDSMEDEWERKER, 9004, "Bram"),
        "pro": register(units, "Noord", PROFESSIONAL, 9005, "Pim"),
    }


def claim(units: Units, day: date, now: datetime) -> list[tuple[int | None, int | None]]:
    with units(claim=False) as uow:
        found = uow.reminders.claim_due(today=day, now=now)
    return [(c.lesson_id, c.user_id) for c in found]


def test_a_lesson_is_stored_encrypted_and_listed_per_role(
    units: Units, engine: Engine, people: dict[str, ProfessionalRecord]
) -> None:
    service = LessonService(units, Clock())
    lesson = service.add(
        team="Noord",
        text="Eerder bellen met de woningcorporatie <b>",
        source="reflectiesessie 2026-K4",
        owner="Tim",
        due="1 april",
        actor="terminal:test",
    )
    assert lesson.owner_id == people["tl2"].id
    assert lesson.due_on == date(2027, 4, 1)
    assert lesson.source == "reflectiesessie 2026-K4"
    service.add(
        team="Zuid",
        text="Budget eerder vragen",
        source="-",
        owner="teamleider",
        due="over 3 maanden",
        actor="terminal:test",
    )
    with engine.connect() as connection:
        raw = connection.execute(select(Lesson.text, Lesson.source)).all()
    assert all(
        "woningcorporatie" not in value and "2026-K4" not in (source or "")
        for value, source in raw
    )
    # A teamleider sees their team; a beleidsmedewerker and the terminal every team.
    assert [x.team for x in service.listed(people["tl"])] == ["Noord"]
    assert {x.team for x in service.listed(people["bm"])} == {"Noord", "Zuid"}
    assert [x.team for x in service.listed(None, "Zuid")] == ["Zuid"]
    with pytest.raises(LessonDenied):
        service.listed(people["pro"])
    with pytest.raises(LessonDenied):
        teams_of(people["tl"], "Zuid")
    # Done by a teamleider of another team: not theirs, nothing changes.
    assert service.set_status(lesson.id, people["tl_zuid"], "prof:x") is None
    done = service.set_status(lesson.id, people["tl"], people["tl"].actor)
    assert done is not None and done.status == LESSON_DONE and done.done_at == NOW
    assert [x.team for x in service.listed(None)] == ["Zuid"]


def test_bad_parts_are_refused_and_nothing_is_stored(
    units: Units, people: dict[str, ProfessionalRecord]
) -> None:
    service = LessonService(units, Clock())
    cases = [
        ({"source": "huishouden 3012"}, "les_bron_huishouden"),
        ({"source": "WT-3012"}, "les_bron_huishouden"),
        ({"text": "Bel 0612345678 terug"}, "les_persoonsgegevens"),
        ({"owner": "Onbekende"}, "les_eigenaar_onbekend"),
        ({"owner": "T"}, "les_eigenaar_meerdere"),
        ({"due": "morgen of zo ergens"}, "les_datum_onleesbaar"),
        ({"due": "1-1-2020"}, "les_datum_verleden"),
        ({"text": "  "}, "les_tekst_leeg"),
    ]
    for change, key in cases:
        parts = {"text": "Les", "source": "groep 2", "owner": "teamleider", "due": "1 mei"}
        parts.update(change)
        with pytest.raises(Refused) as refused:
            service.add(team="Noord", actor="terminal:test", **parts)
        assert refused.value.key == key, change
    assert service.listed(None) == []
    # A quarter, a year or a day is no household number.
    for source in ("2026-K1", "K1 2026", "Q3", "2026", "31-3-2026", "groep 12"):
        assert read_source(source) == source
    assert looks_like_household("A-123")


def test_a_reminder_is_about_a_plan_or_a_lesson_never_both_nor_neither(
    units: Units, engine: Engine, people: dict[str, ProfessionalRecord]
) -> None:
    lesson = LessonService(units, Clock()).add(
        team="Noord", text="Les", source="", owner="teamleider", due="1 mei", actor="t"
    )
    with units(claim=False) as uow:
        plan_id = uow.plans.start_plan("T-1", state="x", owner=None).id
    with engine.connect() as connection:
        for values in (
            {"plan_id": None, "lesson_id": None},
            {"plan_id": plan_id, "lesson_id": lesson.id},
        ):
            with pytest.raises(IntegrityError), connection.begin():
                connection.execute(
                    insert(Reminder).values(
                        kind=REMIND_LESSON,
                        due_on=date(2027, 1, 1),
                        attempts=0,
                        created_at=NOW,
                        **values,
                    )
                )


def test_reminders_go_to_the_owner_or_the_role_once_across_restarts(
    engine: Engine, people: dict[str, ProfessionalRecord]
) -> None:
    units = Units(engine, KEYRING)
    service = LessonService(units, Clock())
    by_role = service.add(
        team="Noord", text="Rol", source="", owner="teamleider", due="10 december", actor="t"
    )
    by_person = service.add(
        team="Noord", text="Persoon", source="", owner="Pim", due="10 december", actor="t"
    )
    by_policy = service.add(
        team="Zuid",
        text="Beleid",
        source="",
        owner="beleidsmedewerker",
        due="10 december",
        actor="t",
    )
    done = service.add(
        team="Noord", text="Al gedaan", source="", owner="Pim", due="10 december", actor="t"
    )
    service.set_status(done.id, None, "t")
    # Tim switched his reminders off.
    with units(claim=False) as uow:
        uow.reminders.switch_professional(people["tl2"].id, on=False, now=NOW)
    assert claim(units, date(2026, 12, 9), NOW) == []
    later = NOW + timedelta(days=7)
    # A restart: a new factory on the same database.
    units = Units(engine, KEYRING)
    sent = claim(units, date(2026, 12, 10), later)
    assert sorted(sent) == sorted([(by_role.id, 9001), (by_person.id, 9005), (by_policy.id, 9004)])
    # Claimed once: another round (or another worker, or a restart) sends none again.
    assert claim(Units(engine, KEYRING), date(2026, 12, 11), later) == []


def test_a_failed_send_is_retried_for_its_recipient_only(
    units: Units, people: dict[str, ProfessionalRecord]
) -> None:
    service = LessonService(units, Clock())
    lesson = service.add(
        team="Noord", text="Rol", source="", owner="teamleider", due="10 december", actor="t"
    )
    day = date(2026, 12, 10)
    with units(claim=False) as uow:
        claimed = uow.reminders.claim_due(today=day, now=NOW)
        assert {c.user_id for c in claimed} == {9001, 9002}
        tessa = next(c for c in claimed if c.user_id == 9001)
        uow.reminders.failed(tessa.id, tessa.attempts, NOW)
    assert claim(units, day, NOW + timedelta(minutes=1)) == []
    with units(claim=False) as uow:
        again = uow.reminders.claim_due(today=day, now=NOW + timedelta(minutes=10))
        assert [(c.lesson_id, c.user_id) for c in again] == [(lesson.id, 9001)]
        uow.reminders.failed(again[0].id, again[0].attempts, NOW + timedelta(minutes=10))
    # Done meanwhile: not reminded again.
    service.set_status(lesson.id, None, "t")
    assert claim(units, day, NOW + timedelta(hours=2)) == []


# --- the report ------------------------------------------------------------------------------

SPEC = prompts.load_interview()
SCHEMA = json.loads((ROOT / "bot" / "rapport.schema.json").read_text(encoding="utf-8"))
HOSTILE = '<script>alert(1)</script> #set text(red) $x$ "quote'


def test_the_report_holds_the_lessons_in_its_scope_in_every_format(
    units: Units, people: dict[str, ProfessionalRecord]
) -> None:
    clock = Clock()
    lessons = LessonService(units, clock)
    mine = lessons.add(
        team="Noord", text=HOSTILE, source="groep 2", owner="Tim", due="1 april", actor="t"
    )
    finished = lessons.add(
        team="Noord", text="Al gedaan", source="", owner="teamleider", due="1 mei", actor="t"
    )
    lessons.set_status(finished.id, None, "t")
    lessons.add(
        team="Zuid", text="Van Zuid", source="", owner="teamleider", due="1 mei", actor="t"
    )
    report = ReportService(units, FactsKeeper(SPEC, units), clock)

    document = report.build(scope_for(people["tl"]), actor="prof:1", fmt="json")

    jsonschema.validate(document, SCHEMA, format_checker=jsonschema.FormatChecker())
    found = document["lessen"]
    assert [x["text"] for x in found["open"]] == [HOSTILE]
    assert found["open"][0]["owner_name"] == "Tim" and found["open"][0]["due_on"] == "2027-04-01"
    assert [(x["text"], x["done_on"]) for x in found["done"]] == [("Al gedaan", "2026-12-03")]
    # Done before the period asked: not in it; open ones are always in it.
    later = report.build(
        Scope(since=date(2027, 1, 1), until=date(2027, 3, 31)), actor="terminal:t", fmt="json"
    )
    assert later["lessen"]["done"] == []
    assert {x["team"] for x in later["lessen"]["open"]} == {"Noord", "Zuid"}

    renderer = Renderer(SPEC, DutchFormatter(), prompts.template_dirs(None))
    html = render("html", document, SPEC, renderer.html_env, renderer.template_dirs).decode()
    pdf = render("pdf", document, SPEC, renderer.html_env, renderer.template_dirs)
    csv_text = to_csv(document, SPEC)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; #set text(red) $x$ &#34;quote" in html
    assert "Van Zuid" not in html
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert HOSTILE in text and "Al gedaan" in text and "Van Zuid" not in text
    assert f',Noord,lessen,{mine.id} tekst,"{HOSTILE.replace(chr(34), chr(34) * 2)}"' in csv_text
    assert f",Noord,lessen,{mine.id} eigenaar,Tim" in csv_text


def test_the_terminal_adds_lists_and_marks_done(
    url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    people: dict[str, ProfessionalRecord],
) -> None:
    monkeypatch.setenv("DOORBRAAK_ENV_FILE", "")
    monkeypatch.setenv("DOORBRAAK_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.setenv("DOORBRAAK_DATABASE_URL", url)
    monkeypatch.setenv("DOORBRAAK_SECRET_KEY", TEST_SECRET)
    add = ["les", "add", "--team", "Noord", "--tekst", "Eerder bellen", "--eigenaar"]

    assert main([*add, "teamleider", "--bron", "3012", "--datum", "1 april"]) == 2
    assert "huishoudnummer" in capsys.readouterr().err
    assert main([*add, str(people["pro"].id), "--datum", "over 3 maanden"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Les vastgelegd: 1. Eerder bellen · eigenaar Pim")
    assert main(["les", "list", "--team", "Zuid"]) == 0
    assert capsys.readouterr().out == "Er staan geen open lessen.\n"
    assert main(["les", "list"]) == 0
    assert capsys.readouterr().out.startswith("1. Eerder bellen · eigenaar Pim")
    assert main(["les", "done", "1"]) == 0
    assert capsys.readouterr().out == "Les 1 staat op gedaan.\n"
    assert main(["les", "done", "7"]) == 1
    assert main(["les", "list"]) == 0
    assert capsys.readouterr().out == "Er staan geen open lessen.\n"
