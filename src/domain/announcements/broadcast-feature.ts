import { formatDateTime } from "../../clock.js";
import type { Feature } from "../../engine/engine.js";
import { defineFlow } from "../../engine/flow.js";
import type { Attachment, OutboundFile } from "../../engine/message.js";
import type { Turn } from "../../engine/turn.js";
import { fold } from "../../text/normalize.js";
import { t } from "../../text/vi.js";
import { EVERYONE, type Role } from "../people/roles.js";
import type { UnitsService } from "../units/service.js";
import type { BroadcastProgress, BroadcastService } from "./broadcasts.js";
import { AUDIENCES, type Audience, type BroadcastDoc } from "./schema.js";
import type { SubscriptionService } from "./subscriptions.js";

/** Who may speak for the Department to everyone. */
export const BROADCASTERS: readonly Role[] = ["office", "admin"];

const MAX_TEXT = 3000;
const MAX_FILES = 5;
const RECENT = 5;
const DONE = "__done";

interface DraftData {
  text?: string;
  files: OutboundFile[];
  audience?: Audience;
  /** For "some units": the units chosen so far, with their names for the preview. */
  picked: { key: string; name: string }[];
  count?: number;
  confirmed?: boolean;
}

const toFile = (a: Attachment): OutboundFile => ({
  kind: a.kind === "photo" ? "photo" : "document",
  ref: a.ref,
  ...(a.name ? { name: a.name } : {}),
});

const tx = t.announcements;

/** `/thongbao` for the Office, `/dangky` and `/huydangky` for everyone. */
export function broadcastFeature(
  broadcasts: BroadcastService,
  subscriptions: SubscriptionService,
  units: UnitsService,
): Feature {
  async function audienceLabel(audience: Audience, unitKeys: readonly string[]): Promise<string> {
    if (audience !== "units") return tx.audience[audience];
    const names = await units.names();
    return unitKeys.map((k) => names.get(k) ?? k).join(", ");
  }

  /** Counts who would receive it now; an audience of nobody is refused at the step that chose it. */
  async function withCount(
    data: DraftData,
    audience: Audience,
  ): Promise<{ data: DraftData; next: string } | { error: string }> {
    const keys = data.picked.map((u) => u.key);
    const count = (await broadcasts.recipients(audience, keys)).length;
    if (count === 0) return { error: tx.nobody };
    return { data: { ...data, audience, count }, next: "confirm" };
  }

  function progressText(p: BroadcastProgress): string {
    return p.finished ? tx.finished(p) : tx.progress(p);
  }

  async function describe(b: BroadcastDoc, turn: Turn): Promise<string> {
    return tx.progressDetail({
      code: b.code,
      at: formatDateTime(b.createdAt, turn.services.timeZone),
      by: b.createdByName,
      audience: await audienceLabel(b.audience, b.unitKeys),
      excerpt: b.text.length > 120 ? `${b.text.slice(0, 117)}…` : b.text,
      state: progressText(await broadcasts.progress(b)),
    });
  }

  const draft = defineFlow<DraftData>({
    name: "thongbao",
    version: 1,
    roles: BROADCASTERS,
    ttlMinutes: 60,
    first: "text",
    initial: () => ({ files: [], picked: [] }),
    steps: {
      text: {
        prompt: (data) => (data.files.length > 0 ? tx.filesReceived(data.files.length) : tx.askText),
        accept(answer, data) {
          const files = [...data.files, ...answer.attachments.map(toFile)];
          if (files.length > MAX_FILES) return { error: tx.tooManyFiles(MAX_FILES) };
          const text = answer.text.trim();
          // A picture sent without a caption: keep it and ask for the words.
          if (!text && files.length > 0) return { data: { ...data, files }, next: "text" };
          if (Array.from(text).length < 10) return { error: tx.textTooShort };
          if (Array.from(text).length > MAX_TEXT) return { error: tx.textTooLong(MAX_TEXT) };
          return { data: { ...data, text, files }, next: "audience" };
        },
      },
      audience: {
        prompt: () => tx.askAudience,
        choices: () => AUDIENCES.map((a) => ({ label: tx.audience[a], value: a })),
        async accept(answer, data) {
          const audience = answer.choice?.value as Audience;
          if (audience === "units") return { data: { ...data, audience, picked: [] }, next: "units" };
          return withCount({ ...data, picked: [] }, audience);
        },
      },
      units: {
        prompt: (data) => tx.askUnits(data.picked.map((u) => u.name)),
        freeText: true,
        async choices() {
          const list = await units.list();
          return [
            ...list.map((u) => ({ label: u.name, value: u.key })),
            { label: tx.unitsDone, value: DONE },
          ];
        },
        async accept(answer, data) {
          if (answer.choice?.value === DONE || tx.doneWords.includes(fold(answer.text))) {
            if (data.picked.length === 0) return { error: tx.noUnitPicked };
            return withCount(data, "units");
          }
          const list = await units.list();
          let chosen = list.filter((u) => u.key === answer.choice?.value);
          if (!answer.choice) {
            // "2, 5" or "2 5": several units in one message, by their numbers in the list.
            const parts = answer.text.split(/[\s,;]+/).filter(Boolean);
            const indexes = parts.map((p) => (/^\d{1,2}$/.test(p) ? Number(p) - 1 : -1));
            if (indexes.length === 0 || indexes.some((i) => i < 0 || i >= list.length))
              return { error: tx.unknownUnits(answer.text) };
            chosen = list.filter((_u, i) => indexes.includes(i));
          }
          // Choosing a unit already chosen takes it out again: a slip is undone without starting over.
          let picked = [...data.picked];
          for (const unit of chosen) {
            picked = picked.some((p) => p.key === unit.key)
              ? picked.filter((p) => p.key !== unit.key)
              : [...picked, { key: unit.key, name: unit.name }];
          }
          return { data: { ...data, picked }, next: "units" };
        },
      },
      confirm: {
        prompt: (data) =>
          tx.preview({
            text: data.text ?? "",
            audience:
              data.audience === "units"
                ? data.picked.map((u) => u.name).join(", ")
                : data.audience
                  ? tx.audience[data.audience]
                  : "",
            count: data.count ?? 0,
            files: data.files.length,
            footer: data.audience === "subscribers",
          }),
        choices: () => [
          { label: tx.send, value: "send" },
          { label: tx.redo, value: "redo" },
          { label: tx.cancel, value: "cancel" },
        ],
        accept(answer, data) {
          if (answer.choice?.value === "redo") return { data: { files: [], picked: [] }, next: "text" };
          return { data: { ...data, confirmed: answer.choice?.value === "send" } };
        },
      },
    },
    async finish(data, turn) {
      if (!data.confirmed || !data.text || !data.audience) {
        turn.reply(tx.cancelled);
        return;
      }
      // The engine checks the flow's roles at every step; this is the step that speaks for the
      // Department, so it says so once more where it matters.
      if (!BROADCASTERS.includes(turn.speaker.role)) {
        turn.reply(t.engine.forbidden("thongbao"));
        return;
      }
      const created = await broadcasts.create({
        idempotencyKey: turn.idempotencyKey,
        text: data.text,
        files: data.files,
        filesChannel: turn.inbound.channel,
        org: turn.services.orgName,
        audience: data.audience,
        unitKeys: data.picked.map((u) => u.key),
        by: { personId: turn.speaker.personId, name: turn.speaker.name },
        now: turn.now,
      });
      if (created.recipients.length === 0) {
        turn.reply(tx.nobodyAtSend);
        return;
      }
      await broadcasts.send(created);
      turn.reply(tx.queued(created.code, created.recipients.length));
    },
  });

  return {
    name: "announcements",
    flows: [draft],
    commands: [
      {
        name: "thongbao",
        roles: BROADCASTERS,
        description: tx.broadcastDescription,
        usage: "/thongbao [tiendo [mã]]",
        async run(turn, args) {
          const [action, code] = args.split(/\s+/).filter(Boolean);
          if (!action) {
            turn.startFlow("thongbao");
            return;
          }
          if (fold(action) !== "tiendo") {
            turn.reply(tx.broadcastUsage);
            return;
          }
          if (code) {
            const found = await broadcasts.byCode(code);
            turn.reply(found ? await describe(found, turn) : tx.broadcastNotFound(code.toUpperCase()));
            return;
          }
          const recent = await broadcasts.recent(RECENT);
          if (recent.length === 0) {
            turn.reply(tx.noBroadcasts);
            return;
          }
          const lines = [tx.recentHeader];
          for (const b of recent) {
            lines.push(
              tx.recentLine({
                code: b.code,
                at: formatDateTime(b.createdAt, turn.services.timeZone),
                audience: await audienceLabel(b.audience, b.unitKeys),
                state: progressText(await broadcasts.progress(b)),
              }),
            );
          }
          turn.reply([...lines, "", tx.recentFooter].join("\n"));
        },
      },
      {
        name: "dangky",
        roles: EVERYONE,
        description: tx.subscribeDescription,
        async run(turn) {
          const result = await subscriptions.subscribe(turn.speaker.personId, turn.now);
          turn.reply(result === "subscribed" ? tx.subscribed : tx.alreadySubscribed);
        },
      },
      {
        name: "huydangky",
        roles: EVERYONE,
        description: tx.unsubscribeDescription,
        async run(turn) {
          const result = await subscriptions.unsubscribe(turn.speaker.personId, turn.now);
          turn.reply(result === "unsubscribed" ? tx.unsubscribed : tx.notSubscribed);
        },
      },
    ],
  };
}
