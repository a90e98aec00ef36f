/**
 * Restart restores exactly the acknowledged state: dgate-server (file storage) is killed with
 * SIGKILL in the middle of a burst of admin writes, restarted on the same directory, and every
 * write that was answered 201 must be there.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { it } from 'node:test';
import { request } from './support/http.js';
import { putJson, startServerProcess, stop, tempDir } from './support/server-process.js';
import { until } from './support/until.js';

const config = (p: { proxy: number; admin: number; dir: string }) => `
log_level: error
storage:
  type: file
  dir: ${p.dir}/data
proxy:
  host: 127.0.0.1
  port: ${p.proxy}
  workers: 0
admin:
  host: 127.0.0.1
  port: ${p.admin}
`;

it('keeps every acknowledged write across SIGKILL and restart', async () => {
  const dir = tempDir();
  try {
    for (let round = 0; round < 3; round++) {
      const server = await startServerProcess({ dir, yaml: config });
      const acked: string[] = [];
      let stopWriting = false;
      // Four concurrent writers, so the kill lands while several writes are in flight.
      const writers = Array.from({ length: 4 }, async (_, w) => {
        for (let i = 0; !stopWriting; i++) {
          const name = `r${round}-w${w}-${i}`;
          try {
            const status = await putJson(server.adminUrl, 'namespace', { name, tags: [String(i)] });
            if (status === 201) acked.push(name);
          } catch {
            return; // the server is gone
          }
        }
      });
      await until(() => acked.length >= 150, '150 acknowledged writes', 60_000, 5);
      server.child.kill('SIGKILL');
      stopWriting = true;
      await Promise.all(writers);
      await server.exited;

      const again = await startServerProcess({ dir, yaml: config });
      try {
        const res = await request(`${again.adminUrl}/api/v1/namespace`);
        const names = new Set(((await res.body.json()) as any).data.map((n: { name: string }) => n.name));
        const lost = acked.filter((n) => !names.has(n));
        assert.deepEqual(lost, [], `round ${round}: acknowledged namespaces lost after SIGKILL`);
      } finally {
        await stop(again);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
