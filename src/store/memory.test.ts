import { MemoryStore } from './memory.js';
import { runStoreContract } from './store.contract.js';

runStoreContract('memory', async (opts) => {
  const store = new MemoryStore(opts);
  return { store, cleanup: () => store.close() };
});
