"""`doorbraakbot les`: lessons of the reflectiesessie in the terminal (add, list, done)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.bootstrap import App
from bot.lessons import LessonService, line
from dialogs.lessons import Refused


def add_parser(sub: Any) -> None:
    lessons = sub.add_parser("les", help="lessons of the reflectiesessie: add, list, done")
    verbs = lessons.add_subparsers(dest="les_command", required=True)
    add = verbs.add_parser("add", help="record a lesson with an owner and a day")
    add.add_argument("--team", required=True, help="the team the lesson is for")
    add.add_argument("--tekst", required=True, help="the lesson itself")
    add.add_argument("--bron", default="", help="where it came from: a group or a quarter")
    add.add_argument(
        "--eigenaar",
        required=True,
        help="teamleider, beleidsmedewerker, or a professional's number (see 'professionals')",
    )
    add.add_argument("--datum", required=True, help="when: 1 april, over 3 maanden, 2027-01-31")
    listing = verbs.add_parser("list", help="the open lessons (of one team)")
    listing.add_argument("--team", help="only this team")
    done = verbs.add_parser("done", help="mark a lesson done")
    done.add_argument("nummer", type=int, help="the lesson's number (see 'les list')")


def run(app: App, args: argparse.Namespace) -> int:
    spec = app.dialog.spec
    service = LessonService(app.units, app.clock)
    actor = app.settings.terminal_author
    if args.les_command == "add":
        try:
            lesson = service.add(
                team=args.team.strip()[:100],
                text=args.tekst,
                source=args.bron,
                owner=args.eigenaar,
                due=args.datum,
                actor=actor,
            )
        except Refused as exc:
            print(spec.message(exc.key), file=sys.stderr)
            return 2
        names = service.names([lesson])
        print(spec.message("les_vastgelegd", regel=line(spec, lesson, names)))
        return 0
    if args.les_command == "list":
        found = service.listed(None, args.team)
        if not found:
            print(spec.message("lessen_geen"))
            return 0
        names = service.names(found)
        for lesson in found:
            print(line(spec, lesson, names))
        return 0
    done = service.set_status(args.nummer, None, actor)
    if done is None:
        print(spec.message("les_onbekend", nummer=args.nummer), file=sys.stderr)
        return 1
    print(spec.message("les_gedaan", nummer=done.id))
    return 0
