"""The `doorbraakbot` command: the entry point, and the only place logging is configured."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

import prompts
from bot.bootstrap import App, bootstrap
from bot.config import Settings
from bot.jsonl import run_jsonl
from bot.local import LocalChat
from bot.service import StorageUnavailable, snapshot_of
from bot.terminal import run_terminal
from dialogs import SpecError
from dialogs.household import normalise_household

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="doorbraakbot", description="Make a doorbraakplan with the Doorbraakmethode."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    chat = sub.add_parser("chat", help="run the interview in this terminal")
    chat.add_argument("--household", required=True, help="household number, e.g. 3012")
    chat.add_argument("--jsonl", action="store_true", help="speak the JSON-lines protocol")
    chat.add_argument(
        "--nieuw", action="store_true", help="start a new plan; the current one is archived"
    )
    sub.add_parser("plans", help="list plans with their progress")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return _run(args)
    except SpecError as exc:
        print(f"Fout in de vragenlijst (prompts): {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    settings = Settings()
    spec = prompts.load_interview(settings.prompts_dir)

    def fail(key: str, code: int) -> int:
        text = spec.message(key)
        if getattr(args, "jsonl", False):
            print(json.dumps({"type": "error", "text": text}, ensure_ascii=False), flush=True)
        else:
            print(text, file=sys.stderr)
        return code

    household = None
    if args.command == "chat":
        household = normalise_household(args.household)
        if household is None:
            return fail("huishoudnummer_ongeldig", 2)
    try:
        app = bootstrap(settings)
    except StorageUnavailable:
        return fail("database_niet_beschikbaar", 1)
    try:
        if args.command == "plans":
            return _list_plans(app)
        assert household is not None
        chat = LocalChat(app, household, author=settings.terminal_author, new=args.nieuw)
        if args.jsonl:
            return run_jsonl(chat, app.dialog.spec, sys.stdin, sys.stdout)
        return run_terminal(chat, app.dialog.spec)
    except StorageUnavailable:
        return fail("database_niet_beschikbaar", 1)
    finally:
        app.engine.dispose()


def _list_plans(app: App) -> int:
    spec = app.dialog.spec
    records = app.service.plans()
    if not records:
        print(spec.message("geen_plannen"))
        return 0
    for record in records:
        answered, total, step = app.dialog.progress(snapshot_of(record))
        if step is None:
            progress = spec.message("status_klaar", ingevuld=answered, totaal=total)
        else:
            progress = spec.message(
                "status_open",
                stap=step.number,
                stappen=len(spec.steps),
                naam=step.name,
                ingevuld=answered,
                totaal=total,
            )
        print(
            spec.message(
                "plan_regel",
                huishouden=record.household,
                status=record.status,
                voortgang=progress,
                bijgewerkt=record.updated_at.astimezone().strftime("%Y-%m-%d %H:%M"),
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
