import {
  AlignmentType,
  BorderStyle,
  Document,
  Header,
  Packer,
  PageNumber,
  Paragraph,
  Table,
  TableCell,
  TableRow,
  TextRun,
  VerticalAlignTable,
  WidthType,
  type IBorderOptions,
  type ParagraphChild,
} from "docx";
import { t } from "../../text/vi.js";
import { formatDay } from "../calendar/work-calendar.js";
import type { ExportData } from "./export-data.js";
import { dateParts, formatNumber, formatPercent, percentOf } from "./format.js";

/*
 * The layout of an administrative document, Nghị định 30/2020/NĐ-CP, Phụ lục I: A4; margins
 * top/bottom 20–25 mm, left 30–35 mm, right 15–20 mm; Times New Roman; body 13–14 pt; the
 * issuing body top left over the number; the national title and motto top right over the place
 * and date; the title centred; sections I, II, III; "Nơi nhận" bottom left, signature bottom
 * right; page numbers at the top centre from page 2.
 */

const FONT = "Times New Roman";
/** docx measures font sizes in half-points. */
const PT = (points: number) => points * 2;
const MM = (mm: number) => Math.round((mm / 25.4) * 1440);
const PAGE = { width: 11906, height: 16838 };
const MARGIN = { top: MM(20), bottom: MM(20), left: MM(30), right: MM(20) };
const TEXT_WIDTH = PAGE.width - MARGIN.left - MARGIN.right;
const BODY = PT(14);

const NO_BORDER: IBorderOptions = { style: BorderStyle.NONE, size: 0, color: "FFFFFF" };
const NO_BORDERS = {
  top: NO_BORDER,
  bottom: NO_BORDER,
  left: NO_BORDER,
  right: NO_BORDER,
  insideHorizontal: NO_BORDER,
  insideVertical: NO_BORDER,
};
const LINE: IBorderOptions = { style: BorderStyle.SINGLE, size: 6, color: "000000", space: 1 };

interface RunStyle {
  bold?: boolean;
  italics?: boolean;
  size?: number;
}

const run = (text: string, style: RunStyle = {}) =>
  new TextRun({
    text,
    font: FONT,
    size: style.size ?? BODY,
    bold: style.bold ?? false,
    italics: style.italics ?? false,
  });

const centered = (text: string, style: RunStyle = {}, before = 0) =>
  new Paragraph({
    alignment: AlignmentType.CENTER,
    spacing: { before, after: 0 },
    children: [run(text, style)],
  });

/** The short rule under the issuing body, the motto and the title: a bottom border narrowed by indents. */
const rule = (indent: number) =>
  new Paragraph({
    border: { bottom: LINE },
    indent: { left: indent, right: indent },
    spacing: { after: 60 },
    children: [],
  });

/** A body paragraph: justified, first line indented 1 cm, 6 pt before, line spacing 1.15. */
const body = (children: ParagraphChild[] | string) =>
  new Paragraph({
    alignment: AlignmentType.JUSTIFIED,
    indent: { firstLine: MM(10) },
    spacing: { before: 120, after: 0, line: 276 },
    children: typeof children === "string" ? [run(children)] : children,
  });

const heading = (text: string) => body([run(text, { bold: true })]);

const cell = (children: Paragraph[], width: number) =>
  new TableCell({ children, width: { size: width, type: WidthType.DXA }, borders: NO_BORDERS });

/** "Sở Khoa học và Công nghệ tỉnh Đồng Nai" → the body, its province and the place of the date line. */
export function issuer(orgName: string): { body: string; parent?: string; place?: string } {
  const match = /^(.*?)\s+(tỉnh|thành phố)\s+(.+)$/iu.exec(orgName.trim());
  if (!match) return { body: orgName.trim() };
  const [, bodyName = "", kind = "", place = ""] = match;
  const titled = place
    .split(/\s+/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(" ");
  return { body: bodyName, parent: t.reports.doc.parent(kind, titled), place: titled };
}

function headerTable(data: ExportData): Table {
  const org = issuer(data.orgName);
  const date = dateParts(data.today);
  const left = Math.round(TEXT_WIDTH * 0.44);
  const right = TEXT_WIDTH - left;
  return new Table({
    width: { size: TEXT_WIDTH, type: WidthType.DXA },
    columnWidths: [left, right],
    borders: NO_BORDERS,
    // No cell padding: the national title needs the whole width of its column on one line.
    margins: { left: 0, right: 0, top: 0, bottom: 0 },
    rows: [
      new TableRow({
        children: [
          cell(
            [
              ...(org.parent ? [centered(org.parent, { size: PT(12) })] : []),
              centered(org.body.toUpperCase(), { bold: true, size: PT(12) }),
              rule(MM(14)),
              centered(t.reports.doc.number, { size: PT(13) }, 120),
            ],
            left,
          ),
          cell(
            [
              centered(t.reports.doc.nationalTitle, { bold: true, size: PT(12) }),
              centered(t.reports.doc.motto, { bold: true, size: PT(13) }),
              rule(MM(18)),
              new Paragraph({
                alignment: AlignmentType.CENTER,
                spacing: { before: 120 },
                children: [
                  run(
                    t.reports.doc.placeDate(
                      org.place ?? t.reports.doc.placeUnknown,
                      date.day,
                      date.month,
                      date.year,
                    ),
                    { italics: true, size: PT(13) },
                  ),
                ],
              }),
            ],
            right,
          ),
        ],
      }),
    ],
  });
}

/** The table of results by unit, with a total row. */
function unitsTable(data: ExportData): Table {
  const columns = t.reports.doc.tableColumns;
  const widths = [560, 2700, 780, 900, 780, 900, 900, 900, 780];
  const scale = TEXT_WIDTH / widths.reduce((a, b) => a + b, 0);
  const sized = widths.map((w) => Math.floor(w * scale));
  const line = (values: string[], bold: boolean) =>
    new TableRow({
      children: values.map(
        (value, i) =>
          new TableCell({
            width: { size: sized[i] ?? 800, type: WidthType.DXA },
            verticalAlign: VerticalAlignTable.CENTER,
            children: [
              new Paragraph({
                alignment: i === 1 && !bold ? AlignmentType.LEFT : AlignmentType.CENTER,
                children: [run(value, { bold, size: PT(11) })],
              }),
            ],
          }),
      ),
    });
  const { units, totals } = data.summary;
  const n = (v: number) => formatNumber(v);
  return new Table({
    width: { size: TEXT_WIDTH, type: WidthType.DXA },
    columnWidths: sized,
    rows: [
      line([...columns], true),
      ...units.map((u, i) =>
        line(
          [
            String(i + 1),
            u.unit.name,
            n(u.total),
            n(u.done),
            n(u.doneOnTime),
            n(u.inProgress),
            n(u.notStarted),
            n(u.blocked),
            n(u.overdue),
          ],
          false,
        ),
      ),
      line(
        [
          "",
          t.reports.doc.tableTotal,
          n(totals.total),
          n(totals.done),
          n(totals.doneOnTime),
          n(units.reduce((a, u) => a + u.inProgress, 0)),
          n(units.reduce((a, u) => a + u.notStarted, 0)),
          n(units.reduce((a, u) => a + u.blocked, 0)),
          n(totals.overdue),
        ],
        true,
      ),
    ],
  });
}

function sectionOne(data: ExportData): Paragraph[] {
  const { summary } = data;
  const tasks = new Set(summary.assignments.map((a) => a.task.key)).size;
  return [
    heading(t.reports.doc.section1),
    body(
      t.reports.doc.section1Text(
        formatNumber(summary.plans.length),
        formatNumber(tasks),
        formatNumber(summary.units.length),
        formatNumber(summary.totals.total),
      ),
    ),
    ...summary.plans.map((p) =>
      body(
        t.reports.doc.planLine(
          p.plan.title,
          formatNumber(p.done),
          formatNumber(p.total),
          formatPercent(p.percent),
        ),
      ),
    ),
  ];
}

function sectionTwo(data: ExportData): (Paragraph | Table)[] {
  const { summary, ticketStats: ts, modelStats: ms, labels } = data;
  const units = summary.units;
  const sum = (pick: (u: (typeof units)[number]) => number) =>
    formatNumber(units.reduce((a, u) => a + pick(u), 0));
  const share = percentOf(ts.onTime, ts.due);
  const types = ts.byType
    .map((c) => t.reports.doc.typeCount(labels.ticketType(c.key), formatNumber(c.count)))
    .join(", ");
  const statuses = ms.byStatus
    .filter((c) => c.count > 0)
    .map((c) => t.reports.doc.statusCount(t.dvk.status(c.key), formatNumber(c.count)))
    .join(", ");
  return [
    heading(t.reports.doc.section2),
    heading(t.reports.doc.progressHeading),
    body(
      t.reports.doc.progressText({
        asOf: formatDay(summary.asOf),
        done: formatNumber(summary.totals.done),
        total: formatNumber(summary.totals.total),
        percent: formatPercent(summary.totals.percent),
        onTime: formatNumber(summary.totals.doneOnTime),
        inProgress: sum((u) => u.inProgress),
        notStarted: sum((u) => u.notStarted),
        blocked: sum((u) => u.blocked),
        overdue: formatNumber(summary.totals.overdue),
      }),
    ),
    body(t.reports.doc.tableCaption),
    unitsTable(data),
    heading(t.reports.doc.ticketsHeading),
    ...(ts.total === 0
      ? [body(t.reports.doc.ticketsNone)]
      : [
          body(t.reports.doc.ticketsText(formatNumber(ts.total), types)),
          body(
            t.reports.doc.ticketsResult({
              answered: formatNumber(ts.answered),
              onTime: formatNumber(ts.onTime),
              due: formatNumber(ts.due),
              share: share === undefined ? undefined : formatPercent(share),
              days:
                ts.averageHandlingDays === undefined ? undefined : formatNumber(ts.averageHandlingDays, 1),
              rating: ts.averageRating === undefined ? undefined : formatNumber(ts.averageRating, 1),
              rated: formatNumber(ts.rated),
            }),
          ),
          body([run(t.reports.targetNote, { italics: true })]),
        ]),
    heading(t.reports.doc.modelsHeading),
    body(
      ms.total === 0
        ? t.reports.doc.modelsNone(ms.year)
        : t.reports.doc.modelsText(ms.year, formatNumber(ms.total), statuses),
    ),
  ];
}

/** At most this many pairs at risk are named in the draft; the workbook lists every one. */
const MAX_RISK = 10;

function sectionThree(data: ExportData): Paragraph[] {
  const { summary } = data;
  const risk = summary.summary.atRisk;
  return [
    heading(t.reports.doc.section3),
    heading(t.reports.doc.assessmentHeading),
    body(
      t.reports.doc.assessmentText(
        formatPercent(summary.totals.percent),
        formatNumber(summary.totals.overdue),
        formatNumber(risk.length),
      ),
    ),
    ...risk
      .slice(0, MAX_RISK)
      .map((a) => body(t.reports.doc.riskLine(a.task.code, a.task.title, a.unit.name, formatDay(a.due.day)))),
    ...(risk.length > MAX_RISK ? [body(t.reports.doc.riskMore(formatNumber(risk.length - MAX_RISK)))] : []),
    heading(t.reports.doc.directionHeading),
    body(t.reports.doc.directionText),
    body([run(t.reports.doc.directionPlaceholder, { italics: true })]),
  ];
}

function closing(): Table {
  const left = TEXT_WIDTH * 0.45;
  const right = TEXT_WIDTH - left;
  return new Table({
    width: { size: TEXT_WIDTH, type: WidthType.DXA },
    columnWidths: [left, right],
    borders: NO_BORDERS,
    rows: [
      new TableRow({
        children: [
          cell(
            [
              new Paragraph({
                spacing: { before: 240 },
                children: [run(t.reports.doc.recipientsTitle, { bold: true, italics: true, size: PT(12) })],
              }),
              ...t.reports.doc.recipients.map(
                (line) => new Paragraph({ children: [run(line, { size: PT(11) })] }),
              ),
            ],
            left,
          ),
          cell(
            [
              centered(t.reports.doc.signerTitle, { bold: true }, 240),
              ...[1, 2, 3, 4].map(() => centered("")),
              centered(t.reports.doc.signerPlaceholder, { bold: true }),
            ],
            right,
          ),
        ],
      }),
    ],
  });
}

/** The draft "Báo cáo kết quả thực hiện công tác dân vận chính quyền [kỳ]" as .docx bytes. */
export async function draftReport(data: ExportData): Promise<Buffer> {
  const label = t.reports.periodLabel(data.summary.period);
  const refs = data.summary.plans
    .map((p) =>
      t.reports.doc.planRef({
        number: p.plan.document.number,
        date: p.plan.document.date ? formatDay(p.plan.document.date) : undefined,
        issuer: p.plan.document.issuer,
      }),
    )
    .join(t.reports.doc.and);
  const document = new Document({
    creator: data.orgName,
    title: t.reports.doc.subtitle(label),
    styles: { default: { document: { run: { font: FONT, size: BODY } } } },
    sections: [
      {
        properties: {
          titlePage: true,
          page: { size: PAGE, margin: MARGIN },
        },
        headers: {
          first: new Header({ children: [new Paragraph({ children: [] })] }),
          default: new Header({
            children: [
              new Paragraph({
                alignment: AlignmentType.CENTER,
                children: [new TextRun({ children: [PageNumber.CURRENT], font: FONT, size: PT(13) })],
              }),
            ],
          }),
        },
        children: [
          new Paragraph({
            alignment: AlignmentType.RIGHT,
            spacing: { after: 120 },
            children: [
              run(t.reports.doc.draftNote(formatDay(data.summary.asOf)), { italics: true, size: PT(11) }),
            ],
          }),
          headerTable(data),
          centered(t.reports.doc.title, { bold: true }, 360),
          centered(t.reports.doc.subtitle(label), { bold: true }),
          rule(MM(55)),
          body(t.reports.doc.intro(issuer(data.orgName).body, refs, label)),
          ...sectionOne(data),
          ...sectionTwo(data),
          ...sectionThree(data),
          closing(),
        ],
      },
    ],
  });
  return Packer.toBuffer(document);
}
