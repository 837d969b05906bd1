"""Render the README's pictures: the first page of an example plan's PDF and its cost chart.

Run from the repository root: python -m docs.make_images (needs pdftoppm from poppler-utils).
The household is invented, after the book's Eveline case; the costs are the book's.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

from bench.render import EVELINE_COSTS, drive_plan
from bot.bootstrap import bootstrap
from bot.config import Settings

HERE = Path(__file__).resolve().parent
ANSWERS = {
    "plan.titel": "Een woning voor moeder en drie kinderen",
    "plan.professional": "A. Voorbeeld (wijkteam)",
    "plan.werkgebied": "Wijk Noord",
    "plan.praktijkverbinder": "overslaan",
    "huishouden.leeftijden": "moeder 34; kinderen 12, 9 en 6",
    "huishouden.relatiestatus": "Alleenstaande ouder",
    "huishouden.huisvesting": "Inwonend bij familie of vrienden",
    "huishouden.type_huisvesting": "Bank bij vriendinnen",
    "huishouden.inkomen": "1850",
    "huishouden.type_inkomen": "Loon uit werk",
    "huishouden.diagnoses": "overslaan",
    "huishouden.overig": "overslaan",
    "situatieschets.wat_speelt": (
        "Moeder is met haar drie kinderen bij haar partner weggegaan en slaapt al een half "
        "jaar bij vriendinnen op de bank. Zonder woning kan de schuldhulp niet starten, en "
        "zonder schuldregeling geeft de gemeente geen woonurgentie."
    ),
    "situatieschets.domeinen": "Wonen; Financieel",
    "situatieschets.geprobeerd_systeem": (
        "Geen schuldhulp zonder vast adres, geen urgentie zonder schuldregeling."
    ),
    "situatieschets.dreigend_scenario": (
        "Maatschappelijke opvang, de kinderen tijdelijk in een pleeggezin."
    ),
    "toekomstperspectief.korte_termijn": "een eigen woning; de kinderen op hun eigen school",
    "toekomstperspectief.lange_termijn": "schuldenvrij; rust in het gezin",
    "overzicht.zelf": "Blijft werken en brengt de kinderen naar school.",
    "overzicht.ondersteuning": "Budgetcoaching het eerste jaar.",
    "overzicht.oplossen": "Boedelscheiding en schuldregeling.",
    "doorbraak.doorbraak": "Direct woonurgentie, vóór de schuldregeling.",
    "doorbraak.nodig": "Afspraak tussen gemeente, corporatie en schuldhulp.",
    "legitimiteit.wetten": "Woningwet; Participatiewet",
    "legitimiteit.regel": "Protocol Verstrekking Woonurgenties, punt 7.",
    "legitimiteit.bedoeling": "Schaarse woningen eerlijk verdelen; huurachterstand voorkomen.",
    "legitimiteit.uitzonderingsgronden": "Niet beschreven; de gemeente kan afwijken.",
    "legitimiteit.wie_beslist": "De wethouder wonen, met de corporatie.",
    "betrokkenheid.regie": "Met een eigen woning kan moeder zelf haar schulden regelen.",
    "betrokkenheid.zelf_doen": "Zoekt zelf mee naar een woning; netwerk helpt verhuizen.",
    "waardendriehoek.weging": "Legitiem, goed voor de betrokkenheid en veel goedkoper.",
    "actieplan.voor_doorbraak": "Wijkteam - plan bespreken met wonen - binnen een week",
    "actieplan.na_doorbraak": "Schuldhulp - stabilisatiefase starten - na de verhuizing",
    "actieplan.vangnet": "Terug naar de gezinskamer van de opvang; nieuw plan binnen een maand.",
    "actieplan.evaluatie": "01-03-2027",
}


def main() -> int:
    with tempfile.TemporaryDirectory() as directory:
        app = bootstrap(Settings(data_dir=Path(directory)))
        answers = drive_plan(
            app,
            "3012",
            EVELINE_COSTS,
            lambda field: ANSWERS.get(field.key, "overslaan"),
            author="voorbeeld",
        )
        today = date(2026, 11, 23)
        pdf = Path(directory) / "plan.pdf"
        pdf.write_bytes(app.renderer.pdf("3012", answers, today))
        (HERE / "images" / "kosten.png").write_bytes(app.renderer.chart("3012", answers, today))
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf),
             str(HERE / "images" / "plan-pagina-1")],
            check=True,
        )  # fmt: skip
        app.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
