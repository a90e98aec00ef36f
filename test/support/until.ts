/**
 * Waiting for something in a test: poll a condition until it holds, failing with what was
 * awaited once the deadline passes. Used instead of fixed sleeps, so a loaded machine only
 * makes a test slower, never wrong.
 */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000, everyMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() >= deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
