"""Documents rendered in a separate process, so the event loop keeps serving other chats.

Typst (PDF, PNG) and python-docx hold the GIL for 5-15 ms at a time. In a thread that still
stalls every other coroutine on the event loop; in a worker process it does not. There are as
many workers as the setting `render_workers` says (by default one per core but one, which
the bot's event loop needs): when many professionals finish at once, their PDFs are rendered
side by side instead of in one queue.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import prompts
from bot.documents import NOTHING_AFTER, AfterPlan, Renderer
from bot.formatting import DutchFormatter

log = logging.getLogger(__name__)

T = TypeVar("T")

# The worker's renderer, built once by _init_worker (only ever set in the child process).
_renderer: Renderer | None = None

# A day for the warm-up document; its content does not matter.
_WARM_UP_DAY = date(2000, 1, 1)


# How often the worker checks that the bot that started it is still there.
PARENT_CHECK_SECONDS = 1.0


def _init_worker(prompts_dir: Path | None, parent: int) -> None:
    """Build the worker's Renderer the way bot.bootstrap does, from the same prompts."""
    global _renderer
    # Ctrl+C in a terminal reaches the whole process group; the parent decides when the worker
    # stops (close()), so an interrupt must not kill it mid-document or print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(parent,), name="exit-with-bot", daemon=True).start()
    spec = prompts.load_interview(prompts_dir)
    _renderer = Renderer(spec, DutchFormatter(), prompts.template_dirs(prompts_dir))


def _exit_with(parent: int) -> None:
    """Runs in the worker: end it once the bot that started it is gone. A bot that is
    killed (SIGKILL, out of memory) never calls close(), and its worker would otherwise stay
    behind for good, a new one with every restart."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)


def _worker_renderer() -> Renderer:
    if _renderer is None:  # pragma: no cover - the initializer always runs first
        raise RuntimeError("the render worker was not initialised")
    return _renderer


def _render(
    fmt: str,
    household: str,
    answers: dict[str, Any],
    today: date,
    open_points: tuple[str, ...],
    after: AfterPlan = NOTHING_AFTER,
) -> bytes:
    """Runs in the worker: one document."""
    return _worker_renderer().render(fmt, household, answers, today, open_points, after)


def _warm_up() -> int:
    """Runs in the worker: an empty plan as PDF and Word file (with the chart), so the imports,
    templates and Typst's fonts are loaded before the first real document. Returns the pid."""
    renderer = _worker_renderer()
    for fmt in ("pdf", "docx", "html", "md"):
        renderer.render(fmt, "", {}, _WARM_UP_DAY)
    return os.getpid()


class DocumentPool:
    """Renders documents (bot.documents.FORMATS) in up to `workers` spawned worker processes.

    Spawn, not fork: the parent runs an event loop, threads and database connections that a
    forked child would inherit in an undefined state. A worker that dies (killed, out of
    memory) is replaced and the document retried once. After close() the pool stays closed:
    render() and start() raise RuntimeError rather than start a process while the bot stops.

    The first worker starts with the first document, another only when a document finds the
    running ones busy (so a quiet bot has one); with `idle_after`, they all stop once no
    document was asked for that long: an idle bot is one process, and each worker's 70-120 MB
    come back. The first document after a quiet spell waits for a worker to start (about half
    a second); documents come at the end of an interview, where that goes unnoticed.
    """

    def __init__(
        self,
        prompts_dir: Path | None = None,
        *,
        idle_after: float | None = None,
        workers: int = 1,
    ) -> None:
        if workers < 1:
            raise ValueError("a document pool needs at least one worker")
        self._prompts_dir = prompts_dir
        self._idle_after = idle_after
        self.workers = workers
        self._executor: ProcessPoolExecutor | None = None
        self._warm_up: Future[int] | None = None
        self._closed = False
        # start(), close() and a replacement may come from different threads (shutdown hooks).
        self._lock = threading.Lock()
        # Documents being rendered, and the timer that stops an idle worker; both are only
        # touched on the event loop's thread.
        self._busy = 0
        self._idle_timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Start the worker and warm it up, without waiting for the warm-up (idempotent).

        Launching the interpreter still takes the caller 15-20 ms. Without it, the first
        document starts the worker (and warms it up by being rendered).
        """
        self._ensure(warm=True)

    async def warm(self) -> int:
        """Start the pool if needed, wait until the worker has rendered its warm-up, and
        return the worker's process id (to watch its memory)."""
        self._ensure(warm=True)
        warm_up = self._warm_up
        assert warm_up is not None
        return await asyncio.wrap_future(warm_up)

    @property
    def running(self) -> bool:
        """Whether a worker process is up (or starting)."""
        return self._executor is not None

    async def render(
        self,
        fmt: str,
        household: str,
        answers: Mapping[str, Any],
        today: date,
        open_points: Collection[str] = (),
        after: AfterPlan = NOTHING_AFTER,
    ) -> bytes:
        """A document in one of bot.documents.FORMATS, rendered in the worker process;
        `after`: what happened to the plan after the interview.

        Raises ValueError for an unknown format (from the worker), RuntimeError after close(),
        and BrokenProcessPool if the worker died twice for the same document.
        """
        # A plain dict pickles the same whatever Mapping the caller holds.
        args = (fmt, household, dict(answers), today, tuple(open_points), after)
        return await self._run(_render, args, fmt)

    async def _run(self, job: Callable[..., T], args: tuple[Any, ...], what: str) -> T:
        """Run `job(*args)` in a worker; a worker that dies is replaced and the job retried
        once."""
        loop = asyncio.get_running_loop()
        self._busy += 1
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        try:
            executor = self._ensure(warm=False)
            try:
                return await loop.run_in_executor(executor, job, *args)
            except BrokenProcessPool:
                log.warning("render worker gone (a %s document failed); starting a new one", what)
                executor = self._replace(executor)
            return await loop.run_in_executor(executor, job, *args)
        finally:
            self._busy -= 1
            if self._busy == 0 and self._idle_after is not None:
                self._idle_timer = loop.call_later(self._idle_after, self._retire)

    def _retire(self) -> None:
        """Stop the worker after `idle_after` without documents; the next one starts anew.
        (A timer still due after close() finds no worker and does nothing.)"""
        self._idle_timer = None
        if self._busy:
            return
        with self._lock:
            executor, self._executor, self._warm_up = self._executor, None, None
        if executor is not None:
            # Nothing is queued: the worker ends at once, reaped by the executor's own thread.
            executor.shutdown(wait=False)
            log.info("render worker stopped after %.0f s without documents", self._idle_after)

    def close(self) -> None:
        """Stop the worker: pending documents are cancelled (their render() raises
        asyncio.CancelledError), a running one is waited for, so this blocks for up to one
        document; call it at shutdown. Idempotent; the pool cannot be started again afterwards.
        """
        with self._lock:
            executor, self._executor, self._warm_up = self._executor, None, None
            self._closed = True
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def _ensure(self, *, warm: bool) -> ProcessPoolExecutor:
        """The running executor, made if there is none yet; with `warm`, warmed up too."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the document pool is closed")
            if self._executor is None:
                self._executor = self._spawn()
            if warm and self._warm_up is None:
                started = time.perf_counter()
                self._warm_up = self._executor.submit(_warm_up)
                self._warm_up.add_done_callback(lambda future: _log_warm_up(future, started))
            return self._executor

    def _replace(self, broken: ProcessPoolExecutor) -> ProcessPoolExecutor:
        """A new executor for a broken one; concurrent renders that saw the same worker die
        share a single replacement."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the document pool is closed")
            if self._executor is broken:
                # The broken pool has already ended its processes: nothing to wait for.
                broken.shutdown(wait=False, cancel_futures=True)
                self._executor, self._warm_up = self._spawn(), None
            assert self._executor is not None
            return self._executor

    def _spawn(self) -> ProcessPoolExecutor:
        """An executor of up to `workers` processes (call with the lock held); each process
        starts when a job finds the others busy."""
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self._prompts_dir, os.getpid()),
        )


def _log_warm_up(future: Future[int], started: float) -> None:
    """Log the end of a warm-up: its duration, or only the type of what went wrong."""
    if future.cancelled():
        return
    error = future.exception()
    if error is not None:
        log.error("render worker warm-up failed: %s", type(error).__name__)
        return
    elapsed = (time.perf_counter() - started) * 1000
    log.info("render worker %d ready in %.0f ms", future.result(), elapsed)
