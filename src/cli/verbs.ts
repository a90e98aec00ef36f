import type { FieldSpec, ResourceSpec } from './resources/field.js';
import { fieldOf } from './resources/field.js';

export type Verb = 'create' | 'delete' | 'list' | 'get';

export const VERBS: ReadonlyArray<{ verb: Verb; alias?: string; about: string; describe: (kind: string) => string }> = [
  {
    verb: 'create',
    alias: 'mk',
    about: 'create an item, or replace the one of that name (a full replace)',
    describe: (kind) => `Creates a ${kind}, or replaces the ${kind} of that name (every create is a full replace), and prints it as stored.`,
  },
  { verb: 'delete', alias: 'rm', about: 'delete an item', describe: (kind) => `Deletes a ${kind}; prints nothing.` },
  {
    verb: 'list',
    alias: 'ls',
    about: 'list the items of a namespace',
    describe: (kind) => (kind === 'namespace' ? 'Lists every namespace.' : `Lists the ${kind}s of a namespace, sorted by name.`),
  },
  { verb: 'get', about: 'show one item', describe: (kind) => `Shows one ${kind}.` },
];

export function findVerb(word: string): Verb | undefined {
  return VERBS.find((v) => v.verb === word || v.alias === word)?.verb;
}

/** What one verb of one resource accepts on its command line. */
export interface VerbContract {
  required: FieldSpec[];
  optional: FieldSpec[];
  /** the field a bare word stands for (`dgate-cli ns rm foo`), if any */
  positional?: FieldSpec;
  /** flags besides --help, with what they do */
  flags: Array<{ flag: string; about: string }>;
}

const LIMIT: FieldSpec = { name: 'limit', type: 'integer', about: 'return one page of at most this many documents (max 1000)' };
const OFFSET: FieldSpec = { name: 'offset', type: 'integer', about: 'documents to skip before the page' };

/**
 * The arguments each verb takes. `create` takes every field of the kind; `get` and `delete` the
 * identity (`name=`, or `id=` and `collection=` for documents, also as a bare word); `list` the
 * namespace (and the collection for documents, all pages unless `limit=` asks for one).
 */
export function verbContract(spec: ResourceSpec, verb: Verb): VerbContract {
  const field = (name: string) => fieldOf(spec, name)!;
  const namespaced = spec.kind === 'namespace' ? [] : [field('namespace')];
  if (spec.kind === 'document') {
    switch (verb) {
      case 'create':
        return { required: [field('id'), field('collection'), field('data')], optional: namespaced, flags: [] };
      case 'get':
        return { required: [field('id'), field('collection')], optional: namespaced, positional: field('id'), flags: [] };
      case 'delete':
        return {
          required: [field('id'), field('collection')],
          optional: namespaced,
          positional: field('id'),
          flags: [{ flag: '--all', about: 'delete every document of the collection (no id)' }],
        };
      case 'list':
        return { required: [field('collection')], optional: [...namespaced, LIMIT, OFFSET], flags: [] };
    }
  }
  switch (verb) {
    case 'create':
      return { required: spec.fields.filter((f) => f.required), optional: spec.fields.filter((f) => !f.required), flags: [] };
    case 'get':
    case 'delete':
      return { required: [field('name')], optional: namespaced, positional: field('name'), flags: [] };
    case 'list':
      return { required: [], optional: namespaced, flags: [] };
  }
}
