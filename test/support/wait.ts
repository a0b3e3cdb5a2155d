/**
 * Waits until `check` holds, for code running on its own (the polling loop, a running dispatcher).
 * A bound, not a speed assertion: generous, and it fails with what was awaited.
 */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 15_000,
): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
