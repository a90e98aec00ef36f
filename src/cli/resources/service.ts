import { NAME_FIELD, NAMESPACE_FIELD, TAGS_FIELD, type ResourceSpec } from './field.js';

export const serviceSpec: ResourceSpec = {
  kind: 'service',
  alias: 'svc',
  section: 'services',
  about: 'an upstream: one or more base URLs (round-robin) and transport settings',
  fields: [
    NAME_FIELD,
    NAMESPACE_FIELD,
    { name: 'urls', type: 'strings', required: true, about: 'http(s) base URLs' },
    { name: 'retries', type: 'integer', default: 3, about: 'connection failures retried on the next URL' },
    { name: 'retryTimeout', type: 'duration', default: 0, about: 'wait before a retry' },
    { name: 'connectTimeout', type: 'duration', default: 0, about: '0 = 10s' },
    { name: 'requestTimeout', type: 'duration', default: 0, about: '0 = none; exceeded: 504' },
    { name: 'tlsSkipVerify', type: 'boolean', default: false, about: 'accept any upstream certificate' },
    { name: 'http2Only', type: 'boolean', default: false, about: 'HTTP/2 to the upstream (h2c for http://, h2 for https://); gRPC services need it' },
    { name: 'hideDGateHeaders', type: 'boolean', default: false, about: 'do not send X-DGate-* headers upstream' },
    { name: 'disableQueryParams', type: 'boolean', default: false, about: "drop the client's query string" },
    TAGS_FIELD,
  ],
};
