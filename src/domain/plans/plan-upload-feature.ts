import { CAPABILITIES } from "../../engine/capabilities.js";
import type { Feature } from "../../engine/engine.js";
import { defineFlow } from "../../engine/flow.js";
import type { Attachment, ChannelName, Choice } from "../../engine/message.js";
import type { Turn } from "../../engine/turn.js";
import type { Sealer } from "../../privacy/sealer.js";
import { t } from "../../text/vi.js";
import { INVITE_DAYS, invitableBy, newInviteCode, type InvitesService } from "../people/invites.js";
import type { Role } from "../people/roles.js";
import { LINK_TTL_MS, type FileStore, type StoredFile } from "../reports/files.js";
import type { UnitsService, UnitInput } from "../units/service.js";
import { isUnitsWorkbook, readUnitsWorkbook, writeUnitsWorkbook } from "../units/units-xlsx.js";
import {
  isOfficialsWorkbook,
  readOfficialsWorkbook,
  writeOfficialsTemplate,
  type OfficialRow,
} from "./officials-xlsx.js";
import { hasChanges, loadedPlan, planChanges, renderPreview } from "./plan-changes.js";
import type { PlanFile } from "./plan-file.js";
import { readPlanWorkbook, writePlanWorkbook, type KnownUnit } from "./plan-xlsx.js";
import { openUpload, uploadLink } from "./upload-link.js";
import type { PlanModels, PlansService } from "./service.js";
import { MAX_XLSX_BYTES, openWorkbook, problemText, WorkbookError } from "./xlsx-cells.js";

/**
 * The Office loads plans, units and officials from Excel in the chat: /maukehoach, /maudonvi and
 * /maucanbo send the templates; the filled file sent back (or after /taikehoach) is checked row by
 * row, previewed, and loaded only when the Office presses «Nạp».
 */

/** Fetches the bytes of a file someone sent, by the platform's reference (a Telegram file_id). */
export type AttachmentReader = (ref: string) => Promise<Buffer>;

export interface UploadDeps {
  plans: PlansService;
  models: Pick<PlanModels, "Plan" | "Task">;
  units: UnitsService;
  invites: InvitesService;
  files: FileStore;
  /** Opens the files sent through the upload link, which are kept sealed (upload-link.ts). */
  sealer: Sealer;
  /** One per channel that can hand over the files people send; a channel without one cannot. */
  readers: ReadonlyMap<ChannelName, AttachmentReader>;
  /**
   * The bot's name per platform, known once the platform has started (Telegram's getMe): each
   * invite in a list then carries a t.me link that opens the bot with its code already typed.
   */
  botNames: ReadonlyMap<ChannelName, string>;
}

/** The Office owns the plans (DOMAIN.md); an admin may stand in. */
const LOADERS: readonly Role[] = ["office", "admin"];
const FLOW = "taikehoach";
/**
 * How long a template once stored is sent again: files are kept a week, so one stored today is
 * there for every send of the day (a Zalo link to it is signed per send, for 72 hours).
 */
const TEMPLATE_REUSE_MS = 86_400_000;
/** Templates remembered at once: three kinds, the roles that may ask, a unit list or two. */
const TEMPLATES_KEPT = 16;
/** Problems listed in one answer; the rest are counted (a wholly wrong file has hundreds). */
const MAX_LISTED = 30;
const X = t.plansExcel;

/** A checked file waiting for «Nạp»: what to load, and its preview. */
interface Pending {
  kind?: "plan" | "units" | "officials";
  preview?: string;
  fileName?: string;
  plan?: PlanFile;
  units?: UnitInput[];
  /**
   * Each with the code its invite will have, chosen here and kept in the (sealed) session, so
   * «Nạp» replayed after a crash makes the same invites and lists the same codes instead of a
   * second batch (an invite keeps only its code's hash).
   */
  officials?: (OfficialRow & { code?: string })[];
  /** Said instead of loading (nothing changed, or cancelled). */
  notice?: string;
}

const CHOICES: Choice[] = [
  { label: X.load, value: "load" },
  { label: X.cancel, value: "drop" },
];

function problemsText(error: WorkbookError): string {
  const listed = error.problems.slice(0, MAX_LISTED).map(problemText);
  const more = error.problems.length - listed.length;
  return [X.fileProblems(error.problems.length), ...listed, ...(more > 0 ? [X.moreProblems(more)] : [])].join(
    "\n",
  );
}

/** The document among what was sent: the first that is not a picture. */
const documentOf = (attachments: readonly Attachment[]) => attachments.find((a) => a.kind === "document");

export function planUploadFeature(deps: UploadDeps): Feature {
  const { plans, models, units, invites, files, sealer, readers, botNames } = deps;

  const knownUnits = async (): Promise<KnownUnit[]> =>
    (await units.list()).map((u) => ({ key: u.key, name: u.name }));

  /** Reads and checks a sent file; the pending load, or the answer that says what is wrong. */
  async function check(document: Attachment, turn: Turn): Promise<Pending | { error: string }> {
    // A file sent through the upload link is in GridFS, sealed; any other comes from the platform.
    // The upload is removed once read: from here on the preview, in the sealed session, is all
    // that is kept of it. (A replay of this turn after a crash finds it gone and says it could
    // not be read, as for a file the platform no longer has: the Office sends it again.)
    const stored = files.nameOf(document.ref);
    const reader: AttachmentReader | undefined = stored
      ? async () => {
          const kept = await files.read(stored, turn.now);
          await files.delete(stored);
          return kept ? openUpload(sealer, kept) : Buffer.alloc(0);
        }
      : readers.get(turn.inbound.channel);
    if (!reader) return { error: X.noUploadHere };
    const name = document.name ?? "tệp";
    if (document.name && /\.xls$/i.test(document.name)) return { error: X.oldXls };
    if (document.name && !/\.xlsx$/i.test(document.name)) return { error: X.notXlsx(document.name) };
    if ((document.size ?? 0) > MAX_XLSX_BYTES) return { error: X.tooBig(5) };
    let bytes: Buffer;
    try {
      bytes = await reader(document.ref);
    } catch (error) {
      turn.log.warn({ err: error, channel: turn.inbound.channel }, "plans: could not fetch a sent file");
      return { error: X.unreadable };
    }
    try {
      const workbook = await openWorkbook(bytes, name);
      if (isOfficialsWorkbook(workbook)) {
        const officials = await readOfficialsWorkbook(
          bytes,
          await knownUnits(),
          invitableBy(turn.speaker.role),
          name,
        );
        const labels = await units.names();
        const preview = X.officialsPreview(
          officials.map((o) => ({
            name: o.name,
            unit: labels.get(o.unitKey) ?? o.unitKey,
            role: t.people.role(o.role),
          })),
        );
        return {
          kind: "officials",
          officials: officials.map((o) => ({ ...o, code: newInviteCode() })),
          preview,
          fileName: name,
        };
      }
      if (isUnitsWorkbook(workbook)) {
        const read = await readUnitsWorkbook(bytes, name);
        const existing = new Map((await units.list()).map((u) => [u.key, u]));
        const created = read.filter((u) => !existing.has(u.key)).map((u) => u.name);
        const updated = read
          .filter((u) => {
            const old = existing.get(u.key);
            return old && (old.name !== u.name || old.kind !== u.kind);
          })
          .map((u) => u.name);
        const unchanged = read.length - created.length - updated.length;
        if (created.length + updated.length === 0) return { notice: X.unitsLoaded(0, 0, unchanged) };
        return {
          kind: "units",
          units: read,
          preview: X.unitsPreview(created, updated, unchanged),
          fileName: name,
        };
      }
      const known = await knownUnits();
      const read = await readPlanWorkbook(bytes, known, name);
      const loaded = await loadedPlan(models, read.plan.code);
      const changes = planChanges(read.plan, loaded);
      if (!hasChanges(changes)) return { notice: X.nothingChanged(read.plan.code) };
      const names = new Map([...known, ...read.plan.units].map((u) => [u.key, u.name]));
      const knownKeys = new Set(known.map((u) => u.key));
      const newUnits = read.plan.units.filter((u) => !knownKeys.has(u.key));
      const preview = [
        renderPreview(
          read.plan,
          changes,
          (key) => (key === "all" ? X.allUnits : (names.get(key) ?? key)),
          newUnits,
        ),
        ...(read.skipped.length > 0 ? ["", X.skippedRows(read.skipped)] : []),
      ].join("\n");
      return { kind: "plan", plan: read.plan, preview, fileName: name };
    } catch (error) {
      if (error instanceof WorkbookError) return { error: problemsText(error) };
      throw error;
    }
  }

  async function load(data: Pending, turn: Turn): Promise<void> {
    if (data.kind === "plan" && data.plan) {
      const plan = data.plan;
      const before = await loadedPlan(models, plan.code);
      const changes = planChanges(plan, before);
      const known = new Set((await units.list()).map((u) => u.key));
      const created = plan.units.filter((u) => !known.has(u.key));
      const result = await plans.importPlan(plan, data.fileName ?? "excel", turn.now);
      turn.reply(
        [
          X.loaded(plan.code, result.created, result.tasks),
          ...(changes.closed.length > 0 ? [X.loadedClosed(changes.closed)] : []),
          ...(created.length > 0 ? [X.loadedUnits(created.map((u) => u.name))] : []),
        ].join("\n"),
      );
      return;
    }
    if (data.kind === "units" && data.units) {
      const result = await units.upsert(data.units);
      turn.reply(X.unitsLoaded(result.created, result.updated, result.unchanged));
      return;
    }
    if (data.kind === "officials" && data.officials) {
      const labels = await units.names();
      const bot = botNames.get("telegram");
      const lines = [X.invitesMade(data.officials.length, INVITE_DAYS)];
      for (const official of data.officials) {
        const { unitKey, role, code } = official;
        const by = turn.speaker.personId;
        // A session saved before codes were chosen at the preview has none: a fresh invite.
        const invite = code
          ? await invites.createWithCode(code, unitKey, role, by, turn.now)
          : await invites.create(unitKey, role, by, turn.now);
        lines.push(
          X.inviteLine(
            official.name,
            labels.get(official.unitKey) ?? official.unitKey,
            t.people.role(official.role),
            invite.code,
            // Telegram's deep link: the person taps it and the bot receives "/start CODE".
            bot ? `https://t.me/${bot}?start=${invite.code}` : undefined,
          ),
        );
      }
      turn.reply(lines.join("\n"));
    }
  }

  const upload = defineFlow<Pending>({
    name: FLOW,
    version: 1,
    roles: LOADERS,
    ttlMinutes: 60,
    first: "tep",
    initial: () => ({}),
    steps: {
      tep: {
        prompt: (data) =>
          data.preview ? `${data.preview}\n\n${X.preview.confirm}` : X.askFile(X.kinds.plan),
        choices: (data) => (data.kind ? CHOICES : []),
        freeText: true,
        async accept(answer, data, turn) {
          if (data.kind && answer.choice?.value === "load") return { data };
          if (data.kind && answer.choice?.value === "drop") return { data: { notice: X.cancelled } };
          const document = documentOf(answer.attachments);
          if (!document) return { error: data.kind ? X.chooseOrFile : X.notAFile };
          const checked = await check(document, turn);
          if ("error" in checked) return { error: checked.error };
          if (checked.notice) return { data: checked };
          return { data: checked, next: "tep" };
        },
      },
    },
    async finish(data, turn) {
      if (data.notice) turn.reply(data.notice);
      else await load(data, turn);
    },
  });

  /**
   * The templates made, by what they list. Writing a workbook and storing it takes a good part of
   * a second on a busy server, for a file that stays the same until a unit is added or renamed:
   * each is made and stored once, and a changed unit list (a new key) makes a new one.
   */
  const templates = new Map<string, { stored: StoredFile; savedAt: number }>();

  async function storedTemplate(
    key: string,
    stem: string,
    now: Date,
    build: () => Promise<Buffer>,
  ): Promise<StoredFile> {
    const at = now.getTime();
    const kept = templates.get(key);
    if (kept && at >= kept.savedAt && at - kept.savedAt < TEMPLATE_REUSE_MS) return kept.stored;
    const stored = await files.save(stem, "xlsx", now, await build());
    templates.delete(key);
    templates.set(key, { stored, savedAt: at });
    // A Map iterates in insertion order: the first is the one made longest ago.
    for (const old of templates.keys()) {
      if (templates.size <= TEMPLATES_KEPT) break;
      templates.delete(old);
    }
    return stored;
  }

  /** A template: as a document where the chat takes one, else as a download link. */
  async function sendTemplate(
    turn: Turn,
    kind: string,
    stem: string,
    fileName: string,
    /** What the template lists: the same key, the same file. */
    key: unknown,
    build: () => Promise<Buffer>,
  ) {
    const { documents } = CAPABILITIES[turn.inbound.channel];
    if (!documents && !files.publicUrl) {
      turn.reply(X.templateNoLinks(kind));
      return;
    }
    const stored = await storedTemplate(JSON.stringify([stem, key]), stem, turn.now, build);
    if (documents) {
      turn.reply(X.templateSent(kind), { files: [{ kind: "document", ref: stored.ref, name: fileName }] });
      return;
    }
    turn.reply(X.templateLink(kind, files.link(stored, turn.now) ?? "", Math.round(LINK_TTL_MS / 3_600_000)));
  }

  /** A document sent outside any flow by the Office: read as a file to load. */
  async function onDocument(turn: Turn): Promise<void> {
    const document = documentOf(turn.inbound.attachments);
    if (!document) {
      turn.reply(t.engine.freeTextOfficial);
      return;
    }
    const checked = await check(document, turn);
    if ("error" in checked) turn.reply(checked.error);
    else if (checked.notice) turn.reply(checked.notice);
    else turn.startFlow(FLOW, "", { ...checked });
  }

  return {
    name: "plan-upload",
    flows: [upload],
    freeText: { office: onDocument, admin: onDocument },
    commands: [
      {
        name: "maukehoach",
        roles: LOADERS,
        description: X.templateDescription,
        async run(turn) {
          const known = await knownUnits();
          await sendTemplate(turn, X.kinds.plan, "mau-ke-hoach", X.templateName, known, () =>
            writePlanWorkbook(undefined, known),
          );
        },
      },
      {
        name: "maudonvi",
        roles: LOADERS,
        description: X.unitsTemplateDescription,
        async run(turn) {
          const list = (await units.list()).map(({ key, name, kind }) => ({ key, name, kind }));
          await sendTemplate(turn, X.kinds.units, "mau-don-vi", X.unitsTemplateName, list, () =>
            writeUnitsWorkbook(list),
          );
        },
      },
      {
        name: "maucanbo",
        roles: LOADERS,
        description: X.officialsTemplateDescription,
        async run(turn) {
          const known = await knownUnits();
          const roles = invitableBy(turn.speaker.role);
          await sendTemplate(
            turn,
            X.kinds.officials,
            "mau-can-bo",
            X.officialsTemplateName,
            { known, roles },
            () => writeOfficialsTemplate(known, roles),
          );
        },
      },
      {
        name: FLOW,
        roles: LOADERS,
        description: X.uploadDescription,
        run(turn) {
          if (readers.has(turn.inbound.channel)) {
            turn.startFlow(FLOW);
            return;
          }
          // No documents from this platform: a page of ours takes the file instead.
          const link =
            turn.inbound.chatType === "private"
              ? uploadLink(files, turn.inbound.channel, turn.inbound.chatId, turn.now)
              : undefined;
          turn.reply(link ? X.uploadLinkSent(link, Math.round(LINK_TTL_MS / 3_600_000)) : X.noUploadHere);
        },
      },
    ],
  };
}
