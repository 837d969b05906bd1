"""`python -m bot` and the `doorbraakbot` command.

Deliberately tiny: the document worker (bot.render_pool) is a spawned process, and spawning
imports the parent's main module again in the child. Importing bot.cli only when the command
runs keeps the database and Telegram libraries out of the worker (about 30 MB).
"""

from __future__ import annotations

import sys


def main() -> int:
    from bot.cli import main as run_command

    return run_command()


if __name__ == "__main__":
    sys.exit(main())
