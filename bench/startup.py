"""Startup time of `doorbraakbot run`: from spawning the process to its first `getUpdates`.

The real process (`python -m bot run`) talks HTTP to the Bot API stand-in of the tests
(tests/support/botapi.py) on 127.0.0.1. The first start creates and migrates the database; a
restart finds it ready. The resident set of the running bot, idle after its first poll, is
read from /proc/<pid>/status.

Run: python -m bench.startup [--restarts N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import ROOT, SECRET, vmrss_kb
from tests.support.botapi import BotApiStandIn

# Give up on a start after this long (a broken start must not hang the benchmark).
TIMEOUT = 60.0


@dataclass(frozen=True)
class Startup:
    first_s: float  # a new database: created and migrated
    restart_s: float  # median of the restarts
    restarts: int
    idle_kb: int  # the running bot after its first poll


def _env(data_dir: Path, stand_in: BotApiStandIn) -> dict[str, str]:
    # Nothing of the developer's own configuration may leak in.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOORBRAAK_", "TELEGRAM_"))}
    env.update(
        DOORBRAAK_DATA_DIR=str(data_dir),
        DOORBRAAK_ENV_FILE="",
        DOORBRAAK_SECRET_KEY=SECRET,
        TELEGRAM_BOT_TOKEN=stand_in.token,
        TELEGRAM_API_BASE_URL=stand_in.base_url,
        PTB_TIMEDELTA="true",
        PYTHONUNBUFFERED="1",
    )
    return env


def start_once(data_dir: Path) -> tuple[float, int]:
    """Seconds from spawning the bot to its first getUpdates, and its resident set (KiB)
    half a second later."""
    with BotApiStandIn() as stand_in:
        log = (data_dir / "bot.log").open("ab")
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            env=_env(data_dir, stand_in),
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
        try:
            try:
                (first, *_) = stand_in.wait_for_call("getUpdates", timeout=TIMEOUT)
            except AssertionError as exc:
                tail = (data_dir / "bot.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the bot did not poll: {exc}\n{tail}") from None
            time.sleep(0.5)
            rss = vmrss_kb(proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)
            log.close()
    return first.at - started, rss


def measure(restarts: int) -> Startup:
    with tempfile.TemporaryDirectory() as directory:
        data_dir = Path(directory)
        first, rss = start_once(data_dir)
        times, sizes = [], [rss]
        for _ in range(restarts):
            seconds, rss = start_once(data_dir)
            times.append(seconds)
            sizes.append(rss)
    restart = statistics.median(times) if times else float("nan")
    return Startup(first, restart, restarts, int(statistics.median(sizes[-max(1, restarts) :])))


def table(startup: Startup) -> str:
    return "\n".join(
        [
            "| `doorbraakbot run` | to the first getUpdates |",
            "|---|---:|",
            f"| first start (database created and migrated) | {startup.first_s:.2f} s |",
            *(
                [f"| restart (median of {startup.restarts}) | {startup.restart_s:.2f} s |"]
                if startup.restarts
                else []
            ),
            f"| resident set of the running bot, idle | {startup.idle_kb / 1024:.1f} MB |",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--restarts", type=int, default=3)
    args = parser.parse_args(argv)
    print(table(measure(args.restarts)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
