import type { Sealer } from "../privacy/sealer.js";
import type { Outbound } from "./message.js";

/**
 * How long the messages a turn decided are kept (with its state, or as its decision). Recovery
 * takes an update back a minute after a crash, or when the bot starts again. Past a day (or once
 * a later state replaced the one that kept them and the sweep removed it), recovery falls back to
 * what it did before they were kept: a turn whose state the chat has moved past is taken as
 * overtaken, else run again.
 */
export const KEEP_OUTBOUND_MS = 86_400_000;

/**
 * The messages a turn decided, as JSON sealed with the data key: they name the people they go to
 * and quote what a citizen typed, so they are personal data at rest like the flow's data.
 */
export function sealOutbound(sealer: Sealer, outbound: Outbound[]): string {
  return sealer.seal(JSON.stringify(outbound));
}

/** The messages sealOutbound stored, dates revived; throws when no configured key opens them. */
export function openOutbound(sealer: Sealer, sealed: string): Outbound[] {
  const stored = JSON.parse(sealer.open(sealed)) as (Omit<Outbound, "notBefore"> & { notBefore?: string })[];
  return stored.map(({ notBefore, ...message }) => ({
    ...message,
    ...(notBefore !== undefined ? { notBefore: new Date(notBefore) } : {}),
  }));
}

/** As openOutbound, but undefined for none kept, or none that a configured key opens. */
export function keptOutbound(sealer: Sealer, sealed: string | undefined): Outbound[] | undefined {
  if (!sealed) return undefined;
  try {
    return openOutbound(sealer, sealed);
  } catch {
    return undefined;
  }
}
