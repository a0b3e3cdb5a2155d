import type { Feature } from "../../engine/engine.js";
import type { Outbound, OutboundFile } from "../../engine/message.js";
import type { Turn } from "../../engine/turn.js";
import { fold } from "../../text/normalize.js";
import { t } from "../../text/vi.js";
import { dayOf } from "../calendar/work-calendar.js";
import type { Role } from "../people/roles.js";
import { CAPABILITIES } from "../../engine/capabilities.js";
import { LINK_TTL_MS } from "./files.js";
import { parsePeriod, type ReportPeriod } from "./period.js";
import { periodLabel, renderModelStats, renderOfficeSummary, renderTicketStats } from "./render.js";
import type { ReportsService } from "./service.js";
import type { StatsHandler } from "./stats-command.js";

/** Who reads the Department-wide summaries and makes the report files (DOMAIN.md, "Who uses the bot"). */
const OVERSEERS: readonly Role[] = ["office", "leader", "admin"];
/** Officials of a unit: they see their own unit's figures only. */
const UNIT_ROLES: readonly Role[] = ["staff", "unit_head"];

/** Sends a message at once, before the turn ends (the progress note of a long generation). */
export type SendNow = (message: Outbound) => Promise<void>;

const today = (turn: Turn) => dayOf(turn.now, turn.services.timeZone);

/** The period asked for, or undefined after telling the person how to ask. */
function periodOrExplain(turn: Turn, args: string, usage: string): ReportPeriod | undefined {
  const result = parsePeriod(args, today(turn));
  if ("period" in result) return result.period;
  turn.reply(result.error === "future" ? t.reports.periodFuture : usage);
  return undefined;
}

/**
 * Which unit's figures a person may see: all (undefined) for the Office and the leadership,
 * their own for a unit's officials, none (false) for anyone else.
 */
function scope(turn: Turn, all: readonly Role[]): string | undefined | false {
  const { role, unitId } = turn.speaker;
  if (all.includes(role)) return undefined;
  if (!UNIT_ROLES.includes(role)) {
    turn.reply(t.reports.forbidden);
    return false;
  }
  if (!unitId) {
    turn.reply(t.reports.noUnit);
    return false;
  }
  return unitId;
}

/** The handlers behind `/phananh thongke` and `/mohinh thongke`. */
export function statsHandlers(reports: ReportsService): { tickets: StatsHandler; models: StatsHandler } {
  return {
    async tickets(turn, args) {
      // The Office handles every ticket; a unit sees the figures of those handed to it.
      const unitKey = scope(turn, ["office", "admin"]);
      if (unitKey === false) return;
      const period = periodOrExplain(turn, args, t.reports.ticketsUsage);
      if (!period) return;
      const [stats, labels] = await Promise.all([
        reports.ticketStats(period, today(turn), unitKey),
        reports.labels(),
      ]);
      turn.reply(
        renderTicketStats(
          stats,
          period,
          { type: labels.ticketType, field: labels.ticketField, unit: labels.unit },
          unitKey ? labels.unit(unitKey) : undefined,
        ),
      );
    },
    async models(turn, args) {
      const unitKey = scope(turn, OVERSEERS);
      if (unitKey === false) return;
      const rest = fold(args);
      const year = /\b(20\d{2})\b/.exec(rest)?.[1];
      if (rest.replace(/\b(20\d{2}|nam)\b/g, "").trim()) {
        turn.reply(t.reports.modelsUsage);
        return;
      }
      const [stats, labels] = await Promise.all([
        reports.modelStats(Number(year ?? today(turn).slice(0, 4)), unitKey),
        reports.labels(),
      ]);
      turn.reply(
        renderModelStats(
          stats,
          { field: labels.modelField, unit: labels.unit },
          unitKey ? labels.unit(unitKey) : undefined,
        ),
      );
    },
  };
}

/** /tonghop (summary by unit, with a chart) and /xuatbaocao (the workbook and the draft report). */
export function reportsFeature(reports: ReportsService, sendNow: SendNow): Feature {
  const caps = (turn: Turn) => CAPABILITIES[turn.inbound.channel];

  return {
    name: "reports",
    commands: [
      {
        name: "tonghop",
        roles: OVERSEERS,
        description: t.reports.summaryDescription,
        usage: t.reports.summaryUsage,
        async run(turn, args) {
          const period = periodOrExplain(turn, args, t.reports.periodUsage("tonghop"));
          if (!period) return;
          const summary = await reports.summary(period, today(turn));
          if (summary.plans.length === 0) {
            turn.reply(t.reports.noPlans(periodLabel(period)));
            return;
          }
          const files: OutboundFile[] = [];
          const photos = caps(turn).photos;
          // A platform that fetches pictures by URL needs our public address; without one, text only.
          if (photos === "file" || (photos === "url" && reports.files.publicUrl)) {
            const chart = await reports.chart(summary, turn.now);
            const ref = photos === "file" ? chart.ref : reports.files.link(chart, turn.now);
            if (ref) files.push({ kind: "photo", ref, name: t.reports.chartName(periodLabel(period)) });
          }
          turn.reply(renderOfficeSummary(summary), { files });
        },
      },
      {
        name: "xuatbaocao",
        roles: OVERSEERS,
        description: t.reports.exportDescription,
        usage: t.reports.exportUsage,
        async run(turn, args) {
          const period = periodOrExplain(turn, args, t.reports.periodUsage("xuatbaocao"));
          if (!period) return;
          const label = periodLabel(period);
          if (!(await reports.hasPlans(period))) {
            turn.reply(t.reports.noPlans(label));
            return;
          }
          const { documents } = caps(turn);
          if (!documents && !reports.files.publicUrl) {
            turn.reply(t.reports.exportNoLinks(label));
            return;
          }
          // Making the files takes seconds: say so now rather than when the turn ends. The key
          // derives from the update, so handling it again after a crash does not say it twice.
          await sendNow({
            to: {
              channel: turn.inbound.channel,
              chatId: turn.inbound.chatId,
              personId: turn.speaker.personId,
            },
            text: t.reports.exportProgress(label),
            dedupeKey: `${turn.inbound.dedupeKey}#progress`,
          });
          const exported = await reports.export(period, today(turn), turn.now);
          if (documents) {
            turn.reply(t.reports.exportDone(label), {
              files: [
                { kind: "document", ref: exported.xlsx.ref, name: t.reports.xlsxName(label) },
                { kind: "document", ref: exported.docx.ref, name: t.reports.docxName(label) },
              ],
            });
            return;
          }
          turn.reply(
            t.reports.exportLinks(
              label,
              reports.files.link(exported.xlsx, turn.now) ?? "",
              reports.files.link(exported.docx, turn.now) ?? "",
              Math.round(LINK_TTL_MS / 3_600_000),
            ),
          );
        },
      },
    ],
  };
}
