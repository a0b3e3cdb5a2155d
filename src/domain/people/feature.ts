import type { Feature } from "../../engine/engine.js";
import { defineFlow } from "../../engine/flow.js";
import { t } from "../../text/vi.js";
import type { UnitsService } from "../units/service.js";
import { mayGrant } from "./invites.js";
import { EVERYONE, ROLES, type Role } from "./roles.js";
import type { PeopleService } from "./service.js";
import type { GuessGuard } from "./throttle.js";

const CHANNEL_LABELS: Record<string, string> = { telegram: "Telegram", zalo: "Zalo", console: "Console" };

interface GrantData {
  personId?: string;
  name?: string;
  currentRole?: Role;
  role?: Role;
  confirmed?: boolean;
}

/** Accounts and roles: /toi, /lienket and the admin's /phanquyen. */
export function peopleFeature(people: PeopleService, units: UnitsService, guesses: GuessGuard): Feature {
  const grant = defineFlow<GrantData>({
    name: "phanquyen",
    version: 1,
    roles: ["admin"],
    ttlMinutes: 30,
    first: "who",
    initial: () => ({}),
    steps: {
      who: {
        prompt: () => t.people.grantAskRef,
        async accept(answer, data, turn) {
          const found = await people.search(answer.text);
          if (found.length > 1) {
            return { error: t.people.grantAmbiguous(found.map((p) => `${p.name} (${p.ref})`).join(", ")) };
          }
          const person = found[0];
          if (!person) return { error: t.people.grantNotFound(answer.text) };
          if (person._id.toString() === turn.speaker.personId) return { error: t.people.grantSelf };
          return {
            data: { ...data, personId: person._id.toString(), name: person.name, currentRole: person.role },
            next: "role",
          };
        },
      },
      role: {
        prompt: (data) =>
          t.people.grantAskRole(data.name ?? "", t.people.role(data.currentRole ?? "citizen")),
        choices: (_data, turn) =>
          ROLES.filter((role) => mayGrant(turn.speaker.role, role)).map((role) => ({
            label: t.people.role(role),
            value: role,
          })),
        accept: (answer, data) => ({
          data: { ...data, role: answer.choice?.value as Role },
          next: "confirm",
        }),
      },
      confirm: {
        prompt: (data) => t.people.grantConfirm(data.name ?? "", t.people.role(data.role ?? "citizen")),
        choices: () => [
          { label: t.people.yes, value: "yes" },
          { label: t.people.no, value: "no" },
        ],
        accept: (answer, data) => ({ data: { ...data, confirmed: answer.choice?.value === "yes" } }),
      },
    },
    async finish(data, turn) {
      const { personId, name, role } = data;
      if (!data.confirmed || !personId || !role) {
        turn.reply(t.people.grantAborted);
        return;
      }
      // The same rule as invites, whoever the flow is opened to.
      if (!mayGrant(turn.speaker.role, role)) {
        turn.reply(t.people.grantRoleRefused(t.people.role(role)));
        return;
      }
      await people.setRole(personId, role);
      turn.reply(t.people.grantDone(name ?? "", t.people.role(role)));
      const contact = await people.contactOf(personId);
      if (contact) turn.notify(contact, `role:${personId}`, t.people.grantNotice(t.people.role(role)));
    },
  });

  return {
    name: "people",
    flows: [grant],
    commands: [
      {
        name: "toi",
        roles: EVERYONE,
        description: t.basics.meDescription,
        async run(turn) {
          const { speaker } = turn;
          const accounts = await people.accountsOf(speaker.personId);
          const channels = [...new Set(accounts.map((a) => CHANNEL_LABELS[a.channel] ?? a.channel))].join(
            ", ",
          );
          // A person keeps the key of a unit later removed from the database: the key still says
          // more than nothing, and the Office can move them with /canbo.
          const unit = speaker.unitId
            ? ((await units.get(speaker.unitId))?.name ?? speaker.unitId)
            : undefined;
          turn.reply(
            t.basics.me({
              name: speaker.name,
              role: t.people.role(speaker.role),
              ref: speaker.ref,
              ...(unit ? { unit } : {}),
              channels,
            }),
          );
        },
      },
      {
        name: "lienket",
        roles: EVERYONE,
        description: t.basics.linkDescription,
        usage: "/lienket [mã]",
        async run(turn, args) {
          if (!args) {
            const { code, expiresAt } = await people.createLinkCode(
              turn.speaker.personId,
              turn.now,
              turn.inbound.dedupeKey,
            );
            const minutes = Math.round((expiresAt.getTime() - turn.now.getTime()) / 60_000);
            turn.reply(t.basics.linkCode(code, minutes));
            return;
          }
          // A right code joins the account to its person, role included: guessing is slowed down.
          const code = args.trim().toUpperCase();
          if (await guesses.refuse(turn, "lienket", code)) return;
          const result = await people.redeemLinkCode(args, turn.speaker, turn.now, turn.inbound.dedupeKey);
          if (result === "invalid") await guesses.failed(turn, "lienket", code);
          turn.reply(
            result === "linked"
              ? t.basics.linked
              : result === "already"
                ? t.basics.linkAlready
                : t.basics.linkInvalid,
          );
        },
      },
      {
        name: "phanquyen",
        roles: ["admin"],
        description: t.people.grantDescription,
        run(turn) {
          turn.startFlow("phanquyen");
        },
      },
    ],
  };
}
