import path from "node:path";
import type { Connection } from "mongoose";
import type { Clock } from "./clock.js";
import { Claims } from "./db/claims.js";
import { createModels, ensureIndexes, type Models } from "./db/models.js";
import { loadWorkCalendar, type WorkCalendar } from "./domain/calendar/work-calendar.js";
import { dvkFeature } from "./domain/dvk/feature.js";
import { DvkService, loadDvkRules } from "./domain/dvk/service.js";
import { feedbackFeature } from "./domain/feedback/feature.js";
import { loadFeedbackRules } from "./domain/feedback/rules.js";
import { FeedbackService, type FeedbackLimits } from "./domain/feedback/service.js";
import { peopleFeature } from "./domain/people/feature.js";
import { InvitesService } from "./domain/people/invites.js";
import { officialsFeature } from "./domain/people/officials-feature.js";
import { PeopleService } from "./domain/people/service.js";
import { plansFeature } from "./domain/plans/feature.js";
import { PlansService } from "./domain/plans/service.js";
import { UnitsService } from "./domain/units/service.js";
import { basicsFeature } from "./engine/basics.js";
import type { ChannelSender } from "./engine/channel.js";
import { Engine } from "./engine/engine.js";
import { Inbox } from "./engine/inbox.js";
import { MessageLinks } from "./engine/links.js";
import type { ChannelName } from "./engine/message.js";
import { Dispatcher, Outbox, type DispatcherOptions } from "./engine/outbox.js";
import { Sessions } from "./engine/session.js";
import type { Logger } from "./log.js";
import { DATA_DIR } from "./paths.js";

export interface AppOptions {
  connection: Connection;
  clock: Clock;
  log: Logger;
  orgName: string;
  timeZone: string;
  /** Development: console senders named after a role get that role. */
  consoleRoles?: boolean;
  /** Working days; defaults to the holiday files shipped in data/holidays. */
  calendar?: WorkCalendar;
  feedbackLimits?: FeedbackLimits;
}

/**
 * Everything the bot is, minus the platforms: models, stores, domain services and the engine with
 * its features. `main.ts`, the CLIs and the tests all build it the same way.
 */
export class App {
  readonly models: Models;
  readonly outbox: Outbox;
  readonly links: MessageLinks;
  readonly sessions: Sessions;
  readonly claims: Claims;
  readonly people: PeopleService;
  readonly units: UnitsService;
  readonly invites: InvitesService;
  readonly plans: PlansService;
  readonly feedback: FeedbackService;
  readonly dvk: DvkService;
  readonly engine: Engine;
  readonly dispatchers = new Map<ChannelName, Dispatcher>();

  constructor(private readonly options: AppOptions) {
    const { connection, clock, log } = options;
    this.models = createModels(connection);
    this.outbox = new Outbox(this.models.Outbox, clock);
    this.links = new MessageLinks(this.models.MessageLink, this.models.Outbox);
    this.sessions = new Sessions(this.models.Session);
    this.claims = new Claims(this.models.Claim);
    this.people = new PeopleService(this.models, options.consoleRoles ?? false);
    this.units = new UnitsService(this.models.Unit);
    this.invites = new InvitesService(
      this.models.Invite,
      this.models.InviteFailure,
      this.models,
      this.claims,
    );
    const calendar = options.calendar ?? loadWorkCalendar(path.join(DATA_DIR, "holidays"));
    this.plans = new PlansService(this.models, this.units, calendar);
    this.feedback = new FeedbackService(
      this.models.Ticket,
      loadFeedbackRules(path.join(DATA_DIR, "feedback", "rules.yaml")),
      calendar,
      options.timeZone,
      options.feedbackLimits ?? { maxPerDay: 5, duplicateMinutes: 10 },
    );
    this.dvk = new DvkService(this.models.DvkModel, loadDvkRules(path.join(DATA_DIR, "dvk", "rules.yaml")));
    this.engine = new Engine(
      {
        inbox: new Inbox(this.models.InboundRecord, this.claims),
        outbox: this.outbox,
        sessions: this.sessions,
        links: this.links,
      },
      { clock, log, people: this.people, orgName: options.orgName, timeZone: options.timeZone },
    );
    this.engine
      .use(basicsFeature(this.engine.commands, this.engine.startHandlers))
      .use(peopleFeature(this.people))
      .use(officialsFeature(this.people, this.units, this.invites))
      .use(plansFeature(this.plans, this.units))
      .use(feedbackFeature(this.feedback, this.people, this.units))
      .use(dvkFeature(this.dvk, this.units));
    this.engine.onEnqueued((channels) => {
      for (const channel of channels) this.dispatchers.get(channel as ChannelName)?.wake();
    });
  }

  async ensureIndexes(): Promise<void> {
    await ensureIndexes(this.models);
  }

  /** Registers a channel's sender; its dispatcher delivers that channel's outbox. */
  addChannel(sender: ChannelSender, options: DispatcherOptions = {}): Dispatcher {
    const { clock, log } = this.options;
    const dispatcher = new Dispatcher(this.outbox, sender, this.links, this.claims, clock, log, {
      onBlocked: (channel, chatId) => this.people.markBlocked(channel, chatId, clock.now()),
      ...options,
    });
    this.dispatchers.set(sender.channel, dispatcher);
    return dispatcher;
  }

  /** Removes expired sessions (abandoned flows) and claims too old to matter. */
  async sweep(): Promise<void> {
    const now = this.options.clock.now();
    await this.sessions.sweep(now);
    await this.claims.sweep(new Date(now.getTime() - 24 * 3_600_000));
    await this.invites.sweep(now);
  }

  async stop(): Promise<void> {
    await this.engine.idle();
    await Promise.all([...this.dispatchers.values()].map((d) => d.stop()));
  }
}
