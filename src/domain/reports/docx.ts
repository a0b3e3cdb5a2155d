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
import { citedDate } from "../plans/schema.js";
import type { ExportData } from "./export-data.js";
import { dateParts, formatNumber, formatPercent, percentOf } from "./format.js";
import {
  overdueByTask,
  planSections,
  quote,
  taskResults,
  type OverdueBucket,
  type TaskResult,
} from "./narrative.js";

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

/** A heading stays on the page of what follows it. */
const heading = (text: string) =>
  new Paragraph({
    alignment: AlignmentType.JUSTIFIED,
    indent: { firstLine: MM(10) },
    keepNext: true,
    spacing: { before: 120, after: 0, line: 276 },
    children: [run(text, { bold: true })],
  });

const italic = (text: string) => body([run(text, { italics: true })]);

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

/**
 * What the letterhead prints: the configured parent body and place first (ORG_PARENT, ORG_PLACE),
 * else what ORG_NAME says, else a blank the Office fills in.
 */
export function letterheadOf(data: ExportData): { body: string; parent: string; place: string } {
  const org = issuer(data.orgName);
  return {
    body: org.body,
    parent: data.letterhead.parent?.toUpperCase() ?? org.parent ?? t.reports.doc.parentUnknown,
    place: data.letterhead.place ?? org.place ?? t.reports.doc.placeUnknown,
  };
}

function headerTable(data: ExportData): Table {
  const org = letterheadOf(data);
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
              centered(org.parent, { size: PT(12) }),
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
                  run(t.reports.doc.placeDate(org.place, date.day, date.month, date.year), {
                    italics: true,
                    size: PT(13),
                  }),
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

/**
 * The table of results by unit. Its header row repeats on every page, no row breaks across a
 * page, and the last unit's row keeps with the total so the total never stands alone on a page.
 */
function unitsTable(data: ExportData): Table {
  const columns = t.reports.doc.tableColumns;
  const widths = [560, 2190, 900, 900, 900, 900, 900, 900, 900];
  const scale = TEXT_WIDTH / widths.reduce((a, b) => a + b, 0);
  const sized = widths.map((w) => Math.floor(w * scale));
  const line = (values: string[], options: { bold: boolean; header?: boolean; keepNext?: boolean }) =>
    new TableRow({
      tableHeader: options.header ?? false,
      cantSplit: true,
      children: values.map(
        (value, i) =>
          new TableCell({
            width: { size: sized[i] ?? 800, type: WidthType.DXA },
            verticalAlign: VerticalAlignTable.CENTER,
            children: [
              new Paragraph({
                alignment: i === 1 && !options.bold ? AlignmentType.LEFT : AlignmentType.CENTER,
                keepNext: options.keepNext ?? false,
                children: [run(value, { bold: options.bold, size: PT(11) })],
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
      line([...columns], { bold: true, header: true, keepNext: true }),
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
          { bold: false, keepNext: i >= units.length - 2 },
        ),
      ),
      line(
        [
          "",
          t.reports.doc.tableTotal,
          n(totals.total),
          n(totals.done),
          n(totals.doneOnTime),
          n(sumOf(units, (u) => u.inProgress)),
          n(sumOf(units, (u) => u.notStarted)),
          n(sumOf(units, (u) => u.blocked)),
          n(totals.overdue),
        ],
        { bold: true },
      ),
    ],
  });
}

const sumOf = <T>(items: T[], pick: (item: T) => number) => items.reduce((a, item) => a + pick(item), 0);
const n = (value: number) => formatNumber(value);

function sectionOne(data: ExportData): Paragraph[] {
  const { summary } = data;
  const tasks = new Set(summary.assignments.map((a) => a.task.key)).size;
  return [
    heading(t.reports.doc.section1),
    body(
      t.reports.doc.section1Text(
        n(summary.plans.length),
        n(tasks),
        n(summary.units.length),
        n(summary.totals.total),
      ),
    ),
    body(t.reports.doc.tracking),
  ];
}

/** The overall figures in words: only the parts that are not zero. */
function progress(data: ExportData): Paragraph[] {
  const { summary } = data;
  const { totals, units } = summary;
  const asOf = formatDay(summary.asOf);
  const d = t.reports.doc;
  const first =
    totals.done > 0
      ? d.progressDone(
          asOf,
          n(totals.done),
          n(totals.total),
          formatPercent(totals.percent),
          totals.doneOnTime > 0 ? n(totals.doneOnTime) : undefined,
        )
      : d.progressNoneDone(asOf, n(totals.total));
  const rest = [
    [sumOf(units, (u) => u.inProgress), d.inProgress],
    [sumOf(units, (u) => u.notStarted), d.notStarted],
    [sumOf(units, (u) => u.blocked), d.blocked],
  ] as const;
  const parts = rest.filter(([count]) => count > 0).map(([count, say]) => say(n(count)));
  return [
    body(first),
    ...(parts.length ? [body(d.progressRest(parts))] : []),
    ...(totals.overdue > 0 ? [body(d.overdueOf(n(totals.overdue)))] : []),
  ];
}

/** At most this many units are quoted under one task; the workbook has every report. */
const MAX_QUOTES = 4;

function groups(data: ExportData, results: TaskResult[]): Paragraph[] {
  const d = t.reports.doc;
  const sections = planSections(data.summary, results);
  return sections.flatMap((section) => [
    ...(sections.length > 1 ? [heading(d.planHeading(section.plan.title))] : []),
    ...section.groups.flatMap((group) => {
      const tasks = n(group.tasks.length);
      const line =
        group.done > 0
          ? d.group(group.code, group.title, tasks, n(group.done), n(group.pairs))
          : d.groupNoneDone(group.code, group.title, tasks, n(group.pairs));
      const reported = group.tasks.filter((r) => r.notes.length > 0);
      const silent = group.tasks.filter((r) => r.notes.length === 0).map((r) => r.task.code);
      return [
        body([run(line, { italics: true })]),
        ...reported.flatMap((r) => {
          const said = r.notes.slice(0, MAX_QUOTES).map((note) => d.unitSaid(note.unit, quote(note.note)));
          const more = r.notes.length > MAX_QUOTES ? [d.moreNotes(n(r.notes.length - MAX_QUOTES))] : [];
          const title = quote(r.task.title, 120);
          return [
            body(
              r.done > 0
                ? d.task(r.task.code, title, n(r.done), n(r.pairs))
                : d.taskNoneDone(r.task.code, title),
            ),
            ...[...said, ...more].map((text) => quoteLine(text)),
          ];
        }),
        ...(silent.length === 1 ? [body(d.silentOne(silent[0] ?? ""))] : []),
        ...(silent.length > 1 ? [body(d.silent(silent.join(", ")))] : []),
      ];
    }),
  ]);
}

/** A unit's words, indented under their task. */
const quoteLine = (text: string) =>
  new Paragraph({
    alignment: AlignmentType.JUSTIFIED,
    indent: { left: MM(10) },
    spacing: { before: 60, after: 0, line: 276 },
    children: [run(text)],
  });

function tickets(data: ExportData): Paragraph[] {
  const { ticketStats: ts, labels } = data;
  const d = t.reports.doc;
  if (ts.total === 0) return [body(d.ticketsNone)];
  const types = ts.byType.map((c) => d.typeCount(labels.ticketType(c.key), n(c.count))).join(", ");
  const share = percentOf(ts.onTime, ts.due);
  const parts = [
    ts.answered > 0 ? d.answered(n(ts.answered)) : d.answeredNone,
    ...(share !== undefined ? [d.onTimeShare(n(ts.onTime), n(ts.due), formatPercent(share))] : []),
    ...(ts.averageHandlingDays !== undefined
      ? [d.handlingDays(formatNumber(ts.averageHandlingDays, 1))]
      : []),
    ts.averageRating !== undefined ? d.rating(formatNumber(ts.averageRating, 1), n(ts.rated)) : d.ratingNone,
  ];
  return [body(d.ticketsText(n(ts.total), types)), body(d.sentence(parts)), italic(d.targetNote)];
}

function models(data: ExportData): Paragraph[] {
  const ms = data.modelStats;
  const d = t.reports.doc;
  if (ms.total === 0) return [body(d.modelsNone(ms.year))];
  const present = ms.byStatus.filter((c) => c.count > 0);
  if (present.length === 1)
    return [body(d.modelsOneStatus(ms.year, n(ms.total), t.dvk.status(present[0]?.key ?? "registered")))];
  const statuses = present.map((c) => d.statusCount(t.dvk.status(c.key), n(c.count))).join(", ");
  return [body(d.modelsText(ms.year, n(ms.total), statuses))];
}

function sectionTwo(data: ExportData, results: TaskResult[]): (Paragraph | Table)[] {
  const d = t.reports.doc;
  return [
    heading(d.section2),
    heading(d.progressHeading),
    ...progress(data),
    new Paragraph({
      keepNext: true,
      spacing: { before: 120, after: 60 },
      indent: { firstLine: MM(10) },
      children: [run(d.tableCaption)],
    }),
    unitsTable(data),
    heading(d.groupsHeading),
    ...groups(data, results),
    heading(d.ticketsHeading),
    ...tickets(data),
    heading(d.modelsHeading),
    ...models(data),
  ];
}

/** At most this many lines of overdue tasks in the draft; the workbook lists every one. */
const MAX_OVERDUE_LINES = 15;
const MAX_SOON_TASKS = 10;
const MAX_BLOCKED = 8;

function assessment(data: ExportData): string {
  const { percent } = data.summary.totals;
  const share = formatPercent(percent);
  const d = t.reports.doc;
  if (data.summary.totals.done === 0) return d.assessNone;
  if (percent >= 80) return d.assessHigh(share);
  if (percent >= 50) return d.assessMiddle(share);
  return d.assessLow(share);
}

/** Tasks of one bucket named one by one, with their titles, up to this many; more share a line. */
const MAX_NAMED = 2;

/** Overdue tasks, each once, with the units that have not finished them. */
function overdueLines(data: ExportData, results: TaskResult[]): Paragraph[] {
  const d = t.reports.doc;
  const plans = data.summary.plans.map((p) => p.plan);
  const buckets = overdueByTask(
    results,
    plans.map((p) => p.code),
  );
  if (buckets.length === 0) return [body(d.overdueNone)];
  const pairs = sumOf(buckets, (b) => sumOf(b.tasks, (r) => r.overdueUnits.length));
  const tasks = sumOf(buckets, (b) => b.tasks.length);
  const planTitle = (code: string) =>
    plans.length > 1 ? capitalizedTitle(plans.find((p) => p.code === code)?.title ?? code) : undefined;
  const unitsOf = (b: OverdueBucket, pairsPerTask: number) =>
    b.allUnits && pairsPerTask > 2 ? d.overdueAll(n(pairsPerTask)) : b.units.join(", ");
  const lines: Paragraph[] = [];
  for (const b of buckets.slice(0, MAX_OVERDUE_LINES)) {
    const due = formatDay(b.due);
    if (b.tasks.length <= MAX_NAMED) {
      for (const r of b.tasks)
        lines.push(quoteLine(d.overdueTask(r.task.code, quote(r.task.title, 120), due, unitsOf(b, r.pairs))));
    } else {
      const codes = b.tasks.map((r) => r.task.code).join(", ");
      const per = b.tasks[0]?.pairs ?? 0;
      lines.push(
        quoteLine(d.overdueTasks(n(b.tasks.length), codes, due, unitsOf(b, per), planTitle(b.planCode))),
      );
    }
  }
  if (buckets.length > MAX_OVERDUE_LINES)
    lines.push(quoteLine(d.overdueMore(n(sumOf(buckets.slice(MAX_OVERDUE_LINES), (b) => b.tasks.length)))));
  return [body(d.overdueIntro(n(pairs), n(tasks))), ...lines];
}

const capitalizedTitle = (title: string) => title.charAt(0).toUpperCase() + title.slice(1);

function sectionThree(data: ExportData, results: TaskResult[]): Paragraph[] {
  const d = t.reports.doc;
  const soon = data.summary.summary.atRisk.filter((a) => !a.overdue);
  const soonTasks = [...new Map(soon.map((a) => [a.task.key, a])).values()];
  const blocked = results.flatMap((r) =>
    r.notes.filter((note) => note.status === "blocked").map((note) => ({ code: r.task.code, note })),
  );
  const blockedCount = sumOf(results, (r) => r.blocked);
  return [
    heading(d.section3),
    heading(d.strengthsHeading),
    body(assessment(data)),
    heading(d.weaknessesHeading),
    ...overdueLines(data, results),
    ...(soon.length > 0
      ? [
          body(
            d.soon(n(soon.length), n(soonTasks.length)) +
              soonTasks
                .slice(0, MAX_SOON_TASKS)
                .map((a) => d.soonTask(a.task.code, formatDay(a.due.day)))
                .join(", ") +
              (soonTasks.length > MAX_SOON_TASKS ? ", …" : "."),
          ),
        ]
      : []),
    ...(blocked.length > 0
      ? [
          body(d.blockedIntro),
          ...blocked
            .slice(0, MAX_BLOCKED)
            .map((b) => quoteLine(d.blockedLine(b.note.unit, b.code, quote(b.note.note)))),
        ]
      : []),
    ...(blockedCount > blocked.length ? [body(d.blockedSilent(n(blockedCount - blocked.length)))] : []),
  ];
}

function sectionsFourFive(data: ExportData): Paragraph[] {
  const d = t.reports.doc;
  const { totals } = data.summary;
  return [
    heading(d.section4),
    body(totals.overdue > 0 ? d.directionOverdue(n(totals.overdue)) : d.directionOnTrack),
    ...(data.ticketStats.total > 0 ? [body(d.directionTickets)] : []),
    body(data.modelStats.total > 0 ? d.directionModels : d.directionModelsNone),
    italic(d.directionPlaceholder),
    heading(d.section5),
    italic(d.proposalsPlaceholder),
  ];
}

function closing(data: ExportData): Table {
  const left = TEXT_WIDTH * 0.45;
  const right = TEXT_WIDTH - left;
  const d = t.reports.doc;
  const upward = data.letterhead.recipients.length ? data.letterhead.recipients : [d.recipientUnknown];
  const recipients = [...upward, ...d.recipientsInternal];
  return new Table({
    width: { size: TEXT_WIDTH, type: WidthType.DXA },
    columnWidths: [left, right],
    borders: NO_BORDERS,
    rows: [
      new TableRow({
        cantSplit: true,
        children: [
          cell(
            [
              new Paragraph({
                spacing: { before: 240 },
                children: [run(d.recipientsTitle, { bold: true, italics: true, size: PT(12) })],
              }),
              ...recipients.map(
                (line, i) =>
                  new Paragraph({
                    children: [run(d.recipient(line, i === recipients.length - 1), { size: PT(11) })],
                  }),
              ),
            ],
            left,
          ),
          cell(
            [
              centered(d.signerTitle, { bold: true }, 240),
              ...[1, 2, 3, 4].map(() => centered("")),
              centered(d.signerPlaceholder, { bold: true }),
            ],
            right,
          ),
        ],
      }),
    ],
  });
}

/** "Kế hoạch thực hiện công tác …" → "thực hiện công tác …", what the plan is about. */
const about = (title: string) => title.replace(/^kế hoạch\s+/i, "").replace(/\s*\(.*\)\s*$/, "");

/** The report "Báo cáo kết quả thực hiện công tác dân vận chính quyền [kỳ]" as .docx bytes. */
export async function draftReport(data: ExportData): Promise<Buffer> {
  const label = t.reports.periodLabel(data.summary.period);
  const org = letterheadOf(data);
  const results = taskResults(data.summary, data.reports);
  const refs = data.summary.plans
    .map((p) =>
      t.reports.doc.planRef({
        number: p.plan.document.number,
        date: citedDate(p.plan.document),
        issuer: p.plan.document.issuer,
        about: about(p.plan.title),
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
          headerTable(data),
          centered(t.reports.doc.title, { bold: true }, 360),
          centered(t.reports.doc.subtitle(label), { bold: true }),
          rule(MM(55)),
          body(t.reports.doc.intro(org.body, refs, label, formatDay(data.summary.asOf))),
          ...sectionOne(data),
          ...sectionTwo(data, results),
          ...sectionThree(data, results),
          ...sectionsFourFive(data),
          body(t.reports.doc.closingLine(label, org.body)),
          closing(data),
        ],
      },
    ],
  });
  return Packer.toBuffer(document);
}
