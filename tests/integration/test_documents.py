"""The finished plan as PDF, chart, HTML and Markdown: real Typst, real PDF text extraction."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pypdf
import pytest

from bench.render import EVELINE_COSTS, drive_plan
from bot.bootstrap import App, bootstrap
from bot.config import Settings
from bot.pdf import CHART_PPI
from dialogs import Field, Kind
from tests.conftest import sample_answer

TODAY = date(2026, 11, 23)
HOSTILE = '#read("/etc/passwd") ]}{{ 7*7 }} <script>alert(1)</script> $x$'
TOTALS = ("€ 57.650", "€ 3.600", "€ 54.050")


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    application = bootstrap(Settings(data_dir=tmp_path))
    yield application
    application.engine.dispose()


def build(app: App, answer: Callable[[Field], str], costs: list[str]) -> dict[str, Any]:
    """Drive a plan through the dialog (the period left at a year); its stored answers."""

    def given(field: Field) -> str:
        return "overslaan" if field.key == "rendement.periode" else answer(field)

    return drive_plan(app, "3012", costs, given, author="terminal:tester")


def pdf_text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages).replace("\xa0", " ")


def flat(text: str) -> str:
    return " ".join(text.split())


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, after checking the image data decompresses."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    position, data = 8, b""
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        if kind == b"IDAT":
            data += png[position + 8 : position + 8 + length]
        position += 12 + length
    assert len(zlib.decompress(data)) > width * height  # a real, complete image
    return width, height


def test_the_eveline_plan_in_every_format(app: App) -> None:
    answers = build(app, sample_answer, EVELINE_COSTS)
    renderer, spec = app.renderer, app.dialog.spec
    text = flat(pdf_text(renderer.pdf("3012", answers, TODAY)))
    html = renderer.html("3012", answers, TODAY).replace("\xa0", " ")
    for step in spec.steps:
        assert f"Stap {step.number}. {step.name}" in text
        assert f"Stap {step.number}. {step.name}" in html
    for key, value in answers.items():
        field = spec.field(key)
        if field.kind is Kind.COSTS:
            for line in value:
                assert line["omschrijving"] in text
        elif isinstance(value, list):
            for item in value:
                parts = item.split(" | ") if field.columns else [item]
                for part in parts:
                    assert flat(part) in text, (key, part)
        elif field.kind is Kind.MONEY:
            assert "€ 1.052,32" in text
        elif field.kind is Kind.DATE:
            assert "15 maart 2037" in text
        else:
            assert flat(value) in text, key
    for total in TOTALS:
        assert total in text
        assert total in html
    assert "Directe kosten € 3.600,00" in text and "Reële baten € 54.050,00" in text
    assert "Pagina 1 van " in text
    chart = renderer.chart("3012", answers, TODAY)
    width, height = png_size(chart)
    assert width == round(16 / 2.54 * CHART_PPI)
    assert 200 < height < width


def test_hostile_answers_show_verbatim_and_nothing_is_evaluated(app: App) -> None:
    def hostile(field: Field) -> str:
        if field.kind in (Kind.TEXT,) and not field.max_length:
            return HOSTILE
        return sample_answer(field)

    answers = build(app, hostile, EVELINE_COSTS)
    renderer = app.renderer
    text = pdf_text(renderer.pdf("3012", answers, TODAY))
    assert text.count(HOSTILE) >= 10
    assert "49" not in text.replace("€ 57.650", "").replace("4.9", "")
    assert "root:" not in text
    html = renderer.html("3012", answers, TODAY)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "{{ 7*7 }}" in html and "49" not in html.replace("€ 57.650", "")
    markdown = renderer.markdown("3012", answers, TODAY)
    assert "<script>" not in markdown and "\\<script\\>" in markdown


def test_a_plan_with_only_the_required_fields(app: App) -> None:
    def required_only(field: Field) -> str:
        return sample_answer(field) if field.required else "overslaan"

    answers = build(app, required_only, ["Klaar", "Klaar", "Klaar"])
    text = flat(pdf_text(app.renderer.pdf("3012", answers, TODAY)))
    assert "Werkgebied niet ingevuld" in text
    assert text.count("niet ingevuld") >= 10
    # No cost lines: the rendement shows the reason given, never € 0.
    assert "Antwoord over rendement geen_kosten" in text.split("Stap 1.")[0]
    assert "€ 0" not in text


def test_a_large_plan_renders_whole(app: App) -> None:
    long = " ".join(f"woord{n}" for n in range(2600))[:20_000]
    lines: list[str] = []
    for n in range(60):
        lines += [f"Kostenpost {n:02d}", "12,50", "stuk", str(n % 7), "per maand"]
    costs = [*lines, "Klaar", "Nee, nieuwe posten", "Klaar", "Nee, nieuwe posten", "Klaar"]

    def long_answers(field: Field) -> str:
        if field.kind is Kind.TEXT and not field.max_length:
            return long
        return sample_answer(field)

    answers = build(app, long_answers, costs)
    text = pdf_text(app.renderer.pdf("3012", answers, TODAY))
    for n in range(60):
        assert f"Kostenpost {n:02d}" in text
    words = flat(text)
    assert "woord0 woord1 woord2" in words
    assert long.split()[-1] in words
    assert words.count(long.split()[-1]) >= 10


def test_the_new_canvas_fields_and_an_open_wanneer_show_in_the_documents(app: App) -> None:
    def answer(field: Field) -> str:
        if field.key == "actieplan.na_doorbraak":
            return "Wijkteam: bel Wmo, CIZ en zorgkantoor"
        return sample_answer(field)

    answers = build(app, answer, ["Klaar", "Klaar", "Klaar"])
    markdown = app.renderer.markdown("3012", answers, TODAY)
    for label in (
        "Waar wordt steeds tegenaan gelopen?",
        "Problemen op persoonlijk gebied",
        "Professionele problemen",
        "Systeemproblemen",
        "Domeinen waartussen het schuurt",
        "Wetten waartussen het schuurt",
        "Perspectief over vijf jaar",
        "Hoe de wet van toepassing is",
        "Waarom geen rendement",
        "Regievoerder",
        "Hoe vaak evalueren",
        "Waaraan de evaluatie toetst",
    ):
        assert f"**{label}**" in markdown, label
    assert "### Problemen" in markdown
    assert "Antwoord over rendement geen\\_kosten" in markdown
    assert "| Wijkteam | bel Wmo, CIZ en zorgkantoor | open |" in markdown
    text = flat(pdf_text(app.renderer.pdf("3012", answers, TODAY)))
    assert "Waarom geen rendement" in text and "Perspectief over vijf jaar" in text


def test_a_kept_compiler_renders_each_plan_as_its_own_in_any_thread(app: App) -> None:
    """bot.pdf keeps one Typst compiler per template and thread: no document may show an
    earlier plan's text, in the same thread or in several at once."""
    from concurrent.futures import ThreadPoolExecutor

    def titled(n: int) -> str:
        answers = {"plan.titel": f"Plan nummer {n} van de reeks"}
        return flat(pdf_text(app.renderer.pdf(f"30{n:02d}", answers, TODAY)))

    for n in (1, 2, 3):
        text = titled(n)
        assert f"Plan nummer {n} van de reeks" in text
        assert all(f"Plan nummer {m} " not in text for m in (1, 2, 3) if m != n)
    with ThreadPoolExecutor(max_workers=4) as pool:
        texts = list(pool.map(titled, range(10, 18)))
    for n, text in zip(range(10, 18), texts, strict=True):
        assert f"Plan nummer {n} van de reeks" in text


def test_anders_namelijk_shows_what_was_typed_in_its_place(app: App) -> None:
    def answer(field: Field) -> str:
        if field.key == "legitimiteit.wetten":
            return "pw, huisvestingswet"  # noted under "Anders, namelijk" in the same turn
        return sample_answer(field)

    answers = build(app, answer, ["Klaar", "Klaar", "Klaar"])
    assert answers["legitimiteit.wetten_anders"] == "Huisvestingswet"
    markdown = app.renderer.markdown("3012", answers, TODAY)
    assert "- Participatiewet\n- Huisvestingswet\n" in markdown
    assert "Anders, namelijk" not in markdown
    assert "**Andere wetten en regels**" not in markdown  # not shown twice
    text = flat(pdf_text(app.renderer.pdf("3012", answers, TODAY)))
    assert "Anders, namelijk" not in text and "Huisvestingswet" in text


def test_the_waardendriehoek_message_names_the_other_law_in_place(app: App) -> None:
    answers = {
        "legitimiteit.wetten": ["Participatiewet", "Anders, namelijk"],
        "legitimiteit.wetten_anders": "Huisvestingswet",
    }
    text = app.renderer.message("waardendriehoek", answers)
    assert "- Wetten waaronder de doorbraak valt: Participatiewet, Huisvestingswet\n" in text
    assert "- Wetten waartussen het schuurt: niet ingevuld\n" in text
