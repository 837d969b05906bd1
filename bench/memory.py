"""Resident set of the bot: idle, and with 1,000 interviews in progress.

Measured in a fresh subprocess (VmRSS from /proc/self/status): the bot wired as for
`doorbraakbot run` (bootstrap on SQLite, the Telegram Application initialised, with the
recording stand-in as its network), then professionals each opening a plan and answering a
few questions, and leaving it unfinished. "Per interview" is the growth from the first
interview in progress to the last, divided by their number, so one-time warm-up (code paths
run for the first time, caches filling) is not counted per interview. The document worker
(bot.render_pool, a process of its own that runs only while documents are being made) is
measured after its warm-up, and again after it rendered the large plan (bench.render) in every
format a few times. The child is started with `python -c`, like the `doorbraakbot` script a
main module that spawning does not import again in the worker.

Run: python -m bench.memory [--interviews N]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.common import ROOT, shut_down, vmrss_kb

ANSWERS = 3  # questions answered in each interview left in progress
CHILD = "import sys; from bench.memory import main; sys.exit(main(sys.argv[1:]))"
FIRST_USER = 50_000


@dataclass(frozen=True)
class Memory:
    interviews: int
    idle_kb: int
    first_kb: int  # one interview in progress
    busy_kb: int  # all of them in progress
    worker_kb: int  # the document worker, warmed up
    worker_used_kb: int  # the document worker after rendering the large plan

    @property
    def per_interview_kb(self) -> float:
        return (self.busy_kb - self.first_kb) / max(1, self.interviews - 1)


def _rss() -> int:
    gc.collect()
    return vmrss_kb()


async def _child(interviews: int, script: list[list[str]]) -> dict[str, int]:
    # Only what `doorbraakbot run` loads, before the idle measurement.
    from bench.common import settings
    from bench.stand_in import BASE_URL, TOKEN, RecordingRequest
    from bot.bootstrap import bootstrap
    from bot.telegram import TelegramFrontEnd

    with tempfile.TemporaryDirectory() as directory:
        app = bootstrap(settings(Path(directory)))
        request = RecordingRequest(keep_texts=False)
        front = TelegramFrontEnd(app)
        application = front.build(
            TOKEN, base_url=BASE_URL, request=request, updates_request=request, rate_limiter=False
        )
        await application.initialize()
        try:
            idle = _rss()
            from bench.turns import Driver, Professional, Run, Step

            steps = [Step(*step) for step in script]
            driver = Driver(application, request, Run("memory", 1))
            first = 0
            for index in range(interviews):
                user = FIRST_USER + index
                if app.access.register(app.access.invite("Bench"), user) is None:
                    raise RuntimeError("could not register a professional")
                await Professional(driver, user, None).interview(f"M-{index}", steps)
                request.chats.pop(user, None)  # the stand-in's record, not the bot's memory
                driver.run.question_ms.clear()
                if index == 0:
                    first = _rss()
            busy = _rss()
            if front.documents.running:
                raise RuntimeError("the document worker ran before any document was asked for")
            worker = await front.documents.warm()
            worker_kb = vmrss_kb(worker)
            from bench.render import TODAY, build_plan, large_costs

            large = build_plan(app, "4021", large_costs(), long=True)
            for _ in range(5):
                for fmt in ("pdf", "docx", "png"):
                    await front.documents.render(fmt, "4021", large, TODAY)
            worker_used_kb = vmrss_kb(worker)
        finally:
            await shut_down(application)
            app.engine.dispose()
    return {
        "interviews": interviews,
        "idle_kb": idle,
        "first_kb": first,
        "busy_kb": busy,
        "worker_kb": worker_kb,
        "worker_used_kb": worker_used_kb,
    }


def measure(interviews: int) -> Memory:
    """Run the measurement in a fresh interpreter, so nothing this process loaded counts."""
    from bench.turns import interview_script

    script = [[s.kind, s.part, s.text] for s in interview_script()[:ANSWERS]]
    out = subprocess.run(
        [sys.executable, "-c", CHILD, "--child", "--interviews", str(interviews)],
        input=json.dumps(script),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return Memory(**json.loads(out.stdout.strip().splitlines()[-1]))


def table(memory: Memory) -> str:
    return "\n".join(
        [
            "| bot | resident set |",
            "|---|---:|",
            f"| idle (wired, Application initialised) | {memory.idle_kb / 1024:.1f} MB |",
            f"| 1 interview in progress | {memory.first_kb / 1024:.1f} MB |",
            f"| {memory.interviews:,} interviews in progress | {memory.busy_kb / 1024:.1f} MB |",
            f"| more per interview in progress | {memory.per_interview_kb:.1f} KB |",
            "| document worker (a process of its own, only while documents are made), warmed up"
            f" | {memory.worker_kb / 1024:.1f} MB |",
            "| document worker, after rendering the large plan 5 times in each format"
            f" | {memory.worker_used_kb / 1024:.1f} MB |",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--interviews", type=int, default=1000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.child:
        script = json.loads(sys.stdin.read())
        print(json.dumps(asyncio.run(_child(args.interviews, script))))
        return 0
    print(table(measure(args.interviews)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
