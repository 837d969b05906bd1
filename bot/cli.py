"""The `doorbraakbot` command: the entry point, and the only place logging is configured."""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from sqlalchemy.exc import OperationalError

import prompts
from bot import exchange, lessons_cli, report_compare, report_render
from bot.access import EXPORTED
from bot.actions import as_json, listing
from bot.bootstrap import App, MissingKey, bootstrap, write_key_file
from bot.config import SettingError, Settings
from bot.course import budget_json, run_word, stage_name
from bot.documents import EXTENSIONS, FORMATS, Renderer
from bot.formatting import DutchFormatter
from bot.jsonl import run_jsonl
from bot.local import LocalChat, write_private
from bot.report import scope_for
from bot.report_render import REPORT_FORMATS
from bot.service import snapshot_of
from bot.terminal import run_terminal
from bot.unavailable import StorageUnavailable
from dialogs import Interview, SpecError, noted_open
from dialogs.household import normalise_household
from storage import AnswerRecord, PlanRecord
from storage.access import PROFESSIONAL, ROLES
from storage.crypto import InvalidSecret, Keyring, TamperedData, WrongKey
from storage.db import rotate_key, scrub

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
    chat.add_argument(
        "--document",
        metavar="PATH",
        help="also write the plan (Markdown) to this file, readable by you only; without it the"
        " plan is only shown",
    )
    sub.add_parser("run", help="run the Telegram bot (long polling, or a webhook)")
    sub.add_parser("plans", help="list plans with their progress")
    export = sub.add_parser("export", help="write a household's current plan to a file")
    export.add_argument("household", nargs="?", help="household number")
    export.add_argument(
        "--household", dest="household_option", metavar="HOUSEHOLD", help="the same, as an option"
    )
    export.add_argument("--format", choices=(*FORMATS, "json"), default="pdf")
    export.add_argument(
        "-o", "--output", help="file to write, '-' for standard output (default: the export dir)"
    )
    export.add_argument(
        "--archief",
        type=int,
        metavar="N",
        help="export the household's archived plan number N (see 'archief') instead",
    )
    actions = sub.add_parser(
        "acties", help="list the open actions of all plans, or every action of one household"
    )
    actions.add_argument("--household", help="only this household's current plan")
    actions.add_argument("--jsonl", action="store_true", help="one JSON object per action")
    # The plan's course: the doorbraakbudget and the vaste contactpersonen.
    budget = sub.add_parser(
        "budget", help="the doorbraakbudget per team: budget, granted, spent and left"
    )
    budget.add_argument("--jsonl", action="store_true", help="one JSON object per budget")
    sub.add_parser("contacten", help="the vaste contactpersonen of prompts/opvolging.yaml")
    archive = sub.add_parser("archief", help="list a household's archived plans")
    archive.add_argument("household", help="household number")
    restore = sub.add_parser("import", help="import a plan from a JSON export")
    restore.add_argument("file", help="a JSON file written by 'export --format json'")
    share = sub.add_parser(
        "deel", help="make a one-time share code that opens a household's plan in Telegram"
    )
    share.add_argument("household", help="household number")
    invite = sub.add_parser("invite", help="make a one-time invite code for a professional")
    invite.add_argument("--team", required=True, help="the team the professional joins")
    # The report over all plans (issue 16): roles, and the report itself.
    invite.add_argument(
        "--rol",
        choices=ROLES,
        default=PROFESSIONAL,
        help="the role it gives (default professional)",
    )
    role = sub.add_parser("rol", help="give a registered professional another role (or team)")
    role.add_argument("nummer", type=int, help="the professional's number (see 'professionals')")
    role.add_argument("rol", choices=ROLES)
    role.add_argument("--team", help="move them to this team as well")
    sub.add_parser("professionals", help="list the registered professionals, team and role")
    report = sub.add_parser("rapport", help="the report over all plans, per quarter and team")
    report.add_argument("--team", help="only this team (default: every team)")
    report.add_argument("--van", metavar="DATUM", help="from this day on (YYYY-MM-DD)")
    report.add_argument("--tot", metavar="DATUM", help="up to and including this day")
    report.add_argument(
        "--format", choices=REPORT_FORMATS, help="default pdf; csv with --vergelijk"
    )
    report.add_argument("-o", "--output", help="file to write, '-' for standard output")
    report.add_argument(
        "--vergelijk",
        nargs=2,
        metavar=("A.json", "B.json"),
        help="two reports (--format json) side by side; no database needed",
    )
    lessons_cli.add_parser(sub)
    purge = sub.add_parser(
        "purge", help="delete plans not changed for DOORBRAAK_RETENTION_DAYS days (for cron)"
    )
    purge.add_argument("--days", type=int, help="override the retention period, in days")
    sub.add_parser("genkey", help="print a new key for DOORBRAAK_SECRET_KEY")
    rotate = sub.add_parser(
        "rotate-key",
        help="re-encrypt everything with DOORBRAAK_NEW_SECRET_KEY (stop the bot first)",
    )
    rotate.add_argument(
        "--generate", action="store_true", help="generate the new key and print it"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    level = logging.INFO if args.command == "run" else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL, and the Bot API URL holds the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # At INFO, transitions logs every callback of every turn.
    logging.getLogger("transitions").setLevel(logging.WARNING)
    try:
        return _run(args)
    except SpecError as exc:
        print(f"Fout in de vragenlijst (prompts): {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.command == "genkey":
        print(Keyring.generate_secret())
        return 0
    try:
        settings = Settings.load()
    except SettingError as exc:
        # Before the settings there is no prompts folder but the shipped one to word it.
        return _fail(args, _setting_message(prompts.load_interview(), exc), 2)
    spec = prompts.load_interview(settings.prompts_dir)
    if args.command == "rapport" and args.vergelijk:
        return _compare_reports(settings, spec, args)

    def fail(key: str, code: int, **params: object) -> int:
        return _fail(args, spec.message(key, **params), code)

    household = None
    if args.command == "export" and args.household_option is not None:
        args.household = args.household_option
    if args.command in ("chat", "export", "deel", "archief") or (
        args.command == "acties" and args.household is not None
    ):
        household = normalise_household(args.household or "")
        if household is None:
            return fail("huishoudnummer_ongeldig", 2)
    document = None
    if args.command == "chat" and args.document:
        document = Path(args.document).absolute()
        if document.is_dir() or not document.parent.is_dir():
            return fail("document_pad_ongeldig", 2, pad=document)
    key_source = settings.key_source
    try:
        app = bootstrap(settings, require_key=args.command == "run")
    except SettingError as exc:
        return _fail(args, _setting_message(spec, exc), 2)
    except StorageUnavailable:
        return fail("database_niet_beschikbaar", 1)
    except MissingKey as exc:
        if exc.key_file is not None:
            return fail("sleutelbestand_ontbreekt", 1, pad=exc.key_file)
        terminal_key = settings.resolved_key_file
        if terminal_key.is_file():
            # The usual way here: plans made in the terminal, now the bot on the same data.
            return fail("sleutel_ontbreekt_terminal", 2, pad=terminal_key)
        return fail("sleutel_ontbreekt", 2)
    except InvalidSecret:
        return fail("sleutel_ongeldig", 2, bron=key_source)
    except WrongKey:
        log.debug("the key does not match the database", exc_info=True)
        return fail("sleutel_onjuist", 1, bron=key_source)
    except TamperedData:
        log.debug("the key check is damaged", exc_info=True)
        return fail("gegevens_beschadigd", 1)
    if app.key_file is not None:
        # stderr: in --jsonl mode stdout belongs to the protocol.
        print(spec.message("sleutel_lokaal", pad=app.key_file), file=sys.stderr)
    try:
        if args.command == "run":
            from bot import telegram

            return telegram.run(app)
        if args.command == "plans":
            return _list_plans(app)
        if args.command == "invite":
            code = app.access.invite(args.team.strip()[:100], args.rol)
            print(spec.message("uitnodiging_gemaakt", code=code, team=args.team.strip()))
            if args.rol != PROFESSIONAL:
                print(spec.message("uitnodiging_rol", rol=spec.message(f"rol_{args.rol}")))
            return 0
        if args.command in ("rol", "professionals", "rapport"):
            return _report_commands(app, args)
        if args.command == "les":
            return lessons_cli.run(app, args)
        if args.command == "deel":
            assert household is not None
            return _share(app, household)
        if args.command == "purge":
            days = args.days if args.days is not None else settings.retention_days
            if days < 1:
                return fail("bewaartermijn_ongeldig", 2)
            print(spec.message("opgeschoond", aantal=app.access.purge(days), dagen=days))
            folder = settings.resolved_export_dir
            removed = _remove_legacy_documents(folder)
            if removed:
                print(spec.message("oude_planbestanden_verwijderd", aantal=removed, map=folder))
            return 0
        if args.command == "import":
            return _import(app, args.file)
        if args.command == "rotate-key":
            return _rotate_key(app, generate=args.generate)
        if args.command == "archief":
            assert household is not None
            return _list_archived(app, household)
        if args.command == "acties":
            return _list_actions(app, household, jsonl=args.jsonl)
        if args.command in ("budget", "contacten"):
            return _course_lists(app, args.command, jsonl=getattr(args, "jsonl", False))
        if args.command == "export":
            assert household is not None
            return _export(app, household, args.format, args.output, archived=args.archief)
        assert household is not None
        chat = LocalChat(
            app, household, author=settings.terminal_author, new=args.nieuw, document=document
        )
        if args.jsonl:
            return run_jsonl(chat, app.dialog.spec, sys.stdin.buffer, sys.stdout)
        if isinstance(sys.stdin, io.TextIOWrapper):
            # A line that is not UTF-8 is refused by the chat rather than ending the program.
            sys.stdin.reconfigure(errors="surrogateescape")
        return run_terminal(chat, app.dialog.spec)
    except StorageUnavailable:
        return fail("database_niet_beschikbaar", 1)
    except WrongKey:
        # A value under another key than the key check's: never shown as anything else.
        log.debug("a stored value is under another key", exc_info=True)
        return fail("sleutel_onjuist", 1, bron=key_source)
    except TamperedData:
        log.debug("a stored value is damaged", exc_info=True)
        return fail("gegevens_beschadigd", 1)
    finally:
        app.engine.dispose()


def _report_commands(app: App, args: argparse.Namespace) -> int:
    """Roles and the report over all plans (issue 16)."""
    spec = app.dialog.spec
    if args.command == "professionals":
        found = app.access.professionals()
        if not found:
            print(spec.message("professionals_geen"))
        for pro in found:
            rol = spec.message(f"rol_{pro.role}")
            print(spec.message("professional_regel", nummer=pro.id, team=pro.team, rol=rol))
        return 0
    if args.command == "rol":
        team = None if args.team is None else args.team.strip()[:100]
        changed = app.access.set_role(args.nummer, args.rol, team, actor="beheer")
        if changed is None:
            print(spec.message("rol_onbekend", nummer=args.nummer), file=sys.stderr)
            return 1
        rol = spec.message(f"rol_{changed.role}")
        print(spec.message("rol_gewijzigd", nummer=changed.id, rol=rol, team=changed.team))
        return 0
    try:
        since = None if args.van is None else date.fromisoformat(args.van)
        until = None if args.tot is None else date.fromisoformat(args.tot)
    except ValueError:
        print(spec.message("rapport_datum_ongeldig"), file=sys.stderr)
        return 2
    scope = scope_for(None, args.team, since, until)
    args.format = args.format or "pdf"
    document = app.report.build(scope, actor=app.settings.terminal_author, fmt=args.format)
    content = report_render.render(
        args.format, document, spec, app.renderer.html_env, app.renderer.template_dirs
    )
    if args.output == "-":
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
        return 0
    default = (
        app.settings.resolved_export_dir / f"rapport-{document['generated_on']}.{args.format}"
    )
    path = Path(args.output) if args.output else default
    path.parent.mkdir(parents=True, exist_ok=True)
    write_private(path, content)
    print(spec.message("rapport_gemaakt", pad=path))
    return 0


def _compare_reports(settings: Settings, spec: Interview, args: argparse.Namespace) -> int:
    """`rapport --vergelijk A B`: two report files side by side, without the database."""
    fmt = args.format or "csv"
    paths = [Path(name) for name in args.vergelijk]
    try:
        checked = report_compare.schema()
        first, second = (report_compare.load(path, checked) for path in paths)
    except report_compare.NotAReport as exc:
        print(spec.message(exc.key, **exc.params), file=sys.stderr)
        return 2
    comparison = report_compare.compare(first, second, (paths[0].name, paths[1].name))
    renderer = Renderer(spec, DutchFormatter(), prompts.template_dirs(settings.prompts_dir))
    content = report_compare.render(
        fmt, comparison, spec, renderer.html_env, renderer.template_dirs
    )
    # Printed by default; a PDF is written to a file unless `-o -` asks for it anyway.
    if args.output == "-" or (args.output is None and fmt != "pdf"):
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
        return 0
    path = (
        Path(args.output)
        if args.output
        else settings.resolved_export_dir / f"rapport-vergelijking.{fmt}"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_private(path, content)
    print(spec.message("vergelijking_gemaakt", pad=path))
    return 0


def _remove_legacy_documents(export_dir: Path) -> int:
    """Delete the unencrypted Markdown plans that earlier versions wrote at the end of every
    terminal interview; the number deleted.

    All of them, not only those of purged plans: nobody chose to have them (the interview now
    writes a file only with --document), a file name cannot be matched to a kept plan without
    decrypting every household number, and the plans themselves stay in the encrypted
    database, from which `plan` or `export` writes them again.
    """
    removed = 0
    for pattern in ("doorbraakplan-*.md", "doorbraakplan-*.md.tmp"):
        for path in export_dir.glob(pattern):
            if path.is_file() and not path.is_symlink():
                path.unlink()
                removed += 1
    return removed


def _fail(args: argparse.Namespace, text: str, code: int) -> int:
    """Report an error that ends the command: a protocol line with --jsonl, else on stderr."""
    if getattr(args, "jsonl", False):
        print(json.dumps({"type": "error", "text": text}, ensure_ascii=False), flush=True)
    else:
        print(text, file=sys.stderr)
    return code


def _setting_message(spec: Interview, error: SettingError) -> str:
    expected = spec.message(error.key, **error.params)
    return spec.message("instelling_ongeldig", naam=error.name, verwacht=expected)


def _rotate_key(app: App, *, generate: bool) -> int:
    """Re-encrypt the database under a new key; a local key file is replaced by the new key."""
    spec = app.dialog.spec
    secret = app.settings.new_secret_key
    if not secret and not generate:
        print(spec.message("sleutel_nieuw_ontbreekt"), file=sys.stderr)
        return 2
    if not secret:
        secret = Keyring.generate_secret()
        print(spec.message("sleutel_nieuw", sleutel=secret))
    try:
        new = Keyring.from_secret(secret)
    except InvalidSecret:
        print(spec.message("sleutel_ongeldig", bron="DOORBRAAK_NEW_SECRET_KEY"), file=sys.stderr)
        return 2
    if new.key_id == app.keyring.key_id:
        print(spec.message("sleutel_nieuw_gelijk"), file=sys.stderr)
        return 2
    # The new key is on disk before the database needs it: if we stop between the commit and
    # the rename, `<key file>.new` holds it.
    pending = None if app.key_file is None else app.key_file.with_name(app.key_file.name + ".new")
    if pending is not None:
        write_key_file(pending, secret)
    try:
        rows = rotate_key(app.engine, app.keyring, new)
    except BaseException as exc:
        # rotate_key commits last, so nothing was rotated and the new key is not needed.
        if pending is not None:
            pending.unlink(missing_ok=True)
        if isinstance(exc, OperationalError):
            raise StorageUnavailable(str(exc.orig)) from exc
        raise
    if pending is not None:
        assert app.key_file is not None
        os.replace(pending, app.key_file)
        print(spec.message("sleutel_vervangen_bestand", aantal=rows, pad=app.key_file))
    else:
        print(spec.message("sleutel_vervangen_omgeving", aantal=rows))
    scrub(app.engine)
    return 0


def _export(
    app: App, household: str, fmt: str, output: str | None, *, archived: int | None = None
) -> int:
    spec = app.dialog.spec
    found = _current(app, household) if archived is None else _archived(app, household, archived)
    if found is None:
        return 1
    record, history = found
    if fmt == "json":
        actions = app.actions.history(record.id)
        course = app.course.history(record.id)
        escalations = app.escalations.of_plan(record.id)
        evaluations = app.service.evaluations_of(record.id)
        reminders = app.actions.reminders(record.id)
        document = exchange.export_plan(
            spec,
            record,
            history,
            actions,
            course=course,
            escalations=escalations,
            evaluations=evaluations,
            reminders=reminders,
        )
        content = exchange.dumps(document).encode("utf-8")
    else:
        content = app.renderer.render(
            fmt,
            household,
            record.answers,
            record.updated_at.date(),
            noted_open(record.data),
            app.after(record.id),
        )
    app.access.record(app.settings.terminal_author, EXPORTED, record.id, fmt)
    if output == "-":
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
        return 0
    name = f"doorbraakplan-{household}{'-' + fmt if fmt in EXTENSIONS else ''}"
    default = app.settings.resolved_export_dir / f"{name}.{EXTENSIONS.get(fmt, fmt)}"
    path = Path(output) if output else default
    path.parent.mkdir(parents=True, exist_ok=True)
    write_private(path, content)
    print(spec.message("bestand_gemaakt", pad=path))
    return 0


def _share(app: App, household: str) -> int:
    found = _current(app, household)
    if found is None:
        return 1
    code = app.access.share_from_terminal(app.settings.terminal_author, found[0].id)
    print(app.dialog.spec.message("deel_code_terminal", code=code, huishouden=household))
    return 0


def _archived(
    app: App, household: str, number: int
) -> tuple[PlanRecord, list[AnswerRecord]] | None:
    """Archived plan `number` (1 is the newest, as `archief` lists them) with its history;
    None, said on stderr, if there is no such plan."""
    plans = app.service.archived_plans(household)
    found = app.service.plan(plans[number - 1].id) if 1 <= number <= len(plans) else None
    if found is None:
        message = app.dialog.spec.message("geen_archiefplan", huishouden=household, nummer=number)
        print(message, file=sys.stderr)
    return found


def _list_actions(app: App, household: str | None, *, jsonl: bool) -> int:
    """The open actions of every plan, soonest first; or every action of one household's
    current plan, in the plan's order, with its status."""
    if household is None:
        actions = app.actions.all_open()
    else:
        found = _current(app, household)
        if found is None:
            return 1
        actions = app.actions.of_plan(found[0].id)
    if jsonl:
        for action in actions:
            print(json.dumps(as_json(action), ensure_ascii=False))
    else:
        print(listing(app.dialog.spec, actions, household))
    return 0


def _course_lists(app: App, command: str, *, jsonl: bool) -> int:
    """`budget` (exact, per team and period) or `contacten`."""
    if command == "budget" and jsonl:
        for line in app.course.budget():
            print(json.dumps(budget_json(line), ensure_ascii=False))
        return 0
    print(run_word(app.course, command, "", None, actor="", who="").text)
    return 0


def _list_archived(app: App, household: str) -> int:
    spec = app.dialog.spec
    plans = app.service.archived_plans(household)
    if not plans:
        print(spec.message("archief_leeg", huishouden=household))
        return 0
    print(spec.message("archief_kop", huishouden=household))
    for number, record in enumerate(plans, 1):
        answered, total, _ = app.dialog.progress(snapshot_of(record))
        updated = record.updated_at.astimezone().strftime("%Y-%m-%d %H:%M")
        print(
            spec.message(
                "archief_regel", nummer=number, bijgewerkt=updated, ingevuld=answered, totaal=total
            )
        )
    print(spec.message("archief_export", huishouden=household))
    return 0


def _current(app: App, household: str) -> tuple[PlanRecord, list[AnswerRecord]] | None:
    """The household's current plan and its history; None, said on stderr, if there is none."""
    found = app.service.current(household)
    if found is None:
        print(app.dialog.spec.message("geen_plan", huishouden=household), file=sys.stderr)
    return found


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
                # The plan's stage (concept, klaar, ingediend, ...; README "Na het plan").
                status=stage_name(spec, app.course.stage(record.id)),
                voortgang=progress,
                bijgewerkt=record.updated_at.astimezone().strftime("%Y-%m-%d %H:%M"),
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
