import { EVERYONE } from "../domain/people/roles.js";
import { t } from "../text/vi.js";
import type { CommandRegistry } from "./command.js";
import type { Feature, StartPayloadHandler } from "./engine.js";

/** /start, /help and /huy's entry in the menu: what every person can do on every channel. */
export function basicsFeature(
  registry: CommandRegistry,
  startHandlers: readonly StartPayloadHandler[],
): Feature {
  return {
    name: "basics",
    commands: [
      {
        name: "start",
        roles: EVERYONE,
        description: t.basics.startDescription,
        async run(turn, payload) {
          if (payload) {
            for (const handler of startHandlers) if (await handler(turn, payload)) return;
          }
          const { name, role } = turn.speaker;
          // Someone the bot knows only by the default name is greeted without it.
          turn.reply(
            t.basics.greeting(turn.services.orgName, name === t.people.defaultName(role) ? undefined : name),
          );
        },
      },
      {
        name: "help",
        aliases: ["trogiup"],
        roles: EVERYONE,
        description: t.basics.helpDescription,
        run(turn) {
          const lines = registry
            .allowed(turn.speaker.role, turn.inbound.channel)
            .map((c) => `${c.usage ?? `/${c.name}`} — ${c.description}`);
          turn.reply(
            [t.basics.helpHeader(t.people.role(turn.speaker.role)), ...lines, "", t.basics.helpFooter].join(
              "\n",
            ),
          );
        },
      },
      {
        // The engine handles /huy itself; this entry puts it in /help and the command menus.
        name: "huy",
        roles: EVERYONE,
        description: t.basics.cancelDescription,
        run() {},
      },
    ],
  };
}
