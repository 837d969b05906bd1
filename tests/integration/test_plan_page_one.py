"""Page 1 is the canvas with the result, in the PDF, the Word file and the HTML; read back
with pypdf and python-docx from real documents of plans driven through the dialog."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pypdf
import pytest
from docx import Document
from docx.document import Document as DocumentObject
from docx.oxml.ns import qn

from bench.render import EVELINE_COSTS, drive_plan
from bot.bootstrap import App, bootstrap
from bot.config import Settings
from bot.documents import CANVAS_UNMEASURED, canvas_weight
from docs.make_images import ANSWERS
from tests.conftest import ROOT, env_for

TODAY = date(2026, 11, 23)
TOTALS = ("€ 0,00", "€ 57.650,00", "€ 3.600,00")
COMPARISONS = ("Directe kosten € 3.600,00", "Reële baten € 54.050,00")
VALUES = ("Legitimiteit", "Betrokkenheid", "Rendement")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    application = bootstrap(Settings(data_dir=tmp_path_factory.mktemp("page1")))
    yield application
    application.engine.dispose()


@pytest.fixture(scope="module")
def eveline(app: App) -> dict[str, Any]:
    """The README's complete invented plan, with the book's Eveline costs."""
    return drive_plan(
        app, "3012", EVELINE_COSTS, lambda f: ANSWERS.get(f.key, "overslaan"), author="t"
    )


def plain(text: str) -> str:
    """No-break and zero-width spaces as the reader sees them, runs of space as one."""
    # A word hyphenated at the end of a line is read back whole.
    text = re.sub("\xad\\s*", "", text)
    return " ".join(text.replace("\xa0", " ").replace("\u200b", "").split())


def pdf_pages(pdf: bytes) -> list[str]:
    return [plain(page.extract_text()) for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def first_section(doc: DocumentObject) -> str:
    """The Word file's text up to the first page break: paragraphs and table cells."""
    parts: list[str] = []

    def text(paragraph: Any) -> str:
        runs = paragraph.iter(qn("w:t"), qn("w:tab"))
        return "".join((t.text or "") if t.tag == qn("w:t") else " " for t in runs)

    for child in doc.element.body.iterchildren():
        if child.tag == qn("w:p"):
            if child.findall(".//" + qn("w:br")):
                break
            parts.append(text(child))
        elif child.tag == qn("w:tbl"):
            parts.extend(text(paragraph) for paragraph in child.iter(qn("w:p")))
    return plain("\n".join(parts))


def test_page_one_of_the_pdf_is_the_canvas_with_the_result(
    app: App, eveline: dict[str, Any]
) -> None:
    pages = pdf_pages(app.renderer.render("pdf", "3012", eveline, TODAY))
    first = pages[0]
    for figure in (*TOTALS, *COMPARISONS, *VALUES):
        assert figure in first, figure
    # the chart beside the totals: each scenario's total and both differences drawn
    for drawn in ("€ 57.650", "+ € 3.600", "− € 54.050"):
        assert drawn in first, drawn
    assert "Laatst bijgewerkt: 23 november 2026" in first
    assert "Werkgebied: Wijk Noord" in first
    assert first.count(ANSWERS["plan.titel"]) == 1
    assert first.count(ANSWERS["plan.professional"]) == 1
    assert "☒ Wonen ☐ Welzijn ☐ Werk ☒ Financieel ☐ Opleiding" in first
    assert ANSWERS["doorbraak.doorbraak"] in first and ANSWERS["doorbraak.nodig"] in first
    assert "Het dreigende scenario" in first and "dreigend scenario" not in first
    assert "Stap 1. Situatieschets" in pages[1]
    assert "Pagina 1 van " in first


def test_the_word_file_and_the_html_open_with_the_same_canvas(
    app: App, eveline: dict[str, Any]
) -> None:
    doc = Document(io.BytesIO(app.renderer.render("docx", "3012", eveline, TODAY)))
    first = first_section(doc)
    for figure in (*TOTALS, *VALUES, "Directe kosten € 3.600,00", "Reële baten € 54.050,00"):
        assert figure in first, figure
    assert first.count(ANSWERS["plan.titel"]) == 1
    assert "Laatst bijgewerkt: 23 november 2026" in first
    # every picture has alt text, and the chart's states the figures
    shapes = list(doc.inline_shapes)
    assert shapes
    for shape in shapes:
        assert shape._inline.docPr.get("descr")
    described = shapes[0]._inline.docPr.get("descr")
    for figure in ("€ 0", "€ 57.650", "€ 3.600", "+ € 3.600", "− € 54.050"):
        assert figure in described
    # the comparisons once in the whole file
    whole = plain("\n".join(p.text for p in doc.paragraphs)) + first
    assert whole.count("Reële baten € 54.050,00") == 1

    html = app.renderer.render("html", "3012", eveline, TODAY).decode()
    canvas = plain(re.sub(r"<[^>]+>", " ", html.split('<h2 id="stap-1">')[0]))
    for figure in (*TOTALS, *COMPARISONS, *VALUES):
        assert figure in canvas, figure
    (svg,) = re.findall(r"<svg.*?</svg>", html, re.S)
    assert "− € 54.050" in svg.replace("\xa0", " ") and "+ € 3.600" in svg.replace("\xa0", " ")
    assert "<thead>" in html and "@media print" in html


def test_a_plan_without_costs_says_so_and_shows_no_zero(app: App) -> None:
    answers = {
        "plan.titel": "Een plan zonder kosten",
        "rendement.huidig": [],
        "rendement.dreigend": [],
        "rendement.doorbraak": [],
    }
    pdf = pdf_pages(app.renderer.render("pdf", "7070", answers, TODAY))
    assert "Rendement (per jaar) niet ingevuld" in pdf[0]
    assert not any("€ 0" in page for page in pdf)
    doc = Document(io.BytesIO(app.renderer.render("docx", "7070", answers, TODAY)))
    assert "Rendement (per jaar) niet ingevuld" in first_section(doc)
    assert "€ 0" not in first_section(doc) and not list(doc.inline_shapes)
    html = app.renderer.render("html", "7070", answers, TODAY).decode()
    assert "<svg" not in html and "€\xa00" not in html

    given = {**answers, "rendement.geen_kosten": "Er zijn nog geen prijzen bekend."}
    pdf = pdf_pages(app.renderer.render("pdf", "7070", given, TODAY))
    assert "Rendement (per jaar) Er zijn nog geen prijzen bekend." in pdf[0]


def test_open_points_stay_open_on_page_one(app: App) -> None:
    answers = {"plan.titel": "Open punten", "actieplan.voor_doorbraak": ["Wijkteam | bellen"]}
    pdf = app.renderer.render(
        "pdf", "7071", answers, TODAY, open_points=("doorbraak.nodig", "actieplan.evaluatie")
    )
    first = pdf_pages(pdf)[0]
    assert "Wat is er nodig open: nog niet bekend" in first
    assert "Evaluatie: open: nog niet bekend" in first
    assert "Wijkteam bellen open" in first  # the wanneer not given


def test_a_300_character_action_point_stays_inside_the_page(app: App) -> None:
    long = "A" * 300
    answers = {"plan.titel": "Lang", "actieplan.voor_doorbraak": [long]}
    pdf = app.renderer.render("pdf", "7072", answers, TODAY)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    seen = 0
    for page in reader.pages:
        width = float(page.mediabox.width)
        runs: list[tuple[float, float, str]] = []

        def visit(text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
            if "AAA" in text:
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                runs.append((x, size * cm[0], text.strip()))  # noqa: B023

        page.extract_text(visitor_text=visit)
        for x, size, text in runs:
            # a capital A is more than half an em wide: a run reaching past the right
            # margin (2 cm) would have crossed it
            assert x > 0 and x + len(text) * size * 0.5 < width - 56, (x, len(text))
        seen += sum(len(text) for _, _, text in runs)
    assert seen >= 300  # the full answer in the steps, the start of it on page 1
    text = "".join(p.replace(" ", "") for p in pdf_pages(pdf))
    assert long in text
    # the point was not split, so it stands under Wat; the empty Wie reads —
    assert "— " + "A" * 5 in pdf_pages(pdf)[-1] or "—" in pdf_pages(pdf)[-1]


HOSTILE = (
    "#set page(width: 1pt)",
    "</td><script>alert(1)</script>",
    "{{ x }}",
    "*bold*",
    "$x$ en $",
    "C:\\pad\\n \\\\ \\",
)


def hostile_answers() -> dict[str, Any]:
    line = {"prijs": 10000, "eenheid": "dag", "aantal": "3", "frequentie": "eenmalig"}
    keys = (
        "plan.titel",
        "plan.professional",
        "plan.werkgebied",
        "situatieschets.wat_speelt",
        "doorbraak.doorbraak",
        "doorbraak.nodig",
        "legitimiteit.regel",
        "betrokkenheid.regie",
        "waardendriehoek.weging",
    )
    answers: dict[str, Any] = {key: HOSTILE[n % len(HOSTILE)] for n, key in enumerate(keys)}
    answers["actieplan.voor_doorbraak"] = [f"{h} | {h} | {h}" for h in HOSTILE]
    answers["rendement.huidig"] = [{**line, "omschrijving": h} for h in HOSTILE]
    answers["rendement.dreigend"] = []
    answers["rendement.doorbraak"] = [{**line, "omschrijving": HOSTILE[0]}]
    return answers


def test_hostile_text_stays_verbatim_in_every_format(app: App) -> None:
    answers = hostile_answers()
    pdf = app.renderer.render("pdf", "6066", answers, TODAY)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert {round(float(p.mediabox.width)) for p in reader.pages} == {595}  # still A4
    text = " ".join(pdf_pages(pdf))
    doc = Document(io.BytesIO(app.renderer.render("docx", "6066", answers, TODAY)))
    word = plain(
        "\n".join(
            [p.text for p in doc.paragraphs]
            + [c.text for t in doc.tables for r in t.rows for c in r.cells]
        )
    )
    html = app.renderer.render("html", "6066", answers, TODAY).decode()
    assert "<script>" not in html
    shown = plain(re.sub(r"<[^>]+>", " ", html).replace("&lt;", "<").replace("&gt;", ">"))
    shown = shown.replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&")
    for hostile in HOSTILE:
        assert plain(hostile) in text, hostile
        assert plain(hostile) in word, hostile
        assert plain(hostile) in shown, hostile
    assert "bold" in text and "<b>" not in html


def test_the_poster_is_one_a3_landscape_page_with_hostile_text_verbatim(app: App) -> None:
    poster = app.renderer.render("poster", "6066", hostile_answers(), TODAY)
    reader = pypdf.PdfReader(io.BytesIO(poster))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (1191, 842)  # A3, landscape
    text = plain(reader.pages[0].extract_text())
    for hostile in HOSTILE[:3]:  # the title band, the professional, the werkgebied
        assert plain(hostile) in text, hostile


def test_export_writes_the_poster_from_the_command_line(
    app: App, eveline: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "poster.pdf"
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "export", "--household", "3012", "--format", "poster",
         "-o", str(out)],
        env=env_for(app.settings.data_dir, DOORBRAAK_SECRET_KEY=""),  # the key file there
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    reader = pypdf.PdfReader(out)
    assert len(reader.pages) == 1 and float(reader.pages[0].mediabox.width) > 1190
    text = plain(reader.pages[0].extract_text())
    for figure in (*TOTALS, *COMPARISONS, ANSWERS["doorbraak.doorbraak"]):
        assert figure in text, figure


def test_a_long_answer_is_shortened_on_page_one_with_a_pointer(app: App) -> None:
    answers = {"plan.titel": "Lang", "situatieschets.wat_speelt": "woord " * 300}
    pages = pdf_pages(app.renderer.render("pdf", "7073", answers, TODAY))
    assert "(verder in stap 1, pagina 2)" in pages[0]
    assert pages[0].count("woord") < 60 and " ".join(pages).count("woord") >= 300
    html = app.renderer.render("html", "7073", answers, TODAY).decode()
    assert '<a href="#stap-1">(verder in stap 1)</a>' in html and 'id="stap-1"' in html


def test_the_canvas_stays_on_page_one_when_every_answer_is_long(app: App) -> None:
    long = "lange tekst " * 100
    keys = ("situatieschets.wat_speelt", "doorbraak.doorbraak", "doorbraak.nodig",
            "legitimiteit.regel", "legitimiteit.wetten_anders", "betrokkenheid.regie",
            "waardendriehoek.weging")  # fmt: skip
    answers: dict[str, Any] = dict.fromkeys(keys, long)
    answers |= {
        "plan.titel": "Een hele lange titel " * 9,
        "plan.werkgebied": "W " * 90,
        "legitimiteit.wetten": ["Participatiewet", "Wmo", "Anders, namelijk"],
        "actieplan.voor_doorbraak": [f"Wijkteam | {long} | {long}"] * 4,
    }
    # Too long to fit unscaled: measured, and scaled down to the page.
    assert not app.renderer.data("7074", answers, TODAY)["canvas_fits"]
    pages = pdf_pages(app.renderer.render("pdf", "7074", answers, TODAY))
    assert "Eerste actiepunten" in pages[0] and "Evaluatie" in pages[0]
    assert "Stap 1. Situatieschets" not in pages[0] and "Stap 1. Situatieschets" in pages[1]
    poster = app.renderer.render("poster", "7074", answers, TODAY)
    assert len(pypdf.PdfReader(io.BytesIO(poster)).pages) == 1


def wide_answers(size: int) -> dict[str, Any]:
    """Every answer page 1 shows, `size` characters of the widest letters (capital W and M)."""
    words = ("WMWMW", "MWWMMW", "Maatschappelijke", "WMMW")

    def text(length: int) -> str:
        made = " ".join(words[i % len(words)] for i in range(length))
        return made[:length]

    answers: dict[str, Any] = dict.fromkeys(
        ("situatieschets.wat_speelt", "doorbraak.doorbraak", "doorbraak.nodig",
         "legitimiteit.regel", "legitimiteit.wetten_anders", "betrokkenheid.regie",
         "waardendriehoek.weging"),
        text(size),
    )  # fmt: skip
    return answers | {
        "plan.titel": text(size // 2),
        "plan.professional": text(size // 3),
        "plan.werkgebied": text(size // 3),
        "legitimiteit.wetten": ["Participatiewet", "Wmo", "Anders, namelijk"],
        "actieplan.voor_doorbraak": [f"{text(40)} | {text(90)} | {text(40)}"] * 3,
    }


def test_page_one_fits_unmeasured_up_to_its_bound_even_in_the_widest_letters(app: App) -> None:
    """Page 1 is only measured (and scaled) above CANVAS_UNMEASURED characters: the widest
    text just below that bound must still fit A4 unscaled."""
    size = next(
        size
        for size in range(400, 10, -5)
        if app.renderer.data("7076", wide_answers(size), TODAY)["canvas_fits"]
    )
    answers = wide_answers(size)
    data = app.renderer.data("7076", answers, TODAY)
    assert canvas_weight(data["canvas"]) > 0.85 * CANVAS_UNMEASURED  # near the bound
    pages = pdf_pages(app.renderer.from_data("pdf", data))
    assert "Eerste actiepunten" in pages[0] and "Evaluatie: " in pages[0]
    assert "Stap 1. Situatieschets" not in pages[0] and "Stap 1. Situatieschets" in pages[1]


def test_page_one_names_the_other_law_in_the_list_of_laws(app: App) -> None:
    """The choice "Anders, namelijk" is not a law: page 1 lists the law typed for it in its
    place, in one line, and does not show the typed law apart again."""
    answers: dict[str, Any] = {
        "plan.titel": "Andere wet",
        "legitimiteit.wetten": ["Participatiewet", "Anders, namelijk"],
        "legitimiteit.wetten_anders": "Huisvestingswet",
        "legitimiteit.regel": "Voorrang bij urgentie",
    }
    pdf = app.renderer.render("pdf", "7075", answers, TODAY)
    first = pdf_pages(pdf)[0]
    assert "Participatiewet, Huisvestingswet" in first
    # The title band's date is never broken over two lines.
    raw = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "23 november 2026" in raw.replace("\xa0", " ")
    assert "Anders, namelijk" not in first
    assert first.count("Huisvestingswet") == 1
    html = app.renderer.render("html", "7075", answers, TODAY).decode()
    canvas = html.split("Stap 1")[0]
    assert "Participatiewet, Huisvestingswet" in canvas and "Anders, namelijk" not in canvas
