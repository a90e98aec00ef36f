import { NAME_FIELD, NAMESPACE_FIELD, TAGS_FIELD, type ResourceSpec } from './field.js';

export const routeSpec: ResourceSpec = {
  kind: 'route',
  alias: 'rt',
  section: 'routes',
  about: 'paths and methods sent to a service and/or modules',
  fields: [
    NAME_FIELD,
    NAMESPACE_FIELD,
    { name: 'paths', type: 'strings', required: true, about: 'chi patterns: /users/{id}, /items/{id:[0-9]+}, /files/*' },
    { name: 'methods', type: 'strings', required: true, canonical: upperUnique, about: 'GET,POST,… or * for every method' },
    { name: 'service', type: 'string', about: 'the service requests go to' },
    { name: 'modules', type: 'strings', about: 'module names, in the order they run' },
    { name: 'stripPath', type: 'boolean', default: false, about: 'send only the part matched by a trailing *' },
    { name: 'preserveHost', type: 'boolean', default: false, about: "send the client's Host upstream" },
    { name: 'maxBodyBytes', type: 'integer', about: 'request body limit in bytes (0 = none; absent: proxy.max_body_bytes); larger: 413' },
    TAGS_FIELD,
  ],
};

/** The server upper-cases methods and drops repeats. */
function upperUnique(value: unknown): unknown {
  if (!Array.isArray(value) || !value.every((m) => typeof m === 'string')) return value;
  return [...new Set(value.map((m: string) => m.toUpperCase()))];
}
