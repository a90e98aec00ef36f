// Loaded into each gateway node by `bench/cluster-propagation.mjs --timeline DIR` (node --import,
// bun --preload): writes every step of the node's write path and syncer (the dgate:sync:step
// diagnostics channel) with its wall-clock time, "<epoch ms> <step> <rev>" a line, to the file
// named by DGATE_BENCH_TIMELINE (flushed every second and at exit).
import diagnostics from 'node:diagnostics_channel';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';

const file = process.env.DGATE_BENCH_TIMELINE;
if (file) {
  const lines = [];
  // the channel object is held here: a channel nobody holds may be collected with its
  // subscribers before the gateway asks for it by name
  const channel = diagnostics.channel('dgate:sync:step');
  channel.subscribe((e) => {
    lines.push(`${(performance.timeOrigin + performance.now()).toFixed(3)} ${e.step} ${e.rev}`);
  });
  const flush = () => {
    if (channel.hasSubscribers && lines.length > 0) fs.appendFileSync(file, lines.splice(0).join('\n') + '\n');
  };
  setInterval(flush, 1000).unref();
  process.on('exit', flush);
}
