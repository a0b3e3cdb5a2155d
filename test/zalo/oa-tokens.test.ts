import type { Connection, Model } from "mongoose";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { alertAdmins } from "../../bots/zalo/admin-alert.js";
import { ZaloOaApi } from "../../bots/zalo/oa-api.js";
import { OaTokens, oaTokenModel } from "../../bots/zalo/oa-tokens.js";
import { OaTokenUnavailable } from "../../bots/zalo/send-errors.js";
import type { App } from "../../src/app.js";
import type { FixedClock } from "../../src/clock.js";
import { Claims, claimSchema, type ClaimDoc } from "../../src/db/claims.js";
import { connectMongo } from "../../src/db/connect.js";
import { silentLogger } from "../../src/log.js";
import { t } from "../../src/text/vi.js";
import { buildApp, useDatabase } from "../support/db.js";
import type { FakeZalo } from "./fake-zalo.js";
import { startFakeZalo } from "./fake-zalo.js";
import { deliverAll, type Rig, startRig } from "./harness.js";

const db = useDatabase(import.meta.filename);
/** A second connection to the same database: another instance of the bot. */
let other: Connection | undefined;
let fake: FakeZalo | undefined;
let rig: Rig | undefined;

beforeAll(async () => {
  other = await connectMongo(inject("mongoUri"), db.connection.name);
});
afterAll(async () => {
  await other?.close();
});
afterEach(async () => {
  await rig?.stop();
  await fake?.close();
  rig = undefined;
  fake = undefined;
});

const HOUR = 3_600_000;

async function open(): Promise<{ app: App; clock: FixedClock; fake: FakeZalo }> {
  await db.connection.dropDatabase();
  const { app, clock } = await buildApp(db.connection);
  fake = await startFakeZalo();
  return { app, clock, fake };
}

/** One instance's token keeper, on `connection`, wired as createZaloChannel wires it. */
function keeper(
  app: App,
  clock: FixedClock,
  f: FakeZalo,
  seed: { refreshToken: string; accessToken?: string },
  connection: Connection = db.connection,
  extra: { peerWaitMs?: number } = {},
): OaTokens {
  const api = new ZaloOaApi({ baseUrl: f.url, oauthUrl: f.url });
  return new OaTokens({
    appId: f.oa.appId,
    seed,
    refresh: (refreshToken) =>
      api.refreshAccessToken({ appId: f.oa.appId, secretKey: f.oa.appSecret, refreshToken }),
    onRefreshFailed: (detail, episode) =>
      alertAdmins(app, t.channels.zaloTokenRefreshFailed(detail), `zalo-oa-token:${episode}`, silentLogger()),
    model: oaTokenModel(connection),
    claims:
      connection === db.connection
        ? app.claims
        : new Claims(
            (connection.models.Claim as Model<ClaimDoc> | undefined) ??
              connection.model<ClaimDoc>("Claim", claimSchema),
          ),
    clock,
    log: silentLogger(),
    ...extra,
  });
}

describe("the OA token, refreshed before it expires", () => {
  it("stores each new pair before using it, and spends every refresh token once", async () => {
    const { app, clock, fake } = await open();
    const seed = { refreshToken: fake.issueRefreshToken() };
    const tokens = keeper(app, clock, fake, seed);
    const first = await tokens.accessToken();
    const model = oaTokenModel(db.connection);
    const top = await model.findOne().sort({ generation: -1 }).lean();
    expect(top?.accessToken).toBe(first);
    expect(fake.oa.validRefreshTokens.has(top?.refreshToken ?? "")).toBe(true);
    expect(top?.expiresAt.getTime()).toBe(clock.now().getTime() + 90_000_000); // expires_in "90000"

    // Not due yet 23 hours later (25 h tokens, refreshed an hour ahead)…
    clock.advance(23 * HOUR);
    await tokens.refreshIfDue();
    expect(fake.oa.refreshCalls).toHaveLength(1);
    // …due after 24 hours.
    clock.advance(HOUR);
    await tokens.refreshIfDue();
    expect(fake.oa.refreshCalls).toHaveLength(2);
    expect(fake.oa.refreshCalls[1]?.refreshToken).toBe(top?.refreshToken);
    expect(await tokens.accessToken()).not.toBe(first);
    expect(fake.oa.refreshCalls.every((c) => c.accepted)).toBe(true);
  });

  it("never spends one refresh token twice, with four instances on two connections racing", async () => {
    const { app, clock, fake } = await open();
    fake.oa.refreshDelayMs = 150;
    const seed = { refreshToken: fake.issueRefreshToken() };
    const instances = [db.connection, other!, db.connection, other!].map((c) =>
      keeper(app, clock, fake, seed, c),
    );
    for (let round = 0; round < 3; round += 1) {
      // While one refreshes, the others go on with the current token: it has half an hour left.
      const got = await Promise.all(instances.map((i) => i.accessToken()));
      expect(got.every((token) => fake.oa.validAccessTokens.has(token))).toBe(true);
      // Then everyone uses the pair that was stored.
      const after = await Promise.all(instances.map((i) => i.accessToken()));
      expect(new Set(after).size).toBe(1);
      clock.advance(24.5 * HOUR);
    }
    // The configuration was seeded once, though all four started together.
    expect(await oaTokenModel(db.connection).countDocuments({ source: "config" })).toBe(1);
    const used = fake.oa.refreshCalls.map((c) => c.refreshToken);
    expect(used).toHaveLength(3);
    expect(new Set(used).size).toBe(3);
    expect(fake.oa.refreshCalls.every((c) => c.accepted)).toBe(true);
  });

  it("does not reuse a spent token after a restart, and starts again from a new one in the configuration", async () => {
    const { app, clock, fake } = await open();
    const seed = { refreshToken: fake.issueRefreshToken() };
    const before = await keeper(app, clock, fake, seed).accessToken();
    // Restarted with the same environment: the stored chain goes on.
    expect(await keeper(app, clock, fake, seed).accessToken()).toBe(before);
    expect(fake.oa.refreshCalls).toHaveLength(1);
    // The OA was authorised again and ZALO_OA_REFRESH_TOKEN changed: a new generation on top.
    const renewed = { refreshToken: fake.issueRefreshToken() };
    const after = await keeper(app, clock, fake, renewed).accessToken();
    expect(after).not.toBe(before);
    expect(fake.oa.refreshCalls.map((c) => c.refreshToken)).toEqual([
      seed.refreshToken,
      renewed.refreshToken,
    ]);
  });

  it("takes over an attempt whose process died, but only after its lease", async () => {
    const { app, clock, fake } = await open();
    const seed = { refreshToken: fake.issueRefreshToken() };
    const tokens = keeper(app, clock, fake, seed, db.connection, { peerWaitMs: 300 });
    await tokens.init();
    // Another instance claimed the first attempt and vanished before storing anything.
    const model = oaTokenModel(db.connection);
    const seeded = await model.findOne().lean();
    await app.claims.take(
      `zalo-oa:refresh:${fake.oa.appId}:${seeded?.generation}:0`,
      "vanished",
      clock.now(),
    );
    await model.updateOne({ _id: seeded?._id }, { $set: { refreshingSince: clock.now() } });
    await expect(tokens.accessToken()).rejects.toBeInstanceOf(OaTokenUnavailable);
    expect(fake.oa.refreshCalls).toHaveLength(0);
    clock.advance(5 * 60_000 + 1);
    expect(fake.oa.validAccessTokens.has(await tokens.accessToken())).toBe(true);
    expect(fake.oa.refreshCalls).toHaveLength(1);
  });
});

describe("a refresh that fails", () => {
  const failure = { body: { error: -14020, error_name: "Invalid refresh token", error_description: "used" } };

  it("alerts the admins once per episode and never throws", async () => {
    const { app, clock, fake } = await open();
    await app.people.ensureAdmin("console", "admin", "Quản trị Một", clock.now());
    await app.people.ensureAdmin("zalo", "ad00ad00ad00ad00ad00", "Quản trị Hai", clock.now());
    const alerts = () => app.outbox.model.find({ dedupeKey: /^zalo-oa-token:/ }).lean();
    fake.oa.scriptedRefresh.push(failure, failure);
    const tokens = keeper(app, clock, fake, { refreshToken: fake.issueRefreshToken() });

    await tokens.refreshIfDue();
    const first = await alerts();
    expect(first.map((a) => a.chatId).sort()).toEqual(["ad00ad00ad00ad00ad00", "admin"]);
    expect(first.map((a) => app.outbox.textOf(a))[0]).toBe(
      t.channels.zaloTokenRefreshFailed("zalo oa oauth/access_token: -14020 used"),
    );
    // Backing off: no call to Zalo, no new alert, and callers get a clear error.
    await expect(tokens.accessToken()).rejects.toBeInstanceOf(OaTokenUnavailable);
    expect(fake.oa.refreshCalls).toHaveLength(1);
    clock.advance(61_000);
    await tokens.refreshIfDue();
    expect(fake.oa.refreshCalls).toHaveLength(2);
    expect(await alerts()).toHaveLength(2);
    // Zalo recovers: the episode is over.
    clock.advance(121_000);
    expect(fake.oa.validAccessTokens.has(await tokens.accessToken())).toBe(true);
    // A later failure is a new episode, told again.
    fake.oa.scriptedRefresh.push(failure);
    clock.advance(24.5 * HOUR);
    await tokens.refreshIfDue();
    expect(await alerts()).toHaveLength(4);
  });

  it("keeps OA messages waiting in the outbox while the admin gets the alert on Zalo", async () => {
    await db.connection.dropDatabase();
    const { app, clock } = await buildApp(db.connection);
    await app.people.ensureAdmin("zalo", "ad00ad00ad00ad00ad00", "Quản trị", clock.now());
    rig = await startRig(app, { oa: true, beforeStart: (f) => f.oa.scriptedRefresh.push(failure) });
    await app.outbox.enqueue([
      { to: { channel: "zalo", chatId: "oa:5510185758261927916" }, text: "Xin chào", dedupeKey: "oa-waits" },
    ]);
    await app.dispatchers.get("zalo")?.drain();
    const waiting = await app.outbox.model.findOne({ dedupeKey: "oa-waits" }).lean();
    expect(waiting?.status).toBe("pending");
    expect(waiting?.attempts).toBe(0);
    expect(waiting?.nextAttemptAt.getTime()).toBe(clock.now().getTime() + 5 * 60_000);
    const alert = rig.fake.bot.sent.find((m) => m.chatId === "ad00ad00ad00ad00ad00");
    expect(alert?.text).toContain("Cảnh báo quản trị");
    // Once Zalo answers again, the waiting message goes out.
    await deliverAll(app);
    expect((await app.outbox.model.findOne({ dedupeKey: "oa-waits" }).lean())?.status).toBe("sent");
  });
});
