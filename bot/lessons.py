"""Lessons with an owner (issue 16): what a reflectiesessie learned, who acts on it and when;
recorded with /les or `doorbraakbot les`, listed with /lessen, reminded on their day through
the reminders of the actions (storage.reminders), shown in the report (bot.report)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bot.clock import AMSTERDAM, Clock, SystemClock
from bot.formatting import DutchFormatter
from dialogs import Interview
from dialogs.lessons import (
    Owner,
    Refused,
    read_due,
    read_owner,
    read_source,
    read_text,
)
from dialogs.readings import normal
from storage import UnitOfWork, UnitOfWorkFactory
from storage.access import (
    BELEIDSMEDEWERKER,
    TEAMLEIDER,
    ProfessionalRecord,
    professional_id_of,
)
from storage.lessons import (
    LESSON_DONE,
    LESSON_OPEN,
    OWNER_ROLES,
    STEP_OWNER,
    STEP_SOURCE,
    STEP_TEXT,
    STEPS,
    LessonRecord,
)

# The audit actions of lessons (no content: the lesson's number only).
RECORDED, DONE = "les", "les_gedaan"
# How long an unanswered question of a lesson takes the professional's texts.
DRAFT_WAIT = timedelta(minutes=30)
# Words that end the step-by-step questions without keeping the lesson.
STOP_WORDS = ("stop", "annuleer", "afbreken")
_FORMAT = DutchFormatter()


class LessonDenied(Exception):
    """This professional's role does not give lessons, or not this one."""


@dataclass(frozen=True)
class Step:
    """Where the step-by-step questions are: the step now asked (None: the lesson is
    recorded, `lesson` complete)."""

    step: str | None
    lesson: LessonRecord | None = None


def may_record(who: ProfessionalRecord) -> bool:
    return who.role in OWNER_ROLES


def teams_of(who: ProfessionalRecord | None, team: str | None = None) -> tuple[str, ...] | None:
    """The teams whose lessons `who` sees (None: every team): a teamleider their own, a
    beleidsmedewerker and the terminal every team or the one asked."""
    if who is None or who.role == BELEIDSMEDEWERKER:
        return None if team is None else (team,)
    if who.role == TEAMLEIDER and team in (None, who.team):
        return (who.team,)
    raise LessonDenied


class LessonService:
    """The use cases of lessons, for Telegram and the terminal alike."""

    def __init__(self, units: UnitOfWorkFactory, clock: Clock | None = None) -> None:
        self.units = units
        self.clock = clock or SystemClock()

    def today(self) -> date:
        return self.clock.now().astimezone(AMSTERDAM).date()

    # --- in one go -------------------------------------------------------------------------

    def add(
        self,
        *,
        team: str,
        text: str,
        source: str,
        owner: str,
        due: str,
        actor: str,
    ) -> LessonRecord:
        """A lesson from its four parts as typed; Refused (nothing stored) if one is wrong."""
        now = self.clock.now()
        with self.units() as uow:
            found = self._owner(uow, team, owner, professional_id_of(actor))
            lesson_id = uow.lessons.add(
                team=team,
                text=read_text(text),
                source=read_source(source),
                owner_id=found.professional_id,
                owner_role=found.role,
                due_on=read_due(due, self.today()),
                created_by=actor,
                now=now,
            )
            self._recorded(uow, lesson_id, actor)
            lesson = uow.lessons.get(lesson_id)
        assert lesson is not None
        return lesson

    # --- step by step ----------------------------------------------------------------------

    def start(self, who: ProfessionalRecord) -> str:
        """The step to ask: that of the draft `who` left, or the first of a new one."""
        if not may_record(who):
            raise LessonDenied
        with self.units() as uow:
            draft = uow.lessons.draft_of(who.actor)
            if draft is not None:
                assert draft.step is not None
                # Asked again: the texts are the lesson's again for a while.
                uow.lessons.answer(draft.id, {}, draft.step, self.clock.now())
                return draft.step
            uow.lessons.add(
                team=who.team,
                text="",
                source=None,
                owner_id=None,
                owner_role=None,
                due_on=None,
                created_by=who.actor,
                now=self.clock.now(),
                step=STEP_TEXT,
            )
        return STEP_TEXT

    def waiting(self, who: ProfessionalRecord) -> bool:
        """Whether `who` is answering the questions of a lesson."""
        if not may_record(who):
            return False
        with self.units(read_only=True) as uow:
            draft = uow.lessons.draft_of(who.actor)
        return draft is not None and self._fresh(draft)

    def set_aside(self, who: ProfessionalRecord) -> bool:
        """Another command while a lesson is asked: the lesson waits, its answers kept, and
        the texts go to the plan again until /les takes it up. Whether one was waiting."""
        if not may_record(who):
            return False
        with self.units() as uow:
            draft = uow.lessons.draft_of(who.actor)
            if draft is None or draft.step is None or not self._fresh(draft):
                return False
            aside = self.clock.now() - DRAFT_WAIT - timedelta(seconds=1)
            uow.lessons.answer(draft.id, {}, draft.step, aside)
        return True

    def _fresh(self, draft: LessonRecord) -> bool:
        """A draft left alone longer than DRAFT_WAIT no longer takes the texts: they go to
        the plan again (/les takes it up where it was)."""
        return self.clock.now() - draft.updated_at <= DRAFT_WAIT

    def answer(self, who: ProfessionalRecord, text: str) -> Step:
        """The answer to the step asked, stored before the next is asked; Refused keeps the
        draft as it was. A stop word drops the draft (Step(None) without a lesson)."""
        now = self.clock.now()
        with self.units() as uow:
            draft = uow.lessons.draft_of(who.actor)
            if draft is None or draft.step is None or not self._fresh(draft):
                return Step(None)
            if normal(text).strip(" .!") in STOP_WORDS:
                uow.lessons.drop_draft(draft.id)
                return Step(None)
            values: dict[str, Any]
            if draft.step == STEP_TEXT:
                values = {"text": read_text(text)}
            elif draft.step == STEP_SOURCE:
                values = {"source": read_source(text)}
            elif draft.step == STEP_OWNER:
                found = self._owner(uow, draft.team, text, who.id)
                values = {"owner_id": found.professional_id, "owner_role": found.role}
            else:
                values = {"due_on": read_due(text, self.today())}
            following = STEPS.index(draft.step) + 1
            step = STEPS[following] if following < len(STEPS) else None
            uow.lessons.answer(draft.id, values, step, now)
            if step is not None:
                return Step(step)
            lesson = self._recorded(uow, draft.id, who.actor)
            return Step(None, lesson)

    def _recorded(self, uow: UnitOfWork, lesson_id: int, actor: str) -> LessonRecord:
        """A lesson complete: audited (its number only), and reminded on its day."""
        lesson = uow.lessons.get(lesson_id)
        assert lesson is not None
        uow.access.audit(actor, RECORDED, None, str(lesson_id))
        uow.reminders.schedule_lesson(lesson_id, lesson.due_on, self.clock.now())
        return lesson

    def colleagues(self, team: str) -> list[tuple[int, str]]:
        with self.units(read_only=True) as uow:
            return [(c.id, c.name) for c in uow.access.colleagues(team)]

    def _owner(self, uow: UnitOfWork, team: str, text: str, me: int | None) -> Owner:
        return read_owner(text, [(c.id, c.name) for c in uow.access.colleagues(team)], me)

    # --- listing and done ------------------------------------------------------------------

    def listed(
        self, who: ProfessionalRecord | None, team: str | None = None
    ) -> list[LessonRecord]:
        """The open lessons `who` may see (None: the terminal, every team)."""
        teams = teams_of(who, team)
        with self.units(read_only=True) as uow:
            return uow.lessons.listed(teams)

    def set_status(
        self, lesson_id: int, who: ProfessionalRecord | None, actor: str, status: str = LESSON_DONE
    ) -> LessonRecord | None:
        """Mark a lesson done (or another status); None if there is no such lesson that
        `who` may see."""
        now = self.clock.now()
        with self.units() as uow:
            lesson = uow.lessons.get(lesson_id)
            if lesson is None or lesson.step is not None:
                return None
            teams = teams_of(who)
            if teams is not None and lesson.team not in teams:
                return None
            if lesson.status != status:
                uow.lessons.set_status(lesson_id, status, now)
                due = lesson.due_on if status == LESSON_OPEN else None
                uow.reminders.schedule_lesson(lesson_id, due, now)
                uow.access.audit(
                    actor, DONE if status == LESSON_DONE else status, None, str(lesson_id)
                )
            return uow.lessons.get(lesson_id)

    def names(self, lessons: Sequence[LessonRecord]) -> dict[int, str]:
        """The owners' display names of these lessons, by professional id."""
        wanted = {lesson.owner_id for lesson in lessons if lesson.owner_id is not None}
        found: dict[int, str] = {}
        with self.units(read_only=True) as uow:
            for owner in wanted:
                colleague = uow.access.colleague(owner)
                found[owner] = "" if colleague is None else colleague[0].name
        return found


# --- how a lesson reads, in every front end ------------------------------------------------


def owner_text(spec: Interview, lesson: LessonRecord, names: dict[int, str]) -> str:
    """The owner as shown: a role's name, a colleague's name (or number)."""
    if lesson.owner_role is not None:
        return spec.message(f"rol_{lesson.owner_role}")
    if lesson.owner_id is not None:
        return names.get(lesson.owner_id) or spec.message(
            "les_collega_nummer", nummer=lesson.owner_id
        )
    return spec.message("les_geen_eigenaar")


def day_text(day: date | None) -> str:
    return "—" if day is None else _FORMAT.date(day)


def line(spec: Interview, lesson: LessonRecord, names: dict[int, str]) -> str:
    """One lesson on one line: number, text, owner, day, and where it came from."""
    source = "" if not lesson.source else spec.message("les_bron_regel", bron=lesson.source)
    return spec.message(
        "les_regel",
        nummer=lesson.id,
        tekst=lesson.text,
        eigenaar=owner_text(spec, lesson, names),
        datum=day_text(lesson.due_on),
        bron=source,
        team=lesson.team,
    )


def as_json(lesson: LessonRecord, names: dict[int, str]) -> dict[str, Any]:
    """A lesson in the report's JSON (bot/rapport.schema.json, `lessen`)."""
    return {
        "id": lesson.id,
        "team": lesson.team,
        "text": lesson.text,
        "source": lesson.source,
        "owner_role": lesson.owner_role,
        "owner_name": None if lesson.owner_id is None else names.get(lesson.owner_id) or None,
        "owner_id": lesson.owner_id,
        "due_on": None if lesson.due_on is None else lesson.due_on.isoformat(),
        "status": lesson.status,
        "done_on": None
        if lesson.done_at is None
        else lesson.done_at.astimezone(AMSTERDAM).date().isoformat(),
    }


def report_lessons(
    uow: UnitOfWork, teams: Sequence[str | None] | None, since: date | None, until: date | None
) -> dict[str, list[dict[str, Any]]]:
    """The report's `lessen`: the open lessons of `teams` (None: every team), and those done
    in the period (a team's information, never a household's)."""
    open_ = uow.lessons.listed(teams)
    done = uow.lessons.listed(teams, status=LESSON_DONE, done_since=since, done_until=until)
    names: dict[int, str] = {}
    for lesson in (*open_, *done):
        if lesson.owner_id is not None and lesson.owner_id not in names:
            found = uow.access.colleague(lesson.owner_id)
            names[lesson.owner_id] = "" if found is None else found[0].name
    return {
        "open": [as_json(lesson, names) for lesson in open_],
        "done": [as_json(lesson, names) for lesson in done],
    }


# --- the report's lessons as read (bot.report_render) ---------------------------------------

# The CSV's `onderdeel` of a lesson: its number and one of these.
CSV_PARTS = ("tekst", "bron", "eigenaar", "datum", "status")


def lessons_view(found: Mapping[str, Any] | None, spec: Interview) -> dict[str, Any]:
    """The report's lessons with every word as the reader sees it, for the templates."""
    m = spec.message
    found = found or {"open": [], "done": []}
    return {
        "title": m("rapport_lessen"),
        "legend": m("rapport_lessen_uitleg"),
        "none": m("rapport_lessen_geen"),
        "columns": [
            m(f"rapport_les_{key}")
            for key in ("nummer", "tekst", "bron", "eigenaar", "datum", "status")
        ],
        "rows": [_shown(spec, lesson) for lesson in (*found["open"], *found["done"])],
    }


def _shown(spec: Interview, lesson: Mapping[str, Any]) -> dict[str, str]:
    if lesson["owner_role"] is not None:
        owner = spec.message(f"rol_{lesson['owner_role']}")
    elif lesson["owner_id"] is not None:
        owner = lesson["owner_name"] or spec.message(
            "les_collega_nummer", nummer=lesson["owner_id"]
        )
    else:
        owner = spec.message("les_geen_eigenaar")
    due = lesson["due_on"]
    return {
        "nummer": str(lesson["id"]),
        "team": lesson["team"],
        "tekst": lesson["text"],
        "bron": lesson["source"] or "—",
        "eigenaar": owner,
        "datum": "—" if due is None else _FORMAT.date(date.fromisoformat(due)),
        "status": spec.message(f"actie_status_{lesson['status']}"),
    }


def lessons_csv(writer: Any, found: Mapping[str, Any] | None, spec: Interview) -> None:
    """The lessons as CSV lines: kwartaal empty, the team, `lessen`, `<number> <part>`,
    and the part as shown (the text verbatim)."""
    for lesson in (found or {}).get("open", []) + (found or {}).get("done", []):
        shown = _shown(spec, lesson)
        for part in CSV_PARTS:
            writer.writerow(
                ["", shown["team"], "lessen", f"{shown['nummer']} {part}", shown[part]]
            )


__all__ = [
    "LESSON_DONE",
    "LESSON_OPEN",
    "LessonDenied",
    "LessonService",
    "Refused",
    "Step",
]
