/** The oldest TLS protocol version the gateway's listeners accept. */
export const TLS_MIN_VERSION = 'TLSv1.2';
