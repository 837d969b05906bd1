"""Rendering a plan into documents from the Jinja2 templates in prompts/."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.docx_render import render_docx
from bot.pdf import render_chart, render_pdf, render_poster
from dialogs import Formatter, Interview
from dialogs.display import answer_text, canvas_view, capitalized, plan_view, rendement_view

# The chart beside the totals on the Word file's first page is drawn this wide (half the
# text width), at the size it is shown.
WORD_CHART_CM = 8

# Formats a plan can be rendered to (JSON is an export of the data itself, see exchange).
FORMATS = ("pdf", "docx", "md", "html", "png", "poster")
# The file name extension of each format where it is not the format's own name.
EXTENSIONS = {"poster": "pdf"}


@dataclass(frozen=True)
class CourseShown:
    """The plan's course as documents show it (bot.course.shown): its stage in page 1's
    title band and a short Verloop section at the end; empty for a plan in the making."""

    status: str = ""
    lines: tuple[str, ...] = ()


NO_COURSE = CourseShown()


@dataclass(frozen=True)
class Section:
    """A short section after the steps, from what happened after the plan (the
    escalatieladder, say): a title and its lines, worded already."""

    title: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class AfterPlan:
    """What happened to a plan after the interview, as its documents show it: the course
    (stage and steps), sections after the steps (the escalatieladder), and the rows of the
    section "Evaluatie" (bot.evaluations). Gathered in one place: bot.bootstrap.App.after."""

    course: CourseShown = NO_COURSE
    sections: tuple[Section, ...] = ()
    evaluations: tuple[dict[str, str], ...] = ()


NOTHING_AFTER = AfterPlan()


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")
_BLANK_RUNS = re.compile(r"\n{3,}")


# Page 1 is measured before it is laid out, to scale it down where many long answers would
# not fit A4 (canvas.typ, fit-page). That lays it out twice, a fifth of a plan's PDF. Texts
# of up to this many characters (canvas_weight) fit unscaled even in the widest letters, so
# they are not measured; tests/integration/test_plan_page_one.py holds the bound to that.
CANVAS_UNMEASURED = 1300


def canvas_weight(value: Any) -> int:
    """The characters of every text in `value` (page 1's data), a line break counted as a
    whole line of 80."""
    if isinstance(value, str):
        return len(value) + 79 * value.count("\n")
    if isinstance(value, Mapping):
        return sum(canvas_weight(v) for v in value.values())
    if isinstance(value, list | tuple):
        return sum(canvas_weight(v) for v in value)
    return 0


def md_escape(text: str) -> str:
    """Escape Markdown so user text shows literally and cannot add headings, links or HTML."""
    escaped = _MD_SPECIAL.sub(r"\\\1", text)
    # A line starting with `1.`, `-` or `+` would become a list item.
    return re.sub(r"(?m)^(\s*)(\d+)\.(\s)|^(\s*)([-+])(\s)", _escape_list_marker, escaped)


def _escape_list_marker(match: re.Match[str]) -> str:
    if match.group(2) is not None:
        return f"{match.group(1)}{match.group(2)}\\.{match.group(3)}"
    return f"{match.group(4)}\\{match.group(5)}{match.group(6)}"


def md_block(text: str) -> str:
    """A multi-line answer as Markdown lines with hard line breaks, escaped."""
    lines = md_escape(text).splitlines()
    return "  \n".join(line.rstrip() for line in lines)


_PLAIN = frozenset({str, int, bool, type(None)})


def _jsonable(value: Any) -> Any:
    """Views as plain JSON data for templates in other languages (Typst), amounts as text.
    Called for every value of a plan's views (a thousand for a typical plan): the common
    cases are tested first, by exact type."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is tuple or kind is list:
        return [_jsonable(v) for v in value]
    if kind is Decimal:
        return str(value)
    if isinstance(value, str | int):  # a StrEnum, say
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # The views are plain frozen dataclasses: their fields are their __dict__.
        return {name: _jsonable(v) for name, v in vars(value).items()}
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


# How many formatted amounts (and numbers) are kept before the cache starts again.
_CACHED = 4096


class _CachedFormatter:
    """A Formatter that remembers what it formatted: a plan shows the same amounts in
    several places, and Babel takes tens of microseconds for each."""

    def __init__(self, fmt: Formatter) -> None:
        self._fmt = fmt
        self._money: dict[tuple[Decimal, bool], str] = {}
        # Keyed by the text: 12 and 12.0 are equal Decimals but are written differently.
        self._numbers: dict[str, str] = {}

    def money(self, amount: Decimal, *, exact: bool = False) -> str:
        key = (amount, exact)
        shown = self._money.get(key)
        if shown is None:
            if len(self._money) > _CACHED:  # amounts from many plans: start again
                self._money.clear()
            shown = self._money[key] = self._fmt.money(amount, exact=exact)
        return shown

    def number(self, value: Decimal) -> str:
        # Quantities repeat even more than amounts (12 maanden, 1 keer).
        key = str(value)
        shown = self._numbers.get(key)
        if shown is None:
            if len(self._numbers) > _CACHED:
                self._numbers.clear()
            shown = self._numbers[key] = self._fmt.number(value)
        return shown

    def date(self, value: date) -> str:
        return self._fmt.date(value)


class Renderer:
    """Turns a plan's stored answers into documents and messages."""

    def __init__(self, spec: Interview, fmt: Formatter, template_dirs: list[Path]) -> None:
        self.spec = spec
        self.fmt: Formatter = _CachedFormatter(fmt)
        self.template_dirs = template_dirs
        self.html_env = Environment(
            loader=FileSystemLoader([str(d) for d in template_dirs]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=True,  # user text is escaped; the template's own markup is not
        )
        self.env = Environment(
            loader=FileSystemLoader([str(d) for d in template_dirs]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            autoescape=False,  # Markdown, escaped field by field with the md filters
        )
        self.env.filters["md"] = md_escape
        self.env.filters["md_block"] = md_block

    def markdown(
        self,
        household: str,
        answers: Mapping[str, Any],
        today: date,
        open_points: Collection[str] = (),
        after: AfterPlan = NOTHING_AFTER,
    ) -> str:
        title = answers.get("plan.titel") or self.spec.title
        text = self.env.get_template("plan.md.j2").render(
            title=title,
            household=household,
            date=self.fmt.date(today),
            steps=plan_view(self.spec, answers, self.fmt, open_points),
            rendement=rendement_view(self.spec, answers, self.fmt),
            missing=self.spec.message("niet_ingevuld"),
            open_point=self.spec.message("document_open_punt"),
            course=after.course,
            wording=self._wording(),
            follow_up=after.sections,
        )
        return _BLANK_RUNS.sub("\n\n", text).strip() + "\n"

    def data(
        self,
        household: str,
        answers: Mapping[str, Any],
        today: date,
        open_points: Collection[str] = (),
        after: AfterPlan = NOTHING_AFTER,
    ) -> dict[str, Any]:
        """Everything a document shows, as JSON-compatible data (user text stays data),
        with what happened after the interview (`after`)."""
        rendement = rendement_view(self.spec, answers, self.fmt)
        largest = max((s.total for s in rendement.scenarios), default=Decimal(0))
        bars = [
            # Bar heights in thousandths of the largest total: geometry, not money.
            int(s.total * 1000 / largest) if largest > 0 else 0
            for s in rendement.scenarios
        ]
        keys = [s.key for s in rendement.scenarios]
        wording = self._wording()
        steps = plan_view(self.spec, answers, self.fmt, open_points)
        title = str(answers.get("plan.titel") or self.spec.title)
        professional = str(answers.get("plan.professional") or "")
        day = self.fmt.date(today)
        canvas = _jsonable(canvas_view(self.spec, steps, answers))
        return {
            "title": title,
            "household": household,
            "professional": professional,
            "date": day,
            "missing": self.spec.message("niet_ingevuld"),
            "wording": wording,
            "course": {"status": after.course.status, "lines": list(after.course.lines)},
            "canvas": canvas,
            # Page 1 needs no measuring: it fits unscaled (see CANVAS_UNMEASURED).
            "canvas_fits": canvas_weight(
                (canvas, title, professional, household, day, after.course.status)
            )
            <= CANVAS_UNMEASURED,
            "steps": _jsonable(steps),
            "evaluations": [dict(row) for row in after.evaluations],
            "rendement": {
                **_jsonable(rendement),
                "bars": bars,
                "doorbraak_index": keys.index("doorbraak") if "doorbraak" in keys else 0,
                "scenarios": [
                    {**_jsonable(s), "label": capitalized(s.name)} for s in rendement.scenarios
                ],
                "comparisons": [
                    {**_jsonable(c), "title": capitalized(c.label)} for c in rendement.comparisons
                ],
            },
            "follow_up": _jsonable(after.sections),
        }

    def _wording(self) -> dict[str, str]:
        return {
            key.removeprefix("document_"): value
            for key, value in self.spec.messages.items()
            if key.startswith("document_")
        }

    def pdf(self, household: str, answers: Mapping[str, Any], today: date) -> bytes:
        return self.from_data("pdf", self.data(household, answers, today))

    def chart(self, household: str, answers: Mapping[str, Any], today: date) -> bytes:
        """The cost chart as a PNG picture."""
        return self.from_data("png", self.data(household, answers, today))

    def docx(self, household: str, answers: Mapping[str, Any], today: date) -> bytes:
        return self.from_data("docx", self.data(household, answers, today))

    def html(self, household: str, answers: Mapping[str, Any], today: date) -> str:
        return self.from_data("html", self.data(household, answers, today)).decode("utf-8")

    def render(
        self,
        fmt: str,
        household: str,
        answers: Mapping[str, Any],
        today: date,
        open_points: Collection[str] = (),
        after: AfterPlan = NOTHING_AFTER,
    ) -> bytes:
        """A document in one of FORMATS, as bytes ready to write or send; `open_points` are
        the fields noted `weet ik nog niet` (dialogs.noted_open), shown as open; `after` what
        happened to the plan after the interview."""
        if fmt == "md":
            return self.markdown(household, answers, today, open_points, after).encode("utf-8")
        return self.from_data(fmt, self.data(household, answers, today, open_points, after))

    def from_data(self, fmt: str, data: dict[str, Any]) -> bytes:
        """A document other than Markdown from the data of `data()`."""
        match fmt:
            case "pdf":
                return render_pdf(data, self.template_dirs)
            case "png":
                return render_chart(data, self.template_dirs)
            case "poster":
                return render_poster(data, self.template_dirs)
            case "docx":
                figures = data["rendement"]["figures"]
                chart = render_chart(data, self.template_dirs, WORD_CHART_CM) if figures else None
                dirs = self.template_dirs
                template = next(d / "plan.docx" for d in dirs if (d / "plan.docx").exists())
                return render_docx(data, template, chart)
            case "html":
                html = self.html_env.get_template("plan.html.j2").render(**data)
                return html.encode("utf-8")
        raise ValueError(f"unknown document format {fmt!r}")

    def message(self, part: str, answers: Mapping[str, Any]) -> str:
        """A summary sent as a chat message, from the template `<part>.txt.j2`."""
        missing = self.spec.message("niet_ingevuld")

        def answer(key: str) -> str:
            return answer_text(self.spec, key, answers, self.fmt) or missing

        text = self.env.get_template(f"{part}.txt.j2").render(
            answer=answer,
            filled=lambda key: key in answers,
            rendement=rendement_view(self.spec, answers, self.fmt),
        )
        return _BLANK_RUNS.sub("\n\n", text).strip()
