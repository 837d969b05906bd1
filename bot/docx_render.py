"""The plan as an editable Word document, built with python-docx on a style template.

The look comes from the template (prompts/templates/plan.docx), so a municipality restyles the
Word output by editing these styles in Word, without touching Python:

- Title: the plan's title; Heading 1: "Stap N. Name"; Heading 2: a section title
  (Legitimiteit, Rendement, ...); Normal: everything else; List Bullet: list answers;
  Table Grid: every table (actieplan, cost lines, totals); Header and Footer: the page header
  (title, household number) and footer (fixed text, page number).

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
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Length
from docx.styles.style import BaseStyle, ParagraphStyle, _TableStyle
from docx.table import Table
from docx.text.paragraph import Paragraph

from dialogs.kinds import Layout, rules

# XML 1.0 allows \t \n \r and everything from U+0020 except surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
CHART_WIDTH = Cm(15)
# Columns of a cost table whose figures line up on the right.
_COST_FIGURES = (1, 2, 4)
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
        self.grid = _style(doc, template, "Table Grid", _TableStyle)
        section = doc.sections[0]
        page, left, right = section.page_width, section.left_margin, section.right_margin
        self.width = Length(page - left - right) if page and left and right else Cm(16)
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
        self.doc.add_paragraph(clean(data["title"]), style=self.title)
        facts = (
            (self.words["huishoudnummer"], data["household"]),
            (self.words["professional"], data["professional"]),
            (self.words["datum"], data["date"]),
        )
        for label, value in facts:
            paragraph = self.doc.add_paragraph()
            paragraph.add_run(f"{clean(label)}: ").bold = True
            self.value(paragraph, value)
        for step in data["steps"]:
            self.doc.add_paragraph(f"Stap {step['number']}. {clean(step['name'])}", self.heading1)
            self.doc.add_paragraph().add_run(clean(step["question"])).italic = True
            for section in step["sections"]:
                if section["title"]:
                    self.doc.add_paragraph(clean(section["title"]), self.heading2)
                for field in section["fields"]:
                    self.field(field)
                if section["key"] == "rendement":
                    self.rendement(chart_png)

    def value(self, paragraph: Paragraph, value: str) -> None:
        if value:
            paragraph.add_run(clean(value))
        else:
            paragraph.add_run(self.missing).italic = True

    def field(self, field: dict[str, Any]) -> None:
        label = self.doc.add_paragraph()
        label.paragraph_format.keep_with_next = True
        label.add_run(clean(field["label"])).bold = True
        if not field["filled"]:
            shown = clean(self.words["open_punt"]) if field["open"] else self.missing
            self.doc.add_paragraph().add_run(shown).italic = True
        elif rules(field["kind"]).layout is Layout.COSTS:
            if field["rows"]:
                total = [self.words["totaal"]] + [""] * (len(field["columns"]) - 2)
                self.table(
                    field["columns"], field["rows"], (*total, field["total"]), _COST_FIGURES
                )
            else:
                self.doc.add_paragraph(f"{clean(self.words['geen_kosten'])}: {field['total']}")
        elif field["rows"]:
            self.table(field["columns"], field["rows"])
        elif field["items"]:
            for item in field["items"]:
                self.doc.add_paragraph(clean(item), self.bullet)
        else:
            self.doc.add_paragraph(clean(field["text"]))

    def rendement(self, chart_png: bytes | None) -> None:
        figures = self.data["rendement"]
        heading = self.doc.add_paragraph()
        heading.paragraph_format.keep_with_next = True
        caption = f"{clean(self.words['totale_kosten'])} {clean(figures['period'])}"
        heading.add_run(caption).bold = True
        self.table(
            (self.words["scenario"], self.words["totaal"]),
            [(s["name"].capitalize(), s["shown"]) for s in figures["scenarios"]],
            figures=(1,),
        )
        for comparison in figures["comparisons"]:
            paragraph = self.doc.add_paragraph()
            label = clean(comparison["label"]).capitalize()
            paragraph.add_run(f"{label}: {clean(comparison['shown'])}").bold = True
            paragraph.add_run(f" ({clean(comparison['explanation'])})")
        if chart_png is not None:
            picture = self.doc.add_paragraph()
            picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
            picture.add_run().add_picture(BytesIO(chart_png), width=min(CHART_WIDTH, self.width))

    def table(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence[str]],
        total: Sequence[str] | None = None,
        figures: Sequence[int] = (),
    ) -> Table:
        """A real table: a bold header row repeated on every page, an optional bold total."""
        count = len(columns)
        lines = [list(columns), *([*r, *[""] * count][:count] for r in rows)]
        if total is not None:
            lines.append(list(total))
        table = self.doc.add_table(rows=len(lines), cols=len(columns), style=self.grid)
        table.autofit = True
        look = table._tbl.tblPr.find(qn("w:tblLook"))
        if look is not None:  # the first column holds text like any other
            look.set(qn("w:firstColumn"), "0")
        header = table.rows[0]._tr.get_or_add_trPr()
        header.append(OxmlElement("w:tblHeader"))
        widths = _widths(lines, self.width)
        for column, width in zip(table.columns, widths, strict=True):
            column.width = width
        last = len(lines) - 1
        for index, (row, values) in enumerate(zip(table.rows, lines, strict=True)):
            bold = index == 0 or (total is not None and index == last)
            for position, (cell, value, width) in enumerate(
                zip(row.cells, values, widths, strict=True)
            ):
                cell.width = width
                paragraph = cell.paragraphs[0]
                if index > 0 and position in figures:
                    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                if value:
                    run = paragraph.add_run(clean(value))
                    if bold:
                        run.bold = True
        return table

    def page_furniture(self) -> None:
        """Title and household number above every page; fixed text and page number below."""
        section = self.doc.sections[0]
        household = f"{clean(self.words['huishoudnummer'])} {clean(self.data['household'])}"
        top = _free_paragraph(section.header.paragraphs, section.header.add_paragraph)
        top.add_run(f"{clean(self.data['title'])}\t\t{household}")
        bottom = _free_paragraph(section.footer.paragraphs, section.footer.add_paragraph)
        bottom.add_run(f"{clean(self.words['voettekst'])}\t\t{clean(self.words['pagina'])} ")
        field = OxmlElement("w:fldSimple")
        field.set(qn("w:instr"), " PAGE ")
        shown = OxmlElement("w:r")
        placeholder = OxmlElement("w:t")
        placeholder.text = "1"  # what a reader shows that does not update fields
        shown.append(placeholder)
        field.append(shown)
        bottom._p.append(field)


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


def _widths(lines: Sequence[Sequence[str]], width: Length) -> list[Length]:
    """Column widths in proportion to their longest text, within bounds so none vanishes."""
    weights = [
        min(max(len(str(v)) for v in column), 40) + 6 for column in zip(*lines, strict=True)
    ]
    whole = sum(weights)
    return [Length(width * w // whole) for w in weights]
