/**
 * Entry point of the single-file executable (`npm run build:binary`, Bun's `--compile`): the
 * executable is started again for each proxy worker process, so it runs the worker when it is one.
 */
import cluster from 'node:cluster';

if (cluster.isWorker) await import('../workers/worker-main.js');
else await import('./dgate-server.js');
