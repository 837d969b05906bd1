"""The dialog core on its own: events in, replies and changes out, no storage."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import prompts
from bot.formatting import DutchFormatter
from dialogs import (
    END,
    Choose,
    Command,
    Dialog,
    Document,
    Done,
    Error,
    Event,
    Interview,
    Kind,
    Message,
    PlanStatus,
    Question,
    Snapshot,
    Submit,
    Summary,
    Text,
)
from dialogs.spec import SpecError
from tests.conftest import sample_answer


class Plan:
    """Applies outcomes to a snapshot the way the repository would."""

    def __init__(self, dialog: Dialog) -> None:
        self.dialog = dialog
        self.snapshot = Snapshot(state=dialog.initial_state())
        self.history: list[tuple[str, Any]] = []
        self.replies = list(dialog.start(self.snapshot).replies)

    def send(self, text: str | Event) -> list[Any]:
        event = Text(text) if isinstance(text, str) else text
        outcome = self.dialog.handle(self.snapshot, event)
        answers = dict(self.snapshot.answers)
        answers.update(outcome.answers)
        self.history.extend(outcome.answers)
        self.snapshot = replace(
            self.snapshot,
            state=outcome.state,
            status=outcome.status,
            answers=answers,
            data=outcome.data,
            revision=self.snapshot.revision + 1,
        )
        self.replies = list(outcome.replies)
        return self.replies

    @property
    def question(self) -> Question:
        questions = [r for r in self.replies if isinstance(r, Question)]
        assert questions, self.replies
        return questions[-1]

    def answer_until(self, key: str) -> None:
        spec = self.dialog.spec
        while self.question.field != key:
            self.send(sample_answer(spec.field(self.question.field)))

    def errors(self) -> list[str]:
        return [r.text for r in self.replies if isinstance(r, Error)]


@pytest.fixture
def plan(dialog: Dialog) -> Plan:
    return Plan(dialog)


def test_first_question_carries_progress_and_the_step_intro(plan: Plan, spec: Interview) -> None:
    q = plan.question
    assert q.field == spec.fields[0].key
    assert (q.step, q.steps, q.step_name) == (1, 6, "Situatieschets")
    assert "Wat is de situatie van de inwoner?" in q.intro
    assert "Wat hebben jullie al geprobeerd?" in q.intro


def test_answering_every_question_finishes_with_the_summary(plan: Plan, spec: Interview) -> None:
    seen_steps = []
    while not any(isinstance(r, Done) for r in plan.replies):
        q = plan.question
        seen_steps.append(q.step)
        assert q.step_name == spec.steps[q.step - 1].name
        plan.send(sample_answer(spec.field(q.field)))
    assert seen_steps == sorted(seen_steps)
    assert set(seen_steps) == {1, 2, 3, 4, 5, 6}
    assert [type(r) for r in plan.replies] == [Message, Document, Done]
    assert plan.snapshot.status == PlanStatus.FINISHED
    assert plan.snapshot.state == END
    # `when`-conditional question not triggered by the sample answers is not asked
    assert "legitimiteit.wetten_anders" not in plan.snapshot.answers


def test_bad_input_is_refused_and_the_question_repeats(plan: Plan) -> None:
    first = plan.question.field
    for bad in ("", "   \n\t "):
        replies = plan.send(bad)
        assert isinstance(replies[0], Error)
        assert "leeg" in replies[0].text
        assert plan.question.field == first
    assert plan.history == []


def test_choice_must_be_in_the_list_and_within_the_maximum(plan: Plan) -> None:
    plan.answer_until("huishouden.relatiestatus")
    plan.send("Verloofd met de buurman")
    assert "geen van de keuzes" in plan.errors()[0]
    plan.send("2")
    assert plan.snapshot.answers["huishouden.relatiestatus"] == "Alleenstaande ouder"
    plan.answer_until("situatieschets.domeinen")
    plan.send("Wonen;Werk;Financieel;Opleiding")
    assert "hoogstens 3" in plan.errors()[0]
    assert plan.question.field == "situatieschets.domeinen"
    plan.send("opleiding; WONEN")
    # stored in the order of the list, whatever order they were typed in
    assert plan.snapshot.answers["situatieschets.domeinen"] == ["Wonen", "Opleiding"]


def test_money_date_and_list_answers_are_stored_exactly(plan: Plan) -> None:
    plan.answer_until("huishouden.leeftijden")
    plan.send("moeder 34\nkinderen 12, 9 en 6")
    assert plan.snapshot.answers["huishouden.leeftijden"] == ["moeder 34", "kinderen 12, 9 en 6"]
    plan.answer_until("huishouden.inkomen")
    plan.send("twaalf")
    assert "geen bedrag" in plan.errors()[0]
    plan.send("-5")
    assert "negatief" in plan.errors()[0]
    plan.send("€ 1.052,32")
    assert plan.snapshot.answers["huishouden.inkomen"] == 105232
    plan.answer_until("actieplan.evaluatie")
    plan.send("binnenkort")  # `volgende week` is a date since issue 13
    assert "geen datum" in plan.errors()[0]
    plan.send("31-02-2027")
    assert "geen datum" in plan.errors()[0]
    plan.send("15 maart 2037")
    assert plan.snapshot.answers["actieplan.evaluatie"] == "2037-03-15"


def test_an_ambiguous_amount_is_read_back_before_it_is_stored(plan: Plan) -> None:
    plan.answer_until("huishouden.inkomen")
    plan.send("1.500")
    assert "huishouden.inkomen" not in plan.snapshot.answers
    assert plan.question.text == "Bedoel je €\xa01.500,00?"
    assert plan.question.choices == ("Ja", "Nee")
    plan.send("nee")
    assert plan.question.field == "huishouden.inkomen"
    assert "huishouden.inkomen" not in plan.snapshot.answers
    plan.send("1.500")
    plan.send("ja")
    assert plan.snapshot.answers["huishouden.inkomen"] == 150000
    assert plan.question.field == "huishouden.type_inkomen"


def test_terug_goes_to_the_previous_question_showing_the_answer(plan: Plan) -> None:
    plan.send("terug")
    assert "eerste vraag" in plan.errors()[0]
    plan.send("Een titel")
    plan.send("Sanne Tester")
    assert plan.question.field == "plan.werkgebied"
    plan.send("terug")
    assert plan.question.field == "plan.professional"
    assert plan.question.current == "Sanne Tester"
    plan.send("Sanne de Tester")
    # back where we were: answered questions are not asked again
    assert plan.question.field == "plan.werkgebied"
    assert plan.snapshot.answers["plan.professional"] == "Sanne de Tester"
    assert plan.history.count(("plan.professional", "Sanne Tester")) == 1


def test_overslaan_only_for_optional_or_answered_questions(plan: Plan) -> None:
    plan.send("overslaan")
    assert "verplicht" in plan.errors()[0]
    assert plan.question.field == "plan.titel"
    plan.send("Een titel")
    plan.send("Sanne Tester")
    plan.send("overslaan")
    assert plan.question.field == "plan.praktijkverbinder"
    assert "plan.werkgebied" not in plan.snapshot.answers
    plan.send("terug")
    plan.send("terug")
    assert plan.question.field == "plan.professional"
    # an answered required question may be passed over: its answer stays
    plan.send("overslaan")
    assert plan.snapshot.answers["plan.professional"] == "Sanne Tester"


def test_overzicht_lists_filled_and_missing_per_step(plan: Plan) -> None:
    plan.send("Een titel")
    plan.send("overzicht")
    text = next(r.text for r in plan.replies if isinstance(r, Message))
    assert "Stap 1. Situatieschets: 1 van 28 ingevuld" in text
    assert "✓ ingevuld: Titel van het plan" in text
    assert "Naam professional" in text.split("verplicht, nog open:")[1]
    assert "Stap 6. Actieplan: 0 van 7 ingevuld" in text
    assert plan.question.field == "plan.professional"


def test_wijzig_edits_a_whole_step_then_returns(plan: Plan, spec: Interview) -> None:
    plan.answer_until("overzicht.ondersteuning")
    plan.send("wijzig 2")
    assert plan.question.field == "toekomstperspectief.perspectief"
    plan.send("overslaan")  # keep the stored answer
    assert plan.question.field == "toekomstperspectief.korte_termijn"
    assert plan.question.current is not None
    plan.send("rust; een eigen woning")
    assert plan.question.field == "toekomstperspectief.lange_termijn"
    plan.send("overslaan")  # keep the stored answer
    assert plan.question.field == "overzicht.ondersteuning"
    assert plan.snapshot.answers["toekomstperspectief.korte_termijn"] == [
        "rust",
        "een eigen woning",
    ]
    plan.send(Command("wijzig", "Doorbraak"))
    assert plan.question.field == "doorbraak.doorbraak"
    for bad in ("wijzig", "wijzig 7", "wijzig nergens"):
        plan.send(bad)
        assert plan.errors(), bad
        assert plan.question.field == "doorbraak.doorbraak"


def test_editing_a_finished_plan_sends_the_summary_again(plan: Plan, spec: Interview) -> None:
    while not any(isinstance(r, Done) for r in plan.replies):
        plan.send(sample_answer(spec.field(plan.question.field)))
    plan.send("wijzig 4")
    assert plan.question.field == "doorbraak.doorbraak"
    plan.send("Een andere doorbraak")
    plan.send("overslaan")
    assert any(isinstance(r, Done) for r in plan.replies)
    assert plan.snapshot.answers["doorbraak.doorbraak"] == "Een andere doorbraak"
    plan.send("nog iets")
    assert "Het plan is af" in plan.replies[0].text


def test_a_conditional_question_follows_its_trigger(plan: Plan) -> None:
    plan.answer_until("legitimiteit.wetten")
    plan.send("Wmo; Anders, namelijk")
    assert plan.question.field == "legitimiteit.wetten_anders"
    plan.send("Wet basisregistratie personen")
    assert plan.question.field == "legitimiteit.toepassing"


def test_commands_stop_plan_help_and_unknown(plan: Plan) -> None:
    replies = plan.send("/plan")
    assert isinstance(replies[0], Document)
    assert plan.question.field == "plan.titel"
    outcome = plan.dialog.handle(plan.snapshot, Text("stop"))
    assert outcome.stopped
    assert "bewaard" in outcome.replies[0].text
    plan.send("/foo")
    assert "ken ik niet" in plan.errors()[0]
    plan.send("help")
    assert "wijzig <stap>" in plan.replies[0].text


def test_long_and_unicode_answers_are_kept_whole(plan: Plan) -> None:
    long = ("Zoë woont sinds 2019 in de wijk. 👨‍👩‍👧 " * 600)[:20_000]
    plan.send(long)
    assert "te lang (hoogstens 200 tekens)" in plan.errors()[0]
    assert plan.history == []
    plan.answer_until("situatieschets.wat_speelt")
    plan.send(long)
    assert plan.snapshot.answers["situatieschets.wat_speelt"] == long.strip()


def test_a_removed_question_does_not_strand_a_plan(dialog: Dialog) -> None:
    snapshot = Snapshot(state="verdwenen.vraag", answers={"plan.titel": "x"})
    outcome = dialog.start(snapshot)
    assert outcome.state == "plan.professional"


def test_buttons_choose_and_tick_with_the_maximum(plan: Plan) -> None:
    plan.answer_until("huishouden.relatiestatus")
    plan.send(Choose(1))
    assert plan.snapshot.answers["huishouden.relatiestatus"] == "Alleenstaande ouder"
    plan.answer_until("situatieschets.domeinen")
    for index in (0, 2, 3):
        plan.send(Choose(index))
    assert plan.question.selected == ("Wonen", "Werk", "Financieel")
    plan.send(Choose(4))
    assert "hoogstens 3" in plan.errors()[0]
    assert plan.question.selected == ("Wonen", "Werk", "Financieel")
    plan.send(Choose(2))  # untick
    assert plan.question.selected == ("Wonen", "Financieel")
    assert "situatieschets.domeinen" not in plan.snapshot.answers
    plan.send(Submit())
    assert plan.snapshot.answers["situatieschets.domeinen"] == ["Wonen", "Financieel"]
    plan.send(Choose(9))
    assert "eerdere vraag" in plan.errors()[0]


def test_questions_carry_the_revision_they_will_be_stored_at(plan: Plan, dialog: Dialog) -> None:
    outcome = dialog.handle(plan.snapshot, Text("Een titel"))
    assert outcome.persist
    question = [r for r in outcome.replies if isinstance(r, Question)][-1]
    assert question.revision == plan.snapshot.revision + 1
    unchanged = dialog.handle(plan.snapshot, Text("overzicht"))
    assert not unchanged.persist
    assert [r for r in unchanged.replies if isinstance(r, Question)][-1].revision == 0


def test_plans_interleaved_on_one_dialog_stay_apart(dialog: Dialog, spec: Interview) -> None:
    # The machine's models are reused between events (dialogs.models): nothing of one plan,
    # in the interview or halfway through a cost line, may show up in another.
    first, second = Plan(dialog), Plan(dialog)
    first.answer_until("rendement.periode")
    second.answer_until("rendement.periode")
    first.send("overslaan")
    second.send("overslaan")
    first.send("Inzet WIJ")  # first is now at the price of a line
    assert second.question.part == "regel"
    second.send("Begeleiding")  # second at the price-list offer for its line
    first.send("2")
    second.send("Klaar")
    assert first.snapshot.data != second.snapshot.data
    first_state = first.snapshot.data["kosten"]
    assert first_state["draft"]["omschrijving"] == "Inzet WIJ"
    assert "Begeleiding" not in str(first.snapshot.data)
    assert "Inzet WIJ" not in str(second.snapshot.data)
    # However many events ran, the machines hold one model each: none is added per event.
    assert len(dialog.machine.models) == 1
    assert len(dialog.flows[Kind.COSTS].machine.models) == 1


def test_one_dialog_serves_threads_at_once(dialog: Dialog, spec: Interview) -> None:
    def interview(plan: Plan) -> list[tuple[str, Any]]:
        plan.answer_until("rendement.periode")
        return plan.history

    expected = interview(Plan(dialog))
    with ThreadPoolExecutor(max_workers=4) as pool:
        histories = list(pool.map(interview, [Plan(dialog) for _ in range(8)]))
    assert all(history == expected for history in histories)
    assert len(dialog.machine.models) <= 4 + 1  # a model per thread at most, reused


# --- issue 13: every canvas field, legitimiteit with the law at hand, action points ----------


def test_the_canvas_fields_come_in_the_methods_order(spec: Interview) -> None:
    keys = [f.key for f in spec.fields]
    canvas = [
        "situatieschets.domeinen",
        "situatieschets.tegenaan",
        "situatieschets.geprobeerd_persoonlijk",
        "situatieschets.geprobeerd_professioneel",
        "situatieschets.geprobeerd_systeem",
        "situatieschets.dreigend_scenario",
        "problemen.persoonlijk",
        "problemen.professioneel",
        "problemen.systeem",
        "problemen.domeinen",
        "problemen.wetten",
        "toekomstperspectief.perspectief",
        "legitimiteit.wetten",
        "legitimiteit.toepassing",
        "legitimiteit.uitzonderingsgronden",
        "legitimiteit.wie_beslist",
        "rendement.doorbraak",
        "rendement.geen_kosten",
        "waardendriehoek.weging",
        "actieplan.regievoerder",
        "actieplan.voor_doorbraak",
        "actieplan.evaluatie",
        "actieplan.evaluatie_ritme",
        "actieplan.evaluatie_criteria",
    ]
    assert [k for k in keys if k in canvas] == canvas
    assert (
        "Er is geen passende regeling voor dit huishouden omdat"
        in spec.field("problemen.systeem").text
    )
    assert spec.field("problemen.wetten").text == "Tussen welke wetten schuurt het?"
    assert spec.field("problemen.domeinen").text == "Tussen welke domeinen schuurt het?"
    assert "over vijf jaar" in spec.field("toekomstperspectief.perspectief").text


def test_what_the_household_can_do_offers_the_earlier_answer(plan: Plan, spec: Interview) -> None:
    plan.answer_until("overzicht.zelf")
    earlier = plan.snapshot.answers["situatieschets.zelf_ondernomen"]
    question = plan.question
    assert question.choices == ("Overnemen",)
    assert any(earlier in line and "Zelf ondernomen" in line for line in question.help)
    plan.send("Overnemen")
    assert plan.snapshot.answers["overzicht.zelf"] == earlier
    # step 5's "Wat kan de bewoner zelf doen" offers step 3's answer the same way; a typed
    # answer extends it instead
    plan.answer_until("betrokkenheid.zelf_doen")
    assert any(earlier in line for line in plan.question.help)
    plan.send(f"{earlier} En de buurvrouw past op.")
    assert plan.snapshot.answers["betrokkenheid.zelf_doen"].endswith("de buurvrouw past op.")


def test_the_waardendriehoek_is_shown_before_the_weging(plan: Plan) -> None:
    plan.answer_until("betrokkenheid.zelf_doen")
    replies = plan.send("Zij regelen de verhuizing zelf.")
    kinds = [type(r).__name__ for r in replies]
    assert kinds[-2:] == ["Summary", "Question"]
    assert replies[-2] == Summary("waardendriehoek")
    assert plan.question.field == "waardendriehoek.weging"
    replies = plan.send("De doorbraak weegt het zwaarst.")
    assert not any(isinstance(r, Summary) for r in replies)  # not again after the step
    plan.send("terug")
    assert any(isinstance(r, Summary) for r in plan.replies)  # back at it: shown again


def test_a_plan_without_cost_lines_needs_a_reason(plan: Plan, spec: Interview) -> None:
    plan.answer_until("rendement.geen_kosten")  # the cost tables were left empty
    assert plan.question.required
    plan.send("overslaan")
    assert plan.errors() and plan.question.field == "rendement.geen_kosten"
    plan.send("De doorbraak kost niets extra; er valt geen zorg weg.")
    assert plan.question.field == "betrokkenheid.regie"
    condition = spec.field("rendement.geen_kosten").when
    assert condition is not None
    line = {"omschrijving": "Inzet", "prijs": 6500, "eenheid": "uur", "aantal": "2"}
    assert not condition.holds({"rendement.dreigend": [{**line, "frequentie": "week"}]})
    assert condition.holds({"rendement.huidig": [], "rendement.doorbraak": []})


@pytest.mark.parametrize(
    ("laws", "shown"),
    [
        ("Participatiewet", ["art. 16 lid 1", "art. 41 lid 4"]),
        ("Wmo", ["Memorie van toelichting"]),
    ],
)
def test_the_provisions_of_a_picked_law_are_offered_as_help(
    plan: Plan, spec: Interview, laws: str, shown: list[str]
) -> None:
    plan.answer_until("legitimiteit.wetten")
    plan.send(laws)
    plan.answer_until("legitimiteit.uitzonderingsgronden")
    help_text = "\n".join(plan.question.help)
    assert "Ruimte in de gekozen wetten" in help_text
    for article in shown:
        assert f"{laws}, {article}" in help_text
    assert "Bron: Het Grote Doorbraakboek, deel I" in help_text or laws == "Wmo"
    assert ".txt" not in help_text  # a source as a professional cites it, not a file name
    plan.send("Geen bekend")
    # The question right after: only who decides, not the whole of each provision again.
    assert plan.question.field == "legitimiteit.wie_beslist"
    who = "\n".join(plan.question.help)
    assert "Wie beslist in de gekozen wetten" in who
    for article, provision in zip(shown, spec.wetten[laws], strict=True):
        assert f"{laws}, {article}" in who
        assert provision.beslist in who
        assert provision.ruimte not in who
    assert "Bron:" not in who


def test_a_law_without_named_provisions_offers_none(plan: Plan) -> None:
    plan.answer_until("problemen.wetten")
    plan.send("Woningwet")
    plan.answer_until("legitimiteit.wetten")
    plan.send("Woningwet; Zorgverzekeringswet")
    plan.answer_until("legitimiteit.uitzonderingsgronden")
    assert not any("Ruimte in de gekozen wetten" in h for h in plan.question.help)


def test_action_points_are_read_in_every_form_and_read_back(plan: Plan) -> None:
    plan.answer_until("actieplan.voor_doorbraak")
    plan.send(
        "Wijkteam: plan bespreken met de Wmo, binnen een week\n"
        "Wmo - kosten vaststellen - 1 april\n"
        "Kinderen | plek zoeken | drie weken\n"
        "Wijkteam: bel Wmo, CIZ en zorgkantoor"
    )
    assert plan.snapshot.answers["actieplan.voor_doorbraak"] == [
        "Wijkteam | plan bespreken met de Wmo | binnen een week",
        "Wmo | kosten vaststellen | 1 april",
        "Kinderen | plek zoeken | drie weken",
        "Wijkteam | bel Wmo, CIZ en zorgkantoor",
    ]
    texts = [r.text for r in plan.replies if isinstance(r, Message)]
    assert texts[0].splitlines() == [
        "Genoteerd:",
        "Wie | Wat | Wanneer",
        "Wijkteam | plan bespreken met de Wmo | binnen een week",
        "Wmo | kosten vaststellen | 1 april",
        "Kinderen | plek zoeken | drie weken",
        "Wijkteam | bel Wmo, CIZ en zorgkantoor | open",
    ]
    assert "'Wanneer' staat nog op 'open' bij: Wijkteam" in texts[1]
    assert "wijzig 6" in texts[1]


def test_an_action_point_without_separators_is_refused_not_stored_as_wie(plan: Plan) -> None:
    plan.answer_until("actieplan.voor_doorbraak")
    plan.send("Wijkteam - belt de school - morgen\nwijkteam belt de wmo volgende week")
    assert "actieplan.voor_doorbraak" not in plan.snapshot.answers
    (error,) = plan.errors()
    assert "'wijkteam belt de wmo volgende week'" in error and "wie: wat, wanneer" in error
    assert plan.question.field == "actieplan.voor_doorbraak"


def test_the_shipped_wetten_name_only_checklist_laws(spec: Interview) -> None:
    checklist = spec.field("legitimiteit.wetten").choices
    assert set(spec.wetten) <= set(checklist)
    assert [p.artikel for p in spec.wetten["Participatiewet"]] == [
        "art. 16 lid 1",
        "art. 41 lid 4",
    ]
    assert spec.wetten["Woningwet"] == ()  # the method texts name none
    assert all(
        p.bron.startswith("Het Grote Doorbraakboek, deel ")
        for ps in spec.wetten.values()
        for p in ps
    )


def _wetten_file(tmp_path: Path, text: str) -> Path:
    (tmp_path / "wetten.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_a_municipality_extends_the_wetten(tmp_path: Path) -> None:
    folder = _wetten_file(
        tmp_path,
        "wetten:\n  Woningwet:\n    - artikel: art. 1\n      ruimte: Een woning met voorrang.\n"
        "      beslist: De wethouder\n      bron: beleidsregels, par. 2\n",
    )
    spec = prompts.load_interview(folder)
    plan = Plan(Dialog(spec, DutchFormatter()))
    plan.answer_until("legitimiteit.wetten")
    plan.send("Woningwet")
    plan.answer_until("legitimiteit.uitzonderingsgronden")
    assert any("Woningwet, art. 1: Een woning met voorrang." in h for h in plan.question.help)
    plan.answer_until("legitimiteit.wie_beslist")
    assert "Woningwet, art. 1: De wethouder." in plan.question.help


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("wetten:\n  Jeugdwet: []\n", "'Jeugdwet': not a choice"),
        ("wetten:\n  Wmo:\n    - artikel: art. 2\n      ruimte: x\n      beslist: y\n", "bron"),
        (
            "wetten:\n  Wmo:\n    - {artikel: a, ruimte: b, beslist: c, bron: d, url: e}\n",
            "unknown key(s) url",
        ),
        ("wetten:\n  Wmo:\n    - {artikel: '', ruimte: b, beslist: c, bron: d}\n", "empty"),
        ("wetten: [Wmo]\n", "expected a mapping"),
    ],
)
def test_a_wrong_wetten_file_is_refused_at_load(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(SpecError, match=re.escape(problem)):
        prompts.load_interview(_wetten_file(tmp_path, text))
