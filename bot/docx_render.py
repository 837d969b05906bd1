"""The plan as an editable Word document, on a style template opened with python-docx.

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
body of the template is discarded. The body is written as WordprocessingML text and parsed
once: python-docx's object API costs about a millisecond per table cell, which made a typical
plan take 70-90 ms; this way it takes a few. User text only ever becomes escaped run text:
nothing in an answer is interpreted, and characters XML 1.0 forbids are dropped so an answer
cannot break the file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from docx import Document
from docx.document import Document as DocumentObject
from docx.oxml import OxmlElement
from docx.oxml.ns import nsdecls, qn
from docx.shared import Emu
from docx.text.paragraph import Paragraph
from lxml import etree  # type: ignore[import-untyped]

from dialogs.kinds import Layout, rules

# XML 1.0 allows \t \n \r and everything from U+0020 except surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_BREAKS = re.compile(r"(\n|\t)")
# The paragraph style of a field's label (bold, kept with the answer that follows).
LABEL_STYLE = "Veldlabel"
# Styles the writer uses, by name; their ids are looked up in the template once per file.
STYLES = ("Title", "Heading 1", "Heading 2", "List Bullet", LABEL_STYLE, "Table Grid")
# Column shares of the text width, as in the PDF: the actieplan (wie, wat, wanneer), and the
# cost table (omschrijving, prijs, then aantal and totaal for each scenario; 17 cm in the PDF).
ACTION_WIDTHS = (0.25, 0.55, 0.20)
# The section "Evaluatie": months, date, doorbraak, experience, then three figure columns.
EVALUATION_WIDTHS = (0.08, 0.12, 0.1, 0.13, 0.19, 0.19, 0.19)
COST_WIDTHS = (3.35 / 17, 2.7 / 17, 1.7 / 17, 1.95 / 17)
# Font sizes in half points: the cost table's and the notes under the totals.
SMALL = 16
DOORBRAAK_FILL = "FFF4CC"
# A plain parser: the body is only written out again, so python-docx's element classes (which
# make parsing several times slower) are not needed for it.
_PARSER = etree.XMLParser(resolve_entities=False)
_TWIPS_PER_EMU = 635
_EMU_PER_CM = 360000


def clean(text: object) -> str:
    """Text as Word can hold it: forbidden characters dropped, line ends as `\\n`."""
    return _NOT_XML.sub("", str(text).replace("\r\n", "\n").replace("\r", "\n"))


def render_docx(data: dict[str, Any], template: Path, chart_png: bytes | None = None) -> bytes:
    """The plan from `bot.documents.Renderer.data` as .docx bytes: the canvas, then the steps."""
    writer = _Writer(Document(str(template)), data, template)
    writer.plan(chart_png)
    out = BytesIO()
    writer.doc.save(out)
    return out.getvalue()


def run(text: str, *, bold: bool = False, italic: bool = False, size: int | None = None) -> str:
    """One run of text; a line end becomes a line break, a tab a tab, as python-docx does."""
    props = ("<w:b/>" if bold else "") + ("<w:i/>" if italic else "")
    if size is not None:
        props += f'<w:sz w:val="{size}"/><w:szCs w:val="{size}"/>'
    pieces = []
    for piece in _BREAKS.split(clean(text)):
        if piece == "\n":
            pieces.append("<w:br/>")
        elif piece == "\t":
            pieces.append("<w:tab/>")
        elif piece:
            pieces.append(f'<w:t xml:space="preserve">{escape(piece)}</w:t>')
    return f"<w:r>{f'<w:rPr>{props}</w:rPr>' if props else ''}{''.join(pieces)}</w:r>"


class _Writer:
    def __init__(self, doc: DocumentObject, data: dict[str, Any], template: Path) -> None:
        self.doc = doc
        self.data = data
        self.words: dict[str, str] = data["wording"]
        self.missing = clean(data["missing"])
        self.styles = _style_ids(doc, template)
        section = doc.sections[0]
        page, left, right = section.page_width, section.left_margin, section.right_margin
        width = page - left - right if page and left and right else 17 * _EMU_PER_CM
        self.width = int(width) // _TWIPS_PER_EMU  # in twips, as tables measure
        self.width_emu = int(width)
        self.parts: list[str] = []
        self.chart: Any = None
        body = doc.element.body
        for child in list(body):
            if child.tag != qn("w:sectPr"):
                body.remove(child)

    # Building blocks: each returns WordprocessingML text.
    def para(
        self,
        runs: str = "",
        style: str | None = None,
        *,
        align: str | None = None,
        tab: int | None = None,
        after: int | None = None,
    ) -> str:
        props = f'<w:pStyle w:val="{self.styles[style]}"/>' if style else ""
        if tab is not None:
            props += f'<w:tabs><w:tab w:val="right" w:pos="{tab}"/></w:tabs>'
        if after is not None:
            props += f'<w:spacing w:after="{after}"/>'
        if align:
            props += f'<w:jc w:val="{align}"/>'
        return f"<w:p>{f'<w:pPr>{props}</w:pPr>' if props else ''}{runs}</w:p>"

    def add(self, *paragraphs: str) -> None:
        self.parts.extend(paragraphs)

    def text(self, text: str, style: str | None = None) -> None:
        self.add(self.para(run(text), style))

    def grey(self, text: str) -> str:
        return self.para(run(text, italic=True))

    def table(
        self,
        rows: Sequence[Sequence[tuple[str, int, bool, str]]],
        shares: Sequence[float],
        *,
        header_rows: int = 1,
        grid: bool = True,
        fill: str | None = None,
    ) -> str:
        """A table of fixed column widths (`shares` of the text width). A cell is
        (paragraphs, span, right-aligned, ""): its content is already WordprocessingML."""
        widths = [int(self.width * share) for share in shares]
        style = f'<w:tblStyle w:val="{self.styles["Table Grid"]}"/>' if grid else ""
        look = '<w:tblLook w:val="0420" w:firstRow="1" w:lastRow="0" w:firstColumn="0"'
        look += ' w:lastColumn="0" w:noHBand="0" w:noVBand="1"/>'
        out = [
            f'<w:tbl><w:tblPr>{style}<w:tblW w:w="{sum(widths)}" w:type="dxa"/>'
            f'<w:tblLayout w:type="fixed"/>{look}</w:tblPr><w:tblGrid>'
            + "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
            + "</w:tblGrid>"
        ]
        for index, cells in enumerate(rows):
            header = "<w:trPr><w:tblHeader/></w:trPr>" if index < header_rows else ""
            out.append(f"<w:tr>{header}")
            column = 0
            for content, span, _, _ in cells:
                width = sum(widths[column : column + span])
                props = f'<w:tcW w:w="{width}" w:type="dxa"/>'
                if span > 1:
                    props += f'<w:gridSpan w:val="{span}"/>'
                if fill:
                    props += f'<w:shd w:val="clear" w:color="auto" w:fill="{fill}"/>'
                out.append(f"<w:tc><w:tcPr>{props}</w:tcPr>{content or '<w:p/>'}</w:tc>")
                column += span
            out.append("</w:tr>")
        out.append("</w:tbl>")
        return "".join(out)

    def cell(
        self,
        text: str,
        *,
        bold: bool = False,
        right: bool = False,
        center: bool = False,
        span: int = 1,
        size: int | None = None,
    ) -> tuple[str, int, bool, str]:
        align = "right" if right else "center" if center else None
        runs = run(text, bold=bold, size=size) if text else ""
        return (self.para(runs, align=align, after=0), span, right, "")

    def text_table(
        self, columns: Sequence[str], rows: Sequence[Sequence[str]], shares: Sequence[float]
    ) -> None:
        """A table of answers (the actieplan): a bold header row repeated on every page."""
        count = len(columns)
        lines = [[self.cell(c, bold=True) for c in columns]]
        lines += [[self.cell(c) for c in [*r, *[""] * count][:count]] for r in rows]
        self.add(self.table(lines, shares))

    # The plan.
    def plan(self, chart_png: bytes | None) -> None:
        data = self.data
        self.page_furniture()
        properties = self.doc.core_properties
        properties.title = clean(data["title"])[:255]
        properties.created = properties.modified = datetime.now(UTC).replace(tzinfo=None)
        self.canvas(chart_png)
        self.add('<w:p><w:r><w:br w:type="page"/></w:r></w:p>')
        for step in data["steps"]:
            self.text(f"Stap {step['number']}. {step['name']}", "Heading 1")
            self.add(self.grey(step["question"]))
            for section in step["sections"]:
                if section["title"]:
                    self.text(section["title"], "Heading 2")
                for field in section["fields"]:
                    if rules(field["kind"]).layout is not Layout.COSTS:
                        self.field(field)
                if section["key"] == "rendement":
                    self.text(self.words["kostentabel"], LABEL_STYLE)
                    table = data["rendement"]["table"]
                    if table is None:
                        self.add(self.grey(data["rendement"]["reason"]))
                    else:
                        self.cost_table(table)
        if data["course"]["lines"]:
            self.text(self.words["verloop"], "Heading 1")
            for line in data["course"]["lines"]:
                self.add(self.para(run(line)))
        for section in data.get("follow_up", ()):
            self.text(section["title"], "Heading 1")
            for line in section["lines"]:
                self.text(line)
        self.evaluations(data.get("evaluations") or [])
        self.flush()

    def evaluations(self, rows: Sequence[dict[str, str]]) -> None:
        """The section "Evaluatie" (bot.evaluations): one row per evaluation, as the PDF."""
        if not rows:
            return
        words = self.words
        self.text(words["evaluaties"], "Heading 1")
        keys = ("na", "datum", "doorbraak", "ervaring", "scenario", "direct", "reeel")
        columns = [words[f"evaluatie_{key}"] for key in keys]
        self.text_table(columns, [[row[k] for k in keys] for row in rows], EVALUATION_WIDTHS)
        self.text(words["evaluatie_verandering"], LABEL_STYLE)
        for row in rows:
            self.text(f"{row['na']}: {row['verandering']}", "List Bullet")

    def flush(self) -> None:
        """Parse the body once, with the template's section properties at its end, in place
        of the template's body; the chart goes into its placeholder."""
        old = self.doc.element.body
        section = old.find(qn("w:sectPr"))
        tail = etree.tostring(section, encoding="unicode") if section is not None else ""
        text = (
            f"<w:body {nsdecls('w', 'wp', 'a', 'pic', 'r')}>{''.join(self.parts)}{tail}</w:body>"
        )
        body = etree.fromstring(text.encode("utf-8"), _PARSER)
        if self.chart is not None:
            drawing = body.find(".//" + qn("w:drawing"))
            if drawing is not None:
                drawing.append(self.chart)
        old.getparent().replace(old, body)

    # Page 1: the canvas with the result, as in the PDF (prompts/templates/canvas.typ).
    def canvas(self, chart_png: bytes | None) -> None:
        data, words, canvas = self.data, self.words, self.data["canvas"]
        self.text(data["title"], "Title")
        facts: tuple[tuple[str, Any], ...] = (
            (words["huishoudnummer"], data["household"]),
            (words["professional"], data["professional"]),
            (words["werkgebied"], canvas["werkgebied"]),
            (words["datum"], data["date"]),
        )
        if data["course"]["status"]:
            facts = (*facts, (words["status"], data["course"]["status"]))
        runs = []
        for index, (label, value) in enumerate(facts):
            runs.append(run(("    " if index else "") + f"{label}: ", bold=True))
            runs.append(run(value) if value else run(self.missing, italic=True))
        self.add(self.para("".join(runs)))
        self.text(words["situatie"], LABEL_STYLE)
        self.add(self.para(self.item(canvas["situation"])))
        domains = "   ".join(f"{'☒' if on else '☐'} {name}" for name, on in canvas["domains"])
        self.add(self.para(run(domains)))
        box = ""
        for label, entry in zip(
            (words["doorbraak"], words["nodig"]), canvas["doorbraak"], strict=True
        ):
            box += self.para(run(label), LABEL_STYLE) + self.para(self.item(entry))
        self.add(self.table([[(box, 1, False, "")]], (1.0,), header_rows=0, fill=DOORBRAAK_FILL))
        self.text(words["waardendriehoek"], "Heading 2")
        self.text(words["legitimiteit"], LABEL_STYLE)
        for entry in canvas["legitimiteit"]:
            label = clean(entry["label"])
            label += " " if label.endswith("?") else ": "
            self.add(self.para(run(label, italic=True) + self.item(entry)))
        self.text(words["betrokkenheid"], LABEL_STYLE)
        self.add(self.para(self.item(canvas["betrokkenheid"])))
        rendement = data["rendement"]
        self.text(f"{words['rendement']} ({rendement['period']})", LABEL_STYLE)
        if rendement["figures"]:
            self.rendement(chart_png)
        else:
            self.add(self.grey(rendement["reason"]))
        self.text(words["weging"], LABEL_STYLE)
        self.add(self.para(self.item(canvas["weging"])))
        self.text(words["eerste_acties"], LABEL_STYLE)
        if canvas["actions"]:
            self.text_table(canvas["action_columns"], canvas["actions"], ACTION_WIDTHS)
        else:
            self.add(self.grey(self.missing))
        evaluation = run(f"{words['evaluatie']}: ", bold=True) + self.item(canvas["evaluation"])
        self.add(self.para(evaluation))

    def item(self, entry: dict[str, Any]) -> str:
        """A canvas answer's runs; a shortened one says which step has it in full."""
        if not entry["filled"]:
            return run(entry["text"], italic=True)
        shown = run(entry["text"])
        if entry["shortened"]:
            where = clean(self.words["volledig"]).replace("{stap}", str(entry["step"]))
            shown += run(f" ({where})", italic=True)
        return shown

    def rendement(self, chart_png: bytes | None) -> None:
        """The three totals and both comparisons, the chart beside them."""
        figures = self.data["rendement"]
        half = self.width // 2
        left = self.para(run(f"{self.words['totale_kosten']} {figures['period']}", bold=True))
        lines = [(s["label"], s["exact"], False) for s in figures["scenarios"]]
        lines += [(c["title"], c["exact"], True) for c in figures["comparisons"]]
        for label, amount, bold in lines:
            left += self.para(run(f"{label}\t{amount}", bold=bold), tab=half - 200, after=0)
        for comparison in figures["comparisons"]:
            note = f"{comparison['title']}: {comparison['explanation']}"
            left += self.para(run(note, italic=True, size=SMALL), after=0)
        right = self.para(align="center")
        if chart_png is not None:
            width = Emu(self.width_emu // 2 - _EMU_PER_CM // 5)
            self.chart = self.doc.part.new_pic_inline(BytesIO(chart_png), width, None)
            self.chart.docPr.set("descr", chart_alt(self.words, figures))
            self.chart.docPr.set("title", clean(self.words["grafiek_titel"]))
            right = self.para("<w:r><w:drawing/></w:r>", align="center")
        cells = [(left, 1, False, ""), (right, 1, False, "")]
        self.add(self.table([cells], (0.5, 0.5), header_rows=0, grid=False))

    def field(self, field: dict[str, Any]) -> None:
        self.text(field["label"], LABEL_STYLE)
        if not field["filled"]:
            self.add(self.grey(self.words["open_punt"] if field["open"] else self.missing))
        elif field["rows"]:
            count = len(field["columns"])
            shares = ACTION_WIDTHS if count == 3 else [1 / count] * count
            self.text_table(field["columns"], field["rows"], shares)
        elif field["items"]:
            for item in field["items"]:
                self.text(item, "List Bullet")
        else:
            self.text(field["text"])

    def cost_table(self, costs: dict[str, Any]) -> None:
        """One table like the book's: a row per cost item, per scenario quantity and total;
        the scenario names and the totals each span their scenario's two columns."""
        scenarios, columns, total = costs["scenarios"], costs["columns"], costs["total_label"]
        rows = [
            [self.cell("", span=2)]
            + [self.cell(s, bold=True, center=True, span=2, size=SMALL) for s in scenarios],
            [
                self.cell(columns[0], bold=True, size=SMALL),
                self.cell(columns[1], bold=True, right=True, size=SMALL),
            ]
            + [
                c
                for _ in scenarios
                for c in (
                    self.cell(columns[2], bold=True, right=True, size=SMALL),
                    self.cell(total, bold=True, right=True, size=SMALL),
                )
            ],
        ]
        for row in costs["rows"]:
            cells = [
                self.cell(row["item"], size=SMALL),
                self.cell(row["price"], right=True, size=SMALL),
            ]
            for quantity, amount in row["cells"]:
                cells += [
                    self.cell(quantity, right=True, size=SMALL),
                    self.cell(amount, right=True, size=SMALL),
                ]
            rows.append(cells)
        rows.append(
            [self.cell(total, bold=True, span=2, size=SMALL)]
            + [self.cell(t, bold=True, right=True, span=2, size=SMALL) for t in costs["totals"]]
        )
        shares = COST_WIDTHS[:2] + COST_WIDTHS[2:] * len(scenarios)
        self.add(self.table(rows, shares, header_rows=2))

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
    text = OxmlElement("w:t")
    text.text = shown
    shown_run = OxmlElement("w:r")
    shown_run.append(text)
    field.append(shown_run)
    paragraph._p.append(field)


def _style_ids(doc: DocumentObject, template: Path) -> dict[str, str]:
    ids = {}
    for name in STYLES:
        try:
            style = doc.styles[name]
        except KeyError:
            raise ValueError(f"{template}: the Word template has no style {name!r}") from None
        ids[name] = str(style.style_id)
    return ids


def _free_paragraph(paragraphs: list[Paragraph], add: Any) -> Paragraph:
    """The template's empty header/footer paragraph, or a new one after a logo or text."""
    if len(paragraphs) == 1 and not paragraphs[0].runs:
        return paragraphs[0]
    new: Paragraph = add()
    return new
