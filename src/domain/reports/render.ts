import { t } from "../../text/vi.js";
import { formatDay } from "../calendar/work-calendar.js";
import type { FeedbackType } from "../feedback/rules.js";
import { standingWords } from "../plans/summary.js";
import { formatNumber, formatPercent, percentOf } from "./format.js";
import type { ModelStats } from "./model-stats.js";
import type { OfficeSummary } from "./office-summary.js";
import type { ReportPeriod } from "./period.js";
import type { Count, TicketStats } from "./ticket-stats.js";

/** Risk lines shown in the chat; the files list all of them. */
const MAX_RISK_LINES = 15;

const n = (value: number) => formatNumber(value);
const pct = (value: number | undefined) => (value === undefined ? undefined : formatPercent(value));

export const periodLabel = (period: ReportPeriod) => t.reports.periodLabel(period);

/*
 * Messages are built as lines, with a blank line between sections: the channels split long
 * texts at the platform's limit (engine/split.ts) between paragraphs first, then between lines,
 * so a section or at least a line stays whole.
 */

/** /tonghop as text. */
export function renderOfficeSummary(s: OfficeSummary): string {
  const label = periodLabel(s.period);
  const asOf = s.closed ? t.reports.asOfClose(formatDay(s.asOf)) : t.reports.asOf(formatDay(s.asOf));
  const sections: string[][] = [[t.reports.summaryTitle(label), asOf]];
  sections.push([
    t.reports.plansHeader,
    ...s.plans.map((p) =>
      t.reports.planLine(p.plan.code, p.plan.title, n(p.done), n(p.total), formatPercent(p.percent)),
    ),
  ]);
  sections.push([
    t.reports.unitsHeader,
    ...s.units.map((u) =>
      t.reports.unitLine({
        unit: u.unit.name,
        total: n(u.total),
        done: n(u.done),
        onTime: n(u.doneOnTime),
        inProgress: n(u.inProgress),
        notStarted: n(u.notStarted),
        blocked: n(u.blocked),
        overdue: n(u.overdue),
      }),
    ),
    t.reports.totalLine(
      n(s.totals.done),
      n(s.totals.total),
      formatPercent(s.totals.percent),
      n(s.totals.doneOnTime),
      n(s.totals.overdue),
    ),
  ]);
  const risk = s.summary.atRisk;
  sections.push(
    risk.length === 0
      ? [s.closed ? t.reports.lateAtCloseNone : t.reports.riskNone]
      : [
          s.closed ? t.reports.lateAtCloseHeader(n(risk.length)) : t.reports.riskHeader(n(risk.length)),
          ...risk
            .slice(0, MAX_RISK_LINES)
            .map((a) =>
              t.reports.riskLine(a.task.code, a.unit.name, formatDay(a.due.day), standingWords(a, s.closed)),
            ),
          ...(risk.length > MAX_RISK_LINES ? [t.reports.riskMore(n(risk.length - MAX_RISK_LINES))] : []),
        ],
  );
  sections.push([t.reports.summaryFooter]);
  return sections.map((lines) => lines.join("\n")).join("\n\n");
}

function countLines(
  header: string,
  counts: Count[],
  total: number,
  label: (key: string) => string,
): string[] {
  return [
    header,
    ...counts.map((c) =>
      t.reports.countLine(label(c.key), n(c.count), formatPercent(percentOf(c.count, total) ?? 0)),
    ),
  ];
}

export interface TicketLabels {
  type: (type: FeedbackType) => string;
  field: (key: string) => string;
  unit: (key: string) => string;
}

/** /phananh thongke as text. */
export function renderTicketStats(
  stats: TicketStats,
  period: ReportPeriod,
  labels: TicketLabels,
  unitName?: string,
): string {
  const label = periodLabel(period);
  const title = t.reports.ticketsTitle(label, unitName);
  if (stats.total === 0) return `${title}\n\n${t.reports.ticketsNone(label)}`;
  const sections: string[][] = [
    [title, t.reports.ticketsTotal(n(stats.total))],
    [
      t.reports.onTime(n(stats.onTime), n(stats.due), pct(percentOf(stats.onTime, stats.due))),
      t.reports.handling(
        stats.averageHandlingDays === undefined ? undefined : formatNumber(stats.averageHandlingDays, 1),
        n(stats.answered),
      ),
      t.reports.rating(
        stats.averageRating === undefined ? undefined : formatNumber(stats.averageRating, 1),
        n(stats.rated),
      ),
    ],
    countLines(t.reports.byType, stats.byType, stats.total, (k) => labels.type(k as FeedbackType)),
    countLines(t.reports.byField, stats.byField, stats.total, labels.field),
    countLines(t.reports.byStatus, stats.byStatus, stats.total, (k) =>
      t.feedback.status(k as Parameters<typeof t.feedback.status>[0]),
    ),
  ];
  if (!unitName) {
    sections.push(
      countLines(t.reports.byUnit, stats.byUnit, stats.total, (k) =>
        k ? labels.unit(k) : t.reports.unassigned,
      ),
    );
  }
  sections.push([t.reports.targetNote]);
  return sections.map((lines) => lines.join("\n")).join("\n\n");
}

/** /mohinh thongke as text. */
export function renderModelStats(
  stats: ModelStats,
  labels: { field: (key: string) => string; unit: (key: string) => string },
  unitName?: string,
): string {
  const title = t.reports.modelsTitle(stats.year, unitName);
  if (stats.total === 0) return `${title}\n\n${t.reports.modelsNone(stats.year)}`;
  const sections: string[][] = [
    [title, t.reports.modelsTotal(n(stats.total), stats.late > 0 ? n(stats.late) : undefined)],
    countLines(
      t.reports.byStatus,
      stats.byStatus.filter((c) => c.count > 0),
      stats.total,
      (k) => t.dvk.status(k as Parameters<typeof t.dvk.status>[0]),
    ),
    countLines(t.reports.byField, stats.byField, stats.total, labels.field),
  ];
  if (!unitName) sections.push(countLines(t.reports.byUnit, stats.byUnit, stats.total, labels.unit));
  return sections.map((lines) => lines.join("\n")).join("\n\n");
}
