"""Documents rendered in the worker process: real Typst and python-docx in a spawned child,
compared with what the in-process Renderer makes. Spawning costs about a second, so the tests
share one pool where they can."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pypdf
import pytest

from bench.render import EVELINE_COSTS, drive_plan
from bot.bootstrap import App, bootstrap
from bot.config import SettingError, Settings
from bot.render_pool import DocumentPool
from dialogs import Field
from tests.conftest import sample_answer

TODAY = date(2026, 11, 23)
HOUSEHOLD = "3012"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    application = bootstrap(Settings(data_dir=tmp_path_factory.mktemp("render_pool")))
    yield application
    application.engine.dispose()


@pytest.fixture(scope="module")
def answers(app: App) -> dict[str, Any]:
    """The invented Eveline plan, driven through the dialog (the period left at a year)."""

    def given(field: Field) -> str:
        return "overslaan" if field.key == "rendement.periode" else sample_answer(field)

    return drive_plan(app, HOUSEHOLD, EVELINE_COSTS, given, author="terminal:tester")


@pytest.fixture(scope="module")
def pool() -> Iterator[DocumentPool]:
    documents = DocumentPool(None)
    documents.start()
    yield documents
    documents.close()


def worker_pids(pool: DocumentPool) -> list[int]:
    executor = pool._executor
    assert executor is not None
    return list(executor._processes or {})


def pdf_pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def docx_part(docx: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        return archive.read(name)


async def test_every_format_is_rendered_in_the_worker_as_in_process(
    pool: DocumentPool, app: App, answers: dict[str, Any]
) -> None:
    await pool.warm()
    [pid] = worker_pids(pool)
    assert pid != os.getpid()
    renderer = app.renderer

    pdf = await pool.render("pdf", HOUSEHOLD, answers, TODAY)
    assert pdf.startswith(b"%PDF")
    pages = pdf_pages(pdf)
    assert pages == pdf_pages(renderer.pdf(HOUSEHOLD, answers, TODAY))
    assert "Stap 1. Situatieschets" in pages[1]  # page 1 is the canvas

    docx = await pool.render("docx", HOUSEHOLD, answers, TODAY)
    document = docx_part(docx, "word/document.xml")
    assert document == docx_part(renderer.docx(HOUSEHOLD, answers, TODAY), "word/document.xml")
    assert b"Situatieschets" in document

    png = await pool.render("png", HOUSEHOLD, answers, TODAY)
    assert png.startswith(PNG_SIGNATURE)
    assert png == renderer.chart(HOUSEHOLD, answers, TODAY)

    for fmt in ("html", "md"):
        assert await pool.render(fmt, HOUSEHOLD, answers, TODAY) == renderer.render(
            fmt, HOUSEHOLD, answers, TODAY
        )

    # An error in the worker comes back as itself, and the worker lives on.
    with pytest.raises(ValueError, match="unknown document format 'odt'"):
        await pool.render("odt", HOUSEHOLD, answers, TODAY)
    assert worker_pids(pool) == [pid]


async def test_a_killed_worker_is_replaced_once_for_all_waiting_documents(
    pool: DocumentPool, answers: dict[str, Any]
) -> None:
    await pool.warm()
    [pid] = worker_pids(pool)
    broken = pool._executor
    os.kill(pid, signal.SIGKILL)

    documents = await asyncio.gather(
        *(pool.render("pdf", HOUSEHOLD, answers, TODAY) for _ in range(3))
    )

    assert all(pdf.startswith(b"%PDF") for pdf in documents)
    assert pool._executor is not broken
    [new_pid] = worker_pids(pool)
    assert new_pid not in (pid, os.getpid())


async def test_close_is_idempotent_and_final(answers: dict[str, Any]) -> None:
    pool = DocumentPool(None)
    # No start(): the first document starts the worker.
    assert (await pool.render("md", HOUSEHOLD, answers, TODAY)).startswith(b"# ")
    [pid] = worker_pids(pool)

    pool.close()
    pool.close()

    assert not Path(f"/proc/{pid}").exists()  # stopped and reaped
    with pytest.raises(RuntimeError, match="document pool is closed"):
        await pool.render("pdf", HOUSEHOLD, answers, TODAY)
    with pytest.raises(RuntimeError, match="document pool is closed"):
        pool.start()


async def test_an_idle_worker_stops_and_the_next_document_starts_another(
    answers: dict[str, Any],
) -> None:
    pool = DocumentPool(None, idle_after=0.2)
    try:
        assert not pool.running  # nothing starts before the first document
        assert (await pool.render("md", HOUSEHOLD, answers, TODAY)).startswith(b"# ")
        [pid] = worker_pids(pool)
        for _ in range(100):  # the timer fires after 0.2 s; the process is reaped after it
            if not pool.running and not Path(f"/proc/{pid}").exists():
                break
            await asyncio.sleep(0.05)
        assert not pool.running
        assert not Path(f"/proc/{pid}").exists()
        assert (await pool.render("md", HOUSEHOLD, answers, TODAY)).startswith(b"# ")
        [again] = worker_pids(pool)
        assert again != pid
    finally:
        pool.close()


async def test_documents_asked_for_together_are_rendered_side_by_side(
    answers: dict[str, Any],
) -> None:
    pool = DocumentPool(None, workers=2)
    try:
        documents = await asyncio.gather(
            *(pool.render("pdf", HOUSEHOLD, answers, TODAY) for _ in range(4))
        )
        assert all(pdf.startswith(b"%PDF") for pdf in documents)
        # A second worker started as the first was busy; no more than two.
        pids = worker_pids(pool)
        assert len(pids) == 2 and os.getpid() not in pids
    finally:
        pool.close()
    with pytest.raises(ValueError, match="at least one worker"):
        DocumentPool(None, workers=0)


def test_render_workers_default_to_the_cores_but_one_and_can_be_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DOORBRAAK_RENDER_WORKERS", raising=False)
    monkeypatch.setenv("DOORBRAAK_ENV_FILE", "")
    monkeypatch.setenv("DOORBRAAK_DATA_DIR", str(tmp_path))
    # One core is left to the bot's event loop.
    assert Settings.load().render_workers == max(1, len(os.sched_getaffinity(0)) - 1)
    monkeypatch.setenv("DOORBRAAK_RENDER_WORKERS", "3")
    assert Settings.load().render_workers == 3
    monkeypatch.setenv("DOORBRAAK_RENDER_WORKERS", "0")
    with pytest.raises(SettingError) as refused:
        Settings.load()
    assert (refused.value.name, refused.value.key) == (
        "DOORBRAAK_RENDER_WORKERS",
        "instelling_minstens",
    )
