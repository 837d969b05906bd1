"""The plan as an editable Word document, built with python-docx on a style template.

The look comes from the template (prompts/templates/plan.docx), so a municipality restyles the
Word output by editing these styles in Word, without touching Python:

- Title: the plan's title; Heading 1: "Stap N. Name"; Heading 2: a section title
  (Legitimiteit, Rendement, ...); Veldlabel: a field's label, kept with its answer;
  Normal: everything else; List Bullet: list answers; Table Grid: every table (actieplan,
  cost table, the doorbraak box); Header and Footer: the page header (title, household number)
  and footer (fixed text, "Pagina N van M").

The template declares the PDF's typeface, Libertinus Serif (with Cambria as the substitute
Word picks where it is not installed).

Page size, margins and the tab stops of Header and Footer also come from the template. The
body of the template is discarded. User text only ever becomes run text: nothing in an answer
is interpreted, and characters XML 1.0 forbids are dropped so an answer cannot break the file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any, TypeVar

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Length, Pt
from docx.styles.style import BaseStyle, ParagraphStyle, _TableStyle
from docx.table import Table
from docx.text.paragraph import Paragraph

from dialogs.kinds import Layout, rules

# XML 1.0 allows \t \n \r and everything from U+0020 except surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# The paragraph style of a field's label (bold, kept with the answer that follows).
LABEL_STYLE = "Veldlabel"
# Column shares of the text width, as in the PDF: the actieplan (wie, wat, wanneer), and the
# cost table (omschrijving, prijs, then aantal and totaal for each scenario; 17 cm in the PDF).
ACTION_WIDTHS = (0.25, 0.55, 0.20)
COST_WIDTHS = (3.35 / 17, 2.7 / 17, 1.7 / 17, 1.95 / 17)
_StyleT = TypeVar("_StyleT", bound=BaseStyle)


def clean(text: object) -> str:
    """Text as Word can hold it: forbidden characters dropped, line ends as `\\n`."""
    return _NOT_XML.sub("", str(text).replace("\r\n", "\n"))


def render_docx(data: dict[str, Any], template: Path, chart_png: bytes | None = None) -> bytes:
    """The plan from `bot.documents.Renderer.data` as .docx bytes, in the order of plan.md."""
    writer = _Writer(Document(str(template)), data, template)
    writer.plan(chart_png)
    out = BytesIO()
    writer.doc.save(out)
    return out.getvalue()


class _Writer:
    def __init__(self, doc: DocumentObject, data: dict[str, Any], template: Path) -> None:
        self.doc = doc
        self.data = data
        self.words: dict[str, str] = data["wording"]
        self.missing = clean(data["missing"])
        # Styles are looked up once: by name in a loop, each lookup scans styles.xml.
        self.title = _style(doc, template, "Title", ParagraphStyle)
        self.heading1 = _style(doc, template, "Heading 1", ParagraphStyle)
        self.heading2 = _style(doc, template, "Heading 2", ParagraphStyle)
        self.bullet = _style(doc, template, "List Bullet", ParagraphStyle)
        self.label = _style(doc, template, LABEL_STYLE, ParagraphStyle)
        self.grid = _style(doc, template, "Table Grid", _TableStyle)
        section = doc.sections[0]
        page, left, right = section.page_width, section.left_margin, section.right_margin
        self.width = Length(page - left - right) if page and left and right else Cm(17)
        body = doc.element.body
        for child in list(body):
            if child.tag != qn("w:sectPr"):
                body.remove(child)

    def plan(self, chart_png: bytes | None) -> None:
        data = self.data
        self.page_furniture()
        properties = self.doc.core_properties
        properties.title = clean(data["title"])[:255]
        properties.created = properties.modified = datetime.now(UTC).replace(tzinfo=None)
        self.canvas(chart_png)
        self.doc.add_page_break()
        for step in data["steps"]:
            self.doc.add_paragraph(f"Stap {step['number']}. {clean(step['name'])}", self.heading1)
            self.doc.add_paragraph().add_run(clean(step["question"])).italic = True
            for section in step["sections"]:
                if section["title"]:
                    self.doc.add_paragraph(clean(section["title"]), self.heading2)
                for field in section["fields"]:
                    if rules(field["kind"]).layout is not Layout.COSTS:
                        self.field(field)
                if section["key"] == "rendement":
                    self.doc.add_paragraph(clean(self.words["kostentabel"]), self.label)
                    table = data["rendement"]["table"]
                    if table is None:
                        self.missing_text(self.doc.add_paragraph(), data["rendement"]["reason"])
                    else:
                        self.cost_table(table)

    # Page 1: the canvas with the result, as in the PDF (prompts/templates/canvas.typ).
    def canvas(self, chart_png: bytes | None) -> None:
        data, words, canvas = self.data, self.words, self.data["canvas"]
        self.doc.add_paragraph(clean(data["title"]), style=self.title)
        facts = (
            (words["huishoudnummer"], data["household"]),
            (words["professional"], data["professional"]),
            (words["werkgebied"], canvas["werkgebied"]),
            (words["datum"], data["date"]),
        )
        paragraph = self.doc.add_paragraph()
        for index, (label, value) in enumerate(facts):
            paragraph.add_run(("    " if index else "") + f"{clean(label)}: ").bold = True
            self.value(paragraph, value)
        self.doc.add_paragraph(clean(words["situatie"]), self.label)
        self.item(self.doc.add_paragraph(), canvas["situation"])
        self.doc.add_paragraph(
            "   ".join(
                f"{'☒' if chosen else '☐'} {clean(name)}" for name, chosen in canvas["domains"]
            )
        )
        box = self.doc.add_table(rows=1, cols=1, style=self.grid)
        cell = box.rows[0].cells[0]
        _shade(cell, "FFF4CC")
        first = cell.paragraphs[0]
        for index, (label, entry) in enumerate(
            zip((words["doorbraak"], words["nodig"]), canvas["doorbraak"], strict=True)
        ):
            heading = first if index == 0 else cell.add_paragraph()
            heading.style = self.label
            heading.add_run(clean(label))
            self.item(cell.add_paragraph(), entry)
        self.doc.add_paragraph(clean(words["waardendriehoek"]), self.heading2)
        self.doc.add_paragraph(clean(words["legitimiteit"]), self.label)
        for entry in canvas["legitimiteit"]:
            paragraph = self.doc.add_paragraph()
            label = clean(entry["label"])
            paragraph.add_run(label + (" " if label.endswith("?") else ": ")).italic = True
            self.item(paragraph, entry)
        self.doc.add_paragraph(clean(words["betrokkenheid"]), self.label)
        self.item(self.doc.add_paragraph(), canvas["betrokkenheid"])
        rendement = data["rendement"]
        self.doc.add_paragraph(
            f"{clean(words['rendement'])} ({clean(rendement['period'])})", self.label
        )
        if rendement["figures"]:
            self.rendement(chart_png)
        else:
            self.missing_text(self.doc.add_paragraph(), rendement["reason"])
        self.doc.add_paragraph(clean(words["weging"]), self.label)
        self.item(self.doc.add_paragraph(), canvas["weging"])
        self.doc.add_paragraph(clean(words["eerste_acties"]), self.label)
        if canvas["actions"]:
            self.table(canvas["action_columns"], canvas["actions"], widths=ACTION_WIDTHS)
        else:
            self.missing_text(self.doc.add_paragraph(), self.missing)
        paragraph = self.doc.add_paragraph()
        paragraph.add_run(f"{clean(words['evaluatie'])}: ").bold = True
        self.item(paragraph, canvas["evaluation"])

    def item(self, paragraph: Paragraph, entry: dict[str, Any]) -> None:
        """A canvas answer; a shortened one says which step has it in full."""
        if not entry["filled"]:
            self.missing_text(paragraph, entry["text"])
            return
        paragraph.add_run(clean(entry["text"]))
        if entry["shortened"]:
            where = clean(self.words["volledig"]).replace("{stap}", str(entry["step"]))
            paragraph.add_run(f" ({where})").italic = True

    def missing_text(self, paragraph: Paragraph, text: str) -> None:
        paragraph.add_run(clean(text)).italic = True

    def rendement(self, chart_png: bytes | None) -> None:
        """The three totals and both comparisons, the chart beside them."""
        figures = self.data["rendement"]
        layout = self.doc.add_table(rows=1, cols=2)
        left, right = layout.rows[0].cells
        half = Length(self.width // 2)
        for cell in (left, right):
            cell.width = half
        caption = left.paragraphs[0]
        caption.add_run(
            f"{clean(self.words['totale_kosten'])} {clean(figures['period'])}"
        ).bold = True
        lines = [(s["label"], s["exact"], False) for s in figures["scenarios"]]
        lines += [(c["title"], c["exact"], True) for c in figures["comparisons"]]
        for label, amount, bold in lines:
            paragraph = left.add_paragraph()
            paragraph.paragraph_format.tab_stops.add_tab_stop(
                Length(half - Cm(0.3)), WD_TAB_ALIGNMENT.RIGHT
            )
            run = paragraph.add_run(f"{clean(label)}\t{clean(amount)}")
            run.bold = bold
            paragraph.paragraph_format.space_after = 0
        for comparison in figures["comparisons"]:
            note = left.add_paragraph()
            run = note.add_run(f"{clean(comparison['title'])}: {clean(comparison['explanation'])}")
            run.italic = True
            run.font.size = Pt(8)
        if chart_png is not None:
            picture = right.paragraphs[0]
            picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
            shape = picture.add_run().add_picture(BytesIO(chart_png), width=Length(half - Cm(0.2)))
            shape._inline.docPr.set("descr", chart_alt(self.words, figures))
            shape._inline.docPr.set("title", clean(self.words["grafiek_titel"]))

    def value(self, paragraph: Paragraph, value: str) -> None:
        if value:
            paragraph.add_run(clean(value))
        else:
            paragraph.add_run(self.missing).italic = True

    def field(self, field: dict[str, Any]) -> None:
        self.doc.add_paragraph(clean(field["label"]), self.label)
        if not field["filled"]:
            shown = clean(self.words["open_punt"]) if field["open"] else self.missing
            self.doc.add_paragraph().add_run(shown).italic = True
        elif field["rows"]:
            widths = ACTION_WIDTHS if len(field["columns"]) == 3 else None
            self.table(field["columns"], field["rows"], widths=widths)
        elif field["items"]:
            for item in field["items"]:
                self.doc.add_paragraph(clean(item), self.bullet)
        else:
            self.doc.add_paragraph(clean(field["text"]))

    def cost_table(self, costs: dict[str, Any]) -> Table:
        """One table like the book's: a row per cost item, per scenario quantity and total."""
        scenarios = costs["scenarios"]
        groups = ["", ""] + [v for s in scenarios for v in (s, "")]
        header = [*costs["columns"][:2]] + [
            c for _ in scenarios for c in (costs["columns"][2], costs["total_label"])
        ]
        rows = [
            [row["item"], row["price"], *(v for cell in row["cells"] for v in cell)]
            for row in costs["rows"]
        ]
        total = [costs["total_label"], ""] + [v for t in costs["totals"] for v in (t, "")]
        table = self.table(
            header,
            rows,
            total,
            figures=range(1, len(header)),
            widths=COST_WIDTHS[:2] + COST_WIDTHS[2:] * len(scenarios),
            groups=groups,
            size=Pt(8),
        )
        # The scenario names and the totals each span their scenario's two columns.
        for row in (table.rows[0], table.rows[-1]):
            cells = row.cells
            for start in range(0, len(header), 2):
                merged = cells[start].merge(cells[start + 1])
                for extra in merged.paragraphs[1:]:  # the second cell's empty paragraph
                    extra._p.getparent().remove(extra._p)
                if row is table.rows[0]:
                    merged.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        return table

    def table(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence[str]],
        total: Sequence[str] | None = None,
        figures: Sequence[int] = (),
        widths: Sequence[float] | None = None,
        groups: Sequence[str] | None = None,
        size: Length | None = None,
    ) -> Table:
        """A real table: bold header rows repeated on every page, an optional bold total;
        `widths` are shares of the text width (fixed), `figures` columns right-aligned."""
        count = len(columns)
        head = [list(groups)] if groups is not None else []
        head.append(list(columns))
        lines = [*head, *([*r, *[""] * count][:count] for r in rows)]
        if total is not None:
            lines.append(list(total))
        table = self.doc.add_table(rows=len(lines), cols=len(columns), style=self.grid)
        table.autofit = False
        look = table._tbl.tblPr.find(qn("w:tblLook"))
        if look is not None:  # the first column holds text like any other
            look.set(qn("w:firstColumn"), "0")
        for header_row in table.rows[: len(head)]:
            header_row._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
        shares = widths or [1 / count] * count
        spans = [Length(int(self.width * share)) for share in shares]
        for column, width in zip(table.columns, spans, strict=True):
            column.width = width
        last = len(lines) - 1
        for index, (row, values) in enumerate(zip(table.rows, lines, strict=True)):
            bold = index < len(head) or (total is not None and index == last)
            for position, (cell, value, width) in enumerate(
                zip(row.cells, values, spans, strict=True)
            ):
                cell.width = width
                paragraph = cell.paragraphs[0]
                if position in figures:
                    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                if value:
                    run = paragraph.add_run(clean(value))
                    if bold:
                        run.bold = True
                    if size is not None:
                        run.font.size = size
        return table

    def page_furniture(self) -> None:
        """Title and household number above every page; fixed text and "Pagina N van M"."""
        section = self.doc.sections[0]
        household = f"{clean(self.words['huishoudnummer'])} {clean(self.data['household'])}"
        top = _free_paragraph(section.header.paragraphs, section.header.add_paragraph)
        top.add_run(f"{clean(self.data['title'])}\t\t{household}")
        bottom = _free_paragraph(section.footer.paragraphs, section.footer.add_paragraph)
        bottom.add_run(f"{clean(self.words['voettekst'])}\t\t{clean(self.words['pagina'])} ")
        _field(bottom, "PAGE", "1")
        bottom.add_run(f" {clean(self.words['van'])} ")
        _field(bottom, "NUMPAGES", "1")


def chart_alt(words: dict[str, str], figures: dict[str, Any]) -> str:
    """The chart's alternative text: every figure it shows, in words."""
    amounts = "; ".join(f"{s['label']} {s['shown']}" for s in figures["scenarios"])
    comparisons = "; ".join(
        f"{c['title']} {c['shown']} ({c['difference']})" for c in figures["comparisons"]
    )
    return clean(
        words["grafiek_alt"].format(
            periode=figures["period"], bedragen=amounts, vergelijkingen=comparisons
        )
    ).replace("\xa0", " ")


def _field(paragraph: Paragraph, instruction: str, shown: str) -> None:
    """A simple field (PAGE, NUMPAGES); `shown` is what a reader that does not update
    fields shows."""
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), f" {instruction} ")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = shown
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _shade(cell: Any, colour: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), colour)
    cell._tc.get_or_add_tcPr().append(shading)


def _style(doc: DocumentObject, template: Path, name: str, kind: type[_StyleT]) -> _StyleT:
    try:
        style = doc.styles[name]
    except KeyError:
        raise ValueError(f"{template}: the Word template has no style {name!r}") from None
    if not isinstance(style, kind):
        raise ValueError(f"{template}: style {name!r} is not a {kind.__name__}")
    return style


def _free_paragraph(paragraphs: list[Paragraph], add: Any) -> Paragraph:
    """The template's empty header/footer paragraph, or a new one after a logo or text."""
    if len(paragraphs) == 1 and not paragraphs[0].runs:
        return paragraphs[0]
    new: Paragraph = add()
    return new
