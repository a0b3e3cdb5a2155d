import { randomUUID } from "node:crypto";
import path from "node:path";
import type { Connection } from "mongoose";
import type { Clock } from "./clock.js";
import { Claims } from "./db/claims.js";
import { createModels, ensureIndexes, type Models } from "./db/models.js";
import { broadcastFeature } from "./domain/announcements/broadcast-feature.js";
import { BroadcastService } from "./domain/announcements/broadcasts.js";
import { faqFirst, publicInfoFeature } from "./domain/announcements/public-feature.js";
import { PublicInfoService } from "./domain/announcements/public-info.js";
import { SubscriptionService } from "./domain/announcements/subscriptions.js";
import { calendarFeature } from "./domain/calendar/feature.js";
import { CalendarDays } from "./domain/calendar/stored-days.js";
import { loadWorkCalendar, type WorkCalendar } from "./domain/calendar/work-calendar.js";
import { dvkFeature } from "./domain/dvk/feature.js";
import { DvkService, loadDvkRules } from "./domain/dvk/service.js";
import { AuditLog } from "./domain/feedback/audit.js";
import { feedbackFeature } from "./domain/feedback/feature.js";
import { citizenFreeText } from "./domain/feedback/filing.js";
import { loadFeedbackRules } from "./domain/feedback/rules.js";
import { FeedbackService, type FeedbackLimits } from "./domain/feedback/service.js";
import { peopleFeature } from "./domain/people/feature.js";
import { InvitesService } from "./domain/people/invites.js";
import { officialsFeature } from "./domain/people/officials-feature.js";
import { PeopleService } from "./domain/people/service.js";
import { GuessGuard, Throttle } from "./domain/people/throttle.js";
import { ReminderDigests } from "./domain/plans/digest.js";
import { plansFeature } from "./domain/plans/feature.js";
import { planUploadFeature, type AttachmentReader } from "./domain/plans/plan-upload-feature.js";
import { PlansService } from "./domain/plans/service.js";
import { reportsFeature, statsHandlers } from "./domain/reports/feature.js";
import { FileStore } from "./domain/reports/files.js";
import { ReportsService } from "./domain/reports/service.js";
import type { Letterhead } from "./domain/reports/export-data.js";
import { withStoredFiles } from "./domain/reports/uploads.js";
import { UnitsService } from "./domain/units/service.js";
import { basicsFeature } from "./engine/basics.js";
import type { ChannelSender } from "./engine/channel.js";
import { Engine } from "./engine/engine.js";
import { Inbox } from "./engine/inbox.js";
import { MessageLinks } from "./engine/links.js";
import type { ChannelName, Outbound } from "./engine/message.js";
import { Dispatcher, Outbox, SENT_KEPT_MS, type DispatcherOptions } from "./engine/outbox.js";
import { SentArchive } from "./engine/sent-archive.js";
import { SendLease } from "./engine/send-lease.js";
import { Decisions } from "./engine/decisions.js";
import { Sessions } from "./engine/session.js";
import type { Logger } from "./log.js";
import { METRIC, Metrics } from "./metrics.js";
import { DATA_DIR } from "./paths.js";
import type { Sealer } from "./privacy/sealer.js";
import { t } from "./text/vi.js";

/**
 * How long a handled update's record is kept to recognise the update coming again. Telegram keeps
 * an undelivered update "no longer than 24 hours" (Bot API, "Getting updates",
 * https://core.telegram.org/bots/api#getting-updates); Zalo publishes no figure (not verified),
 * so a week.
 */
const REDELIVERY_DAYS = 7;

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
  /** Seals citizens' personal data (src/privacy/keys.ts resolves the keys). */
  sealer: Sealer;
  /** Days the texts of handled updates and sent messages are kept; default 90. */
  messageRetentionDays?: number;
  /** Hours a message may keep failing after it was due before it is given up; default 72. */
  outboxMaxAgeHours?: number;
  /** Report files (kept in the database's GridFS): PUBLIC_URL and FILE_LINK_SECRET for download links. */
  reports?: {
    publicUrl?: string | undefined;
    linkSecret?: string | undefined;
    /** ORG_PARENT, ORG_PLACE, REPORT_RECIPIENTS for the report's letterhead and "Nơi nhận". */
    letterhead?: Letterhead | undefined;
  };
  /**
   * Platform channels send in turns with other instances on the database (engine/send-lease.ts),
   * so the platforms' per-bot limits hold across them. main.ts turns it on; tests that run two
   * apps in one process and expect both to send leave it off.
   */
  sendLease?: boolean;
}

/**
 * Everything the bot is, minus the platforms: models, stores, domain services and the engine with
 * its features. `main.ts`, the CLIs and the tests all build it the same way.
 */
export class App {
  /** Names this process where instances share the database (claims, leases). */
  readonly instanceId = randomUUID();
  readonly models: Models;
  readonly outbox: Outbox;
  readonly links: MessageLinks;
  readonly sessions: Sessions;
  readonly decisions: Decisions;
  readonly inbox: Inbox;
  readonly claims: Claims;
  readonly people: PeopleService;
  readonly units: UnitsService;
  readonly invites: InvitesService;
  /** Wrong guesses of codes (/tracuu with a phone, /lienket, /danhgia), per account and per code. */
  readonly guesses: GuessGuard;
  /** The Office's changes to the working-day calendar (/ngaynghi), laid over data/holidays. */
  readonly calendarDays: CalendarDays;
  readonly plans: PlansService;
  /** The numbered lists of tasks sent by the reminder and escalation jobs, which answers refer to. */
  readonly digests: ReminderDigests;
  readonly feedback: FeedbackService;
  readonly dvk: DvkService;
  readonly reports: ReportsService;
  readonly subscriptions: SubscriptionService;
  /** `broadcasts.resume()` finishes broadcasts a crash cut off; call it at start. */
  readonly broadcasts: BroadcastService;
  readonly publicInfo: PublicInfoService;
  readonly engine: Engine;
  readonly dispatchers = new Map<ChannelName, Dispatcher>();
  /** The data key ring, for what channels keep at rest (the Zalo OA tokens). */
  readonly sealer: Sealer;
  readonly metrics = new Metrics();
  /** How each channel hands over the files people send (Telegram: getFile); a channel without one cannot. */
  readonly attachmentReaders = new Map<ChannelName, AttachmentReader>();
  /** The bot's public name on each platform that has one (Telegram: from getMe), for t.me links. */
  readonly botNames = new Map<ChannelName, string>();

  constructor(private readonly options: AppOptions) {
    const { connection, clock, log } = options;
    this.sealer = options.sealer;
    this.models = createModels(connection);
    this.outbox = new Outbox(
      this.models.Outbox,
      clock,
      options.sealer,
      new SentArchive(this.models.SentRecord, options.sealer),
    );
    this.links = new MessageLinks(this.outbox, connection.collection("message_links"));
    this.sessions = new Sessions(this.models.Session, options.sealer);
    this.decisions = new Decisions(this.models.Decision, options.sealer);
    this.claims = new Claims(this.models.Claim);
    this.inbox = new Inbox(this.models.InboundRecord, this.claims, options.sealer);
    this.people = new PeopleService(this.models, options.sealer, options.consoleRoles ?? false);
    this.units = new UnitsService(this.models.Unit);
    this.invites = new InvitesService(
      this.models.Invite,
      this.models.InviteFailure,
      this.models,
      this.claims,
      options.sealer,
      (write) => this.people.changing(write),
    );
    this.guesses = new GuessGuard(new Throttle(this.models.GuessFailure, options.sealer), this.people);
    const calendar = options.calendar ?? loadWorkCalendar(path.join(DATA_DIR, "holidays"));
    this.calendarDays = new CalendarDays(this.models.CalendarChange, calendar);
    this.plans = new PlansService(this.models, this.units, calendar);
    this.digests = new ReminderDigests(connection, this.outbox);
    this.feedback = new FeedbackService(
      this.models.Ticket,
      loadFeedbackRules(path.join(DATA_DIR, "feedback", "rules.yaml")),
      calendar,
      options.timeZone,
      options.feedbackLimits ?? { maxPerDay: 5, duplicateMinutes: 10 },
      options.sealer,
      new AuditLog(this.models.Audit, options.sealer),
      this.claims,
    );
    this.dvk = new DvkService(
      this.models.DvkModel,
      loadDvkRules(path.join(DATA_DIR, "dvk", "rules.yaml")),
      this.claims,
      async (plan, task) => (await this.plans.task(`${plan}:${task}`))?.deadline,
    );
    this.reports = new ReportsService({
      plans: this.plans,
      feedback: this.feedback,
      dvk: this.dvk,
      units: this.units,
      models: this.models,
      files: new FileStore({
        connection,
        secret: options.reports?.linkSecret,
        publicUrl: options.reports?.publicUrl,
        log,
      }),
      orgName: options.orgName,
      letterhead: options.reports?.letterhead,
      timeZone: options.timeZone,
      log,
    });
    const stats = statsHandlers(this.reports);
    this.subscriptions = new SubscriptionService(this.models.Subscription);
    this.broadcasts = new BroadcastService(this.models, this.outbox, this.subscriptions, clock, log);
    this.publicInfo = new PublicInfoService(this.models);
    this.engine = new Engine(
      {
        inbox: this.inbox,
        outbox: this.outbox,
        sessions: this.sessions,
        decisions: this.decisions,
        links: this.links,
      },
      { clock, log, people: this.people, orgName: options.orgName, timeZone: options.timeZone },
    );
    this.engine
      .use(basicsFeature(this.engine.commands, this.engine.startHandlers))
      .use(peopleFeature(this.people, this.units, this.guesses))
      .use(officialsFeature(this.people, this.units, this.invites))
      .use(
        planUploadFeature({
          plans: this.plans,
          models: this.models,
          units: this.units,
          invites: this.invites,
          files: this.reports.files,
          sealer: this.sealer,
          readers: this.attachmentReaders,
          botNames: this.botNames,
        }),
      )
      .use(plansFeature(this.plans, this.units, this.digests))
      .use(feedbackFeature(this.feedback, this.people, this.units, stats.tickets, this.guesses))
      .use(dvkFeature(this.dvk, this.units, stats.models))
      .use(reportsFeature(this.reports, (message) => this.sendNow(message)))
      .use(broadcastFeature(this.broadcasts, this.subscriptions, this.units))
      .use(publicInfoFeature(this.publicInfo))
      .use(calendarFeature(this.calendarDays))
      // Frequent questions answer a citizen's free text before the offer to file feedback: this
      // replaces the citizen handler the feedback feature registered with the same one, FAQ first.
      .use({ name: "faq", freeText: { citizen: citizenFreeText(this.feedback, faqFirst(this.publicInfo)) } });
    this.engine.onOutcome((inbound, outcome) =>
      this.metrics.count(...METRIC.inbound, { channel: inbound.channel, outcome }),
    );
    this.engine.onEnqueued((channels) => {
      for (const channel of channels) this.dispatchers.get(channel as ChannelName)?.wake();
    });
  }

  async ensureIndexes(): Promise<void> {
    await this.sessions.prepare();
    await ensureIndexes(this.models);
    // The calendar is read synchronously everywhere: the Office's stored changes are loaded now.
    await this.calendarDays.refresh();
    // A model flagged late against a deadline no plan gives any longer (example data) is cleared.
    await this.dvk.reconcileLate(this.options.timeZone);
    await this.digests.ensureIndexes();
  }

  /** Registers a channel's sender; its dispatcher delivers that channel's outbox. */
  addChannel(sender: ChannelSender, options: DispatcherOptions = {}): Dispatcher {
    const { clock, log } = this.options;
    // Report files live in GridFS: the sender gets them as local files for the send, on any instance.
    const uploading = withStoredFiles(sender, this.reports.files, clock);
    const dispatcher = new Dispatcher(this.outbox, uploading, this.claims, clock, log, {
      onBlocked: (channel, chatId) => this.people.markBlocked(channel, chatId, clock.now()),
      onResult: (channel, result) => this.metrics.count(...METRIC.outbound, { channel, result }),
      onPaused: (channel, pause) => this.alertPaused(channel, pause.episode, pause.reason),
      maxAgeMs: (this.options.outboxMaxAgeHours ?? 72) * 3_600_000,
      // The console is this process's own terminal: no platform limit to share.
      ...(this.options.sendLease && sender.channel !== "console"
        ? { lease: new SendLease(this.claims, sender.channel, this.instanceId) }
        : {}),
      ...options,
    });
    this.dispatchers.set(sender.channel, dispatcher);
    return dispatcher;
  }

  /** /metrics: the counters, plus the outbox backlog and the process read now. */
  async renderMetrics(): Promise<string> {
    const backlog = await this.models.Outbox.aggregate<{
      _id: { channel: string; status: string };
      n: number;
    }>([
      { $match: { status: { $in: ["pending", "sending"] } } },
      { $group: { _id: { channel: "$channel", status: "$status" }, n: { $sum: 1 } } },
    ]);
    for (const channel of this.dispatchers.keys()) {
      for (const status of ["pending", "sending"])
        this.metrics.set(...METRIC.backlog, { channel, status }, 0);
    }
    for (const row of backlog) this.metrics.set(...METRIC.backlog, row._id, row.n);
    for (const [channel, dispatcher] of this.dispatchers) {
      this.metrics.set(...METRIC.paused, { channel }, dispatcher.paused ? 1 : 0);
      const [dead, retrying] = await Promise.all([
        this.models.Outbox.countDocuments({ channel, status: "dead" }),
        this.models.Outbox.countDocuments({ channel, status: "pending", attempts: { $gt: 0 } }),
      ]);
      this.metrics.set(...METRIC.dead, { channel }, dead);
      this.metrics.set(...METRIC.retrying, { channel }, retrying);
    }
    this.metrics.set("process_resident_memory_bytes", "Resident memory", {}, process.memoryUsage().rss);
    this.metrics.set(
      "process_uptime_seconds",
      "Seconds since the process started",
      {},
      Math.round(process.uptime()),
    );
    return this.metrics.render();
  }

  /**
   * Removes expired sessions (abandoned flows), claims too old to matter, and what chats said
   * beyond the retention period: people's words are kept only as long as they serve.
   */
  async sweep(): Promise<void> {
    const now = this.options.clock.now();
    const retained = new Date(now.getTime() - (this.options.messageRetentionDays ?? 90) * 86_400_000);
    await this.inbox.sweep(new Date(now.getTime() - REDELIVERY_DAYS * 86_400_000), retained);
    // A move that fails (the database away) is tried again at the next sweep; the rest goes on.
    await this.outbox
      .moveSent(new Date(now.getTime() - SENT_KEPT_MS))
      .catch((err: unknown) =>
        this.options.log.error({ err }, "sweep: moving deliveries to outbox_sent failed"),
      );
    await this.outbox.forget(retained);
    await this.sessions.sweep(now);
    await this.decisions.sweep(now);
    await this.claims.sweep(new Date(now.getTime() - 24 * 3_600_000));
    await this.invites.sweep(now);
    await this.guesses.throttle.sweep(now);
    await this.reports.sweep(now);
  }

  /**
   * Tells every admin that `channel` refuses the bot's token, on a channel of theirs other than
   * that one (the paused channel cannot carry it). Keyed by the pause episode, so every instance
   * that pauses on the same outage writes one alert between them.
   */
  private async alertPaused(channel: ChannelName, episode: string, reason: string): Promise<void> {
    const messages: Outbound[] = [];
    for (const admin of await this.people.list({ role: "admin" })) {
      const personId = admin._id.toString();
      const account = (await this.people.accountsOf(personId)).find(
        (a) => a.channel !== channel && !a.blockedAt,
      );
      if (!account) continue;
      messages.push({
        to: { channel: account.channel, chatId: account.chatId, personId },
        text: t.channels.outboxPaused(channel, reason),
        dedupeKey: `outbox-paused:${episode}:${personId}`,
      });
    }
    if (messages.length === 0) {
      this.options.log.error({ channel, episode }, "outbox: no admin can be reached on another channel");
      return;
    }
    await this.outbox.enqueue(messages);
    for (const to of new Set(messages.map((m) => m.to.channel))) this.dispatchers.get(to)?.wake();
  }

  /** Writes one message to the outbox and wakes its channel, before the current turn ends. */
  private async sendNow(message: Outbound): Promise<void> {
    await this.outbox.enqueue([message]);
    this.dispatchers.get(message.to.channel)?.wake();
  }

  /**
   * Finishes the updates in hand, then sends what is due — for at most `drainMs`, so a platform
   * that is down cannot hold the shutdown; what is left waits in the outbox for the next start.
   */
  async stop(drainMs = 5_000): Promise<void> {
    // Turns first; their "handled" marks wait for replies handed over unwritten, which the
    // dispatchers' stop writes if they have not gone: marks are awaited after it, within the drain.
    await this.engine.turnsDone();
    const dispatchers = [...this.dispatchers.values()];
    await Promise.all(dispatchers.map((d) => d.stop()));
    const deadline = Date.now() + drainMs;
    await Promise.all(dispatchers.map((d) => d.drain(deadline)));
    const left = Math.max(0, deadline - Date.now());
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.engine.idle(),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, left))),
    ]);
    clearTimeout(timer);
  }
}
