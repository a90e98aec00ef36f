/** The admin API client: `new AdminClient({ baseUrl })`. */
export { AdminClient, type AdminClientOptions } from './admin-client.js';
export { AdminApiError, AdminConnectionError, AdminRedirectError, AdminWaitTimeoutError } from './errors.js';
export type * from './types.js';
