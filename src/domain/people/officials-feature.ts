import { formatDate, formatDateTime } from "../../clock.js";
import type { Feature } from "../../engine/engine.js";
import { defineFlow } from "../../engine/flow.js";
import { fold } from "../../text/normalize.js";
import { t } from "../../text/vi.js";
import type { UnitsService } from "../units/service.js";
import { GrantError, invitableBy, newInviteCode, type InvitesService } from "./invites.js";
import { OFFICIALS, type Role } from "./roles.js";
import type { PeopleService } from "./service.js";

interface InviteData {
  unitKey?: string;
  unitName?: string;
  role?: Role;
  /**
   * The invite's code, chosen when the flow starts and kept sealed in its state: the turn that
   * makes the invite, run again after a crash, finds the invite it made under this code instead
   * of making a second one nobody was told of. Absent in flows started by an older version.
   */
  code?: string;
}

const MANAGERS: readonly Role[] = ["office", "admin"];

/** Officials joining by invite (/moi, /start CODE) and the Office managing them (/canbo). */
export function officialsFeature(
  people: PeopleService,
  units: UnitsService,
  invites: InvitesService,
): Feature {
  const invite = defineFlow<InviteData>({
    name: "moi",
    version: 1,
    roles: MANAGERS,
    ttlMinutes: 30,
    first: "unit",
    initial: () => ({ code: newInviteCode() }),
    steps: {
      unit: {
        prompt: async () =>
          (await units.list()).length === 0 ? t.officials.inviteNoUnits : t.officials.inviteAskUnit,
        choices: async () => (await units.list()).map((u) => ({ label: u.name, value: u.key })),
        accept: (answer, data) => ({
          data: { ...data, unitKey: answer.choice?.value, unitName: answer.choice?.label },
          next: "role",
        }),
      },
      role: {
        // The Office is offered the roles it may give, and told who gives the others.
        prompt: (data, turn) =>
          [
            t.officials.inviteAskRole(data.unitName ?? ""),
            turn.speaker.role === "admin" ? "" : t.officials.inviteAdminOnly,
          ]
            .filter(Boolean)
            .join("\n"),
        choices: (_data, turn) =>
          invitableBy(turn.speaker.role).map((role) => ({ label: t.people.role(role), value: role })),
        accept: (answer, data) => ({ data: { ...data, role: answer.choice?.value as Role } }),
      },
    },
    async finish(data, turn) {
      if (!data.unitKey || !data.role) return;
      // The choices offered only what the speaker may give; the service checks again, against
      // the role the speaker has now.
      let created;
      try {
        created = data.code
          ? await invites.createWithCode(data.code, data.unitKey, data.role, turn.speaker.personId, turn.now)
          : await invites.create(data.unitKey, data.role, turn.speaker.personId, turn.now);
      } catch (error) {
        if (!(error instanceof GrantError)) throw error;
        turn.reply(t.officials.grantRefused(t.people.role(data.role)));
        return;
      }
      turn.reply(
        t.officials.inviteCreated({
          code: created.code,
          unit: data.unitName ?? data.unitKey,
          role: t.people.role(data.role),
          expires: formatDate(created.expiresAt, turn.services.timeZone),
        }),
      );
    },
  });

  return {
    name: "officials",
    flows: [invite],
    commands: [
      {
        name: "moi",
        roles: MANAGERS,
        description: t.officials.inviteDescription,
        opens: "moi",
      },
      {
        name: "nhomdonvi",
        roles: MANAGERS,
        description: t.officials.groupDescription,
        usage: "/nhomdonvi <đơn vị> | /nhomdonvi huy",
        async run(turn, args) {
          const group = { channel: turn.inbound.channel, chatId: turn.inbound.chatId };
          if (turn.inbound.chatType !== "group") {
            turn.reply(t.officials.groupOnly);
            return;
          }
          if (fold(args) === "huy") {
            const unit = await units.unlinkGroup(group);
            turn.reply(unit ? t.officials.groupUnlinked(unit.name) : t.officials.groupNotLinked);
            return;
          }
          const [unit, ...others] = await units.find(args);
          if (!args || !unit || others.length > 0) {
            turn.reply(t.officials.unitUnclear(args));
            return;
          }
          await units.linkGroup(unit.key, group);
          turn.reply(t.officials.groupLinked(unit.name));
        },
      },
      {
        name: "canbo",
        roles: MANAGERS,
        description: t.officials.staffDescription,
        usage: "/canbo [chuyen MÃ ĐƠN_VỊ | khoa MÃ]",
        async run(turn, args) {
          const [action, ref, ...rest] = args.split(/\s+/).filter(Boolean);
          if (!action) {
            const names = await units.names();
            const officials = (await people.list()).filter((p) => OFFICIALS.includes(p.role));
            if (officials.length === 0) {
              turn.reply(t.officials.noneYet);
              return;
            }
            const lines = officials.map((p) =>
              t.officials.line(
                p.ref,
                p.name,
                t.people.role(p.role),
                p.unitId ? (names.get(p.unitId) ?? p.unitId) : "",
              ),
            );
            turn.reply([t.officials.listHeader(officials.length), ...lines].join("\n"));
            return;
          }
          const person = ref ? await people.findByRef(ref) : undefined;
          if (!person || !OFFICIALS.includes(person.role)) {
            turn.reply(t.officials.notFound(ref ?? ""));
            return;
          }
          if (action === "chuyen") {
            const [unit, ...others] = await units.find(rest.join(" "));
            if (!unit || others.length > 0) {
              turn.reply(t.officials.unitUnclear(rest.join(" ")));
              return;
            }
            await people.setUnit(person._id.toString(), unit.key);
            turn.reply(t.officials.moved(person.name, unit.name));
            const contact = await people.contactOf(person._id.toString());
            if (contact) turn.notify(contact, `moved:${person._id}`, t.officials.movedNotice(unit.name));
          } else if (action === "khoa") {
            if (person._id.toString() === turn.speaker.personId) {
              turn.reply(t.people.grantSelf);
              return;
            }
            await people.deactivate(person._id.toString());
            turn.reply(t.officials.deactivated(person.name));
          } else {
            turn.reply(t.officials.usage);
          }
        },
      },
    ],
    async startPayload(turn, payload) {
      const code = payload.trim();
      if (!/^[A-Za-z0-9]{6,12}$/.test(code)) return false;
      const result = await invites.redeem(
        code,
        turn.speaker,
        turn.now,
        turn.idempotencyKey,
        turn.inbound.dedupeKey,
      );
      switch (result.kind) {
        case "ok": {
          const unit = await units.get(result.unitKey);
          turn.reply(t.officials.joined(t.people.role(result.role), unit?.name ?? result.unitKey));
          break;
        }
        case "throttled":
          turn.reply(t.officials.throttled(formatDateTime(result.retryAt, turn.services.timeZone)));
          break;
        default:
          turn.reply(t.officials.inviteRefused[result.kind]);
      }
      return true;
    },
  };
}
