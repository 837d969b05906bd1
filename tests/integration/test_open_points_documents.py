"""Open points (`weet ik nog niet`) are shown as open in every document format."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import docx
import pypdf
import pytest

from bot.bootstrap import App, bootstrap
from bot.config import Settings

TODAY = date(2026, 11, 23)
ANSWERS = {"plan.titel": "Een woning voor moeder en drie kinderen"}
OPEN = "open: nog niet bekend"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    application = bootstrap(Settings(data_dir=tmp_path))
    yield application
    application.engine.dispose()


def test_every_format_shows_an_open_point_apart_from_an_unfilled_field(app: App) -> None:
    render = app.renderer.render
    points = ("plan.professional",)

    markdown = render("md", "3012", ANSWERS, TODAY, points).decode()
    assert f"**Naam professional**  \n*{OPEN}*\n" in markdown
    assert "**Werkgebied**  \n*niet ingevuld*\n" in markdown

    html = render("html", "3012", ANSWERS, TODAY, points).decode()
    assert f'<p class="missing open">{OPEN}</p>' in html

    pdf = pypdf.PdfReader(io.BytesIO(render("pdf", "3012", ANSWERS, TODAY, points)))
    pdf_text = " ".join(page.extract_text() for page in pdf.pages)
    assert OPEN in pdf_text

    word = docx.Document(io.BytesIO(render("docx", "3012", ANSWERS, TODAY, points)))
    paragraphs = [p.text for p in word.paragraphs]
    at = paragraphs.index("Naam professional")
    assert paragraphs[at + 1] == OPEN

    # Without open points the same field is simply not filled in.
    assert OPEN not in render("md", "3012", ANSWERS, TODAY).decode()


def test_an_answered_field_is_never_shown_as_open(app: App) -> None:
    answers = {**ANSWERS, "plan.professional": "Professional A"}
    markdown = app.renderer.markdown("3012", answers, TODAY, ("plan.professional",))
    assert OPEN not in markdown
    assert "**Naam professional**  \nProfessional A\n" in markdown
