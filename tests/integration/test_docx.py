"""The Word document: plans driven through the dialog, rendered, and read back with python-docx."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator
from datetime import date
from io import BytesIO
from typing import Any

import pytest
from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.table import Table

import prompts
from bench.render import EVELINE_COSTS, drive_plan
from bot.bootstrap import App, bootstrap
from bot.config import Settings
from bot.docx_render import render_docx
from dialogs import Field, Kind
from tests.conftest import sample_answer
from tests.integration.test_exchange import fill_plan

TEMPLATE = prompts.PACKAGE_DIR / prompts.TEMPLATES / "plan.docx"
STEPS = [
    "Stap 1. Situatieschets",
    "Stap 2. Toekomstperspectief",
    "Stap 3. Overzicht",
    "Stap 4. Doorbraak",
    "Stap 5. Onderbouwen met de waardendriehoek",
    "Stap 6. Actieplan",
]
HOSTILE = ['#read("/etc/passwd")', "]}{{ 7*7 }}", "<script>alert(1)</script>", "$x$"]
TODAY = date(2025, 3, 1)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    application = bootstrap(Settings(data_dir=tmp_path_factory.mktemp("docx")))
    yield application
    application.engine.dispose()


def drive(app: App, household: str, answer: Callable[[Field], str], costs: list[str]) -> None:
    """Answer every question with `answer`; a costs field takes the next `costs` inputs."""
    drive_plan(app, household, costs, answer, author="terminal:tester", strict=True)


def plan_data(app: App, household: str) -> dict[str, Any]:
    found = app.service.current(household)
    assert found is not None
    return app.renderer.data(household, found[0].answers, TODAY)


def read(data: dict[str, Any], chart_png: bytes | None = None) -> DocumentObject:
    return Document(BytesIO(render_docx(data, TEMPLATE, chart_png)))


def text_of(doc: DocumentObject) -> str:
    """Every paragraph and every table cell, no-break spaces as plain spaces."""
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts).replace("\xa0", " ")


def fields(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for step in data["steps"]:
        for section in step["sections"]:
            yield from section["fields"]


def shown_answers(field: dict[str, Any]) -> list[str]:
    if field["rows"]:
        return [cell for row in field["rows"] for cell in row if cell]
    return list(field["items"]) or [field["text"]]


def table_with_header(doc: DocumentObject, *header: str) -> list[Table]:
    return [t for t in doc.tables if tuple(c.text for c in t.rows[0].cells) == header]


def cost_tables(doc: DocumentObject) -> list[Table]:
    return [t for t in doc.tables if len(t.rows) > 1 and t.rows[1].cells[0].text == "Omschrijving"]


def png(width: int, height: int) -> bytes:
    """A plain white PNG, enough for python-docx to place a picture."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    raw = b"".join(b"\x00" + b"\xff" * (3 * width) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def test_the_eveline_plan(app: App) -> None:
    fill_plan(app, "3012", EVELINE_COSTS, every_field=True)
    data = plan_data(app, "3012")
    doc = read(data, png(300, 150))
    text = text_of(doc)

    assert doc.paragraphs[0].style is not None and doc.paragraphs[0].style.name == "Title"
    assert doc.paragraphs[0].text == data["title"]
    assert [p.text for p in doc.paragraphs if _style(p) == "Heading 1"] == STEPS
    assert [p.text for p in doc.paragraphs if _style(p) == "Heading 2"] == ["Waardendriehoek"] + [
        s["title"] for step in data["steps"] for s in step["sections"] if s["title"]
    ]
    for line in (
        "Huishoudnummer: 3012",
        f"Laatst bijgewerkt: {data['date']}",
        "Professional: Antwoord",
    ):
        assert line in text
    for field in fields(data):
        assert field["filled"], field["key"]
        if field["layout"] == "costs":  # one cost table for the three, checked below
            continue
        for answer in shown_answers(field):
            assert answer.replace("\xa0", " ") in text, (field["key"], answer)
    found = app.service.current("3012")
    assert found is not None
    for key, stored in found[0].answers.items():
        if isinstance(stored, str) and app.dialog.spec.field(key).kind is Kind.TEXT:
            assert stored in text, key
    for total in ("€ 0,00", "€ 57.650,00", "€ 3.600,00", "€ 54.050,00"):
        assert total in text
    # the comparisons once, on page 1, named as the book names them
    assert text.count("Directe kosten\t€ 3.600,00") == 1
    assert text.count("Reële baten\t€ 54.050,00") == 1
    assert "Reële baten: doorbraakscenario tegenover het dreigende scenario" in text

    # the actieplan: real tables whose header row repeats on every page
    actions = table_with_header(doc, "Wie", "Wat", "Wanneer")
    assert len(actions) == 3  # the first points on page 1, then both fields
    assert [c.text for c in actions[1].rows[1].cells] == [
        "Wijkteam",
        "actieplan voor_doorbraak regelen",
        "binnen een week",
    ]
    for table in actions:
        properties = table.rows[0]._tr.trPr
        assert properties is not None and properties.find(qn("w:tblHeader")) is not None
        assert [round(c.width / table.columns[0].width, 1) for c in table.columns] == [
            1.0,
            2.2,
            0.8,
        ]
    # one cost table like the book's: scenario names over two header rows, a bold total
    (costs,) = cost_tables(doc)
    assert [c.text for c in costs.rows[1].cells] == ["Omschrijving", "Prijs"] + [
        "Aantal",
        "Totaal in 12 maanden",
    ] * 3
    assert costs.rows[0].cells[2].text == "De huidige situatie"
    rows = {
        row.cells[0].text: [c.text.replace("\xa0", " ") for c in row.cells] for row in costs.rows
    }
    assert rows["Maatschappelijke opvang"][1:] == [
        "€ 100,00 per dag", "—", "—", "182 dagen", "€ 18.200,00", "0 dagen", "€ 0,00",
    ]  # fmt: skip
    last = costs.rows[-1].cells
    assert last[0].text == "Totaal in 12 maanden"
    assert [last[i].text.replace("\xa0", " ") for i in (2, 4, 6)] == [
        "€ 0,00",
        "€ 57.650,00",
        "€ 3.600,00",
    ]
    assert all(run.bold for cell in last for p in cell.paragraphs for run in p.runs)
    for row in costs.rows[2:-1]:
        assert [c.paragraphs[0].alignment for c in row.cells[1:]] == [WD_ALIGN_PARAGRAPH.RIGHT] * 7
    # the chart beside the totals, with alt text stating the figures
    (chart,) = doc.inline_shapes
    described = chart._inline.docPr.get("descr")
    for figure in ("€ 57.650", "€ 3.600", "€ 0", "Directe kosten", "− € 54.050"):
        assert figure in described

    # page: A4, header with title and household number, footer with text and page number
    section = doc.sections[0]
    assert section.page_width is not None and section.page_height is not None
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    header = "\n".join(p.text for p in section.header.paragraphs)
    assert data["title"] in header and "Huishoudnummer 3012" in header
    footer = section.footer.paragraphs[-1]
    assert footer.text.startswith("Doorbraakplan, opgesteld met de Doorbraakmethode")
    fields_shown = [f.get(qn("w:instr")).strip() for f in footer._p.iter(qn("w:fldSimple"))]
    assert fields_shown == ["PAGE", "NUMPAGES"] and "Pagina  van " in footer.text
    assert doc.core_properties.title == data["title"]


def _style(paragraph: Any) -> str:
    return paragraph.style.name if paragraph.style is not None else ""


def test_answers_are_text_never_markup(app: App) -> None:
    def hostile(field: Field) -> str:
        if field.key == "situatieschets.wat_speelt":
            return "regel één\nregel twee"
        if field.kind is Kind.TEXT:
            return HOSTILE[len(field.key) % len(HOSTILE)]
        return sample_answer(field)

    drive(app, "4021", hostile, ["Klaar", "Klaar", "Klaar"])
    data = plan_data(app, "4021")
    doc = read(data)
    text = text_of(doc)
    for answer in HOSTILE:
        assert answer in text
    assert "49" not in text and "root:" not in text
    assert "regel één\nregel twee" in [p.text for p in doc.paragraphs]
    assert doc.paragraphs[0].text in HOSTILE

    # characters XML 1.0 forbids are dropped rather than breaking the file
    field = next(fields(data))
    field["text"] = "a\x00b\x07c\x1bd\ufffe\ud800e\tf"
    data["title"] = "titel\x0b met\x01 stuurtekens"
    doc = read(data)
    assert doc.paragraphs[0].text == "titel met stuurtekens"
    assert "abcde\tf" in text_of(doc)


def test_a_plan_with_only_the_required_fields(app: App) -> None:
    # no cost lines: each of the three scenarios is passed over
    skip = ["overslaan"] * 3
    drive(app, "5030", lambda f: sample_answer(f) if f.required else "overslaan", skip)
    data = plan_data(app, "5030")
    doc = read(data)
    paragraphs = doc.paragraphs
    position = 0
    unfilled = 0
    for field in fields(data):
        if field["layout"] == "costs":  # one cost table, see test_the_eveline_plan
            continue
        # labels come in the order of the plan, each followed by its answer
        while not (
            paragraphs[position].text == field["label"]
            and _style(paragraphs[position]) == "Veldlabel"
        ):
            position += 1
        if not field["filled"]:
            unfilled += 1
            answer = paragraphs[position + 1]
            assert answer.text == "niet ingevuld", field["key"]
            assert all(run.italic for run in answer.runs)
    assert unfilled >= 10
    text = text_of(doc)
    assert "Wijkteam" in text and "Stap 6. Actieplan" in text


def test_sixty_cost_lines_and_very_long_answers(app: App) -> None:
    lines: list[str] = []
    for n in range(1, 61):
        lines += [f"Kostenpost nummer {n}", f"{n},25", "uur", "2", "per maand"]
    costs = [*lines, "Klaar", "Nee, nieuwe posten", "Klaar", "Nee, nieuwe posten", "Klaar"]
    long_answers: dict[str, str] = {}

    def long(field: Field) -> str:
        if field.kind is Kind.TEXT and field.max_length is None:
            words = " ".join(f"{field.key}-woord-{i}" for i in range(1500))
            long_answers[field.key] = words[:20_000].rstrip(" -")
            return long_answers[field.key]
        return "12" if field.key == "rendement.periode" else sample_answer(field)

    drive(app, "6040", long, costs)
    doc = read(plan_data(app, "6040"))
    (table,) = cost_tables(doc)
    assert len(table.rows) == 63  # two header rows, 60 lines, total
    assert [row.cells[0].text for row in table.rows[2:-1]] == [
        f"Kostenpost nummer {n}" for n in range(1, 61)
    ]
    # 2 hours a month at € n,25 for 12 months, summed over n = 1..60: 24 × (1830 + 15)
    assert table.rows[-1].cells[2].text.replace("\xa0", " ") == "€ 44.280,00"
    paragraphs = {p.text for p in doc.paragraphs}
    assert len(long_answers) >= 10
    for key, answer in long_answers.items():
        assert len(answer) > 19_900
        assert answer in paragraphs, key
