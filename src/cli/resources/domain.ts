import { NAME_FIELD, NAMESPACE_FIELD, TAGS_FIELD, type ResourceSpec } from './field.js';

export const domainSpec: ResourceSpec = {
  kind: 'domain',
  alias: 'dom',
  section: 'domains',
  about: "host patterns that send requests to the domain's namespace",
  fields: [
    NAME_FIELD,
    NAMESPACE_FIELD,
    { name: 'patterns', type: 'strings', required: true, about: 'hosts: api.example.com, *.example.com, admin.*, *x*, /^regex$/' },
    { name: 'priority', type: 'integer', default: 0, about: 'higher is matched first' },
    { name: 'cert', type: 'string', about: 'PEM certificate for these hosts (with key)' },
    { name: 'key', type: 'string', about: 'PEM private key (with cert)' },
    TAGS_FIELD,
  ],
};
