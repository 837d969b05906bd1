"""Render the README's pictures: page 1 of an example plan's PDF, its wall poster, and the
PDF's section "Evaluatie" after two evaluations (3 and 12 months after the plan).

Run from the repository root: python -m docs.make_images (needs pdftoppm from poppler-utils).
The household is invented, after the book's Eveline case; every field is filled in, and the
costs are the book's.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

from pypdf import PdfReader

from bench.render import EVELINE_COSTS, drive_plan
from bot.bootstrap import App, bootstrap
from bot.clock import FixedClock
from bot.config import Settings
from dialogs import Question, Text

HERE = Path(__file__).resolve().parent
# Small pictures: page 1 of the A4 plan, and the A3 poster at half that resolution.
DPI = {"plan-pagina-1": 80, "poster": 45}
ANSWERS = {
    "plan.titel": "Een woning voor moeder en drie kinderen",
    "plan.professional": "A. Voorbeeld (wijkteam)",
    "plan.werkgebied": "Wijk Noord",
    "plan.praktijkverbinder": "B. Voorbeeld",
    "huishouden.leeftijden": "moeder 34; kinderen 12, 9 en 6",
    "huishouden.relatiestatus": "Alleenstaande ouder",
    "huishouden.huisvesting": "Inwonend bij familie of vrienden",
    "huishouden.type_huisvesting": "Bank bij vriendinnen",
    "huishouden.inkomen": "1850",
    "huishouden.type_inkomen": "Loon uit werk",
    "huishouden.diagnoses": "Geen",
    "huishouden.overig": "De kinderen gaan naar school in de wijk.",
    "situatieschets.wat_speelt": (
        "Moeder is met haar drie kinderen bij haar partner weggegaan en slaapt al een half "
        "jaar bij vriendinnen op de bank. Zonder woning kan de schuldhulp niet starten, en "
        "zonder schuldregeling geeft de gemeente geen woonurgentie."
    ),
    "situatieschets.domeinen": "Wonen; Financieel",
    "situatieschets.tegenaan": "Elke instantie wacht op de andere.",
    "situatieschets.geprobeerd_persoonlijk": "Budgetcoaching, hulp bij het zoeken van een kamer.",
    "situatieschets.geprobeerd_professioneel": "Overleg tussen wijkteam en schuldhulp.",
    "situatieschets.geprobeerd_systeem": (
        "Geen schuldhulp zonder vast adres, geen urgentie zonder schuldregeling."
    ),
    "situatieschets.netwerk": "Vriendinnen bieden een slaapplek; familie woont ver weg.",
    "situatieschets.financien": "Schulden van de vroegere gezamenlijke huur.",
    "situatieschets.participatie": "Moeder werkt 24 uur; de kinderen gaan naar school.",
    "situatieschets.zelf_ondernomen": "Ingeschreven als woningzoekende, hulp gevraagd.",
    "situatieschets.dreigend_scenario": (
        "Maatschappelijke opvang, de kinderen tijdelijk in een pleeggezin."
    ),
    "problemen.persoonlijk": "Geen eigen plek; de kinderen slapen slecht.",
    "problemen.professioneel": "Schuldhulp en woonurgentie wachten op elkaar.",
    "problemen.systeem": "Er is geen passende regeling voor dit huishouden omdat urgentie een "
    "schuldregeling vraagt en een schuldregeling een adres.",
    "problemen.domeinen": "Wonen; Financieel",
    "problemen.wetten": "Woningwet; Participatiewet",
    "toekomstperspectief.perspectief": "Een eigen huis, werk en de kinderen op school.",
    "toekomstperspectief.korte_termijn": "een eigen woning; de kinderen op hun eigen school",
    "toekomstperspectief.lange_termijn": "schuldenvrij; rust in het gezin",
    "overzicht.zelf": "Blijft werken en brengt de kinderen naar school.",
    "overzicht.ondersteuning": "Budgetcoaching het eerste jaar.",
    "overzicht.oplossen": "Boedelscheiding en schuldregeling.",
    "doorbraak.doorbraak": "Direct woonurgentie, vóór de schuldregeling.",
    "doorbraak.nodig": "Afspraak tussen gemeente, corporatie en schuldhulp.",
    "legitimiteit.wetten": "Woningwet; Participatiewet",
    "legitimiteit.toepassing": "De gemeente wijst urgentie toe onder de Woningwet.",
    "legitimiteit.regel": "Protocol Verstrekking Woonurgenties, punt 7.",
    "legitimiteit.bedoeling": "Schaarse woningen eerlijk verdelen; huurachterstand voorkomen.",
    "legitimiteit.uitzonderingsgronden": "Niet beschreven; de gemeente kan afwijken.",
    "legitimiteit.andere_regels": (
        "Beleid van de corporatie: geen nieuw contract bij een huurschuld"
        " | Huurschulden niet laten oplopen"
        " | Een betalingsregeling met de corporatie"
        " | De corporatie, bij de woonconsulent"
    ),
    "legitimiteit.wie_beslist": "De wethouder wonen, met de corporatie.",
    "rendement.periode": "12",
    "betrokkenheid.regie": "Met een eigen woning kan moeder zelf haar schulden regelen.",
    "betrokkenheid.zelf_doen": "Zoekt zelf mee naar een woning; netwerk helpt verhuizen.",
    "waardendriehoek.weging": "Legitiem, goed voor de betrokkenheid en veel goedkoper.",
    "actieplan.regievoerder": "Het wijkteam",
    "actieplan.voor_doorbraak": (
        "Wijkteam - plan bespreken met wonen - binnen een week\n"
        "Gemeente - urgentie toekennen - binnen een maand"
    ),
    "actieplan.na_doorbraak": "Schuldhulp - stabilisatiefase starten - na de verhuizing",
    "actieplan.vangnet": "Terug naar de gezinskamer van de opvang; nieuw plan binnen een maand.",
    "actieplan.evaluatie": "01-03-2027",
    "actieplan.evaluatie_ritme": "Elke drie maanden",
    "actieplan.evaluatie_criteria": "Een eigen woning; de schuldregeling loopt.",
}


# The plan is finished on 1 March 2027 (by the clock the app is given) and evaluated twice.
FINISHED = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
EVALUATIONS = (
    (
        datetime(2027, 6, 1, 8, 0, tzinfo=UTC),
        ["evaluatie", "Deels", "1", "Het gezin woont sinds mei in een eigen huis.", "Ja", "Ja",
         "Weet niet", "Per regel nalopen"],
    ),
    (
        datetime(2028, 3, 1, 8, 0, tzinfo=UTC),
        ["evaluatie", "Ja", "1", "De schuldregeling loopt; de kinderen slapen weer goed.", "Ja",
         "Ja", "Ja", "Klopt"],
    ),
)  # fmt: skip
# At a line of the doorbraakscenario gone through one by one: what really happened.
REALISED = {"Schuldhulpverlening": "2"}
# The section "Evaluatie" on the PDF's last page, cropped (pixels at its resolution).
EVALUATION_CROP = {"-x": "55", "-y": "52", "-W": "560", "-H": "200"}


def evaluate(app: App, household: str) -> list[dict[str, str]]:
    """Two evaluations of the household's finished plan; the rows of the section."""
    assert isinstance(app.clock, FixedClock)
    found = app.service.current(household)
    assert found is not None
    plan_id = found[0].id
    for moment, texts in EVALUATIONS:
        app.clock.set(moment)
        for text in texts:
            turn = app.service.handle(plan_id, Text(text), author="voorbeeld")
        for _ in range(20):
            question = [r for r in turn.outcome.replies if isinstance(r, Question)]
            if not question:
                break
            if question[-1].part == "hergebruik_aantal":
                line = question[-1].text.split("In het doorbraakscenario: ", 1)[-1]
                name = line.split(":", 1)[0]
                text = REALISED.get(name, "Zelfde")
            else:
                text = "Klaar"
            turn = app.service.handle(plan_id, Text(text), author="voorbeeld")
    return app.service.evaluations.rows(app.service.evaluations_of(plan_id))


def main() -> int:
    with tempfile.TemporaryDirectory() as directory:
        app = bootstrap(Settings(data_dir=Path(directory)), clock=FixedClock(FINISHED))
        answers = drive_plan(
            app,
            "3012",
            EVELINE_COSTS,
            lambda field: ANSWERS.get(field.key, "overslaan"),
            strict=True,
            author="voorbeeld",
        )
        today = date(2026, 11, 23)
        images = HERE / "images"
        for name, fmt in (("plan-pagina-1", "pdf"), ("poster", "poster")):
            pdf = Path(directory) / f"{name}.pdf"
            pdf.write_bytes(app.renderer.render(fmt, "3012", answers, today))
            subprocess.run(
                ["pdftoppm", "-png", "-r", str(DPI[name]), "-f", "1", "-l", "1", "-singlefile",
                 str(pdf), str(images / name)],
                check=True,
            )  # fmt: skip
        rows = evaluate(app, "3012")
        pdf = Path(directory) / "evaluatie.pdf"
        pdf.write_bytes(app.renderer.render("pdf", "3012", answers, today, (), rows))
        last = str(len(PdfReader(pdf).pages))
        crop = [part for pair in EVALUATION_CROP.items() for part in pair]
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", "-f", last, "-l", last, *crop, "-singlefile",
             str(pdf), str(images / "evaluatie")],
            check=True,
        )  # fmt: skip
        app.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
