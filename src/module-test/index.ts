/**
 * Testing modules without a server (DGate's "dgate-runtime"): `import { runModuleTest } from 'dgate/module-test'`.
 */
export { runModuleTest, ModuleTestSetupError, type ModuleSource, type ModuleTestInput, type ModuleTestResult } from './run.js';
