/** Child process for local-snapshot.test.ts: writes large local snapshots until killed. */
import { writeLocalSnapshot } from './local-snapshot.js';

const dir = process.argv[2]!;
const items = Array.from({ length: 2000 }, (_, i) => ({
  kind: 'route' as const,
  namespace: 'default',
  name: `r${i}`,
  item: { name: `r${i}`, namespace: 'default', paths: [`/r${i}/*`], methods: ['GET'], preserveHost: false, stripPath: false },
}));
for (let rev = 2; ; rev++) {
  writeLocalSnapshot(dir, { rev, items });
  if (rev === 2) process.stdout.write('writing\n');
}
