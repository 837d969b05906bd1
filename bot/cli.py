"""The `doorbraakbot` command: the entry point, and the only place logging is configured."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import prompts
from bot import exchange
from bot.bootstrap import App, bootstrap
from bot.config import Settings
from bot.documents import FORMATS
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
    sub.add_parser("run", help="run the Telegram bot (long polling, or a webhook)")
    sub.add_parser("plans", help="list plans with their progress")
    export = sub.add_parser("export", help="write a household's current plan to a file")
    export.add_argument("household", help="household number")
    export.add_argument("--format", choices=(*FORMATS, "json"), default="pdf")
    export.add_argument(
        "-o", "--output", help="file to write, '-' for standard output (default: the export dir)"
    )
    restore = sub.add_parser("import", help="import a plan from a JSON export")
    restore.add_argument("file", help="a JSON file written by 'export --format json'")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    level = logging.INFO if args.command == "run" else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL, and the Bot API URL holds the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        return _run(args)
    except SpecError as exc:
        print(f"Fout in de vragenlijst (prompts): {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    settings = Settings.load()
    spec = prompts.load_interview(settings.prompts_dir)

    def fail(key: str, code: int) -> int:
        text = spec.message(key)
        if getattr(args, "jsonl", False):
            print(json.dumps({"type": "error", "text": text}, ensure_ascii=False), flush=True)
        else:
            print(text, file=sys.stderr)
        return code

    household = None
    if args.command in ("chat", "export"):
        household = normalise_household(args.household)
        if household is None:
            return fail("huishoudnummer_ongeldig", 2)
    try:
        app = bootstrap(settings)
    except StorageUnavailable:
        return fail("database_niet_beschikbaar", 1)
    try:
        if args.command == "run":
            from bot import telegram

            return telegram.run(app)
        if args.command == "plans":
            return _list_plans(app)
        if args.command == "import":
            return _import(app, args.file)
        if args.command == "export":
            assert household is not None
            return _export(app, household, args.format, args.output)
        assert household is not None
        chat = LocalChat(app, household, author=settings.terminal_author, new=args.nieuw)
        if args.jsonl:
            return run_jsonl(chat, app.dialog.spec, sys.stdin, sys.stdout)
        return run_terminal(chat, app.dialog.spec)
    except StorageUnavailable:
        return fail("database_niet_beschikbaar", 1)
    finally:
        app.engine.dispose()


def _export(app: App, household: str, fmt: str, output: str | None) -> int:
    spec = app.dialog.spec
    found = app.service.current(household)
    if found is None:
        print(spec.message("geen_plan", huishouden=household), file=sys.stderr)
        return 1
    record, history = found
    if fmt == "json":
        text = exchange.dumps(exchange.export_plan(spec, record, history))
    else:
        text = app.renderer.markdown(household, record.answers, record.updated_at.date())
    if output == "-":
        sys.stdout.write(text)
        return 0
    path = (
        Path(output)
        if output
        else app.settings.resolved_export_dir / (f"doorbraakplan-{household}.{fmt}")
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(spec.message("bestand_gemaakt", pad=path))
    return 0


def _import(app: App, file: str) -> int:
    spec = app.dialog.spec
    try:
        text = Path(file).read_text(encoding="utf-8")
        plan = exchange.parse_plan(spec, text)
    except (OSError, UnicodeDecodeError, exchange.PlanFileError) as exc:
        print(spec.message("import_mislukt", reden=exc), file=sys.stderr)
        return 1
    record = app.service.restore(plan)
    print(spec.message("import_gelukt", huishouden=record.household, aantal=len(plan.history)))
    return 0


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
