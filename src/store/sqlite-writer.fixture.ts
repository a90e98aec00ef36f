/**
 * Child process for the durability tests in sqlite.test.ts. Opens a SqliteStore in the directory
 * given as argv[2], then commits as fast as it can and prints each revision on its own line once
 * commit() has resolved. The parent kills it with SIGKILL mid-burst and checks that every printed
 * revision survived.
 *
 * Revision r puts the document `writes/<r>` (data { rev: r }) and replaces the secret `latest`
 * (data "<r>"), so the parent can tell from the items alone which revisions are present.
 */
import { SqliteStore } from './sqlite.js';

/** large enough that history holds every batch, so the parent can replay it from revision 1 */
const HISTORY_LIMIT = 1_000_000;
/** stops by itself after this many commits, in case the parent never kills it */
const MAX_COMMITS = 50_000;

const dir = process.argv[2];
if (!dir) throw new Error('usage: sqlite-writer.fixture.js <dir>');

const store = new SqliteStore({ dir, historyLimit: HISTORY_LIMIT });
let { rev } = await store.load();
const stopAt = rev + MAX_COMMITS;
while (rev < stopAt) {
  const next = rev + 1;
  const at = new Date().toISOString();
  rev = await store.commit(
    [
      {
        op: 'put',
        kind: 'document',
        namespace: 'default',
        name: `writes/${next}`,
        item: { id: String(next), namespace: 'default', collection: 'writes', data: { rev: next }, createdAt: at, updatedAt: at },
      },
      { op: 'put', kind: 'secret', namespace: 'default', name: 'latest', item: { name: 'latest', namespace: 'default', data: String(next) } },
    ],
    { expectRev: next - 1 },
  );
  process.stdout.write(`${rev}\n`);
}
await store.close();
