import type { UpstreamHandler } from '../platform/upstream.js';

/** A body stream's reading: paused while the client is slow, `wake` restarts it. */
export interface Flow {
  paused: boolean;
  wake: (() => void) | null;
}

/** A Flow and the function that restarts it (an upstream exchange's `resume`). */
export function newFlow(): { flow: Flow; resume: () => void } {
  const flow: Flow = { paused: false, wake: null };
  const resume = () => {
    flow.paused = false;
    const w = flow.wake;
    flow.wake = null;
    w?.();
  };
  return { flow, resume };
}

/**
 * Feeds a fetch answer's body stream to `to` (onData, then onComplete, or onError), pausing
 * while onData says so; stops reading, the stream cancelled, once `stopped()` says so.
 */
export async function pumpBody(body: ReadableStream<Uint8Array> | null, flow: Flow, to: UpstreamHandler, stopped: () => boolean): Promise<void> {
  try {
    if (body !== null) {
      const reader = body.getReader();
      for (;;) {
        if (flow.paused) await new Promise<void>((r) => (flow.wake = r));
        if (stopped()) {
          void reader.cancel().catch(() => undefined);
          return;
        }
        const { done, value } = await reader.read();
        if (done) break;
        if (!to.onData(Buffer.from(value.buffer, value.byteOffset, value.byteLength))) flow.paused = true;
      }
    }
    to.onComplete(null);
  } catch (err) {
    to.onError(err instanceof Error ? err : new Error(String(err)));
  }
}
