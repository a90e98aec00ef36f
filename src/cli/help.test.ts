import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ROOT_HELP, resourceHelp, verbHelp } from './help.js';
import { SPECS_IN_ORDER } from './resources/index.js';
import { VERBS, verbContract } from './verbs.js';

test('every verb of every resource lists its required and optional fields with their types', () => {
  for (const spec of SPECS_IN_ORDER) {
    for (const { verb } of VERBS) {
      const help = verbHelp(spec, verb);
      const contract = verbContract(spec, verb);
      assert.match(help, new RegExp(`^Usage: dgate-cli \\[global flags\\] ${spec.kind} ${verb}`));
      for (const f of contract.required) assert.match(help, new RegExp(`Required fields:[\\s\\S]*\\n  ${f.name} +\\S`), `${spec.kind} ${verb}: ${f.name}`);
      for (const f of contract.optional) assert.match(help, new RegExp(`Optional fields:[\\s\\S]*\\n  ${f.name} +\\S`), `${spec.kind} ${verb}: ${f.name}`);
    }
  }
});

test('route create --help shows types and defaults', () => {
  const help = verbHelp(SPECS_IN_ORDER.find((s) => s.kind === 'route')!, 'create');
  assert.match(help, /\n {2}methods +list \(a,b,c\) +GET,POST,… or \* for every method\n/);
  assert.match(help, /\n {2}stripPath +boolean \(default false\) /);
  assert.match(help, /^Usage: dgate-cli \[global flags\] route create name=… paths=… methods=… \[field=value …\]\n/);
});

test('document delete --help shows --all; the top level names every resource and command', () => {
  assert.match(verbHelp(SPECS_IN_ORDER.find((s) => s.kind === 'document')!, 'delete'), /\n {2}--all +delete every document of the collection/);
  for (const spec of SPECS_IN_ORDER) assert.match(ROOT_HELP, new RegExp(`\\n  ${spec.kind}, ${spec.alias} `));
  assert.match(ROOT_HELP, /\n {2}apply /);
  assert.match(ROOT_HELP, /\n {2}export /);
  assert.match(resourceHelp(SPECS_IN_ORDER[0]!), /^Usage: dgate-cli \[global flags\] namespace <verb>/);
});
