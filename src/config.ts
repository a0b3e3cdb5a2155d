import path from "node:path";
import { z } from "zod";
import { parseDataKeys, type DataKey } from "./privacy/sealer.js";
import { t } from "./text/vi.js";

/**
 * Every setting the process reads from its environment, validated once at start.
 * `.env.example` documents each variable; keep the two in step.
 */
const emptyToUndefined = (value: unknown) => (value === "" ? undefined : value);
const optionalString = (schema: z.ZodString) => z.preprocess(emptyToUndefined, schema.optional());

const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export const CHANNELS = ["telegram", "zalo", "console"] as const;

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

const adminAccount = z
  .string()
  // Zalo OA users are "oa:<id>" inside the zalo channel, hence ":" in ids.
  .regex(/^(telegram|zalo|console):[A-Za-z0-9_.:-]{1,64}$/, t.config.adminAccountFormat)
  .transform((item) => {
    const at = item.indexOf(":");
    return { channel: item.slice(0, at) as (typeof CHANNELS)[number], id: item.slice(at + 1) };
  });

const schema = z
  .object({
    MONGODB_URI: optionalString(z.string().regex(/^mongodb(\+srv)?:\/\/\S+$/, t.config.mongoUri)),
    MONGODB_DB: z
      .string()
      .regex(/^[a-zA-Z0-9_-]{1,63}$/, t.config.dbName)
      .default("dvbot"),
    FERRETDB_BIN: optionalString(z.string().min(1)),
    DATA_DIR: z.string().min(1).default("./var"),
    HOST: z.string().min(1).default("0.0.0.0"),
    PORT: z.coerce.number().int(t.config.port).min(0, t.config.port).max(65535, t.config.port).default(3000),
    PUBLIC_URL: optionalString(z.string().regex(/^https:\/\/[^\s/]+(\/\S*)?$/, t.config.publicUrl)),
    FILE_LINK_SECRET: optionalString(z.string().min(32, t.reports.fileLinkSecret)),
    ORG_NAME: z.string().trim().min(3, t.config.orgName).default("Sở Khoa học và Công nghệ"),
    // The report's letterhead (Nghị định 30/2020/NĐ-CP, Phụ lục I): the body above the Department
    // and the place of the date line; the bodies the report is sent to, separated by ";".
    ORG_PARENT: optionalString(z.string().trim().min(3, t.reports.config.orgParent)),
    ORG_PLACE: optionalString(z.string().trim().min(2, t.reports.config.orgPlace)),
    REPORT_RECIPIENTS: optionalString(z.string().trim().min(3, t.reports.config.recipients)),
    TIME_ZONE: z.string().refine(isTimeZone, t.config.timeZone).default("Asia/Ho_Chi_Minh"),
    LOG_LEVEL: z.enum(logLevels, t.config.logLevel).default("info"),
    CONSOLE_CHANNEL: z.enum(["auto", "on", "off"], t.config.consoleChannel).default("auto"),
    ADMIN_ACCOUNTS: z
      .preprocess(
        (value) =>
          typeof value === "string"
            ? value
                .split(",")
                .map((item) => item.trim())
                .filter(Boolean)
            : [],
        z.array(adminAccount),
      )
      .default([]),
    REMINDER_OFFSETS: z
      .string()
      .regex(/^\d{1,2}(,\d{1,2})*$/, t.config.reminderOffsets)
      .default("14,7,3,1,0")
      .transform((v) => [...new Set(v.split(",").map(Number))].sort((a, b) => b - a)),
    OVERDUE_REMINDER_EVERY: z.coerce.number().int().min(1, t.config.positiveDays).max(30).default(3),
    OVERDUE_REMINDER_MAX: z.coerce.number().int().min(0, t.config.positiveDays).max(50).default(5),
    ESCALATE_HEAD_AFTER: z.coerce.number().int().min(1, t.config.positiveDays).max(60).default(3),
    ESCALATE_OFFICE_AFTER: z.coerce.number().int().min(1, t.config.positiveDays).max(60).default(5),
    OFFICE_HOURS: z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/, t.config.officeHours)
      // Hours that end before they start would leave the jobs no time to run, silently.
      .refine((v) => v.slice(0, 5) < v.slice(6), t.config.officeHoursOrder)
      .default("07:30-17:00"),
    DATA_ENCRYPTION_KEYS: optionalString(
      z.string().refine((value) => {
        try {
          return parseDataKeys(value).length > 0;
        } catch {
          return false;
        }
      }, t.config.dataKeys),
    ),
    FEEDBACK_MAX_PER_DAY: z.coerce
      .number()
      .int()
      .min(1, t.config.feedbackLimit)
      .max(100, t.config.feedbackLimit)
      .default(5),
    MESSAGE_RETENTION_DAYS: z.coerce
      .number()
      .int(t.config.retentionDays)
      .min(7, t.config.retentionDays)
      .max(3650, t.config.retentionDays)
      .default(90),
    // A message failing this long after it was due is given up (and can be requeued).
    OUTBOX_MAX_AGE_HOURS: z.coerce
      // Not a number at all ("soon") gets the same one line, not zod's English.
      .number(t.config.outboxMaxAge)
      .int(t.config.outboxMaxAge)
      .min(1, t.config.outboxMaxAge)
      .max(720, t.config.outboxMaxAge)
      .default(72),
    JOBS: z.enum(["on", "off"], t.config.jobs).default("on"),
    TELEGRAM_BOT_TOKEN: optionalString(
      z.string().regex(/^\d{5,}:[A-Za-z0-9_-]{30,}$/, t.config.telegramToken),
    ),
    TELEGRAM_WEBHOOK_SECRET: optionalString(
      z.string().regex(/^[A-Za-z0-9_-]{16,256}$/, t.config.telegramSecret),
    ),
    // Where the platform APIs are: unset in production; the load benchmark points them at fakes.
    TELEGRAM_API_ROOT: optionalString(z.string().regex(/^https?:\/\/\S+$/)),
    ZALO_BOT_TOKEN: optionalString(z.string().min(10, t.config.zaloToken)),
    ZALO_WEBHOOK_SECRET: optionalString(z.string().min(8, t.config.zaloSecret).max(256, t.config.zaloSecret)),
    ZALO_API_BASE: optionalString(z.string().regex(/^https?:\/\/\S+$/)),
    ZALO_OA_APP_ID: optionalString(z.string().regex(/^\d{5,}$/, t.config.zaloAppId)),
    ZALO_OA_SECRET_KEY: optionalString(z.string().min(8, t.config.zaloOaSecret)),
    ZALO_OA_ACCESS_TOKEN: optionalString(z.string().min(10, t.config.zaloOaToken)),
    ZALO_OA_REFRESH_TOKEN: optionalString(z.string().min(10, t.config.zaloOaToken)),
    ZALO_OA_WEBHOOK_SECRET_KEY: optionalString(z.string().min(8, t.config.zaloOaSecret)),
    ZALO_OA_API_BASE: optionalString(z.string().regex(/^https?:\/\/\S+$/)),
    ZALO_OA_OAUTH_BASE: optionalString(z.string().regex(/^https?:\/\/\S+$/)),
    // Under the outbox's 60 s claim lease, or a slow send is taken over and sent twice.
    PLATFORM_TIMEOUT_SECONDS: z.coerce
      .number()
      .int(t.config.platformTimeout)
      .min(1, t.config.platformTimeout)
      .max(45, t.config.platformTimeout)
      .default(20),
  })
  .superRefine((env, ctx) => {
    /*
     * A real server (MONGODB_URI) may run several instances and is backed up: a key made on one
     * machine's disk would leave the others unable to open what it sealed, and a random link
     * secret per process breaks every download link at a restart or on another instance.
     */
    if (env.MONGODB_URI && !env.DATA_ENCRYPTION_KEYS) {
      ctx.addIssue({ code: "custom", path: ["DATA_ENCRYPTION_KEYS"], message: t.config.dataKeysNeeded });
    }
    if (env.MONGODB_URI && !env.FILE_LINK_SECRET) {
      ctx.addIssue({ code: "custom", path: ["FILE_LINK_SECRET"], message: t.config.fileLinkSecretNeeded });
    }
    // A webhook without a secret would accept updates from anyone who finds the URL.
    if (env.ESCALATE_OFFICE_AFTER < env.ESCALATE_HEAD_AFTER) {
      ctx.addIssue({ code: "custom", path: ["ESCALATE_OFFICE_AFTER"], message: t.config.escalationOrder });
    }
    if (env.PUBLIC_URL && env.TELEGRAM_BOT_TOKEN && !env.TELEGRAM_WEBHOOK_SECRET) {
      ctx.addIssue({
        code: "custom",
        path: ["TELEGRAM_WEBHOOK_SECRET"],
        message: t.config.webhookSecretNeeded,
      });
    }
    if (env.PUBLIC_URL && env.ZALO_BOT_TOKEN && !env.ZALO_WEBHOOK_SECRET) {
      ctx.addIssue({ code: "custom", path: ["ZALO_WEBHOOK_SECRET"], message: t.config.webhookSecretNeeded });
    }
    const oa = [env.ZALO_OA_APP_ID, env.ZALO_OA_SECRET_KEY, env.ZALO_OA_REFRESH_TOKEN];
    if (oa.some(Boolean) && !oa.every(Boolean)) {
      const missing = ["ZALO_OA_APP_ID", "ZALO_OA_SECRET_KEY", "ZALO_OA_REFRESH_TOKEN"][
        oa.findIndex((v) => !v)
      ];
      ctx.addIssue({
        code: "custom",
        path: [missing ?? "ZALO_OA_APP_ID"],
        message: t.config.zaloOaIncomplete,
      });
    }
  });

export type ChannelName = (typeof CHANNELS)[number];

export interface Config {
  mongoUri: string | undefined;
  mongoDb: string;
  ferretdbBin: string | undefined;
  dataDir: string;
  host: string;
  port: number;
  publicUrl: string | undefined;
  /** Signs download links to report files; undefined (development only): a random secret per process. */
  fileLinkSecret: string | undefined;
  orgName: string;
  /** What the report files print above and beside the Department, and whom they go to. */
  letterhead: { parent: string | undefined; place: string | undefined; recipients: string[] };
  timeZone: string;
  logLevel: (typeof logLevels)[number];
  consoleChannel: boolean;
  jobs: JobSettings & { enabled: boolean };
  /** Keys sealing citizens' personal data; the first seals, all open. Undefined: a local key (dev). */
  dataKeys: DataKey[] | undefined;
  /** Tickets one person may file per day; the same text within 10 minutes is one ticket. */
  feedbackMaxPerDay: number;
  /** Days the texts of handled messages are kept (sealed) before they are removed. */
  messageRetentionDays: number;
  /** Hours a message may keep failing after it was due before the outbox gives it up. */
  outboxMaxAgeHours: number;
  adminAccounts: { channel: ChannelName; id: string }[];
  /** The longest one call to Telegram or Zalo may take before it counts as a network failure. */
  platformTimeoutSeconds: number;
  /** `apiRoot`: the Bot API server; undefined means api.telegram.org. */
  telegram: { token: string; webhookSecret: string | undefined; apiRoot: string | undefined } | undefined;
  /** `apiBase`: the Bot Platform server; undefined means Zalo's own. */
  zaloBot: { token: string; webhookSecret: string | undefined; apiBase: string | undefined } | undefined;
  zaloOa:
    | {
        appId: string;
        /** The app's secret key: authorises token refreshes. */
        secretKey: string;
        accessToken: string | undefined;
        refreshToken: string;
        /** The OA's own secret key for webhook signatures, when it differs from the app's. */
        oaSecretKey: string | undefined;
        /** The OA API and OAuth servers; undefined means Zalo's own. */
        apiBase: string | undefined;
        oauthBase: string | undefined;
      }
    | undefined;
}

/** When reminders and escalations fire; each value from the environment, with these defaults. */
export interface JobSettings {
  /** Working days before a deadline at which officials are reminded (0 = on the day). */
  reminderOffsets: number[];
  /** While overdue, remind every this many working days… */
  overdueEvery: number;
  /** …at most this many times. */
  overdueMax: number;
  /** Overdue this many working days: the unit head is told. */
  escalateHeadAfter: number;
  /** Overdue this many working days: the Office is told. */
  escalateOfficeAfter: number;
  /** Messages that are not urgent go out only between these local times on working days. */
  officeHours: { start: string; end: string };
}

export const DEFAULT_JOB_SETTINGS: JobSettings = {
  reminderOffsets: [14, 7, 3, 1, 0],
  overdueEvery: 3,
  overdueMax: 5,
  escalateHeadAfter: 3,
  escalateOfficeAfter: 5,
  officeHours: { start: "07:30", end: "17:00" },
};

/** Thrown for a missing or malformed variable; `message` is the one line the operator reads. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(t.config.invalid(variable, detail));
    this.name = "ConfigError";
  }
}

/**
 * Reads and validates the environment.
 * @example
 *   const config = loadConfig({ PORT: "8080" }); // config.port === 8080, console channel on
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? "?");
    throw new ConfigError(variable, issue?.message ?? "");
  }
  const e = parsed.data;
  const anyChannelToken = Boolean(e.TELEGRAM_BOT_TOKEN || e.ZALO_BOT_TOKEN || e.ZALO_OA_APP_ID);
  return {
    mongoUri: e.MONGODB_URI,
    mongoDb: e.MONGODB_DB,
    ferretdbBin: e.FERRETDB_BIN,
    dataDir: path.resolve(e.DATA_DIR),
    host: e.HOST,
    port: e.PORT,
    publicUrl: e.PUBLIC_URL,
    fileLinkSecret: e.FILE_LINK_SECRET,
    orgName: e.ORG_NAME,
    letterhead: {
      parent: e.ORG_PARENT,
      place: e.ORG_PLACE,
      recipients: (e.REPORT_RECIPIENTS ?? "")
        .split(";")
        .map((item) => item.trim())
        .filter(Boolean),
    },
    timeZone: e.TIME_ZONE,
    logLevel: e.LOG_LEVEL,
    consoleChannel: e.CONSOLE_CHANNEL === "on" || (e.CONSOLE_CHANNEL === "auto" && !anyChannelToken),
    adminAccounts: e.ADMIN_ACCOUNTS,
    platformTimeoutSeconds: e.PLATFORM_TIMEOUT_SECONDS,
    feedbackMaxPerDay: e.FEEDBACK_MAX_PER_DAY,
    messageRetentionDays: e.MESSAGE_RETENTION_DAYS,
    outboxMaxAgeHours: e.OUTBOX_MAX_AGE_HOURS,
    dataKeys: e.DATA_ENCRYPTION_KEYS ? parseDataKeys(e.DATA_ENCRYPTION_KEYS) : undefined,
    jobs: {
      enabled: e.JOBS === "on",
      reminderOffsets: e.REMINDER_OFFSETS,
      overdueEvery: e.OVERDUE_REMINDER_EVERY,
      overdueMax: e.OVERDUE_REMINDER_MAX,
      escalateHeadAfter: e.ESCALATE_HEAD_AFTER,
      escalateOfficeAfter: e.ESCALATE_OFFICE_AFTER,
      officeHours: { start: e.OFFICE_HOURS.slice(0, 5), end: e.OFFICE_HOURS.slice(6) },
    },
    telegram: e.TELEGRAM_BOT_TOKEN
      ? {
          token: e.TELEGRAM_BOT_TOKEN,
          webhookSecret: e.TELEGRAM_WEBHOOK_SECRET,
          apiRoot: e.TELEGRAM_API_ROOT,
        }
      : undefined,
    zaloBot: e.ZALO_BOT_TOKEN
      ? { token: e.ZALO_BOT_TOKEN, webhookSecret: e.ZALO_WEBHOOK_SECRET, apiBase: e.ZALO_API_BASE }
      : undefined,
    zaloOa:
      e.ZALO_OA_APP_ID && e.ZALO_OA_SECRET_KEY && e.ZALO_OA_REFRESH_TOKEN
        ? {
            appId: e.ZALO_OA_APP_ID,
            secretKey: e.ZALO_OA_SECRET_KEY,
            accessToken: e.ZALO_OA_ACCESS_TOKEN,
            refreshToken: e.ZALO_OA_REFRESH_TOKEN,
            oaSecretKey: e.ZALO_OA_WEBHOOK_SECRET_KEY,
            apiBase: e.ZALO_OA_API_BASE,
            oauthBase: e.ZALO_OA_OAUTH_BASE,
          }
        : undefined,
  };
}
