"""Render the README's picture of the report over all plans: its first page, from the facts
of invented plans (three teams, five quarters), as `doorbraakbot rapport --format pdf` makes it.

Run from the repository root: python -m docs.make_report_image [PAGE] (needs pdftoppm from
poppler-utils).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import prompts
from bench.rapport import fill
from bot.documents import Renderer
from bot.facts import FactsKeeper
from bot.formatting import DutchFormatter
from bot.report import ReportService, Scope
from bot.report_render import render
from storage import Units, create_engine_for, migrate
from storage.crypto import Keyring

HERE = Path(__file__).resolve().parent
DPI = 70
PAGE = int(sys.argv[1]) if len(sys.argv) > 1 else 1


class _Clock:
    def now(self) -> datetime:
        return datetime(2027, 1, 4, 9, tzinfo=UTC)


def main() -> int:
    spec = prompts.load_interview()
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine_for(f"sqlite:///{folder}/plans.db")
        migrate(engine)
        fill(engine, 600, seed=3, teams=("Noord", "Zuid", "Centrum"), days=450)
        units = Units(engine, Keyring.from_secret(Keyring.generate_secret()))
        report = ReportService(units, FactsKeeper(spec, units), _Clock())
        document = report.build(Scope(), actor="voorbeeld", fmt="pdf")
        engine.dispose()
        renderer = Renderer(spec, DutchFormatter(), prompts.template_dirs(None))
        pdf = Path(folder) / "rapport.pdf"
        pdf.write_bytes(render("pdf", document, spec, renderer.html_env, renderer.template_dirs))
        # Page 1 is the README's picture; another page (an argument) goes to the temp folder.
        out = HERE / "images" / "rapport"
        if PAGE != 1:
            out = Path(tempfile.gettempdir()) / f"rapport-{PAGE}"
        pages = ["-f", str(PAGE), "-l", str(PAGE)]
        command = ["pdftoppm", "-png", "-r", str(DPI), *pages, "-singlefile", str(pdf), str(out)]
        subprocess.run(command, check=True)
    print(f"{out}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
